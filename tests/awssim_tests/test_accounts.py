"""Several accounts, each with its own IAM, STS and EKS, reached as users reach
them: an account's own administrator, or STS AssumeRole across accounts,
which needs both the target's trust policy and the caller's identity policy."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from xpander_setup import ACCOUNT, doc

OTHER = "210987654321"
PLATFORM = "777788889999"
ASSUME = ["sts:AssumeRole", "sts:TagSession"]


def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def error_of(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return {**info.value.response["Error"], "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def trusting(principal: str, **condition) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ASSUME}
    if condition:
        statement["Condition"] = condition
    return doc(statement)


def may_assume(*arns: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ASSUME, "Resource": list(arns)}]}


def roles_in(aws, account: str) -> set[str]:
    return {r["RoleName"] for r in aws.boto3_client("iam", account=account).list_roles()["Roles"]}


def test_each_account_has_its_own_iam_and_administrator(aws):
    aws.boto3_client("iam", account=OTHER).create_role(RoleName="only-in-b", AssumeRolePolicyDocument=trusting(ACCOUNT))
    aws.boto3_client("iam").create_role(RoleName="only-in-a", AssumeRolePolicyDocument=trusting(OTHER))
    assert roles_in(aws, OTHER) == {"only-in-b"}
    assert roles_in(aws, ACCOUNT) == {"only-in-a"}
    role = aws.boto3_client("iam", account=OTHER).get_role(RoleName="only-in-b")["Role"]
    assert role["Arn"] == role_arn(OTHER, "only-in-b")
    identity = aws.boto3_client("sts", account=OTHER).get_caller_identity()
    assert (identity["Account"], identity["Arn"]) == (OTHER, f"arn:aws:iam::{OTHER}:user/awssim-admin")
    user = aws.principal("someone", account=OTHER)
    assert user["Arn"] == f"arn:aws:iam::{OTHER}:user/someone"
    assert aws.client_for("sts", user).get_caller_identity()["Account"] == OTHER
    # The same name is free in another account.
    assert aws.principal("someone")["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/someone"


def test_each_account_has_its_own_clusters(aws):
    aws.boto3_client("eks", account=OTHER).create_cluster(
        name="b-cluster", roleArn=role_arn(OTHER, "eks"), resourcesVpcConfig={}, accessConfig={"authenticationMode": "API"})
    assert aws.boto3_client("eks").list_clusters()["clusters"] == []
    cluster = aws.boto3_client("eks", account=OTHER).describe_cluster(name="b-cluster")["cluster"]
    assert cluster["arn"] == f"arn:aws:eks:us-east-1:{OTHER}:cluster/b-cluster"


def test_a_trust_policy_may_name_a_role_of_another_account_that_exists(aws):
    aws.boto3_client("iam").create_role(RoleName="caller", AssumeRolePolicyDocument=trusting(ACCOUNT))
    b = aws.boto3_client("iam", account=OTHER)
    b.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(role_arn(ACCOUNT, "caller")))
    err = error_of(lambda: b.create_role(RoleName="t2", AssumeRolePolicyDocument=trusting(role_arn(ACCOUNT, "nobody"))))
    assert err["Code"] == "MalformedPolicyDocument" and role_arn(ACCOUNT, "nobody") in err["Message"]
    # The account's name of that role is another account's: it is not the same principal.
    err = error_of(lambda: b.create_role(RoleName="t3", AssumeRolePolicyDocument=trusting(role_arn(OTHER, "caller"))))
    assert err["Code"] == "MalformedPolicyDocument"


def test_cross_account_assume_role_needs_trust_and_identity_policy(aws):
    b = aws.boto3_client("iam", account=OTHER)
    b.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(f"arn:aws:iam::{ACCOUNT}:root"))
    target = role_arn(OTHER, "target")
    trusted_but_not_allowed = aws.principal("nobody")
    allowed = aws.principal("deployer", may_assume(target))
    allowed_elsewhere = aws.principal("elsewhere", may_assume(target), account=PLATFORM)

    def assume(creds):
        return aws.client_for("sts", creds).assume_role(RoleArn=target, RoleSessionName="sess")

    for refused in (trusted_but_not_allowed, allowed_elsewhere):
        err = error_of(lambda: assume(refused))
        assert (err["Code"], err["Status"]) == ("AccessDenied", 403)
        assert f"User: {refused['Arn']} is not authorized to perform: sts:AssumeRole on resource: {target}" == err["Message"]
    session = assume(allowed)
    assert session["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER}:assumed-role/target/sess"
    identity = aws.client_for("sts", session["Credentials"]).get_caller_identity()
    assert (identity["Account"], identity["Arn"]) == (OTHER, session["AssumedRoleUser"]["Arn"])


def test_a_session_acts_in_its_roles_account(aws):
    b = aws.boto3_client("iam", account=OTHER)
    b.create_role(RoleName="reader", AssumeRolePolicyDocument=trusting(ACCOUNT))
    b.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["iam:ListRoles", "iam:GetRole"], "Resource": "*"}))
    aws.boto3_client("iam").create_role(RoleName="a-only", AssumeRolePolicyDocument=trusting(ACCOUNT))
    caller = aws.principal("deployer", may_assume(role_arn(OTHER, "reader")))
    creds = aws.client_for("sts", caller).assume_role(RoleArn=role_arn(OTHER, "reader"), RoleSessionName="sess")["Credentials"]
    iam_b = aws.client_for("iam", creds)
    assert {r["RoleName"] for r in iam_b.list_roles()["Roles"]} == {"reader"}
    assert error_of(lambda: iam_b.get_role(RoleName="a-only"))["Code"] == "NoSuchEntity"
    err = error_of(lambda: iam_b.create_role(RoleName="new", AssumeRolePolicyDocument=trusting(ACCOUNT)))
    assert err["Code"] == "AccessDenied" and f"arn:aws:iam::{OTHER}:role/new" in err["Message"]
    assert aws.requests()[-1]["caller"] == f"arn:aws:sts::{OTHER}:assumed-role/reader/sess"


def test_the_external_id_condition_holds_for_another_accounts_principal(aws):
    b = aws.boto3_client("iam", account=OTHER)
    b.create_role(RoleName="connector", AssumeRolePolicyDocument=trusting(
        f"arn:aws:iam::{PLATFORM}:root", StringEquals={"sts:ExternalId": "org-1"}))
    target = role_arn(OTHER, "connector")
    platform = aws.client_for("sts", aws.principal("xpander", may_assume(target), account=PLATFORM))
    for external_id in (None, "org-2"):
        extra = {"ExternalId": external_id} if external_id else {}
        err = error_of(lambda: platform.assume_role(RoleArn=target, RoleSessionName="sess", **extra))
        assert err["Code"] == "AccessDenied"
    session = platform.assume_role(RoleArn=target, RoleSessionName="sess", ExternalId="org-1")
    assert session["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER}:assumed-role/connector/sess"


def test_pod_identity_chains_into_a_target_role_of_another_account(aws):
    iam_a, iam_b, eks = aws.boto3_client("iam"), aws.boto3_client("iam", account=OTHER), aws.boto3_client("eks")
    eks.create_cluster(name="c", roleArn=role_arn(ACCOUNT, "eks"), resourcesVpcConfig={})
    iam_a.create_role(RoleName="base", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ASSUME}))
    iam_b.create_role(RoleName="target", AssumeRolePolicyDocument=trusting(role_arn(ACCOUNT, "base")))
    iam_a.put_role_policy(RoleName="base", PolicyName="hop", PolicyDocument=doc(*may_assume(role_arn(OTHER, "target"))["Statement"]))
    eks.create_pod_identity_association(clusterName="c", namespace="ns", serviceAccount="sa",
                                        roleArn=role_arn(ACCOUNT, "base"), targetRoleArn=role_arn(OTHER, "target"))
    creds = aws.pod_credentials("c", "ns", "sa")
    assert (creds["AccountId"], creds["AssumedRoleArn"].split("/")[1]) == (OTHER, "target")
    # The association's own role must be in the cluster's account.
    err = error_of(lambda: eks.create_pod_identity_association(
        clusterName="c", namespace="ns", serviceAccount="other", roleArn=role_arn(OTHER, "target")))
    assert (err["Code"], err["Message"]) == ("InvalidParameterException", "Role provided in the request does not exist")


def test_an_unknown_account_has_nothing_and_bad_account_ids_are_refused(aws):
    assert roles_in(aws, "111122223333") == set()
    with pytest.raises(Exception) as info:
        aws.principal("x", account="12345")
    assert "12-digit" in str(info.value)
