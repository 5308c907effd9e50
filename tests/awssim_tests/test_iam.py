"""IAM: principal validation and propagation, unique-id principals, grammar, sizes, names."""

from __future__ import annotations

import json
import time
from urllib.parse import unquote

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from xpander_setup import ACCOUNT, doc, poll

TRUST_ACCOUNT = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})


def trust_for(*principals: str) -> str:
    return doc({"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": ["sts:AssumeRole", "sts:TagSession"]})


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def error_of(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return {**info.value.response["Error"], "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def raw_trust(iam, name: str) -> str:
    """The trust document exactly as IAM returned it (still URL-encoded)."""
    captured = {}
    handler = lambda http_response, **kw: captured.setdefault("xml", http_response.text)  # noqa: E731
    iam.meta.events.register("after-call.iam.GetRole", handler)
    try:
        iam.get_role(RoleName=name)
    finally:
        iam.meta.events.unregister("after-call.iam.GetRole", handler)
    xml = captured["xml"]
    return xml.split("<AssumeRolePolicyDocument>")[1].split("</AssumeRolePolicyDocument>")[0]


# --- principals ------------------------------------------------------------------------------


def test_missing_role_principal_is_rejected_on_create_and_update(aws):
    iam = aws.boto3_client("iam")
    missing = role_arn("x")
    err = error_of(lambda: iam.create_role(RoleName="a", AssumeRolePolicyDocument=trust_for(missing)))
    assert err["Code"] == "MalformedPolicyDocument" and err["Status"] == 400
    assert err["Message"] == f'Invalid principal in policy: "AWS":"{missing}"'
    iam.create_role(RoleName="a", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    err = error_of(lambda: iam.update_assume_role_policy(RoleName="a", PolicyDocument=trust_for(missing)))
    assert err["Message"] == f'Invalid principal in policy: "AWS":"{missing}"'


def test_self_reference_is_impossible_at_creation(aws):
    iam = aws.boto3_client("iam")
    err = error_of(lambda: iam.create_role(RoleName="self", AssumeRolePolicyDocument=trust_for(role_arn("self"))))
    assert err["Code"] == "MalformedPolicyDocument"
    iam.create_role(RoleName="self", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    iam.update_assume_role_policy(RoleName="self", PolicyDocument=trust_for(role_arn("self")))


def test_account_service_wildcard_and_session_principals_need_no_lookup(aws):
    iam = aws.boto3_client("iam")
    document = doc(
        {
            "Effect": "Allow",
            "Principal": {
                "AWS": [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", "arn:aws:iam::999999999999:root", "*",
                        f"arn:aws:sts::{ACCOUNT}:assumed-role/gone/session"],
                "Service": "pods.eks.amazonaws.com",
            },
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName="open", AssumeRolePolicyDocument=document)
    stored = iam.get_role(RoleName="open")["Role"]["AssumeRolePolicyDocument"]
    # IAM stores a bare account id as the account's root ARN.
    assert stored["Statement"][0]["Principal"]["AWS"][0] == f"arn:aws:iam::{ACCOUNT}:root"


@pytest.mark.awssim_config(propagation_delay=1.0)
def test_new_role_is_no_principal_until_propagated(aws):
    iam = aws.boto3_client("iam")
    # Read before the simulator stamps "trusted": however long its answer
    # takes to come back, the wait below is measured from no later than that.
    started = time.monotonic()
    iam.create_role(RoleName="trusted", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    iam.create_role(RoleName="trusting", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    _, failures = poll(
        lambda: iam.update_assume_role_policy(RoleName="trusting", PolicyDocument=trust_for(role_arn("trusted"))),
        ("MalformedPolicyDocument",),
    )
    assert failures >= 1
    assert time.monotonic() - started >= 1.0


@pytest.mark.awssim_config(propagation_delay=60)
def test_propagation_delay_also_applies_to_create_role(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    err = error_of(lambda: iam.create_role(RoleName="other", AssumeRolePolicyDocument=trust_for(role_arn("fresh"))))
    assert err["Message"] == f'Invalid principal in policy: "AWS":"{role_arn("fresh")}"'
    aws.set_config(propagation_delay=0)
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=trust_for(role_arn("fresh")))


# --- unique-id principals ------------------------------------------------------------------------


def test_deleted_principal_shows_unique_id_and_recreated_role_does_not_match(aws):
    iam, sts = aws.boto3_client("iam"), aws.boto3_client("sts")
    base_id = iam.create_role(RoleName="base", AssumeRolePolicyDocument=TRUST_ACCOUNT)["Role"]["RoleId"]
    iam.create_role(RoleName="connector", AssumeRolePolicyDocument=trust_for(role_arn("base")))
    iam.put_role_policy(
        RoleName="base",
        PolicyName="assume",
        PolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn("connector")}),
    )
    base_session = sts.assume_role(RoleArn=role_arn("base"), RoleSessionName="before")["Credentials"]
    aws.client_for("sts", base_session).assume_role(RoleArn=role_arn("connector"), RoleSessionName="ok")

    iam.delete_role_policy(RoleName="base", PolicyName="assume")
    iam.delete_role(RoleName="base")
    shown = iam.get_role(RoleName="connector")["Role"]["AssumeRolePolicyDocument"]
    assert shown["Statement"][0]["Principal"]["AWS"] == [base_id]
    listed = next(r for r in iam.list_roles()["Roles"] if r["RoleName"] == "connector")
    assert listed["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == [base_id]

    new_id = iam.create_role(RoleName="base", AssumeRolePolicyDocument=TRUST_ACCOUNT)["Role"]["RoleId"]
    assert new_id != base_id
    iam.put_role_policy(
        RoleName="base",
        PolicyName="assume",
        PolicyDocument=doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn("connector")}),
    )
    recreated = aws.client_for("sts", sts.assume_role(RoleArn=role_arn("base"), RoleSessionName="after")["Credentials"])
    err = error_of(lambda: recreated.assume_role(RoleArn=role_arn("connector"), RoleSessionName="denied"))
    assert err["Code"] == "AccessDenied"
    # Rewriting the trust policy binds the new role.
    iam.update_assume_role_policy(RoleName="connector", PolicyDocument=trust_for(role_arn("base")))
    recreated.assume_role(RoleArn=role_arn("connector"), RoleSessionName="rebound")


def test_stale_unique_id_cannot_be_written_back(aws):
    iam = aws.boto3_client("iam")
    base_id = iam.create_role(RoleName="base", AssumeRolePolicyDocument=TRUST_ACCOUNT)["Role"]["RoleId"]
    iam.delete_role(RoleName="base")
    err = error_of(lambda: iam.create_role(RoleName="c", AssumeRolePolicyDocument=trust_for(base_id)))
    assert err["Message"] == f'Invalid principal in policy: "AWS":"{base_id}"'


def test_documents_are_url_encoded_in_get_role_and_list_roles(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="enc", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    raw = raw_trust(iam, "enc")
    assert raw.startswith("%7B") and json.loads(unquote(raw)) == json.loads(TRUST_ACCOUNT)
    captured = {}
    iam.meta.events.register("after-call.iam.ListRoles", lambda http_response, **kw: captured.setdefault("xml", http_response.text))
    iam.list_roles()
    assert "<AssumeRolePolicyDocument>%7B" in captured["xml"]


# --- grammar and sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document, message",
    [
        ("{not json", "This policy contains invalid Json"),
        (json.dumps({"Version": "2012-10-17", "Statement": []}), "Syntax errors in policy."),
        (json.dumps({"Version": "2020-01-01", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}}),
         "The policy failed legacy parsing"),
        (doc({"Effect": "Maybe", "Principal": "*", "Action": "sts:AssumeRole"}), "Invalid effect: Maybe"),
        (doc({"Effect": "Allow", "Principal": "*"}), "Policy statement must contain actions."),
        (doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "NotAction": "sts:TagSession"}),
         "Syntax errors in policy."),
        (doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), "Missing required field Principal"),
        (doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}), "Has prohibited field Resource"),
        (doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}), "AssumeRole policy may only specify STS AssumeRole actions."),
        (doc({"Effect": "Allow", "Principal": {"Service": "not a service"}, "Action": "sts:AssumeRole"}),
         'Invalid principal in policy: "SERVICE":"not a service"'),
        (doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StringEqualz": {"sts:ExternalId": "x"}}}),
         "Invalid Condition type : StringEqualz"),
        (doc({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
             {"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "sts:TagSession"}),
         "Statement IDs (SID) in a single policy must be unique."),
    ],
)
def test_malformed_trust_policies(aws, document, message):
    err = error_of(lambda: aws.boto3_client("iam").create_role(RoleName="bad", AssumeRolePolicyDocument=document))
    assert (err["Code"], err["Message"], err["Status"]) == ("MalformedPolicyDocument", message, 400)


@pytest.mark.parametrize(
    "statement, message",
    [
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}, "Policy document should not specify a principal."),
        ({"Effect": "Allow", "Action": "s3:GetObject"}, "Policy statement must contain resources."),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "bucket"}, 'Resource bucket must be in ARN format or "*".'),
        ({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ],
)
def test_malformed_identity_policies(aws, statement, message):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    err = error_of(lambda: iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument=doc(statement)))
    assert (err["Code"], err["Message"]) == ("MalformedPolicyDocument", message)


def _trust_of_size(size: int) -> str:
    """A valid trust policy with exactly `size` non-whitespace characters."""
    base = doc({"Sid": "", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    base_size = len("".join(base.split()))
    return base.replace('"Sid": ""', '"Sid": "%s"' % ("S" * (size - base_size)))


def test_trust_policy_size_quota_counts_non_whitespace(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="fits", AssumeRolePolicyDocument=_trust_of_size(2048).replace(",", ",   \n"))
    err = error_of(lambda: iam.create_role(RoleName="big", AssumeRolePolicyDocument=_trust_of_size(2049)))
    assert (err["Code"], err["Message"], err["Status"]) == ("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", 409)


def test_trust_policy_size_quota_is_configurable_and_reported(aws):
    iam = aws.boto3_client("iam")
    aws.set_config(trust_policy_size_quota=4096)
    iam.create_role(RoleName="big", AssumeRolePolicyDocument=_trust_of_size(4096))
    assert iam.get_account_summary()["SummaryMap"]["AssumeRolePolicySizeQuota"] == 4096
    err = error_of(lambda: iam.update_assume_role_policy(RoleName="big", PolicyDocument=_trust_of_size(4097)))
    assert err["Message"] == "Cannot exceed quota for ACLSizePerRole: 4096"


def test_inline_policies_share_a_10240_budget_per_role(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_ACCOUNT)

    def policy(n_arns: int) -> str:
        arns = [f"arn:aws:iam::{ACCOUNT}:role/connector-{i:04d}" for i in range(n_arns)]
        return doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arns})

    iam.put_role_policy(RoleName="r", PolicyName="one", PolicyDocument=policy(100))  # ~4.6 KB
    iam.put_role_policy(RoleName="r", PolicyName="one", PolicyDocument=policy(100))  # replacing does not add up
    iam.put_role_policy(RoleName="r", PolicyName="two", PolicyDocument=policy(100))
    err = error_of(lambda: iam.put_role_policy(RoleName="r", PolicyName="three", PolicyDocument=policy(30)))
    assert (err["Code"], err["Message"]) == ("LimitExceeded", "Maximum policy size of 10240 bytes exceeded for role r")


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "x" * 65, "has space", "slash/name", "ünï"])
def test_invalid_role_names(aws, name):
    # botocore would refuse some of these names itself; the simulator must refuse them all.
    iam = aws.boto3_client("iam", config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))
    err = error_of(lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_ACCOUNT))
    assert err["Code"] == "ValidationError"
    assert "roleName" in err["Message"]


def test_role_names_are_unique_case_insensitively(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="Xpander-Base", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    err = error_of(lambda: iam.create_role(RoleName="xpander-base", AssumeRolePolicyDocument=TRUST_ACCOUNT))
    assert (err["Code"], err["Status"]) == ("EntityAlreadyExists", 409)


def test_invalid_policy_name_and_max_session_duration(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST_ACCOUNT)
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    err = error_of(lambda: iam.put_role_policy(RoleName="r", PolicyName="no spaces", PolicyDocument=doc(statement)))
    assert err["Code"] == "ValidationError" and "policyName" in err["Message"]
    err = error_of(lambda: iam.update_role(RoleName="r", MaxSessionDuration=50000))
    assert err["Code"] == "ValidationError" and "maxSessionDuration" in err["Message"]


def test_unknown_role_is_no_such_entity(aws):
    err = error_of(lambda: aws.boto3_client("iam").update_assume_role_policy(RoleName="ghost", PolicyDocument=TRUST_ACCOUNT))
    assert (err["Code"], err["Status"]) == ("NoSuchEntity", 404)
