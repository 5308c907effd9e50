"""In-place updates make only the calls the change needs (suite 3), and the
cross-account path honours the ExternalId (suite 1)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from e2e.seed import BASE, CONNECTOR, ORG_ID, PLATFORM, role_arn
from engine import Secret


def program(cluster, database="dev", external_id=ORG_ID, tags=None):
    def run(ctx):
        base = ctx.resource(BASE, "base", {"roleName": "xpander-base-role", "podIdentity": {"clusterName": cluster}})
        inputs = {
            "roleName": "xpander-redshift-access",
            "baseRoleArn": base["arn"],
            "baseRoleId": base["roleId"],
            "externalId": Secret(external_id),
            "trustedAccountId": PLATFORM,
            "podIdentityScope": {"clusterName": cluster},
            "redshift": {"clusterIdentifier": "analytics", "databaseName": database},
        }
        if tags:
            inputs["tags"] = tags
        ctx.resource(CONNECTOR, "redshift", inputs)
    return run


def mutations(aws):
    return [(r["action"], r["params"].get("RoleName"), r["params"].get("PolicyName")) for r in aws.requests() if r["mutating"]]


def test_changing_the_database_rewrites_one_policy(aws, cluster, stack):
    stack.up(program(cluster))
    aws.clear_requests()
    stack.up(program(cluster, database="analytics"))
    assert mutations(aws) == [("PutRolePolicy", "xpander-redshift-access", "RedshiftCredentials")]


def test_rotating_the_external_id_rewrites_only_the_trust(aws, cluster, stack):
    stack.up(program(cluster))
    aws.clear_requests()
    events = stack.up(program(cluster, external_id="org-rotated-2"))
    assert mutations(aws) == [("UpdateAssumeRolePolicy", "xpander-redshift-access", None)]
    redshift = next(e for e in events if e.name == "redshift")
    assert "externalId" in redshift.diff.diffs and not redshift.diff.replaces
    aws.settle()
    sts = aws.boto3_client("sts", account=PLATFORM)
    with pytest.raises(ClientError) as old_id:
        sts.assume_role(RoleArn=role_arn("xpander-redshift-access"), RoleSessionName="platform", ExternalId=ORG_ID)
    assert old_id.value.response["Error"]["Code"] == "AccessDenied"
    sts.assume_role(RoleArn=role_arn("xpander-redshift-access"), RoleSessionName="platform", ExternalId="org-rotated-2")


def test_changing_tags_only_tags(aws, cluster, stack):
    stack.up(program(cluster, tags={"Environment": "dev", "Project": "xpander"}))
    aws.clear_requests()
    stack.up(program(cluster, tags={"Environment": "prod"}))
    assert sorted(m[0] for m in mutations(aws)) == ["TagRole", "UntagRole"]
    tags = {t["Key"]: t["Value"] for t in aws.boto3_client("iam").list_role_tags(RoleName="xpander-redshift-access")["Tags"]}
    assert tags["Environment"] == "prod" and "Project" not in tags and tags["ManagedBy"] == "pulumi-xpander"


def test_cross_account_path_needs_the_external_id(aws, cluster, stack):
    stack.up(program(cluster))
    aws.settle()
    sts = aws.boto3_client("sts", account=PLATFORM)
    arn = role_arn("xpander-redshift-access")
    assumed = sts.assume_role(RoleArn=arn, RoleSessionName="platform", ExternalId=ORG_ID)
    assert assumed["AssumedRoleUser"]["Arn"].endswith("/platform")
    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=arn, RoleSessionName="platform")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as wrong:
        sts.assume_role(RoleArn=arn, RoleSessionName="platform", ExternalId="someone-else")
    assert wrong.value.response["Error"]["Code"] == "AccessDenied"
    # The ExternalId opens the statement to the platform's account, not to the connector's own.
    with pytest.raises(ClientError) as own:
        aws.boto3_client("sts").assume_role(RoleArn=arn, RoleSessionName="platform", ExternalId=ORG_ID)
    assert own.value.response["Error"]["Code"] == "AccessDenied"


def test_moving_cluster_replaces_association_and_entry_not_roles(aws, cluster, stack):
    eks = aws.boto3_client("eks")
    eks.create_cluster(name="other-cluster", roleArn="arn:aws:iam::123456789012:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})

    def on(cluster_name, namespace="xpander"):
        def run(ctx):
            base = ctx.resource(BASE, "base", {"roleName": "xpander-base-role", "podIdentity": {"clusterName": cluster_name, "namespace": namespace}})
            ctx.resource(CONNECTOR, "eks", {"roleName": "xpander-eks-connector", "baseRoleArn": base["arn"], "eks": {"clusterName": cluster_name}})
        return run

    stack.up(on(cluster))
    ids = {r.name: r.outputs["roleId"] for r in stack.resources}
    events = stack.up(on("other-cluster", namespace="xpander-ai"))
    assert {e.name: e.op for e in events} == {"base": "update", "eks": "update"}
    assert {r.name: r.outputs["roleId"] for r in stack.resources} == ids, "roles are kept"
    assert eks.list_pod_identity_associations(clusterName=cluster)["associations"] == []
    assert eks.list_access_entries(clusterName=cluster)["accessEntries"] == []
    moved = eks.list_pod_identity_associations(clusterName="other-cluster")["associations"]
    assert [(a["namespace"], a["serviceAccount"]) for a in moved] == [("xpander-ai", "xpander")]
    assert eks.list_access_entries(clusterName="other-cluster")["accessEntries"] == [role_arn("xpander-eks-connector")]
