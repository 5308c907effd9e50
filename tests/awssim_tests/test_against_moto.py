"""Our caller-permission layer checked against something we did not write: moto's
own IAM enforcement, on the same requests from the same principal.

moto (switched on at run time with /moto-api/reset-auth, the server form of
INITIAL_NO_AUTH_ACTION_COUNT) judges identity policies by action and resource
only: it evaluates no condition whose key the request lacks, and it knows no
request keys for IAM calls, so an Allow conditioned on iam:PermissionsBoundary
or iam:PolicyARN is unconditional there; it checks a new role's CreateRole
against "*".  Where its verdict can be trusted (unconditioned statements, an
existing role's ARN) the two must agree; where they differ, the difference is
one of those two and is named here, so a change on either side fails this test."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from xpander_setup import ACCOUNT, doc

ROLES = f"arn:aws:iam::{ACCOUNT}:role/xpander-*"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/xpander-boundary"
OTHER_BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/looser"
ALLOWED = f"arn:aws:iam::{ACCOUNT}:policy/xpander-s3-read"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# The deployer of test_deployer_boundary, in short: writes only with the boundary, attaches
# only the listed policy, never removes a boundary.
DEPLOYER = policy(
    {"Effect": "Allow", "Resource": ROLES, "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}},
     "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"]},
    {"Effect": "Allow", "Resource": ROLES, "Action": "iam:AttachRolePolicy",
     "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}, "ArnEquals": {"iam:PolicyARN": [ALLOWED]}}},
    {"Effect": "Allow", "Resource": ROLES, "Action": ["iam:GetRole", "iam:TagRole"]},
    {"Effect": "Deny", "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"},
)
INLINE = json.dumps(policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))

# name -> (request, AWS's verdict per the IAM docs, moto's verdict)
CASES: dict[str, tuple[Callable, bool, bool]] = {
    "delete-boundary": (lambda iam: iam.delete_role_permissions_boundary(RoleName="xpander-a"), False, False),
    "put-policy-bounded-role": (lambda iam: iam.put_role_policy(RoleName="xpander-a", PolicyName="p", PolicyDocument=INLINE), True, True),
    "attach-listed": (lambda iam: iam.attach_role_policy(RoleName="xpander-a", PolicyArn=ALLOWED), True, True),
    "get-role-in-scope": (lambda iam: iam.get_role(RoleName="xpander-a"), True, True),
    "tag-role-in-scope": (lambda iam: iam.tag_role(RoleName="xpander-a", Tags=[{"Key": "k", "Value": "v"}]), True, True),
    "get-role-out-of-scope": (lambda iam: iam.get_role(RoleName="unrelated"), False, False),
    "create-without-boundary": (lambda iam: iam.create_role(RoleName="xpander-c", AssumeRolePolicyDocument=TRUST), False, False),
    # moto ignores the conditions:
    "put-policy-unbounded-role": (lambda iam: iam.put_role_policy(RoleName="xpander-legacy", PolicyName="p", PolicyDocument=INLINE), False, True),
    "attach-administrator": (lambda iam: iam.attach_role_policy(RoleName="xpander-a", PolicyArn=ADMINISTRATOR), False, True),
    "replace-boundary": (lambda iam: iam.put_role_permissions_boundary(RoleName="xpander-a", PermissionsBoundary=OTHER_BOUNDARY), False, True),
    # moto checks a new role's CreateRole against "*", which role/xpander-* does not match:
    "create-with-boundary": (lambda iam: iam.create_role(RoleName="xpander-b", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=BOUNDARY), True, False),
}


def build(admin) -> None:
    for name, document in (("xpander-boundary", INLINE), ("looser", json.dumps(policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))),
                           ("xpander-s3-read", INLINE)):
        admin.create_policy(PolicyName=name, PolicyDocument=document)
    admin.create_role(RoleName="xpander-a", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=BOUNDARY)
    admin.create_role(RoleName="xpander-legacy", AssumeRolePolicyDocument=TRUST)
    admin.create_role(RoleName="unrelated", AssumeRolePolicyDocument=TRUST)


def allowed(call: Callable, iam) -> bool:
    try:
        call(iam)
    except ClientError as err:
        # Anything but a refusal (moto has no AdministratorAccess to attach) means authorised.
        return err.response["Error"]["Code"] != "AccessDenied"
    return True


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        _moto_auth(url, "inf")
        server.stop()


def _moto_auth(url: str, checked_after: str) -> None:
    """Requests after the next `checked_after` ones are authorised by moto ("inf": none)."""
    # Not form-encoded: moto reads the raw body, which a form content type would consume.
    request = urllib.request.Request(f"{url}/moto-api/reset-auth", data=checked_after.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).close()


def _moto_client(url: str, key: str, secret: str):
    return boto3.client("iam", endpoint_url=url, region_name="us-east-1", config=NO_RETRY,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def moto_verdicts(url: str) -> dict[str, bool]:
    _moto_auth(url, "inf")
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    admin = _moto_client(url, "testing", "testing")
    build(admin)
    admin.create_user(UserName="deployer")
    admin.put_user_policy(UserName="deployer", PolicyName="deploy", PolicyDocument=json.dumps(DEPLOYER))
    key = admin.create_access_key(UserName="deployer")["AccessKey"]
    _moto_auth(url, "0")
    try:
        iam = _moto_client(url, key["AccessKeyId"], key["SecretAccessKey"])
        return {name: allowed(call, iam) for name, (call, _, _) in CASES.items()}
    finally:
        _moto_auth(url, "inf")


def test_moto_and_awssim_judge_the_same_deployer(aws, moto_url):
    build(aws.boto3_client("iam"))
    ours = aws.client_for("iam", aws.principal("deployer", DEPLOYER))
    awssim = {name: allowed(call, ours) for name, (call, _, _) in CASES.items()}
    moto = moto_verdicts(moto_url)

    assert awssim == {name: aws_says for name, (_, aws_says, _) in CASES.items()}
    assert moto == {name: moto_says for name, (_, _, moto_says) in CASES.items()}
    # Both were asked every case, and agree wherever moto's reading applies.
    assert {n for n in CASES if awssim[n] != moto[n]} == {
        "put-policy-unbounded-role", "attach-administrator", "replace-boundary", "create-with-boundary"}
