"""The seed's architecture deployed, changed and destroyed through the
engine driver, with AWS state asserted through boto3 against awssim."""

from __future__ import annotations

import json

import pytest

from e2e.seed import ACCOUNT, BASE, CLUSTER, CONNECTOR, ORG_ID, PLATFORM, chain, seed_program, trust_of
from engine import Secret


def sids(doc):
    return [s.get("Sid") for s in doc["Statement"]]


@pytest.mark.awssim_config(propagation_delay=1.0)
def test_seed_architecture_up_and_chain_works(aws, cluster, stack):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")

    trust = trust_of(iam, "xpander-redshift-access")
    assert sids(trust) == ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]
    # Only the external ways in are conditioned: the platform's account by the
    # ExternalId, the Pod Identity fallback by the base role's association
    # (podIdentityScope); the chain's own statements never are.
    statements = {s["Sid"]: s for s in trust["Statement"]}
    assert statements["CrossAccountWithExternalId"]["Principal"] == {"AWS": f"arn:aws:iam::{PLATFORM}:root"}
    assert statements["PodIdentity"]["Condition"] == {"StringEquals": {
        "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{CLUSTER}",
        "aws:RequestTag/kubernetes-namespace": "xpander",
        "aws:RequestTag/kubernetes-service-account": "xpander",
    }}
    assert "Condition" not in statements["SelfAssume"] and "Condition" not in statements["AllowFromBaseRole"]
    policies = iam.list_role_policies(RoleName="xpander-redshift-access")["PolicyNames"]
    assert sorted(policies) == ["RedshiftCredentials", "RedshiftDataAPI", "SelfAssumeAndTagSession"]
    grants = iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]
    assert sorted(grants) == ["xpander-assume-xpander-eks-connector", "xpander-assume-xpander-redshift-access"]
    entries = aws.boto3_client("eks").list_access_entries(clusterName=CLUSTER)["accessEntries"]
    assert f"arn:aws:iam::{ACCOUNT}:role/xpander-eks-connector" in entries

    for role in ("xpander-redshift-access", "xpander-eks-connector"):
        result = chain(aws, f"arn:aws:iam::{ACCOUNT}:role/{role}")
        assert result["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/")

    state = stack.get("redshift")
    assert isinstance(state.outputs["trustPolicy"], Secret), "the trust policy carries the ExternalId"
    assert ORG_ID not in json.dumps(str(state.outputs.get("policies")))


def test_second_up_is_a_no_op(aws, cluster, stack):
    stack.up(seed_program(cluster))
    aws.clear_requests()
    events = stack.up(seed_program(cluster))
    assert all(e.op == "same" for e in events), [(e.op, e.urn) for e in events]
    mutating = [r for r in aws.requests() if r["mutating"]]
    assert mutating == []


def test_adding_a_connector_touches_no_other(aws, cluster, stack):
    stack.up(seed_program(cluster))
    aws.clear_requests()
    stack.up(seed_program(cluster, with_s3=True))
    touched = {r["params"].get("RoleName") for r in aws.requests() if r["mutating"]}
    assert touched <= {"xpander-s3-connector", "xpander-base-role"}
    base_writes = [r for r in aws.requests() if r["mutating"] and r["params"].get("RoleName") == "xpander-base-role"]
    assert [r["params"].get("PolicyName") for r in base_writes] == ["xpander-assume-xpander-s3-connector"]
    chain(aws, f"arn:aws:iam::{ACCOUNT}:role/xpander-s3-connector")


def test_preview_makes_no_aws_mutations(aws, cluster, stack):
    aws.clear_requests()
    events = stack.preview(seed_program(cluster))
    assert [e.op for e in events] == ["create", "create", "create"]
    assert [r for r in aws.requests() if r["mutating"]] == []


def test_destroy_leaves_nothing(aws, cluster, stack):
    stack.up(seed_program(cluster, with_s3=True))
    stack.destroy()
    iam, eks = aws.boto3_client("iam"), aws.boto3_client("eks")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []
    assert eks.list_access_entries(clusterName=CLUSTER)["accessEntries"] == []
    assert eks.list_pod_identity_associations(clusterName=CLUSTER)["associations"] == []


def test_drift_is_found_by_refresh_and_repaired_by_up(aws, cluster, stack):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    iam.put_role_policy(
        RoleName="xpander-redshift-access",
        PolicyName="Injected",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )
    iam.delete_role_policy(RoleName="xpander-base-role", PolicyName="xpander-assume-xpander-eks-connector")
    stack.refresh()
    events = stack.up(seed_program(cluster))
    ops = {e.urn.rsplit("::", 1)[1]: e.op for e in events}
    assert ops["redshift"] == "update" and ops["eks"] == "update"
    assert "Injected" not in iam.list_role_policies(RoleName="xpander-redshift-access")["PolicyNames"]
    assert "xpander-assume-xpander-eks-connector" in iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]


@pytest.mark.deployer_paths("/", "/xpander/")
def test_base_role_replaced_rewrites_connector_trust(aws, cluster, stack):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    old_base = iam.get_role(RoleName="xpander-base-role")["Role"]
    assert "xpander-assume-xpander-redshift-access" in iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]
    def moved(ctx):
        base = ctx.resource(BASE, "base", {
            "roleName": "xpander-base-role",
            "path": "/xpander/",
            "podIdentity": {"clusterName": cluster},
        })
        ctx.resource(CONNECTOR, "redshift", {
            "roleName": "xpander-redshift-access",
            "baseRoleArn": base["arn"],
            "baseRoleId": base["roleId"],
            "externalId": Secret(ORG_ID),
            "trustedAccountId": PLATFORM,
            "podIdentityScope": {"clusterName": cluster},
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
        })
    events = stack.up(moved)
    assert "replace" in [e.op for e in events if e.name == "base"], [(e.name, e.op) for e in events]

    # A new role: new unique id, the new path in its ARN.
    new_base = iam.get_role(RoleName="xpander-base-role")["Role"]
    new_arn = f"arn:aws:iam::{ACCOUNT}:role/xpander/xpander-base-role"
    assert new_base["Arn"] == new_arn and new_base["Path"] == "/xpander/"
    assert new_base["RoleId"] != old_base["RoleId"], "the base role was not replaced"
    assert stack.get("base").outputs["roleId"] == new_base["RoleId"]
    assert [r["RoleId"] for r in iam.list_roles()["Roles"] if r["RoleName"] == "xpander-base-role"] == [new_base["RoleId"]]

    # The grants: the removed EKS connector's is gone, the Redshift one is on the new role.
    grants = iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]
    assert grants == ["xpander-assume-xpander-redshift-access"], grants

    # The connector trust names the new role, not the old one's dangling unique id.
    allow = [s for s in trust_of(iam, "xpander-redshift-access")["Statement"] if s.get("Sid") == "AllowFromBaseRole"]
    assert len(allow) == 1, allow
    assert allow[0]["Principal"] == {"AWS": new_arn}, allow[0]["Principal"]
    assert old_base["RoleId"] not in json.dumps(trust_of(iam, "xpander-redshift-access"))

    result = chain(aws, f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access")
    assert result["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/xpander-redshift-access/")


def test_attached_managed_policies_are_drift(aws, cluster, stack):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    arn = iam.create_policy(PolicyName="Extra", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="xpander-base-role", PolicyArn=arn)
    iam.attach_role_policy(RoleName="xpander-eks-connector", PolicyArn=arn)
    stack.refresh()
    events = stack.up(seed_program(cluster))
    ops = {e.name: e.op for e in events}
    assert ops["base"] == "update" and ops["eks"] == "update" and ops["redshift"] == "same"
    for role in ("xpander-base-role", "xpander-eks-connector"):
        assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    assert all(e.op == "same" for e in stack.up(seed_program(cluster)))


def test_refresh_finds_a_missing_association_and_stale_principal(aws, cluster, stack):
    stack.up(seed_program(cluster))
    eks = aws.boto3_client("eks")
    for a in eks.list_pod_identity_associations(clusterName=cluster)["associations"]:
        eks.delete_pod_identity_association(clusterName=cluster, associationId=a["associationId"])
    stack.refresh()
    events = stack.up(seed_program(cluster))
    assert {e.name: e.op for e in events}["base"] == "update"
    assert len(eks.list_pod_identity_associations(clusterName=cluster)["associations"]) == 1
    chain(aws, f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access")


def test_base_role_recreated_out_of_band_is_repaired(aws, cluster, stack):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    for name in iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]:
        iam.delete_role_policy(RoleName="xpander-base-role", PolicyName=name)
    trust = iam.get_role(RoleName="xpander-base-role")["Role"]["AssumeRolePolicyDocument"]
    iam.delete_role(RoleName="xpander-base-role")
    iam.create_role(RoleName="xpander-base-role", AssumeRolePolicyDocument=json.dumps(trust) if isinstance(trust, dict) else trust)
    assert "AROA" in json.dumps(trust_of(iam, "xpander-redshift-access")), "IAM shows the deleted role's unique id"
    stack.refresh()
    stack.up(seed_program(cluster))
    assert "AROA" not in json.dumps(trust_of(iam, "xpander-redshift-access"))
    chain(aws, f"arn:aws:iam::{ACCOUNT}:role/xpander-redshift-access")
