"""IAM's eventual consistency as STS sees it: for `propagation_delay` seconds
after a change, AssumeRole is still decided on a role's earlier trust and
permissions (and a new role cannot be assumed at all); `settle()` waits until
every change is visible."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from xpander_setup import ACCOUNT, doc

DELAY = 1.0
ASSUME = ["sts:AssumeRole", "sts:TagSession"]
pytestmark = pytest.mark.awssim_config(propagation_delay=DELAY)


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def trusting(*principals: str) -> str:
    return doc({"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": ASSUME})


def refused(call) -> bool:
    try:
        call()
    except ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied", err.response
        return True
    return False


@pytest.fixture
def user(aws):
    return aws.principal("caller", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ASSUME, "Resource": "*"}]})


def test_a_new_role_is_assumable_once_settled(aws, user):
    aws.boto3_client("iam").create_role(RoleName="new", AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT}:root"))
    sts = aws.client_for("sts", user)
    assume = lambda: sts.assume_role(RoleArn=arn("new"), RoleSessionName="sess")  # noqa: E731
    assert aws.unsettled() == 1
    assert refused(assume)
    aws.settle()
    assert aws.unsettled() == 0
    assert assume()["AssumedRoleUser"]["Arn"].endswith(":assumed-role/new/sess")


def test_a_trust_change_is_seen_late_both_ways(aws, user):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT}:root"))
    aws.settle()
    sts = aws.client_for("sts", user)
    assume = lambda: sts.assume_role(RoleArn=arn("target"), RoleSessionName="sess")  # noqa: E731

    # Trust withdrawn: still assumable until the change propagates.
    iam.update_assume_role_policy(RoleName="target", PolicyDocument=trusting(arn("target")))
    assert not refused(assume)
    aws.settle()
    assert refused(assume)

    # Trust given back: refused until it propagates.
    iam.update_assume_role_policy(RoleName="target", PolicyDocument=trusting(user["Arn"]))
    assert refused(assume)
    aws.settle()
    assert not refused(assume)


def test_a_permission_change_on_the_callers_role_is_seen_late(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="hop", AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT}:root"))
    iam.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT}:root"))
    aws.settle()
    creds = aws.boto3_client("sts").assume_role(RoleArn=arn("hop"), RoleSessionName="sess")["Credentials"]
    sts = aws.client_for("sts", creds)
    assume = lambda: sts.assume_role(RoleArn=arn("target"), RoleSessionName="sess")  # noqa: E731

    grant = doc({"Effect": "Allow", "Action": ASSUME, "Resource": arn("target")})
    iam.put_role_policy(RoleName="hop", PolicyName="grant", PolicyDocument=grant)
    assert refused(assume)
    aws.settle()
    assert not refused(assume)

    # A managed policy's new default version counts as a change of every role using it.
    policy = iam.create_policy(PolicyName="deny", PolicyDocument=doc(
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="hop", PolicyArn=policy)
    aws.settle()
    deny_assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=json.dumps(deny_assume), SetAsDefault=True)
    assert not refused(assume)
    aws.settle()
    assert refused(assume)


def test_a_tag_on_the_role_assumed_is_seen_late(aws):
    """An identity policy may require tags on the target (iam:ResourceTag); STS sees a new tag late too."""
    tagged = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ASSUME, "Resource": "*",
                                                       "Condition": {"StringEquals": {"iam:ResourceTag/connector": "yes"}}}]}
    caller = aws.principal("tag-reader", tagged)
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(caller["Arn"]))
    aws.settle()
    sts = aws.client_for("sts", caller)
    assume = lambda: sts.assume_role(RoleArn=arn("target"), RoleSessionName="sess")  # noqa: E731
    assert refused(assume)
    iam.tag_role(RoleName="target", Tags=[{"Key": "connector", "Value": "yes"}])
    assert refused(assume)
    aws.settle()
    assert not refused(assume)
    iam.untag_role(RoleName="target", TagKeys=["connector"])
    assert not refused(assume)
    aws.settle()
    assert refused(assume)


def test_without_a_delay_changes_are_seen_at_once(aws, user):
    aws.set_config(propagation_delay=0)
    aws.boto3_client("iam").create_role(RoleName="new", AssumeRolePolicyDocument=trusting(user["Arn"]))
    assert aws.unsettled() == 0
    assert not refused(lambda: aws.client_for("sts", user).assume_role(RoleArn=arn("new"), RoleSessionName="sess"))
