"""A deployer that cannot escalate, as the IAM User Guide delegates role creation
("Permissions boundaries for IAM entities", delegating responsibility): every
role write is allowed only with a given permissions boundary
(iam:PermissionsBoundary), managed policies only from a list (iam:PolicyARN),
removing the boundary and editing it are denied.  Which actions carry which
key follows the Service Authorization Reference for IAM."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from xpander_setup import ACCOUNT, doc

ROLES = f"arn:aws:iam::{ACCOUNT}:role/xpander-*"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def refused(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["Error"]["Code"] == "AccessDenied", info.value.response
    return info.value.response["Error"]["Message"]


@pytest.fixture
def setup(aws):
    admin = aws.boto3_client("iam")
    boundary = admin.create_policy(PolicyName="xpander-boundary", PolicyDocument=json.dumps(policy(
        {"Effect": "Allow", "Action": ["s3:GetObject", "sts:AssumeRole", "sts:TagSession"], "Resource": "*"})))["Policy"]["Arn"]
    other = admin.create_policy(PolicyName="looser", PolicyDocument=json.dumps(policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"})))["Policy"]["Arn"]
    allowed = admin.create_policy(PolicyName="xpander-s3-read", PolicyDocument=json.dumps(policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})))["Policy"]["Arn"]
    with_boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary}}
    deployer = aws.principal("deployer", policy(
        {"Sid": "WriteOnlyWithBoundary", "Effect": "Allow", "Resource": ROLES, "Condition": with_boundary, "Action": [
            "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
            "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:DeleteRole"]},
        {"Sid": "AttachOnlyListed", "Effect": "Allow", "Resource": ROLES, "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
         "Condition": {**with_boundary, "ArnEquals": {"iam:PolicyARN": [allowed]}}},
        {"Sid": "ReadAndTag", "Effect": "Allow", "Resource": ROLES,
         "Action": ["iam:GetRole", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"]},
        {"Sid": "NoBoundaryRemoval", "Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
        {"Sid": "NoBoundaryEdit", "Effect": "Deny", "Resource": boundary, "Action": [
            "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"]},
    ))
    return {"admin": admin, "iam": aws.client_for("iam", deployer), "deployer": deployer,
            "boundary": boundary, "other": other, "allowed": allowed}


def test_a_role_is_created_only_with_the_boundary(setup):
    iam, boundary = setup["iam"], setup["boundary"]
    assert "iam:CreateRole" in refused(lambda: iam.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST))
    assert "iam:CreateRole" in refused(lambda: iam.create_role(
        RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=setup["other"]))
    role = iam.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary,
                           Tags=[{"Key": "ManagedBy", "Value": "pulumi-xpander"}])["Role"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


def test_the_boundary_cannot_be_removed_replaced_or_rewritten(setup):
    iam, admin, boundary = setup["iam"], setup["admin"], setup["boundary"]
    iam.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    message = refused(lambda: iam.delete_role_permissions_boundary(RoleName="xpander-a"))
    assert message.endswith("iam:DeleteRolePermissionsBoundary on resource: "
                            f"{role_arn('xpander-a')} with an explicit deny in an identity-based policy")
    assert "iam:PutRolePermissionsBoundary" in refused(
        lambda: iam.put_role_permissions_boundary(RoleName="xpander-a", PermissionsBoundary=setup["other"]))
    iam.put_role_permissions_boundary(RoleName="xpander-a", PermissionsBoundary=boundary)
    loose = json.dumps(policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    assert "iam:CreatePolicyVersion" in refused(lambda: iam.create_policy_version(
        PolicyArn=boundary, PolicyDocument=loose, SetAsDefault=True))
    assert admin.get_role(RoleName="xpander-a")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary


def test_only_listed_managed_policies_can_be_attached(setup):
    iam, admin = setup["iam"], setup["admin"]
    iam.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=setup["boundary"])
    message = refused(lambda: iam.attach_role_policy(RoleName="xpander-a", PolicyArn=ADMINISTRATOR))
    assert message.startswith(f"User: {setup['deployer']['Arn']} is not authorized to perform: iam:AttachRolePolicy")
    iam.attach_role_policy(RoleName="xpander-a", PolicyArn=setup["allowed"])
    iam.detach_role_policy(RoleName="xpander-a", PolicyArn=setup["allowed"])
    assert admin.list_attached_role_policies(RoleName="xpander-a")["AttachedPolicies"] == []
    # AdministratorAccess exists: the refusal above is the deployer's, not a missing policy.
    admin.attach_role_policy(RoleName="xpander-a", PolicyArn=ADMINISTRATOR)
    assert "iam:DetachRolePolicy" in refused(lambda: iam.detach_role_policy(RoleName="xpander-a", PolicyArn=ADMINISTRATOR))


def test_roles_without_the_boundary_are_out_of_reach(setup):
    iam, admin = setup["iam"], setup["admin"]
    admin.create_role(RoleName="xpander-legacy", AssumeRolePolicyDocument=TRUST)
    inline = json.dumps(policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"}))
    for call in (lambda: iam.put_role_policy(RoleName="xpander-legacy", PolicyName="p", PolicyDocument=inline),
                 lambda: iam.update_assume_role_policy(RoleName="xpander-legacy", PolicyDocument=TRUST),
                 lambda: iam.attach_role_policy(RoleName="xpander-legacy", PolicyArn=setup["allowed"]),
                 lambda: iam.delete_role(RoleName="xpander-legacy")):
        refused(call)
    # Giving it the boundary is allowed (that only narrows it); then it is manageable.
    iam.put_role_permissions_boundary(RoleName="xpander-legacy", PermissionsBoundary=setup["boundary"])
    iam.update_assume_role_policy(RoleName="xpander-legacy", PolicyDocument=TRUST)


def test_whatever_the_deployer_writes_the_boundary_caps_it(aws, setup):
    """The escalation path left open on purpose (PutRolePolicy takes any document) ends at the boundary."""
    iam = setup["iam"]
    iam.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=setup["boundary"])
    iam.put_role_policy(RoleName="xpander-a", PolicyName="everything", PolicyDocument=json.dumps(policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"})))
    aws.settle()
    creds = aws.boto3_client("sts").assume_role(RoleArn=role_arn("xpander-a"), RoleSessionName="deploy-check")["Credentials"]
    message = refused(lambda: aws.client_for("iam", creds).create_user(UserName="backdoor"))
    assert message.endswith("because no permissions boundary allows the iam:CreateUser action")


def test_tag_role_carries_no_boundary_key(aws, setup):
    """iam:PermissionsBoundary is not a condition key of TagRole (SAR): a condition on it never holds there."""
    setup["iam"].create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=setup["boundary"])
    tagger = aws.client_for("iam", aws.principal("tagger", policy(
        {"Effect": "Allow", "Action": ["iam:TagRole", "iam:PutRolePolicy"], "Resource": ROLES,
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": setup["boundary"]}}})))
    tagger.put_role_policy(RoleName="xpander-a", PolicyName="p", PolicyDocument=json.dumps(policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})))
    assert "iam:TagRole" in refused(lambda: tagger.tag_role(RoleName="xpander-a", Tags=[{"Key": "k", "Value": "v"}]))
