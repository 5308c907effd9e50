"""Pod Identity trust scoped to one association, and the tags a chain carries.

The keys are AWS's (EKS User Guide, "Create IAM role with trust policy required
by EKS Pod Identity"; IAM User Guide, "Pass session tags in AWS STS"):
Pod Identity sends six transitive session tags, which a trust reads as
aws:RequestTag/*; on the chained AssumeRole the calling session's tags are
aws:PrincipalTag/*, the inherited transitive ones aws:RequestTag/* too.  An
identity policy may require tags on the role assumed (aws:ResourceTag/*,
iam:ResourceTag/*)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from awssim.harness import AwsSimError
from xpander_setup import ACCOUNT, ASSUME_AND_TAG, doc

REGION = "us-east-1"
CLUSTER, OTHER_CLUSTER = "xpander-cluster", "other-cluster"
NAMESPACE, SERVICE_ACCOUNT = "xpander", "xpander"
PODS = {"Service": "pods.eks.amazonaws.com"}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def cluster_arn(name: str) -> str:
    return f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}"


def scoped(prefix: str, cluster: str = CLUSTER) -> dict:
    """The condition that admits only the xpander service account of `cluster`."""
    return {"StringEquals": {
        f"{prefix}/eks-cluster-arn": cluster_arn(cluster),
        f"{prefix}/kubernetes-namespace": [NAMESPACE],
        f"{prefix}/kubernetes-service-account": [SERVICE_ACCOUNT],
    }}


def pods_trust(condition: dict | None = None) -> str:
    # As the EKS User Guide writes it: one statement for both actions, the condition on both.
    stmt = {"Sid": "AllowEksAuthToAssumeRoleForPodIdentity", "Effect": "Allow", "Principal": PODS, "Action": ASSUME_AND_TAG}
    if condition:
        stmt["Condition"] = condition
    return doc(stmt)


def refusal(call) -> str:
    with pytest.raises(AwsSimError) as info:
        call()
    assert (info.value.status, info.value.code) == (403, "AccessDenied")
    return info.value.message


def denied(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    return info.value.response["Error"]["Message"]


@pytest.fixture
def world(aws):
    """Two clusters, a base role, and four associations to it: the xpander pod's and
    three that differ from it in one thing (namespace, service account, cluster)."""
    iam, eks = aws.boto3_client("iam"), aws.boto3_client("eks")
    for name in (CLUSTER, OTHER_CLUSTER):
        eks.create_cluster(name=name, roleArn=role_arn("eks-cluster"), resourcesVpcConfig={})
    iam.create_role(RoleName="base", AssumeRolePolicyDocument=pods_trust())
    for cluster, namespace, service_account in (
        (CLUSTER, NAMESPACE, SERVICE_ACCOUNT), (CLUSTER, "other-ns", SERVICE_ACCOUNT),
        (CLUSTER, NAMESPACE, "other-sa"), (OTHER_CLUSTER, NAMESPACE, SERVICE_ACCOUNT),
    ):
        eks.create_pod_identity_association(
            clusterName=cluster, namespace=namespace, serviceAccount=service_account, roleArn=role_arn("base"))
    return iam


def test_the_pod_session_carries_the_documented_tags(aws, world):
    pod = aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT, pod_name="gateway-0")
    tags = pod["SessionTags"]
    assert {k: v for k, v in tags.items() if k != "kubernetes-pod-uid"} == {
        "eks-cluster-arn": cluster_arn(CLUSTER), "eks-cluster-name": CLUSTER, "kubernetes-namespace": NAMESPACE,
        "kubernetes-service-account": SERVICE_ACCOUNT, "kubernetes-pod-name": "gateway-0",
    }
    assert len(tags["kubernetes-pod-uid"]) == 36
    session = next(s for s in aws.sessions() if s["accessKeyId"] == pod["AccessKeyId"])
    assert session["transitiveTagKeys"] == sorted(tags)


@pytest.mark.parametrize("cluster, namespace, service_account", [
    (CLUSTER, "other-ns", SERVICE_ACCOUNT), (CLUSTER, NAMESPACE, "other-sa"), (OTHER_CLUSTER, NAMESPACE, SERVICE_ACCOUNT),
], ids=["other-namespace", "other-service-account", "other-cluster"])
def test_a_scoped_pods_trust_admits_only_its_association(aws, world, cluster, namespace, service_account):
    world.update_assume_role_policy(RoleName="base", PolicyDocument=pods_trust(scoped("aws:RequestTag")))
    assert aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT)["AssumedRoleArn"].startswith(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/base/")
    message = refusal(lambda: aws.pod_credentials(cluster, namespace, service_account))
    assert message == f"User: pods.eks.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: {role_arn('base')}"
    # Unscoped, the same association is admitted: the tags are what refused it.
    world.update_assume_role_policy(RoleName="base", PolicyDocument=pods_trust())
    aws.pod_credentials(cluster, namespace, service_account)


def test_disabled_session_tags_fail_a_tag_scoped_trust(aws, world):
    eks = aws.boto3_client("eks")
    association = eks.list_pod_identity_associations(
        clusterName=CLUSTER, namespace=NAMESPACE, serviceAccount=SERVICE_ACCOUNT)["associations"][0]
    eks.update_pod_identity_association(clusterName=CLUSTER, associationId=association["associationId"], disableSessionTags=True)
    assert aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT)["SessionTags"] == {}
    world.update_assume_role_policy(RoleName="base", PolicyDocument=pods_trust(scoped("aws:RequestTag")))
    assert "sts:AssumeRole" in refusal(lambda: aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT))


@pytest.mark.parametrize("condition, admitted", [
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, True),
    # Not documented for Pod Identity (the only report names an association ARN): never set here.
    ({"ArnLike": {"aws:SourceArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:*"}}, False),
    ({"StringLike": {"aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:*:{ACCOUNT}:cluster/xpander-*"}}, True),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["eks-cluster-arn", "eks-cluster-name", "kubernetes-namespace",
                                                     "kubernetes-service-account", "kubernetes-pod-name", "kubernetes-pod-uid"]}}, True),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}, False),
    ({"Null": {"aws:RequestTag/kubernetes-namespace": "false"}}, True),
])
def test_pods_trust_conditions(aws, world, condition, admitted):
    world.update_assume_role_policy(RoleName="base", PolicyDocument=pods_trust(condition))
    if admitted:
        aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT)
    else:
        refusal(lambda: aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT))


@pytest.mark.parametrize("prefix", ["aws:RequestTag", "aws:PrincipalTag"])
def test_the_chained_call_carries_the_pod_tags_to_the_connector(aws, world, prefix):
    """The base role's trust admits every association; the connector's trust admits the base
    role only for the xpander pod: the chain is scoped one hop later, on the carried tags."""
    connector = role_arn("connector")
    world.put_role_policy(RoleName="base", PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ASSUME_AND_TAG, "Resource": connector}))
    world.create_role(RoleName="connector", AssumeRolePolicyDocument=doc(
        {"Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": role_arn("base")}, "Action": ASSUME_AND_TAG,
         "Condition": scoped(prefix)}))
    world.put_role_policy(RoleName="connector", PolicyName="self", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ASSUME_AND_TAG, "Resource": connector}))
    world.update_assume_role_policy(RoleName="connector", PolicyDocument=doc(
        {"Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": role_arn("base")}, "Action": ASSUME_AND_TAG,
         "Condition": scoped(prefix)},
        {"Sid": "SelfAssume", "Effect": "Allow", "Principal": {"AWS": connector}, "Action": ASSUME_AND_TAG,
         "Condition": scoped(prefix)}))

    def chain(cluster: str, namespace: str, service_account: str) -> dict:
        pod = aws.pod_credentials(cluster, namespace, service_account)
        return aws.client_for("sts", pod).assume_role(RoleArn=connector, RoleSessionName="gateway")["Credentials"]

    creds = chain(CLUSTER, NAMESPACE, SERVICE_ACCOUNT)
    # Self-assume: the tags ride along again, and the same condition holds.
    again = aws.client_for("sts", creds).assume_role(RoleArn=connector, RoleSessionName="refresh")
    assert again["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/connector/refresh"
    for other in ((CLUSTER, "other-ns", SERVICE_ACCOUNT), (CLUSTER, NAMESPACE, "other-sa"), (OTHER_CLUSTER, NAMESPACE, SERVICE_ACCOUNT)):
        message = denied(lambda: chain(*other))
        assert message.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {connector}")
        assert f"assumed-role/base/eks-{other[0]}-" in message


def test_a_passed_tag_cannot_replace_an_inherited_one(aws, world):
    world.put_role_policy(RoleName="base", PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ASSUME_AND_TAG, "Resource": role_arn("connector")}))
    world.create_role(RoleName="connector", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": role_arn("base")}, "Action": ASSUME_AND_TAG, "Condition": scoped("aws:RequestTag")}))
    pod = aws.pod_credentials(CLUSTER, "other-ns", SERVICE_ACCOUNT)
    forged = [{"Key": "kubernetes-namespace", "Value": NAMESPACE}]
    with pytest.raises(ClientError) as info:
        aws.client_for("sts", pod).assume_role(RoleArn=role_arn("connector"), RoleSessionName="gateway", Tags=forged)
    assert info.value.response["Error"]["Code"] == "InvalidParameterValue"


@pytest.mark.parametrize("key", ["iam:ResourceTag", "aws:ResourceTag"])
def test_an_identity_policy_can_require_tags_on_the_role_assumed(aws, world, key):
    world.put_role_policy(RoleName="base", PolicyName="assume", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ASSUME_AND_TAG, "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
         "Condition": {"StringEquals": {f"{key}/xpander-connector": "true"}}}))
    trust = doc({"Effect": "Allow", "Principal": {"AWS": role_arn("base")}, "Action": ASSUME_AND_TAG})
    world.create_role(RoleName="tagged", AssumeRolePolicyDocument=trust, Tags=[{"Key": "xpander-connector", "Value": "true"}])
    world.create_role(RoleName="untagged", AssumeRolePolicyDocument=trust)
    sts = aws.client_for("sts", aws.pod_credentials(CLUSTER, NAMESPACE, SERVICE_ACCOUNT))
    sts.assume_role(RoleArn=role_arn("tagged"), RoleSessionName="gateway")
    message = denied(lambda: sts.assume_role(RoleArn=role_arn("untagged"), RoleSessionName="gateway"))
    assert message.endswith(f"sts:AssumeRole on resource: {role_arn('untagged')}")
    world.tag_role(RoleName="untagged", Tags=[{"Key": "xpander-connector", "Value": "true"}])
    sts.assume_role(RoleArn=role_arn("untagged"), RoleSessionName="gateway")
