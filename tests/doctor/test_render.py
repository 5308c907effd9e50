"""`xpander:index:renderConnectorPolicies` returns exactly what an
XpanderConnectorRole with the same arguments writes: deployed through the
engine driver, read back with boto3, compared document by document."""

from __future__ import annotations

import json
import os

import pytest

from doctor import checks
from doctor.checks import RENDER, invoke
from doctor.handbuilt import BINARY, ORG_ID, REPO
from e2e.seed import ACCOUNT, BASE, CONNECTOR
from engine import Engine, ProviderProcess, Secret, clean_env, to_struct
from pulumi.runtime.proto import provider_pb2

AUDIT = f"arn:aws:iam::{ACCOUNT}:policy/XpanderAudit"
BASE_ROLE = "xpander-base-role"


def connector_args(cluster: str, base_arn: str, base_id: str) -> dict[str, dict]:
    """Four connectors that between them use every argument."""
    base = {"baseRoleArn": base_arn, "baseRoleId": base_id}
    return {
        "redshift": {
            "roleName": "xpander-redshift-access",
            **base,
            "externalId": Secret(ORG_ID),
            "description": "Redshift connector",
            "maxSessionDuration": 7200,
            "tags": {"Environment": "prod", "Project": "xpander"},
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev", "dbUsers": ["analyst"]},
        },
        "eks": {
            "roleName": "xpander-eks-connector",
            **base,
            "externalId": ORG_ID,  # not marked secret by the program: the schema makes it one
            "eks": {
                "clusterName": cluster,
                "accessPolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                "accessScope": {"type": "namespace", "namespaces": ["xpander", "default"]},
            },
        },
        "data": {
            "roleName": "xpander-data-connector",
            "path": "/xpander/",
            **base,
            "externalId": Secret(ORG_ID),
            "trustedAccountId": "210987654321",
            "podIdentityTrust": False,
            "s3": {"buckets": ["xpander-data", "xpander-exports"], "prefixes": ["reports/"], "readOnly": False},
            "dynamodb": {"tables": ["sessions"], "readOnly": True},
            "athena": {"workGroups": ["primary"], "outputBucket": "xpander-athena-out", "glueDatabases": ["lake"]},
            "policies": {
                "Extra": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:xpander"}]},
                "ExtraAsString": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:xpander"}]}),
            },
            "managedPolicyArns": [AUDIT],
        },
        "ungranted": {
            "roleName": "xpander-ungranted",
            **base,
            "grantBaseRole": False,
            "policies": {"Only": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}},
        },
    }


def deploy(aws, stack, cluster) -> dict[str, dict]:
    aws.boto3_client("iam").create_policy(
        PolicyName="XpanderAudit",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}]}),
    )
    used: dict[str, dict] = {}

    def program(ctx):
        base = ctx.resource(BASE, "base", {"roleName": BASE_ROLE, "podIdentity": {"clusterName": cluster}})
        for name, args in connector_args(cluster, base["arn"], base["roleId"]).items():
            ctx.resource(CONNECTOR, name, args)
            used[name] = args

    stack.up(program)
    return used


def canonical(doc):
    """A policy document with IAM's equivalences removed: a string is a
    one-element list, lists of strings are sets, key order does not matter."""
    if isinstance(doc, str):
        try:
            return canonical(json.loads(doc))
        except ValueError:
            return doc
    if isinstance(doc, dict):
        return {k: canonical(v) for k, v in sorted(doc.items())}
    if isinstance(doc, list):
        items = [canonical(v) for v in doc]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return doc


def live(aws, role: str) -> dict:
    iam, eks = aws.boto3_client("iam"), aws.boto3_client("eks")
    got = iam.get_role(RoleName=role)["Role"]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return {
        "arn": got["Arn"],
        "trust": got["AssumeRolePolicyDocument"],
        "policies": {n: iam.get_role_policy(RoleName=role, PolicyName=n)["PolicyDocument"] for n in names},
        "managed": sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]),
    }


def plain(value):
    return value.value if isinstance(value, Secret) else value


def compare(aws, rendered: dict, args: dict, cluster: str) -> None:
    role = args["roleName"]
    state = live(aws, role)
    assert rendered["roleArn"] == state["arn"]
    assert canonical(plain(rendered["trustPolicy"])) == canonical(state["trust"])
    assert {n: canonical(d) for n, d in rendered["policies"].items()} == {n: canonical(d) for n, d in state["policies"].items()}
    assert sorted(rendered["managedPolicyArns"]) == state["managed"]
    assert "SelfAssumeAndTagSession" in state["policies"] and len(state["policies"]) >= 2

    iam = aws.boto3_client("iam")
    grants = [n for n in iam.list_role_policies(RoleName=BASE_ROLE)["PolicyNames"] if n.endswith(role)]
    if args.get("grantBaseRole", True):
        grant = rendered["grant"]
        assert grant["baseRoleName"] == BASE_ROLE and [grant["policyName"]] == grants
        written = iam.get_role_policy(RoleName=BASE_ROLE, PolicyName=grant["policyName"])["PolicyDocument"]
        assert canonical(grant["policy"]) == canonical(written)
    else:
        assert "grant" not in rendered and grants == []

    eks = aws.boto3_client("eks")
    if "eks" in args:
        entry = rendered["accessEntry"]
        assert entry["clusterName"] == cluster and entry["principalArn"] == state["arn"]
        described = eks.describe_access_entry(clusterName=cluster, principalArn=state["arn"])["accessEntry"]
        assert described["principalArn"] == entry["principalArn"]
        (assoc,) = eks.list_associated_access_policies(clusterName=cluster, principalArn=state["arn"])["associatedAccessPolicies"]
        assert assoc["policyArn"] == entry["accessPolicyArn"]
        assert canonical(assoc["accessScope"]) == canonical(entry["accessScope"])
    else:
        assert "accessEntry" not in rendered

    # The initial trust is the full trust without the statements naming roles (Role Creation Order).
    initial = plain(rendered["initialTrustPolicy"])["Statement"]
    full = plain(rendered["trustPolicy"])["Statement"]
    assert initial == [s for s in full if ":role/" not in json.dumps(s.get("Principal", {}))]

    secret = "externalId" in args
    assert isinstance(rendered["trustPolicy"], Secret) is secret
    assert isinstance(rendered["initialTrustPolicy"], Secret) is secret
    others = {k: v for k, v in rendered.items() if k not in ("trustPolicy", "initialTrustPolicy")}
    assert ORG_ID not in json.dumps(others, default=str)
    if secret:
        assert ORG_ID in json.dumps(plain(rendered["trustPolicy"]))


@pytest.fixture
def offline_engine():
    """A provider that cannot reach any AWS: no credentials, a dead endpoint."""
    env = clean_env(REPO, AWS_REGION="us-east-1", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    with ProviderProcess(BINARY, env=env) as proc:
        eng = Engine(proc)
        eng.boot({"region": "us-east-1", "skipCredentialsValidation": True})
        yield eng


@pytest.mark.deployer_paths("/", "/xpander/")
@pytest.mark.deployer_attaches(AUDIT)
def test_render_equals_what_the_resource_writes(aws, cluster, stack, engine, provider, offline_engine):
    used = deploy(aws, stack, cluster)
    for name, args in used.items():
        # Configured against awssim, no accountId: the provider's account.
        online, failures = invoke(engine, RENDER, args)
        assert failures == [], (name, failures)
        compare(aws, online, args, cluster)
        # Offline, with the account given: the same answer, no AWS call.
        offline, failures = invoke(offline_engine, RENDER, {**args, "accountId": ACCOUNT}, preview=True)
        assert failures == [], (name, failures)
        assert offline == online, name
    assert sorted(live(aws, "xpander-data-connector")["policies"]) == [
        "AthenaAccess", "DynamoDBAccess", "Extra", "ExtraAsString", "S3Access", "SelfAssumeAndTagSession"]
    assert live(aws, "xpander-data-connector")["managed"] == [AUDIT]
    for texts in (checks.engine_texts(provider), checks.engine_texts(offline_engine.provider)):
        checks.no_leak(*texts)


def test_render_makes_no_aws_call(aws, engine):
    aws.clear_requests()
    args = {"roleName": "xpander-s3", "accountId": ACCOUNT, "s3": {"buckets": ["xpander-b"]}}
    rendered, failures = invoke(engine, RENDER, args, preview=True)
    assert failures == []
    assert rendered["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/xpander-s3"
    assert aws.requests() == []


def test_render_partition_follows_the_region(offline_engine):
    args = {"roleName": "xpander-s3", "accountId": ACCOUNT, "region": "cn-north-1", "s3": {"buckets": ["xpander-b"]},
            "baseRoleArn": f"arn:aws-cn:iam::{ACCOUNT}:role/{BASE_ROLE}"}
    rendered, failures = invoke(offline_engine, RENDER, args)
    assert failures == []
    assert rendered["roleArn"] == f"arn:aws-cn:iam::{ACCOUNT}:role/xpander-s3"
    assert "arn:aws:" not in json.dumps(rendered)


def test_render_in_preview_without_account_names_account_id(offline_engine):
    rendered, failures = invoke(offline_engine, RENDER, {"roleName": "r", "s3": {"buckets": ["xpander-b"]}}, preview=True)
    assert rendered is None
    assert [p for p, _ in failures] == ["accountId"]


BAD_INPUTS = [
    ({"s3": {"buckets": ["xpander-b"]}}, ["roleName"]),
    ({"roleName": "r", "accountId": "12345", "s3": {"buckets": ["xpander-b"]}}, ["accountId"]),
    ({"roleName": "r", "accountId": ACCOUNT, "baseRoleArn": "not-an-arn", "s3": {"buckets": ["xpander-b"]}}, ["baseRoleArn"]),
    ({"roleName": "r", "accountId": ACCOUNT, "bogus": 1, "s3": {"buckets": ["xpander-b"]}}, ["bogus"]),
    ({"roleName": "r", "accountId": ACCOUNT, "maxSessionDuration": 60, "s3": {"buckets": ["xpander-b"]}}, ["maxSessionDuration"]),
    ({"roleName": "r" * 65, "accountId": ACCOUNT, "s3": {"buckets": ["xpander-b"]}}, ["roleName"]),
    ({"roleName": "r", "accountId": ACCOUNT, "eks": {"scopedPolicy": True}}, ["eks.clusterName"]),
    ({"roleName": "r", "accountId": ACCOUNT}, ["policies"]),
    ({"roleName": "r", "accountId": ACCOUNT, "trustedAccountId": "210987654321", "s3": {"buckets": ["xpander-b"]}}, ["trustedAccountId"]),
    ({"roleName": "r", "accountId": ACCOUNT, "s3": {"buckets": "xpander-b"}}, ["s3.buckets"]),
    ({"roleName": "r", "accountId": ACCOUNT, "maxSessionDuration": "long", "s3": {"buckets": ["xpander-b"]}}, ["maxSessionDuration"]),
]


@pytest.mark.parametrize("args,props", BAD_INPUTS, ids=lambda v: ",".join(v) if isinstance(v, list) else None)
def test_render_bad_input_names_the_property(offline_engine, args, props):
    rendered, failures = invoke(offline_engine, RENDER, args)
    assert rendered is None
    assert [p for p, _ in failures] == props, failures
    # The resource's own Check says the same about the same inputs (it autonames a missing roleName).
    if "roleName" in args and props != ["accountId"]:
        resource_args = {k: v for k, v in args.items() if k not in ("accountId", "partition", "region")}
        urn = offline_engine.urn(CONNECTOR, "c")
        response = offline_engine.call("Check", provider_pb2.CheckRequest(
            urn=urn, olds=to_struct({}), news=to_struct(resource_args), randomSeed=os.urandom(32), name="c", type=CONNECTOR,
        ))
        # A resource's failure names the top-level input (the engine looks it
        # up there to print its value); the reason keeps the nested path.
        assert [f.property for f in response.failures] == [p.split(".")[0] for p in props]
        assert all(p in f.reason for f, p in zip(response.failures, props)), response.failures


DIAGNOSE_BAD = [
    ({"connectorRoleNames": ["a"]}, ["baseRoleName"]),
    ({"baseRoleName": "b", "connectorRoleNames": "a"}, ["connectorRoleNames"]),
    ({"baseRoleName": "b", "bogus": True}, ["bogus"]),
]


@pytest.mark.parametrize("args,props", DIAGNOSE_BAD, ids=lambda v: ",".join(v) if isinstance(v, list) else None)
def test_diagnose_bad_input_names_the_property(offline_engine, args, props):
    result, failures = invoke(offline_engine, checks.DIAGNOSE, args)
    assert result is None
    assert [p for p, _ in failures] == props, failures


def test_unknown_function_is_refused(offline_engine):
    with pytest.raises(Exception) as info:
        invoke(offline_engine, "xpander:index:nope", {})
    assert "nope" in str(info.value)



