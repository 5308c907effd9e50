"""Regressions for defects a review found, end to end on awssim: a mistyped
baseRoleArn, a policy hiding under the grant prefix, a delete whose inputs no
longer decode, and a base role that comes back."""

from __future__ import annotations

import json
import os

import pytest
from pulumi.runtime.proto import provider_pb2

from e2e.conftest import BINARY, boundary_config
from e2e.seed import BASE, CONNECTOR, ORG_ID, chain, provider_config, role_arn, seed_program, trust_of
from engine import Engine, ProviderProcess, Secret, Stack, StepFailed
from engine.values import to_struct

GRANT_NAME = "xpander-assume-xpander-redshift-access"


def redshift(base_arn: str, **extra):
    def program(ctx):
        ctx.resource(CONNECTOR, "redshift", {
            "roleName": "xpander-redshift-access",
            "baseRoleArn": base_arn,
            "externalId": Secret(ORG_ID),
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
            **extra,
        })
    return program


@pytest.mark.awssim_config(propagation_delay=2)
def test_a_base_role_that_does_not_exist_fails_at_once_naming_it(aws, stack):
    with pytest.raises(StepFailed) as failed:
        stack.up(redshift(role_arn("xpander-base-rle")))
    message = str(failed.value)
    assert "xpander-base-rle" in message and "does not exist" in message
    # Not retried as "waiting for IAM propagation" for the whole budget: no
    # trust update was even attempted.
    assert not [r for r in aws.requests() if r["action"] == "UpdateAssumeRolePolicy"]


def test_a_base_role_in_another_account_needs_grant_base_role_false(aws, stack):
    other = "arn:aws:iam::210987654321:role/xpander-base-role"
    with pytest.raises(StepFailed) as failed:
        stack.up(redshift(other))
    assert "grantBaseRole: false" in str(failed.value) and "connectorRoleArns" in str(failed.value)
    # Refused before anything was written (the grantBaseRole: false path is
    # deployed in test_cross_account.py).
    assert aws.boto3_client("iam").list_roles()["Roles"] == []


def test_a_policy_under_the_grant_prefix_that_is_no_grant_is_drift(aws, stack, cluster):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    iam.put_role_policy(
        RoleName="xpander-base-role",
        PolicyName="xpander-assume-anything",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )
    stack.refresh()
    assert "xpander-assume-anything" in stack.get("base").outputs["policies"]
    stack.up(seed_program(cluster))
    left = set(iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"])
    assert left == {GRANT_NAME, "xpander-assume-xpander-eks-connector"}
    # The connectors' own grants are not counted as the base role's policies.
    assert GRANT_NAME not in stack.get("base").outputs["policies"]


def test_delete_works_from_the_state_outputs_when_inputs_do_not_decode(aws, stack, engine, cluster):
    stack.up(seed_program(cluster))
    state = stack.get("redshift")
    engine.call("Delete", provider_pb2.DeleteRequest(
        id=state.id,
        urn=state.urn,
        type=CONNECTOR,
        name="redshift",
        properties=to_struct(state.outputs),
        old_inputs=to_struct({"redshift": "no longer an object", "baseRoleArn": 42}),
    ))
    iam = aws.boto3_client("iam")
    assert GRANT_NAME not in iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]
    assert "xpander-redshift-access" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}


@pytest.mark.deployer_paths("/", "/xpander/")
def test_connectors_grant_the_returning_base_role_in_the_same_up(aws, stack, cluster):
    stack.up(seed_program(cluster))
    old_id = stack.get("base").outputs["roleId"]

    # A new path replaces the base role (same name: deleted, then created).
    stack.up(seed_program(cluster, base_inputs={"path": "/xpander/"}))
    base = stack.get("base").outputs
    assert base["roleId"] != old_id
    iam = aws.boto3_client("iam")
    grants = set(iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"])
    assert grants == {GRANT_NAME, "xpander-assume-xpander-eks-connector"}
    allow = next(s for s in trust_of(iam, "xpander-redshift-access")["Statement"] if s["Sid"] == "AllowFromBaseRole")
    assert allow["Principal"] == {"AWS": base["arn"]}
    assert chain(aws, role_arn("xpander-redshift-access"))["AssumedRoleUser"]["Arn"].endswith("/refresh")


def test_eks_region_is_refused_rather_than_ignored(engine):
    """The access entry is written in the provider's region: an `eks.region`
    that was accepted and never used is now an input nobody can set."""
    urn = engine.urn(CONNECTOR, "eks")
    response = engine.call("Check", provider_pb2.CheckRequest(
        urn=urn, type=CONNECTOR, name="eks", olds=to_struct({}), randomSeed=b"0" * 32,
        news=to_struct({"roleName": "c", "eks": {"clusterName": "prod", "region": "eu-west-1"}}),
    ))
    assert [(f.property, "eks.region" in f.reason) for f in response.failures] == [("eks", True)]


def test_managed_policies_beyond_the_accounts_quota_are_refused_before_any_write(aws, stack):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="xpander-base-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    quota = iam.get_account_summary()["SummaryMap"]["AttachedPoliciesPerRoleQuota"]
    arns = [f"arn:aws:iam::123456789012:policy/p{i}" for i in range(quota + 1)]
    aws.clear_requests()
    with pytest.raises(StepFailed) as failed:
        stack.up(redshift(role_arn("xpander-base-role"), grantBaseRole=False, managedPolicyArns=arns))
    assert f"AttachedPoliciesPerRoleQuota is {quota}" in str(failed.value)
    assert [r for r in aws.requests() if r["mutating"]] == []


@pytest.mark.parametrize("mode", [None, "CONFIG_MAP"])
def test_an_eks_connector_needs_a_cluster_that_takes_access_entries(aws, stack, mode):
    """Refused at preview, before any write: a missing cluster, or one whose
    authentication mode has no access entries (CONFIG_MAP)."""
    if mode:
        aws.boto3_client("eks").create_cluster(
            name="legacy", roleArn="arn:aws:iam::123456789012:role/eks-cluster", resourcesVpcConfig={},
            accessConfig={"authenticationMode": mode},
        )
    aws.clear_requests()

    def program(ctx):
        ctx.resource(CONNECTOR, "eks", {"roleName": "xpander-eks-connector", "eks": {"clusterName": "legacy"}})

    with pytest.raises(StepFailed) as failed:
        stack.preview(program)
    expected = "authenticationMode CONFIG_MAP" if mode else "does not exist"
    assert expected in str(failed.value) and "eks.clusterName" in str(failed.value)
    assert [r for r in aws.requests() if r["mutating"]] == []


def s3_connectors(count: int):
    def program(ctx):
        base = ctx.resource(BASE, "base", {"roleName": "xpander-base-role"})
        for i in range(count):
            ctx.resource(CONNECTOR, f"s3-{i}", {
                "roleName": f"xpander-s3-{i}", "baseRoleArn": base["arn"], "s3": {"buckets": [f"xpander-data-{i}"]},
            })
    return program


def base_policy_reads(aws) -> dict[str, int]:
    """The reads of the base role's inline policies since the log was last cleared."""
    reads = [r["action"] for r in aws.requests() if r["action"] in ("GetRolePolicy", "ListRolePolicies")
             and r["params"].get("RoleName") == "xpander-base-role"]
    return {action: reads.count(action) for action in sorted(set(reads))}


def test_connectors_read_the_base_roles_grants_once_per_process(aws, stack, deployer, boundary):
    """A grant is booked against the base role's live inline policies (the
    quota is on their sum), read once per provider process, not once per
    connector: reading every other connector's grant per connector made a
    50-connector stack cost 996 GetRolePolicy calls."""
    stack.up(s3_connectors(6))
    # The base role was new: its (empty) list of policies was read once.
    assert base_policy_reads(aws) == {"ListRolePolicies": 1}
    aws.clear_requests()
    stack.up(s3_connectors(8))
    assert base_policy_reads(aws) == {}, "the same process reads them again"

    # A new process (the next `pulumi up`) reads the 8 grants once each, for 4 new connectors.
    env = {**os.environ, **aws.provider_env(deployer)}
    env.pop("AWS_ENDPOINT_URL", None)
    aws.clear_requests()
    with ProviderProcess(BINARY, env=env) as process:
        engine = Engine(process)
        engine.boot(provider_config(aws, **boundary_config(boundary)))
        Stack(engine, stack.resources).up(s3_connectors(12))
    assert base_policy_reads(aws) == {"ListRolePolicies": 1, "GetRolePolicy": 8}
    assert len(aws.boto3_client("iam").list_role_policies(RoleName="xpander-base-role")["PolicyNames"]) == 12
