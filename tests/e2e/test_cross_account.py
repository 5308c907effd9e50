"""A connector in another account (issue 12, item 4).

Three accounts: A holds the cluster and the base role; B holds a connector
(`grantBaseRole: false`, listed in the base role's `connectorRoleArns`);
the xpander platform's account is trusted by the connector's
`CrossAccountWithExternalId` statement (`trustedAccountId`).  One program
deploys both, the connector through a second, explicit provider configured
with `assumeRole` into B, as a user would write it.

Both providers run as A's least-privilege deployer (the printed deploy
policy, plus the right to assume B's deployer role); in B the deployer is
that role, holding the printed deploy policy too. Each account has its own
boundary (`--mode boundary`), its deployer is held to it, and each provider
sets it on the roles it creates there.
"""

from __future__ import annotations

import contextlib
import json
import os

import pytest
from botocore.exceptions import ClientError

from doctor.checks import DIAGNOSE, invoke
from e2e.conftest import BINARY, boundary_config, create_boundary, deploy_policy, printed_policy
from e2e.seed import ACCOUNT, BASE, CLUSTER, CONNECTOR, ORG_ID, chain, provider_config, trust_of
from engine import Engine, ProviderProcess, Secret, Stack

ACCOUNT_B = "210987654321"
PLATFORM = "777788889999"
B_DEPLOYER = "pulumi-deployer"
B_DEPLOYER_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{B_DEPLOYER}"
BASE_ARN = f"arn:aws:iam::{ACCOUNT}:role/xpander-base-role"
CONNECTOR_NAME = "xpander-redshift-access"
CONNECTOR_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{CONNECTOR_NAME}"
ASSUME = ["sts:AssumeRole", "sts:TagSession"]


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def role_names(aws, account: str) -> set[str]:
    return {r["RoleName"] for r in aws.boto3_client("iam", account=account).list_roles()["Roles"]}


@pytest.fixture
def deployer_a(aws, boundary) -> dict:
    """A's deployer: the printed deploy policy, and the right to assume B's deployer role."""
    iam = aws.boto3_client("iam")
    hop = iam.create_policy(PolicyName="assume-deployer-in-b", PolicyDocument=document(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": B_DEPLOYER_ARN}))["Policy"]["Arn"]
    return aws.principal("deployer", deploy_policy(boundary), policy_arns=[hop])


@pytest.fixture
def boundary_b(aws, boundary) -> str | None:
    return create_boundary(aws, ACCOUNT_B) if boundary else None


@pytest.fixture
def deployer_b(aws, deployer_a, boundary_b) -> str:
    """B's deployer role, trusting A's deployer (cross-account: both sides must allow it)."""
    iam = aws.boto3_client("iam", account=ACCOUNT_B)
    iam.create_role(RoleName=B_DEPLOYER, AssumeRolePolicyDocument=document(
        {"Effect": "Allow", "Principal": {"AWS": deployer_a["Arn"]}, "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName=B_DEPLOYER, PolicyName="deploy", PolicyDocument=json.dumps(deploy_policy(boundary_b)))
    # `diagnose` through B reads the documents of the roles' managed policies, the boundary among them.
    iam.put_role_policy(RoleName=B_DEPLOYER, PolicyName="doctor", PolicyDocument=json.dumps(printed_policy("doctor")))
    # A new role is not assumable until IAM propagated it.
    aws.settle()
    return B_DEPLOYER_ARN


def _engine(processes: contextlib.ExitStack, aws, credentials: dict, name: str, **config) -> Engine:
    env = {**os.environ, **aws.provider_env(credentials)}
    env.pop("AWS_ENDPOINT_URL", None)  # the provider reaches the simulator through its own config
    engine = Engine(processes.enter_context(ProviderProcess(BINARY, env=env)), name=name)
    engine.boot(provider_config(aws, **config))
    return engine


@pytest.fixture
def providers(aws, cluster, deployer_a, deployer_b, boundary, boundary_b):
    """(default provider in A, explicit provider assuming B's deployer role)."""
    with contextlib.ExitStack() as processes:
        yield (_engine(processes, aws, deployer_a, "default", **boundary_config(boundary)),
               _engine(processes, aws, deployer_a, "account-b", **boundary_config(boundary_b),
                       assumeRole={"roleArn": deployer_b, "sessionName": "pulumi-account-b"}))


def program(account_b: Engine, external_id: str = ORG_ID):
    def run(ctx):
        base = ctx.resource(BASE, "base", {
            "roleName": "xpander-base-role",
            "podIdentity": {"clusterName": CLUSTER},
            "connectorRoleArns": [CONNECTOR_ARN],
        })
        ctx.resource(CONNECTOR, "redshift-b", {
            "roleName": CONNECTOR_NAME,
            "baseRoleArn": base["arn"],
            "baseRoleId": base["roleId"],
            "grantBaseRole": False,
            "externalId": Secret(external_id),
            "trustedAccountId": PLATFORM,
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
        }, opts={"provider": account_b})
    return run


def test_a_connector_in_another_account_chains_from_the_base_role(aws, providers):
    engine_a, engine_b = providers
    stack = Stack(engine_a)
    stack.up(program(engine_b))

    # Each role is in its own account, and only there.
    assert role_names(aws, ACCOUNT) == {"xpander-base-role"}
    assert role_names(aws, ACCOUNT_B) == {B_DEPLOYER, CONNECTOR_NAME}
    connector = stack.get("redshift-b").outputs
    assert connector["arn"] == CONNECTOR_ARN
    assert stack.get("base").outputs["arn"] == BASE_ARN

    # The base role lists the connector; no connector grant was written on it.
    iam_a, iam_b = aws.boto3_client("iam"), aws.boto3_client("iam", account=ACCOUNT_B)
    assert iam_a.list_role_policies(RoleName="xpander-base-role")["PolicyNames"] == ["AssumeConnectorRoles"]
    grant = iam_a.get_role_policy(RoleName="xpander-base-role", PolicyName="AssumeConnectorRoles")["PolicyDocument"]
    assert [(sorted(s["Action"]), s["Resource"]) for s in grant["Statement"]] == [(ASSUME, [CONNECTOR_ARN])]

    # The connector's trust: the base role of A, itself, and the platform's account with the ExternalId.
    statements = {s["Sid"]: s for s in trust_of(iam_b, CONNECTOR_NAME)["Statement"]}
    assert statements["AllowFromBaseRole"]["Principal"] == {"AWS": BASE_ARN}
    assert statements["SelfAssume"]["Principal"] == {"AWS": CONNECTOR_ARN}
    assert statements["CrossAccountWithExternalId"]["Principal"] == {"AWS": f"arn:aws:iam::{PLATFORM}:root"}
    assert statements["CrossAccountWithExternalId"]["Condition"] == {"StringEquals": {"sts:ExternalId": ORG_ID}}
    assert "Condition" not in statements["AllowFromBaseRole"] and "Condition" not in statements["SelfAssume"]

    # Each account's writes were made by its own deployer.
    writers = {(r["params"].get("RoleName"), r["caller"]) for r in aws.requests() if r["mutating"] and r["service"] == "iam"}
    assert {caller for role, caller in writers if role == CONNECTOR_NAME} == {
        f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{B_DEPLOYER}/pulumi-account-b"}
    assert {caller for role, caller in writers if role == "xpander-base-role"} == {f"arn:aws:iam::{ACCOUNT}:user/deployer"}
    assert [r for r in aws.requests() if r.get("denied")] == []

    # pod -> base (A) -> connector (B) -> connector again (self-assume).
    result = chain(aws, CONNECTOR_ARN)
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{CONNECTOR_NAME}/refresh"
    sessions = {s["sessionName"]: s for s in aws.sessions()}
    assert sessions["ai-gateway"]["roleArn"] == CONNECTOR_ARN and sessions["ai-gateway"]["chained"]
    assert sessions["ai-gateway"]["tags"]["kubernetes-namespace"] == "xpander"

    stack.destroy()
    assert role_names(aws, ACCOUNT) == set()
    assert role_names(aws, ACCOUNT_B) == {B_DEPLOYER}


def test_the_platform_needs_the_right_external_id(aws, providers):
    engine_a, engine_b = providers
    Stack(engine_a).up(program(engine_b))
    aws.settle()
    platform = aws.principal("xpander-platform", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ASSUME, "Resource": CONNECTOR_ARN}]}, account=PLATFORM)
    sts = aws.client_for("sts", platform)

    def outcome(client, **extra) -> str:
        try:
            client.assume_role(RoleArn=CONNECTOR_ARN, RoleSessionName="platform", **extra)
        except ClientError as err:
            return err.response["Error"]["Code"]
        return "allowed"

    assert outcome(sts) == "AccessDenied"
    assert outcome(sts, ExternalId="org-someone-else") == "AccessDenied"
    assumed = sts.assume_role(RoleArn=CONNECTOR_ARN, RoleSessionName="platform", ExternalId=ORG_ID)
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{CONNECTOR_NAME}/platform"
    # The ExternalId opens the statement to the platform's account only, not to A's.
    outsider = aws.principal("outsider", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ASSUME, "Resource": CONNECTOR_ARN}]})
    assert outcome(aws.client_for("sts", outsider), ExternalId=ORG_ID) == "AccessDenied"


def test_the_doctor_reads_a_connector_through_its_accounts_credentials(aws, providers):
    """`diagnose` through B's provider, naming A's base role by ARN: B's
    credentials cannot read A's roles, so the connector is checked against
    that ARN and the base role is left to a diagnose in A."""
    engine_a, engine_b = providers
    Stack(engine_a).up(program(engine_b))
    args = {"baseRoleArn": BASE_ARN, "connectorRoleNames": [CONNECTOR_NAME]}
    report, failures = invoke(engine_b, DIAGNOSE, args)
    assert failures == []
    assert [f for f in report["findings"] if f["severity"] != "info"] == [], json.dumps(report["findings"], indent=1)
    reads = [r for r in aws.requests() if r["action"] == "GetRole" and r["caller"].split(":")[4] == ACCOUNT_B]
    assert {r["params"]["RoleName"] for r in reads} == {CONNECTOR_NAME}

    # A connector in B that no longer lets the base role tag its session is named, and its chain fails.
    iam_b = aws.boto3_client("iam", account=ACCOUNT_B)
    trust = trust_of(iam_b, CONNECTOR_NAME)
    next(s for s in trust["Statement"] if s["Sid"] == "AllowFromBaseRole")["Action"] = "sts:AssumeRole"
    iam_b.update_assume_role_policy(RoleName=CONNECTOR_NAME, PolicyDocument=json.dumps(trust))
    report, failures = invoke(engine_b, DIAGNOSE, args)
    assert failures == []
    assert [(f["code"], f["role"]) for f in report["findings"] if f["severity"] == "error"] == [
        ("TAG_SESSION_TRUST", CONNECTOR_NAME)]
    with pytest.raises(ClientError):
        chain(aws, CONNECTOR_ARN)
