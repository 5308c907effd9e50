"""POST /_awssim/authorize: what a caller would be allowed to do at services
moto does not serve (Bedrock runtime), decided by the same evaluator, identity
policies and boundary as the requests the simulator answers."""

from __future__ import annotations

import json

import pytest

from awssim.harness import AwsSimError
from test_caller_permissions import ROOT_TRUST, allow, deny, policy, role_arn
from xpander_setup import ACCOUNT

MODEL = "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
THROUGH_PROFILE = {"ArnEquals": {"bedrock:InferenceProfileArn": PROFILE}}
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/invoker/sess"


@pytest.fixture
def admin_iam(aws):
    return aws.boto3_client("iam")


def session(aws, admin_iam, *statements: dict) -> dict:
    admin_iam.create_role(RoleName="invoker", AssumeRolePolicyDocument=ROOT_TRUST)
    admin_iam.put_role_policy(RoleName="invoker", PolicyName="p", PolicyDocument=json.dumps(policy(*statements)))
    return aws.boto3_client("sts").assume_role(RoleArn=role_arn("invoker"), RoleSessionName="sess")["Credentials"]


def test_a_session_is_decided_on_its_roles_policies_and_the_context_given(aws, admin_iam):
    creds = session(aws, admin_iam, allow("bedrock:InvokeModel", MODEL, Condition=THROUGH_PROFILE))
    assert aws.authorize(creds, "bedrock:InvokeModel", MODEL, {"bedrock:InferenceProfileArn": PROFILE}) == {"allowed": True, "message": None}
    other = PROFILE.replace("us.", "eu.")
    for context in ({}, {"bedrock:InferenceProfileArn": other}, {"bedrock:InferenceProfileArn": [other]}):
        decision = aws.authorize(creds, "bedrock:InvokeModel", MODEL, context)
        assert decision == {"allowed": False, "message": f"User: {SESSION_ARN} is not authorized to perform: bedrock:InvokeModel "
                            f"on resource: {MODEL} because no identity-based policy allows the bedrock:InvokeModel action"}
    assert not aws.authorize(creds, "bedrock:InvokeModelWithResponseStream", MODEL, {"bedrock:InferenceProfileArn": PROFILE})["allowed"]


def test_deny_boundary_and_principal_keys_apply(aws, admin_iam):
    creds = session(aws, admin_iam, allow("bedrock:*", "*"), deny("bedrock:CreateModelCustomizationJob", "*"))
    assert aws.authorize(creds, "bedrock:InvokeModel", MODEL)["allowed"]
    assert aws.authorize(creds, "bedrock:CreateModelCustomizationJob", "*")["message"].endswith(
        "with an explicit deny in an identity-based policy")
    boundary = admin_iam.create_policy(PolicyName="b", PolicyDocument=json.dumps(policy(allow("bedrock:InvokeModel", "*", Condition={
        "StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:PrincipalArn": role_arn("invoker")}}))))["Policy"]["Arn"]
    admin_iam.put_role_permissions_boundary(RoleName="invoker", PermissionsBoundary=boundary)
    # aws:RequestedRegion is the resource's Region.
    assert aws.authorize(creds, "bedrock:InvokeModel", MODEL.replace("us-east-2", "us-east-1"))["allowed"]
    assert aws.authorize(creds, "bedrock:InvokeModel", MODEL)["message"].endswith(
        "because no permissions boundary allows the bedrock:InvokeModel action")


def test_users_are_decided_too_and_unknown_credentials_are_refused(aws):
    user = aws.principal("caller", policy(allow("bedrock:InvokeModel", MODEL)))
    assert aws.authorize(user, "bedrock:InvokeModel", MODEL)["allowed"]
    assert not aws.authorize(user, "bedrock:InvokeModel", PROFILE)["allowed"]
    with pytest.raises(AwsSimError) as info:
        aws.authorize({"AccessKeyId": "AKIAUNKNOWNKEY000000"}, "bedrock:InvokeModel", MODEL)
    assert (info.value.status, info.value.code) == (403, "UnrecognizedClientException")


@pytest.mark.parametrize("body", [
    {"accessKeyId": "testing", "action": "InvokeModel", "resource": MODEL},
    {"accessKeyId": "testing", "action": "bedrock:InvokeModel", "resource": ""},
    {"accessKeyId": "testing", "action": "bedrock:InvokeModel", "resource": MODEL, "context": {"k": 1}},
    {"accessKeyId": "testing", "action": "bedrock:InvokeModel", "resource": MODEL, "region": "us-east-1"},
])
def test_malformed_questions_are_refused(aws, body):
    with pytest.raises(AwsSimError) as info:
        aws._control("POST", "authorize", body)
    assert (info.value.status, info.value.code) == (400, "InvalidArgument")
