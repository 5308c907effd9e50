"""STS AssumeRole decided by trust and identity policies; GetCallerIdentity; sessions."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from xpander_setup import ACCOUNT, doc

ADMIN = f"arn:aws:iam::{ACCOUNT}:user/awssim-admin"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def allow(principal: object, actions: object = "sts:AssumeRole", **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": actions, **extra}


def error_of(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return {**info.value.response["Error"], "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


class Roles:
    """Small builder over boto3 for roles and sessions in one test."""

    def __init__(self, sim):
        self.sim = sim
        self.iam = sim.boto3_client("iam")
        self.sts = sim.boto3_client("sts")

    def role(self, name: str, *trust: dict, permissions: list[dict] | None = None, **kwargs) -> str:
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=doc(*trust), **kwargs)
        if permissions:
            self.iam.put_role_policy(RoleName=name, PolicyName="permissions", PolicyDocument=doc(*permissions))
        return arn(name)

    def session(self, role: str, sts=None, **kwargs):
        """An STS client running as a new session of `role` (assumed by `sts`, default the admin)."""
        creds = (sts or self.sts).assume_role(RoleArn=role, RoleSessionName=kwargs.pop("name", "sess"), **kwargs)["Credentials"]
        return self.sim.client_for("sts", creds)


@pytest.fixture
def roles(aws) -> Roles:
    return Roles(aws)


def test_admin_identity_and_assumed_identity(roles):
    assert roles.sts.get_caller_identity()["Arn"] == ADMIN
    target = roles.role("target", allow({"AWS": ROOT}))
    result = roles.sts.assume_role(RoleArn=target, RoleSessionName="alice", DurationSeconds=900)
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/target/alice"
    assert result["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SecretAccessKey"] and creds["SessionToken"]
    who = roles.sim.client_for("sts", creds).get_caller_identity()
    assert (who["Arn"], who["Account"], who["UserId"]) == (
        result["AssumedRoleUser"]["Arn"],
        ACCOUNT,
        result["AssumedRoleUser"]["AssumedRoleId"],
    )


def test_missing_role_is_access_denied_with_real_message(roles):
    err = error_of(lambda: roles.sts.assume_role(RoleArn=arn("nope"), RoleSessionName="sess"))
    assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
    assert err["Message"] == f"User: {ADMIN} is not authorized to perform: sts:AssumeRole on resource: {arn('nope')}"


def test_service_principal_is_not_an_sts_caller(roles):
    target = roles.role("pods-only", allow({"Service": "pods.eks.amazonaws.com"}, ["sts:AssumeRole", "sts:TagSession"]))
    assert error_of(lambda: roles.sts.assume_role(RoleArn=target, RoleSessionName="sess"))["Code"] == "AccessDenied"


def test_explicit_deny_in_trust_wins(roles):
    target = roles.role(
        "guarded",
        allow({"AWS": ROOT}, "sts:*"),
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:RoleSessionName": "blocked"}}},
    )
    roles.session(target, name="fine")
    assert error_of(lambda: roles.session(target, name="blocked"))["Code"] == "AccessDenied"


def test_role_session_needs_identity_permission_with_wildcards_and_deny(roles):
    caller_trust = allow({"AWS": ROOT})
    target = roles.role("xpander-target", allow({"AWS": ROOT}))
    wildcard = roles.role(
        "wildcard", caller_trust,
        permissions=[{"Effect": "Allow", "Action": "sts:Assume*", "Resource": f"arn:aws:iam::{ACCOUNT}:role/xpander-*"}],
    )
    denied = roles.role(
        "denied", caller_trust,
        permissions=[{"Effect": "Allow", "Action": "*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": target}],
    )
    other_resource = roles.role(
        "elsewhere", caller_trust, permissions=[{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn("other")}]
    )
    roles.session(target, sts=roles.session(wildcard))
    for caller in (denied, other_resource):
        err = error_of(lambda: roles.session(target, sts=roles.session(caller)))
        assert err["Message"] == (
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{caller.split('/')[-1]}/sess "
            f"is not authorized to perform: sts:AssumeRole on resource: {target}"
        )


def test_attached_managed_policy_grants_and_boundary_limits(roles):
    policy = roles.iam.create_policy(
        PolicyName="assume-all", PolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    )["Policy"]["Arn"]
    boundary = roles.iam.create_policy(
        PolicyName="boundary", PolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn("a")})
    )["Policy"]["Arn"]
    a = roles.role("a", allow({"AWS": ROOT}))
    b = roles.role("b", allow({"AWS": ROOT}))
    caller = roles.role("caller", allow({"AWS": ROOT}), PermissionsBoundary=boundary)
    roles.iam.attach_role_policy(RoleName="caller", PolicyArn=policy)
    session = roles.session(caller)
    roles.session(a, sts=session)
    assert error_of(lambda: roles.session(b, sts=session))["Code"] == "AccessDenied"


@pytest.mark.parametrize(
    "condition, allowed",
    [
        ({"ArnLike": {"aws:PrincipalArn": arn("caller")}}, True),
        ({"ArnEquals": {"aws:PrincipalArn": arn("someone-else")}}, False),
        ({"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/cal*"}}, True),
        ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": "data"}}, True),
        ({"StringEquals": {"aws:PrincipalTag/team": "web"}}, False),
        ({"StringNotEquals": {"aws:PrincipalTag/missing": "x"}}, True),
        ({"StringEquals": {"sts:ExternalId": "abc"}}, False),
        ({"StringEqualsIfExists": {"sts:ExternalId": "abc"}}, True),
        ({"StringLikeIfExists": {"aws:RequestTag/env": "prod"}}, True),
    ],
)
def test_trust_conditions_for_star_principal(roles, condition, allowed):
    target = roles.role("target", allow({"AWS": "*"}, Condition=condition))
    caller = roles.role(
        "caller", allow({"AWS": ROOT}),
        permissions=[{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}],
        Tags=[{"Key": "team", "Value": "data"}],
    )
    session = roles.session(caller)
    if allowed:
        roles.session(target, sts=session)
    else:
        assert error_of(lambda: roles.session(target, sts=session))["Code"] == "AccessDenied"


def test_external_id_condition(roles):
    target = roles.role("x", allow({"AWS": ROOT}, Condition={"StringEquals": {"sts:ExternalId": "org-1"}}))
    roles.session(target, ExternalId="org-1")
    assert error_of(lambda: roles.session(target, ExternalId="org-2"))["Code"] == "AccessDenied"
    assert error_of(lambda: roles.session(target))["Code"] == "AccessDenied"


def test_passed_tags_need_tag_session_and_satisfy_request_tag_conditions(roles):
    plain = roles.role("plain", allow({"AWS": ROOT}))
    err = error_of(lambda: roles.session(plain, Tags=[{"Key": "env", "Value": "prod"}]))
    assert err["Message"] == f"User: {ADMIN} is not authorized to perform: sts:TagSession on resource: {plain}"
    tagged = roles.role(
        "tagged",
        allow({"AWS": ROOT}),
        allow({"AWS": ROOT}, "sts:TagSession", Condition={"StringEquals": {"aws:RequestTag/env": "prod"}}),
    )
    roles.session(tagged, Tags=[{"Key": "env", "Value": "prod"}])
    assert error_of(lambda: roles.session(tagged, Tags=[{"Key": "env", "Value": "dev"}]))["Code"] == "AccessDenied"


def test_transitive_tags_are_carried_and_require_tag_session_downstream(roles):
    both = ["sts:AssumeRole", "sts:TagSession"]
    hop = roles.role(
        "hop", allow({"AWS": ROOT}, both),
        permissions=[{"Effect": "Allow", "Action": both, "Resource": "*"}],
    )
    target_plain = roles.role("target-plain", allow({"AWS": hop}, "sts:AssumeRole"))
    target_tagging = roles.role(
        "target-tagging", allow({"AWS": hop}, both, Condition={"StringEquals": {"aws:RequestTag/team": "data"}})
    )
    untagged = roles.session(hop, name="untagged")
    roles.session(target_plain, sts=untagged)
    transitive = roles.session(hop, name="transitive", Tags=[{"Key": "team", "Value": "data"}], TransitiveTagKeys=["team"])
    err = error_of(lambda: roles.session(target_plain, sts=transitive))
    assert "sts:TagSession" in err["Message"]
    roles.session(target_tagging, sts=transitive)
    # Non-transitive tags stay behind.
    nontransitive = roles.session(hop, name="local", Tags=[{"Key": "team", "Value": "data"}])
    roles.session(target_plain, sts=nontransitive)


def test_role_chaining_is_capped_at_one_hour(roles):
    first = roles.role(
        "first", allow({"AWS": ROOT}), permissions=[{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    )
    second = roles.role("second", allow({"AWS": first}), MaxSessionDuration=43200)
    chained = roles.session(first)
    err = error_of(lambda: roles.session(second, sts=chained, DurationSeconds=7200))
    assert (err["Code"], err["Message"]) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )
    roles.session(second, sts=chained, DurationSeconds=3600)


def test_duration_above_max_session_duration_is_rejected(roles):
    target = roles.role("short", allow({"AWS": ROOT}))
    err = error_of(lambda: roles.session(target, DurationSeconds=7200))
    assert (err["Code"], err["Message"]) == (
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    roles.iam.update_role(RoleName="short", MaxSessionDuration=7200)
    roles.session(target, DurationSeconds=7200)


def test_unknown_or_mismatched_temporary_credentials_are_rejected(roles, aws):
    target = roles.role("t", allow({"AWS": ROOT}))
    creds = roles.sts.assume_role(RoleArn=target, RoleSessionName="sess")["Credentials"]
    forged = aws.client_for("sts", {**creds, "SessionToken": "not-the-token"})
    assert error_of(forged.get_caller_identity)["Code"] == "InvalidClientTokenId"
    aws.reset()
    aws.set_config(propagation_delay=0)
    stale = aws.client_for("sts", creds)
    assert error_of(stale.get_caller_identity)["Code"] == "InvalidClientTokenId"


def test_not_action_in_identity_policy(roles):
    target = roles.role("t", allow({"AWS": ROOT}))
    broad = roles.role("broad", allow({"AWS": ROOT}), permissions=[{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}])
    narrow = roles.role("narrow", allow({"AWS": ROOT}), permissions=[{"Effect": "Allow", "NotAction": "sts:*", "Resource": "*"}])
    roles.session(target, sts=roles.session(broad))
    assert error_of(lambda: roles.session(target, sts=roles.session(narrow)))["Code"] == "AccessDenied"
