"""EKS Pod Identity associations and the pod credentials endpoint."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from awssim.harness import AwsSimError
from xpander_setup import ACCOUNT, doc

CLUSTER = "c1"
POD_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]})
POD_TAGS = {"eks-cluster-arn", "eks-cluster-name", "kubernetes-namespace", "kubernetes-service-account", "kubernetes-pod-name", "kubernetes-pod-uid"}


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def error_of(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return {**info.value.response["Error"], "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


@pytest.fixture
def eks(aws):
    client = aws.boto3_client("eks")
    client.create_cluster(name=CLUSTER, roleArn=arn("cluster"), resourcesVpcConfig={})
    aws.boto3_client("iam").create_role(RoleName="pod-role", AssumeRolePolicyDocument=POD_TRUST)
    return client


def create(eks, namespace="ns", service_account="sa", role="pod-role", **kwargs) -> dict:
    return eks.create_pod_identity_association(
        clusterName=CLUSTER, namespace=namespace, serviceAccount=service_account, roleArn=arn(role), **kwargs
    )["association"]


def test_create_describe_list_update_delete(aws, eks):
    association = create(eks, tags={"team": "data"})
    association_id = association["associationId"]
    assert re.fullmatch(r"a-[a-z0-9]{17}", association_id)
    assert association["associationArn"] == f"arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/{CLUSTER}/{association_id}"
    assert association["disableSessionTags"] is False and association["tags"] == {"team": "data"}
    described = eks.describe_pod_identity_association(clusterName=CLUSTER, associationId=association_id)["association"]
    assert described["roleArn"] == arn("pod-role")

    create(eks, namespace="ns", service_account="other")
    create(eks, namespace="ns2", service_account="sa")
    listed = eks.list_pod_identity_associations(clusterName=CLUSTER)["associations"]
    assert len(listed) == 3
    assert [a["serviceAccount"] for a in eks.list_pod_identity_associations(clusterName=CLUSTER, namespace="ns")["associations"]] == ["sa", "other"]
    assert [a["namespace"] for a in eks.list_pod_identity_associations(clusterName=CLUSTER, serviceAccount="sa")["associations"]] == ["ns", "ns2"]
    page = eks.list_pod_identity_associations(clusterName=CLUSTER, maxResults=2)
    rest = eks.list_pod_identity_associations(clusterName=CLUSTER, maxResults=2, nextToken=page["nextToken"])
    assert len(page["associations"]) == 2 and len(rest["associations"]) == 1 and "nextToken" not in rest

    aws.boto3_client("iam").create_role(RoleName="target", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": arn("pod-role")}, "Action": ["sts:AssumeRole", "sts:TagSession"]}))
    updated = eks.update_pod_identity_association(
        clusterName=CLUSTER, associationId=association_id, targetRoleArn=arn("target"), disableSessionTags=True
    )["association"]
    assert updated["targetRoleArn"] == arn("target") and updated["disableSessionTags"] is True
    assert updated["externalId"]
    cleared = eks.update_pod_identity_association(clusterName=CLUSTER, associationId=association_id, targetRoleArn="")["association"]
    assert "targetRoleArn" not in cleared and "externalId" not in cleared

    deleted = eks.delete_pod_identity_association(clusterName=CLUSTER, associationId=association_id)["association"]
    assert deleted["associationId"] == association_id
    err = error_of(lambda: eks.describe_pod_identity_association(clusterName=CLUSTER, associationId=association_id))
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)


def test_one_association_per_service_account(eks):
    create(eks)
    err = error_of(lambda: create(eks))
    assert (err["Code"], err["Status"]) == ("ResourceInUseException", 409)


def test_create_retried_with_the_same_token_is_idempotent(eks):
    first = create(eks, clientRequestToken="retry-token-1")
    assert create(eks, clientRequestToken="retry-token-1")["associationId"] == first["associationId"]
    assert error_of(lambda: create(eks, clientRequestToken="another-token"))["Code"] == "ResourceInUseException"


def test_cluster_must_exist(eks):
    err = error_of(lambda: eks.create_pod_identity_association(
        clusterName="ghost", namespace="ns", serviceAccount="sa", roleArn=arn("pod-role")))
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)
    assert error_of(lambda: eks.list_pod_identity_associations(clusterName="ghost"))["Code"] == "ResourceNotFoundException"


def test_role_must_exist_and_trust_pods(aws, eks):
    err = error_of(lambda: create(eks, role="ghost"))
    assert (err["Code"], err["Message"]) == ("InvalidParameterException", "Role provided in the request does not exist")
    aws.boto3_client("iam").create_role(RoleName="no-pods", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}))
    assert error_of(lambda: create(eks, role="no-pods"))["Code"] == "InvalidParameterException"
    association = create(eks)
    err = error_of(lambda: eks.update_pod_identity_association(
        clusterName=CLUSTER, associationId=association["associationId"], roleArn=arn("ghost")))
    assert err["Message"] == "Role provided in the request does not exist"


@pytest.mark.awssim_config(propagation_delay=60)
def test_role_inside_propagation_delay_does_not_exist_yet(aws, eks):
    err = error_of(lambda: create(eks))
    assert (err["Code"], err["Message"]) == ("InvalidParameterException", "Role provided in the request does not exist")
    aws.set_config(propagation_delay=0)
    create(eks)


@pytest.mark.parametrize("namespace, service_account", [("Bad_NS", "sa"), ("ns", "-sa"), ("n" * 64, "sa")])
def test_kubernetes_names_are_validated(eks, namespace, service_account):
    assert error_of(lambda: create(eks, namespace=namespace, service_account=service_account))["Code"] == "InvalidParameterException"


def test_session_policy_requires_disabled_session_tags(eks):
    policy = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert error_of(lambda: create(eks, policy=policy))["Code"] == "InvalidParameterException"
    assert create(eks, policy=policy, disableSessionTags=True)["policy"] == policy


def test_pod_credentials_carry_six_transitive_tags(aws, eks):
    create(eks)
    creds = aws.pod_credentials(CLUSTER, "ns", "sa", pod_name="web-0")
    assert set(creds["SessionTags"]) == POD_TAGS
    assert creds["SessionTags"]["eks-cluster-arn"] == f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{CLUSTER}"
    assert creds["SessionTags"]["kubernetes-service-account"] == "sa"
    who = aws.client_for("sts", creds).get_caller_identity()
    assert who["Arn"] == creds["AssumedRoleArn"]
    assert who["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/pod-role/eks-{CLUSTER}-web-0-")


def test_pod_credentials_errors_name_the_cause(aws, eks):
    with pytest.raises(AwsSimError) as info:
        aws.pod_credentials(CLUSTER, "ns", "nobody")
    assert (info.value.status, info.value.code) == (404, "AssociationNotFound")
    iam = aws.boto3_client("iam")
    create(eks)
    # Trust allows AssumeRole but not TagSession: the pod identity agent is refused.
    iam.update_assume_role_policy(RoleName="pod-role", PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    with pytest.raises(AwsSimError) as info:
        aws.pod_credentials(CLUSTER, "ns", "sa")
    assert (info.value.status, info.value.code) == (403, "AccessDenied")
    assert "sts:TagSession" in info.value.message


def test_disabled_session_tags_need_no_tag_session(aws, eks):
    iam = aws.boto3_client("iam")
    iam.update_assume_role_policy(RoleName="pod-role", PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    create(eks, disableSessionTags=True)
    assert aws.pod_credentials(CLUSTER, "ns", "sa")["SessionTags"] == {}


def test_pod_trust_conditions_see_request_tags(aws, eks):
    aws.boto3_client("iam").update_assume_role_policy(RoleName="pod-role", PolicyDocument=doc({
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "ns", "aws:SourceAccount": ACCOUNT}},
    }))
    create(eks)
    create(eks, namespace="elsewhere")
    aws.pod_credentials(CLUSTER, "ns", "sa")
    with pytest.raises(AwsSimError) as info:
        aws.pod_credentials(CLUSTER, "elsewhere", "sa")
    assert info.value.code == "AccessDenied"


def test_target_role_is_assumed_with_the_association_external_id(aws, eks):
    iam = aws.boto3_client("iam")
    iam.put_role_policy(RoleName="pod-role", PolicyName="chain", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": arn("target")}))
    iam.create_role(RoleName="target", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": arn("pod-role")}, "Action": ["sts:AssumeRole", "sts:TagSession"],
         "Condition": {"StringEquals": {"sts:ExternalId": "placeholder"}}}))
    association = create(eks, targetRoleArn=arn("target"))
    with pytest.raises(AwsSimError) as info:
        aws.pod_credentials(CLUSTER, "ns", "sa")
    assert info.value.code == "AccessDenied"
    iam.update_assume_role_policy(RoleName="target", PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": arn("pod-role")}, "Action": ["sts:AssumeRole", "sts:TagSession"],
         "Condition": {"StringEquals": {"sts:ExternalId": association["externalId"]}}}))
    creds = aws.pod_credentials(CLUSTER, "ns", "sa")
    assert "assumed-role/target/" in creds["AssumedRoleArn"]
    assert set(creds["SessionTags"]) == POD_TAGS


def test_deleting_the_cluster_drops_its_associations(aws, eks):
    create(eks)
    eks.delete_cluster(name=CLUSTER)
    eks.create_cluster(name=CLUSTER, roleArn=arn("cluster"), resourcesVpcConfig={})
    assert eks.list_pod_identity_associations(clusterName=CLUSTER)["associations"] == []
