"""Every request is authorised against the caller's identity policies and
permissions boundary; unknown access keys are refused as AWS refuses them."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from awssim.harness import AwsSimError
from xpander_setup import ACCOUNT, doc

CLUSTER = "c1"
REGION = "us-east-1"
POD_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]})
ROOT_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def role_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def cluster_arn(name: str = CLUSTER) -> str:
    return f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: object, resource: object = "*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object, resource: object = "*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def error_of(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return {**info.value.response["Error"], "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def no_policy_allows(caller: str, action: str, resource: str) -> str:
    return f"User: {caller} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"


def last_entry(aws, action: str) -> dict:
    return [e for e in aws.requests() if e["action"] == action][-1]


@pytest.fixture
def admin_iam(aws):
    return aws.boto3_client("iam")


@pytest.fixture
def cluster(aws):
    aws.boto3_client("eks").create_cluster(name=CLUSTER, roleArn=role_arn("cluster"), resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    return CLUSTER


# --- authentication -------------------------------------------------------------------


def test_unknown_access_key_is_refused_by_iam_sts_and_eks(aws, cluster):
    stranger = {"AccessKeyId": "AKIAUNKNOWNKEY000000", "SecretAccessKey": "whatever"}
    err = error_of(lambda: aws.client_for("iam", stranger).get_role(RoleName="any"))
    assert (err["Code"], err["Status"], err["Message"]) == ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
    err = error_of(aws.client_for("sts", stranger).get_caller_identity)
    assert (err["Code"], err["Status"], err["Message"]) == ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
    err = error_of(lambda: aws.client_for("eks", stranger).describe_cluster(name=cluster))
    assert (err["Code"], err["Status"], err["Message"]) == ("UnrecognizedClientException", 403, "The security token included in the request is invalid.")
    entry = last_entry(aws, "DescribeCluster")
    assert (entry["status"], entry["caller"], entry["denied"]) == (403, None, None)


def test_unsigned_request_is_refused(aws):
    client = boto3.client("iam", endpoint_url=aws.url, region_name=REGION, config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    err = error_of(client.list_roles)
    assert (err["Code"], err["Status"]) == ("MissingAuthenticationToken", 403)


def test_deleted_user_and_deactivated_key_are_refused(aws, admin_iam):
    creds = aws.principal("temp", policy(allow("iam:*")))
    assert aws.client_for("sts", creds).get_caller_identity()["Arn"] == user_arn("temp")
    admin_iam.update_access_key(UserName="temp", AccessKeyId=creds["AccessKeyId"], Status="Inactive")
    assert error_of(aws.client_for("sts", creds).get_caller_identity)["Code"] == "InvalidClientTokenId"
    # A key made with IAM's own CreateAccessKey works as that user.
    key = admin_iam.create_access_key(UserName="temp")["AccessKey"]
    assert aws.client_for("sts", key).get_caller_identity()["Arn"] == user_arn("temp")
    # A long-term key is never sent with a session token.
    assert error_of(aws.client_for("sts", {**key, "SessionToken": "bogus"}).get_caller_identity)["Code"] == "InvalidClientTokenId"


def test_principal_route_checks_its_input(aws):
    creds = aws.principal("dev", policy(allow("iam:GetRole")), tags={"team": "platform"})
    assert creds["Arn"] == user_arn("dev") and creds["AccessKeyId"].startswith("AKIA") and creds["SecretAccessKey"]
    with pytest.raises(AwsSimError) as info:
        aws.principal("dev", policy(allow("iam:GetRole")))
    assert (info.value.status, info.value.code) == (409, "EntityAlreadyExists")
    with pytest.raises(AwsSimError) as info:
        aws.principal("bad", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole"}]})
    assert info.value.status == 400 and "Policy statement must contain resources." in info.value.message
    with pytest.raises(AwsSimError) as info:
        aws.principal("bad name", policy(allow("iam:GetRole")))
    assert info.value.status == 400
    with pytest.raises(AwsSimError) as info:
        aws.principal("nobound", policy(allow("iam:GetRole")), boundary=f"arn:aws:iam::{ACCOUNT}:policy/missing")
    assert info.value.status == 400 and "no such managed policy" in info.value.message


# --- identity policies ----------------------------------------------------------------


def test_get_caller_identity_needs_no_permission(aws):
    creds = aws.principal("nobody", policy(deny("*")))
    who = aws.client_for("sts", creds).get_caller_identity()
    assert (who["Arn"], who["Account"], who["UserId"]) == (user_arn("nobody"), ACCOUNT, creds["UserId"])


def test_read_only_principal_can_read_but_not_create(aws, admin_iam):
    admin_iam.create_role(RoleName="existing", AssumeRolePolicyDocument=ROOT_TRUST)
    creds = aws.principal("reader", policy(allow(["iam:Get*", "iam:List*"])))
    iam = aws.client_for("iam", creds)
    assert iam.get_role(RoleName="existing")["Role"]["Arn"] == role_arn("existing")
    assert iam.get_account_summary()["SummaryMap"]

    err = error_of(lambda: iam.create_role(RoleName="new", AssumeRolePolicyDocument=ROOT_TRUST))
    assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
    assert err["Message"] == no_policy_allows(user_arn("reader"), "iam:CreateRole", role_arn("new"))
    entry = last_entry(aws, "CreateRole")
    assert (entry["status"], entry["caller"], entry["denied"]) == (403, user_arn("reader"), "iam:CreateRole")
    assert error_of(lambda: admin_iam.get_role(RoleName="new"))["Code"] == "NoSuchEntity"
    assert last_entry(aws, "GetRole")["caller"] == "arn:aws:iam::123456789012:user/awssim-admin"


def test_account_level_actions_act_on_star(aws):
    iam = aws.client_for("iam", aws.principal("p", policy(allow("iam:GetRole"))))
    err = error_of(iam.get_account_summary)
    assert err["Message"] == no_policy_allows(user_arn("p"), "iam:GetAccountSummary", "*")


def test_role_resources_are_scoped_by_name_and_stored_path(aws, admin_iam):
    admin_iam.create_role(RoleName="xpander-pathed", Path="/team/", AssumeRolePolicyDocument=ROOT_TRUST)
    creds = aws.principal("scoped", policy(allow(["iam:CreateRole", "iam:GetRole", "iam:DeleteRole"], f"arn:aws:iam::*:role/xpander-*")))
    iam = aws.client_for("iam", creds)
    iam.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=ROOT_TRUST)
    assert iam.get_role(RoleName="xpander-a")["Role"]["RoleName"] == "xpander-a"

    err = error_of(lambda: iam.create_role(RoleName="other", AssumeRolePolicyDocument=ROOT_TRUST))
    assert err["Message"] == no_policy_allows(user_arn("scoped"), "iam:CreateRole", role_arn("other"))
    # A call without Path is authorised on the role's stored path.
    err = error_of(lambda: iam.get_role(RoleName="xpander-pathed"))
    assert err["Message"] == no_policy_allows(user_arn("scoped"), "iam:GetRole", role_arn("xpander-pathed", "/team/"))
    err = error_of(lambda: iam.create_role(RoleName="xpander-b", Path="/team/", AssumeRolePolicyDocument=ROOT_TRUST))
    assert err["Message"] == no_policy_allows(user_arn("scoped"), "iam:CreateRole", role_arn("xpander-b", "/team/"))
    iam.delete_role(RoleName="xpander-a")


def test_explicit_deny_wins_over_allow(aws, admin_iam):
    admin_iam.create_role(RoleName="xpander-protected", AssumeRolePolicyDocument=ROOT_TRUST)
    admin_iam.create_role(RoleName="xpander-free", AssumeRolePolicyDocument=ROOT_TRUST)
    creds = aws.principal("denied", policy(allow("iam:*"), deny("iam:DeleteRole", role_arn("xpander-protected"))))
    iam = aws.client_for("iam", creds)
    err = error_of(lambda: iam.delete_role(RoleName="xpander-protected"))
    assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
    assert err["Message"] == (
        f"User: {user_arn('denied')} is not authorized to perform: iam:DeleteRole on resource: "
        f"{role_arn('xpander-protected')} with an explicit deny in an identity-based policy"
    )
    iam.delete_role(RoleName="xpander-free")


def test_permissions_boundary_limits_what_the_identity_policy_allows(aws, admin_iam):
    admin_iam.create_role(RoleName="xpander-r", AssumeRolePolicyDocument=ROOT_TRUST)
    creds = aws.principal("bounded", policy(allow("iam:*")), boundary=policy(allow(["iam:Get*", "iam:List*"]), deny("iam:GetRolePolicy")))
    iam = aws.client_for("iam", creds)
    assert iam.get_role(RoleName="xpander-r")["Role"]["RoleName"] == "xpander-r"
    err = error_of(lambda: iam.create_role(RoleName="xpander-n", AssumeRolePolicyDocument=ROOT_TRUST))
    assert err["Message"] == (
        f"User: {user_arn('bounded')} is not authorized to perform: iam:CreateRole on resource: {role_arn('xpander-n')} "
        "because no permissions boundary allows the iam:CreateRole action"
    )
    err = error_of(lambda: iam.get_role_policy(RoleName="xpander-r", PolicyName="p"))
    assert err["Message"].endswith("iam:GetRolePolicy on resource: " + role_arn("xpander-r") + " with an explicit deny in a permissions boundary")
    # The boundary grants nothing by itself.
    narrow = aws.client_for("iam", aws.principal("narrow", policy(allow("iam:GetRole")), boundary=policy(allow("iam:*"))))
    assert error_of(narrow.list_roles)["Message"] == no_policy_allows(user_arn("narrow"), "iam:ListRoles", "*")


def test_boundary_may_be_a_managed_policy(aws, admin_iam):
    arn = admin_iam.create_policy(PolicyName="reads", PolicyDocument=json.dumps(policy(allow("iam:Get*"))))["Policy"]["Arn"]
    iam = aws.client_for("iam", aws.principal("managed-bound", policy(allow("iam:*")), boundary=arn))
    err = error_of(iam.list_roles)
    assert err["Message"].endswith("because no permissions boundary allows the iam:ListRoles action")


def test_attached_and_group_policies_count(aws, admin_iam):
    arn = admin_iam.create_policy(PolicyName="lists", PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))["Policy"]["Arn"]
    creds = aws.principal("attached", policy_arns=[arn])
    iam = aws.client_for("iam", creds)
    iam.list_roles()
    admin_iam.create_group(GroupName="summary")
    admin_iam.put_group_policy(GroupName="summary", PolicyName="p", PolicyDocument=json.dumps(policy(allow("iam:GetAccountSummary"))))
    assert error_of(iam.get_account_summary)["Code"] == "AccessDenied"
    admin_iam.add_user_to_group(GroupName="summary", UserName="attached")
    iam.get_account_summary()


def test_create_role_with_tags_needs_tag_role(aws, admin_iam):
    creds = aws.principal("creator", policy(allow("iam:CreateRole", "arn:aws:iam::*:role/xpander-*")))
    iam = aws.client_for("iam", creds)
    iam.create_role(RoleName="xpander-untagged", AssumeRolePolicyDocument=ROOT_TRUST)
    err = error_of(lambda: iam.create_role(RoleName="xpander-tagged", AssumeRolePolicyDocument=ROOT_TRUST, Tags=[{"Key": "owner", "Value": "me"}]))
    assert err["Message"] == no_policy_allows(user_arn("creator"), "iam:TagRole", role_arn("xpander-tagged"))
    assert last_entry(aws, "CreateRole")["denied"] == "iam:TagRole"
    assert error_of(lambda: admin_iam.get_role(RoleName="xpander-tagged"))["Code"] == "NoSuchEntity"

    # TagRole allowed only for the ownership tag key: aws:TagKeys and aws:RequestTag are evaluated.
    tagger = policy(
        allow("iam:CreateRole", "arn:aws:iam::*:role/xpander-*"),
        allow("iam:TagRole", "arn:aws:iam::*:role/xpander-*",
              Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["owner"]}, "StringEquals": {"aws:RequestTag/owner": "me"}}),
    )
    iam = aws.client_for("iam", aws.principal("tagger", tagger))
    iam.create_role(RoleName="xpander-tagged", AssumeRolePolicyDocument=ROOT_TRUST, Tags=[{"Key": "owner", "Value": "me"}])
    assert admin_iam.list_role_tags(RoleName="xpander-tagged")["Tags"] == [{"Key": "owner", "Value": "me"}]
    err = error_of(lambda: iam.create_role(RoleName="xpander-t2", AssumeRolePolicyDocument=ROOT_TRUST, Tags=[{"Key": "owner", "Value": "you"}]))
    assert "iam:TagRole" in err["Message"]


def test_resource_tag_and_policy_arn_conditions(aws, admin_iam):
    admin_iam.create_role(RoleName="xpander-mine", AssumeRolePolicyDocument=ROOT_TRUST, Tags=[{"Key": "managed-by", "Value": "xpander"}])
    admin_iam.create_role(RoleName="xpander-theirs", AssumeRolePolicyDocument=ROOT_TRUST)
    arn = admin_iam.create_policy(PolicyName="ok", PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
    other = admin_iam.create_policy(PolicyName="not-ok", PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
    iam = aws.client_for("iam", aws.principal("cond", policy(
        allow("iam:AttachRolePolicy", Condition={"StringEquals": {"aws:ResourceTag/managed-by": "xpander"}, "ArnEquals": {"iam:PolicyARN": arn}}),
    )))
    iam.attach_role_policy(RoleName="xpander-mine", PolicyArn=arn)
    assert "iam:AttachRolePolicy" in error_of(lambda: iam.attach_role_policy(RoleName="xpander-mine", PolicyArn=other))["Message"]
    assert "iam:AttachRolePolicy" in error_of(lambda: iam.attach_role_policy(RoleName="xpander-theirs", PolicyArn=arn))["Message"]

    # The usual delegation guard: roles may only be created with a given boundary.
    iam = aws.client_for("iam", aws.principal("guarded", policy(
        allow("iam:CreateRole", Condition={"StringEquals": {"iam:PermissionsBoundary": arn}}))))
    iam.create_role(RoleName="xpander-bounded", AssumeRolePolicyDocument=ROOT_TRUST, PermissionsBoundary=arn)
    assert "iam:CreateRole" in error_of(lambda: iam.create_role(RoleName="xpander-free", AssumeRolePolicyDocument=ROOT_TRUST))["Message"]
    assert "iam:CreateRole" in error_of(
        lambda: iam.create_role(RoleName="xpander-other", AssumeRolePolicyDocument=ROOT_TRUST, PermissionsBoundary=other))["Message"]


def test_requested_region_condition(aws, cluster):
    creds = aws.principal("regional", policy(allow("eks:DescribeCluster", Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}})))
    aws.client_for("eks", creds).describe_cluster(name=cluster)
    elsewhere = boto3.client("eks", endpoint_url=aws.url, region_name="eu-west-1", config=NO_RETRY,
                             aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"])
    err = error_of(lambda: elsewhere.describe_cluster(name=cluster))
    assert (err["Code"], err["Status"]) == ("AccessDeniedException", 403)
    assert err["Message"] == no_policy_allows(user_arn("regional"), "eks:DescribeCluster", f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/{cluster}")


# --- EKS ------------------------------------------------------------------------------


def test_eks_denial_names_the_cluster_arn(aws, cluster):
    eks = aws.client_for("eks", aws.principal("eks-reader", policy(allow("eks:DescribeCluster", "arn:aws:eks:*:*:cluster/other"))))
    err = error_of(lambda: eks.describe_cluster(name=cluster))
    assert (err["Code"], err["Status"]) == ("AccessDeniedException", 403)
    assert err["Message"] == no_policy_allows(user_arn("eks-reader"), "eks:DescribeCluster", cluster_arn())
    assert last_entry(aws, "DescribeCluster")["denied"] == "eks:DescribeCluster"


def test_create_pod_identity_association_requires_pass_role(aws, admin_iam, cluster):
    admin_iam.create_role(RoleName="xpander-base", AssumeRolePolicyDocument=POD_TRUST)
    eks_only = policy(allow("eks:*", [cluster_arn(), f"arn:aws:eks:*:*:podidentityassociation/{CLUSTER}/*"]))
    eks = aws.client_for("eks", aws.principal("no-pass", eks_only))
    err = error_of(lambda: eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=role_arn("xpander-base")))
    assert (err["Code"], err["Status"]) == ("AccessDeniedException", 403)
    assert err["Message"] == no_policy_allows(user_arn("no-pass"), "iam:PassRole", role_arn("xpander-base"))
    assert last_entry(aws, "CreatePodIdentityAssociation")["denied"] == "iam:PassRole"
    assert aws.boto3_client("eks").list_pod_identity_associations(clusterName=cluster)["associations"] == []

    # PassRole to another service does not count.
    wrong_service = {**eks_only, "Statement": eks_only["Statement"] + [
        allow("iam:PassRole", "arn:aws:iam::*:role/xpander-*", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})]}
    eks = aws.client_for("eks", aws.principal("wrong-service", wrong_service))
    err = error_of(lambda: eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=role_arn("xpander-base")))
    assert "iam:PassRole" in err["Message"]

    passer = {**eks_only, "Statement": eks_only["Statement"] + [
        allow("iam:PassRole", "arn:aws:iam::*:role/xpander-*", Condition={"StringEquals": {"iam:PassedToService": "pods.eks.amazonaws.com"}})]}
    eks = aws.client_for("eks", aws.principal("passer", passer))
    association = eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=role_arn("xpander-base"))["association"]
    # Updating to another role passes that role.
    admin_iam.create_role(RoleName="other-base", AssumeRolePolicyDocument=POD_TRUST)
    err = error_of(lambda: eks.update_pod_identity_association(clusterName=cluster, associationId=association["associationId"], roleArn=role_arn("other-base")))
    assert err["Message"] == no_policy_allows(user_arn("passer"), "iam:PassRole", role_arn("other-base"))
    eks.update_pod_identity_association(clusterName=cluster, associationId=association["associationId"], disableSessionTags=True)


def test_pod_identity_association_actions_act_on_the_association_arn(aws, admin_iam, cluster):
    admin_iam.create_role(RoleName="xpander-base", AssumeRolePolicyDocument=POD_TRUST)
    association = aws.boto3_client("eks").create_pod_identity_association(
        clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=role_arn("xpander-base"))["association"]
    eks = aws.client_for("eks", aws.principal("lister", policy(allow("eks:ListPodIdentityAssociations", cluster_arn()))))
    assert len(eks.list_pod_identity_associations(clusterName=cluster)["associations"]) == 1
    err = error_of(lambda: eks.describe_pod_identity_association(clusterName=cluster, associationId=association["associationId"]))
    assert err["Message"] == no_policy_allows(user_arn("lister"), "eks:DescribePodIdentityAssociation", association["associationArn"])
    err = error_of(lambda: eks.delete_pod_identity_association(clusterName=cluster, associationId=association["associationId"]))
    assert err["Message"] == no_policy_allows(user_arn("lister"), "eks:DeletePodIdentityAssociation", association["associationArn"])


def test_access_entry_actions_act_on_the_access_entry_arn(aws, admin_iam, cluster):
    admin_iam.create_role(RoleName="xpander-conn", AssumeRolePolicyDocument=ROOT_TRUST)
    principal_arn = role_arn("xpander-conn")
    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    creds = aws.principal("entries", policy(
        allow(["eks:CreateAccessEntry"], cluster_arn()),
        allow(["eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies", "eks:DeleteAccessEntry", "eks:DisassociateAccessPolicy"],
              f"arn:aws:eks:*:*:access-entry/{CLUSTER}/*"),
        allow("eks:AssociateAccessPolicy", f"arn:aws:eks:*:*:access-entry/{CLUSTER}/*", Condition={"StringEquals": {"eks:policyArn": view}}),
    ))
    eks = aws.client_for("eks", creds)
    # No such entry yet: the ARN it would have, without its UUID.
    err = error_of(lambda: aws.client_for("eks", aws.principal("nobody", policy(allow("iam:GetRole")))).describe_access_entry(clusterName=cluster, principalArn=principal_arn))
    assert err["Message"] == no_policy_allows(
        user_arn("nobody"), "eks:DescribeAccessEntry", f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/{CLUSTER}/role/{ACCOUNT}/xpander-conn/*")

    entry = eks.create_access_entry(clusterName=cluster, principalArn=principal_arn)["accessEntry"]
    assert eks.describe_access_entry(clusterName=cluster, principalArn=principal_arn)["accessEntry"]["accessEntryArn"] == entry["accessEntryArn"]
    eks.associate_access_policy(clusterName=cluster, principalArn=principal_arn, policyArn=view, accessScope={"type": "cluster"})
    admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    err = error_of(lambda: eks.associate_access_policy(clusterName=cluster, principalArn=principal_arn, policyArn=admin, accessScope={"type": "cluster"}))
    assert err["Message"] == no_policy_allows(user_arn("entries"), "eks:AssociateAccessPolicy", entry["accessEntryArn"])
    assert [p["policyArn"] for p in eks.list_associated_access_policies(clusterName=cluster, principalArn=principal_arn)["associatedAccessPolicies"]] == [view]
    eks.disassociate_access_policy(clusterName=cluster, principalArn=principal_arn, policyArn=view)
    err = error_of(lambda: eks.list_access_entries(clusterName=cluster))
    assert err["Message"] == no_policy_allows(user_arn("entries"), "eks:ListAccessEntries", cluster_arn())
    eks.delete_access_entry(clusterName=cluster, principalArn=principal_arn)


# --- role sessions ---------------------------------------------------------------------


def test_assumed_role_session_acts_with_the_role_policies_and_boundary(aws, admin_iam):
    admin_iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=ROOT_TRUST)
    admin_iam.put_role_policy(RoleName="deployer", PolicyName="p", PolicyDocument=json.dumps(policy(allow(["iam:GetRole", "iam:ListRoles"], "*"))))
    admin_iam.create_role(RoleName="xpander-x", AssumeRolePolicyDocument=ROOT_TRUST)
    result = aws.boto3_client("sts").assume_role(RoleArn=role_arn("deployer"), RoleSessionName="ci")
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci"
    iam = aws.client_for("iam", result["Credentials"])
    assert iam.get_role(RoleName="xpander-x")["Role"]["RoleName"] == "xpander-x"
    err = error_of(lambda: iam.delete_role(RoleName="xpander-x"))
    assert err["Message"] == no_policy_allows(session_arn, "iam:DeleteRole", role_arn("xpander-x"))
    assert last_entry(aws, "DeleteRole")["caller"] == session_arn

    # Attached managed policies count; the role's boundary caps them.
    arn = admin_iam.create_policy(PolicyName="deletes", PolicyDocument=json.dumps(policy(allow("iam:DeleteRole"))))["Policy"]["Arn"]
    admin_iam.attach_role_policy(RoleName="deployer", PolicyArn=arn)
    boundary = admin_iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps(policy(allow("iam:Get*"))))["Policy"]["Arn"]
    admin_iam.put_role_permissions_boundary(RoleName="deployer", PermissionsBoundary=boundary)
    err = error_of(lambda: iam.delete_role(RoleName="xpander-x"))
    assert err["Message"].endswith("because no permissions boundary allows the iam:DeleteRole action")
    admin_iam.delete_role_permissions_boundary(RoleName="deployer")
    iam.delete_role(RoleName="xpander-x")


def test_pod_credentials_act_as_the_pod_role(aws, admin_iam, cluster):
    admin_iam.create_role(RoleName="pod-role", AssumeRolePolicyDocument=POD_TRUST)
    admin_iam.put_role_policy(RoleName="pod-role", PolicyName="p", PolicyDocument=json.dumps(policy(allow("eks:DescribeCluster", cluster_arn()))))
    aws.boto3_client("eks").create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=role_arn("pod-role"))
    pod = aws.pod_credentials(cluster, "ns", "sa")
    assert aws.client_for("eks", pod).describe_cluster(name=cluster)["cluster"]["name"] == cluster
    err = error_of(lambda: aws.client_for("iam", pod).get_role(RoleName="pod-role"))
    assert err["Message"] == no_policy_allows(pod["AssumedRoleArn"], "iam:GetRole", role_arn("pod-role"))


def test_user_needs_identity_permission_to_assume_a_role(aws, admin_iam):
    trust = doc({"Effect": "Allow", "Principal": {"AWS": user_arn("assumer")}, "Action": "sts:AssumeRole"})
    creds = aws.principal("assumer", policy(allow("iam:GetRole")))
    admin_iam.create_role(RoleName="target", AssumeRolePolicyDocument=trust)
    sts = aws.client_for("sts", creds)
    err = error_of(lambda: sts.assume_role(RoleArn=role_arn("target"), RoleSessionName="sess"))
    assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
    assert err["Message"] == f"User: {user_arn('assumer')} is not authorized to perform: sts:AssumeRole on resource: {role_arn('target')}"
    assert last_entry(aws, "AssumeRole")["denied"] == "sts:AssumeRole"

    creds = aws.principal("assumer2", policy(allow("sts:AssumeRole", role_arn("target"))))
    admin_iam.update_assume_role_policy(RoleName="target", PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": [user_arn("assumer"), user_arn("assumer2")]}, "Action": "sts:AssumeRole"}))
    assumed = aws.client_for("sts", creds).assume_role(RoleArn=role_arn("target"), RoleSessionName="sess")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/target/sess"
    assert [s["chained"] for s in aws.sessions()] == [False]


def test_session_of_a_deleted_role_may_do_nothing(aws, admin_iam):
    admin_iam.create_role(RoleName="gone", AssumeRolePolicyDocument=ROOT_TRUST)
    admin_iam.put_role_policy(RoleName="gone", PolicyName="p", PolicyDocument=json.dumps(policy(allow("iam:*"))))
    creds = aws.boto3_client("sts").assume_role(RoleArn=role_arn("gone"), RoleSessionName="sess")["Credentials"]
    iam = aws.client_for("iam", creds)
    iam.list_roles()
    admin_iam.delete_role_policy(RoleName="gone", PolicyName="p")
    admin_iam.delete_role(RoleName="gone")
    assert error_of(iam.list_roles)["Code"] == "AccessDenied"


# --- the provider's own calls under a least-privilege policy ------------------------------

ROLES = "arn:aws:iam::*:role/xpander-*"
DEPLOY_POLICY = policy(
    allow(["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:CreateRole",
           "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:PutRolePermissionsBoundary",
           "iam:DeleteRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
           "iam:DetachRolePolicy", "iam:DeleteRole"], ROLES),
    allow("iam:PassRole", ROLES, Condition={"StringEquals": {"iam:PassedToService": "pods.eks.amazonaws.com"}}),
    allow(["iam:GetPolicy", "iam:GetPolicyVersion"], ["arn:aws:iam::*:policy/*", "arn:aws:iam::aws:policy/*"]),
    allow("iam:GetAccountSummary", "*"),
    allow(["eks:DescribeCluster", "eks:ListPodIdentityAssociations", "eks:CreatePodIdentityAssociation", "eks:CreateAccessEntry"],
          "arn:aws:eks:*:*:cluster/*"),
    allow(["eks:DescribePodIdentityAssociation", "eks:UpdatePodIdentityAssociation", "eks:DeletePodIdentityAssociation"],
          "arn:aws:eks:*:*:podidentityassociation/*/*"),
    allow(["eks:DescribeAccessEntry", "eks:ListAssociatedAccessPolicies", "eks:AssociateAccessPolicy",
           "eks:DisassociateAccessPolicy", "eks:DeleteAccessEntry"], "arn:aws:eks:*:*:access-entry/*/*"),
)


def test_every_provider_call_is_allowed_by_a_scoped_deploy_policy(aws, admin_iam, cluster):
    managed = admin_iam.create_policy(PolicyName="s3-read", PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
    creds = aws.principal("deployer", DEPLOY_POLICY)
    iam, eks, sts = (aws.client_for(s, creds) for s in ("iam", "eks", "sts"))
    aws.clear_requests()

    sts.get_caller_identity()
    iam.get_account_summary()
    iam.create_role(RoleName="xpander-base", AssumeRolePolicyDocument=POD_TRUST, Tags=[{"Key": "xpander:owner", "Value": "stack"}])
    iam.get_role(RoleName="xpander-base")
    iam.update_role(RoleName="xpander-base", Description="base")
    iam.update_assume_role_policy(RoleName="xpander-base", PolicyDocument=POD_TRUST)
    iam.tag_role(RoleName="xpander-base", Tags=[{"Key": "team", "Value": "ai"}])
    iam.untag_role(RoleName="xpander-base", TagKeys=["team"])
    iam.put_role_policy(RoleName="xpander-base", PolicyName="inline", PolicyDocument=json.dumps(policy(allow("s3:ListBucket"))))
    iam.list_role_policies(RoleName="xpander-base")
    iam.get_role_policy(RoleName="xpander-base", PolicyName="inline")
    iam.attach_role_policy(RoleName="xpander-base", PolicyArn=managed)
    iam.list_attached_role_policies(RoleName="xpander-base")
    iam.get_policy(PolicyArn=managed)
    iam.get_policy_version(PolicyArn=managed, VersionId="v1")
    iam.put_role_permissions_boundary(RoleName="xpander-base", PermissionsBoundary=managed)
    iam.delete_role_permissions_boundary(RoleName="xpander-base")

    eks.describe_cluster(name=cluster)
    association = eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=role_arn("xpander-base"))["association"]
    eks.list_pod_identity_associations(clusterName=cluster)
    eks.describe_pod_identity_association(clusterName=cluster, associationId=association["associationId"])
    eks.update_pod_identity_association(clusterName=cluster, associationId=association["associationId"], roleArn=role_arn("xpander-base"))
    eks.delete_pod_identity_association(clusterName=cluster, associationId=association["associationId"])

    principal_arn = role_arn("xpander-base")
    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    eks.create_access_entry(clusterName=cluster, principalArn=principal_arn)
    eks.describe_access_entry(clusterName=cluster, principalArn=principal_arn)
    eks.associate_access_policy(clusterName=cluster, principalArn=principal_arn, policyArn=view, accessScope={"type": "cluster"})
    eks.list_associated_access_policies(clusterName=cluster, principalArn=principal_arn)
    eks.disassociate_access_policy(clusterName=cluster, principalArn=principal_arn, policyArn=view)
    eks.delete_access_entry(clusterName=cluster, principalArn=principal_arn)

    iam.detach_role_policy(RoleName="xpander-base", PolicyArn=managed)
    iam.delete_role_policy(RoleName="xpander-base", PolicyName="inline")
    iam.delete_role(RoleName="xpander-base")

    entries = aws.requests()
    assert len(entries) == 32
    assert all(e["status"] == 200 and e["denied"] is None and e["caller"] == user_arn("deployer") for e in entries), entries
    # Outside the prefix, nothing.
    err = error_of(lambda: iam.create_role(RoleName="unrelated", AssumeRolePolicyDocument=POD_TRUST))
    assert err["Message"] == no_policy_allows(user_arn("deployer"), "iam:CreateRole", role_arn("unrelated"))


def test_provider_env_for_a_principal(aws):
    creds = aws.principal("env", policy(allow("iam:GetRole")))
    env = aws.provider_env(creds)
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (creds["AccessKeyId"], creds["SecretAccessKey"])
    assert "AWS_SESSION_TOKEN" not in env and env["AWS_ENDPOINT_URL"] == aws.url
    pod_like = {"AccessKeyId": "ASIAX", "SecretAccessKey": "s", "Token": "t"}
    assert aws.provider_env(pod_like)["AWS_SESSION_TOKEN"] == "t"
    assert aws.provider_env()["AWS_ACCESS_KEY_ID"] == "testing"
