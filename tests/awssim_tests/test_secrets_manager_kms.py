"""Secrets Manager and KMS requests are authorised like IAM and EKS ones: the
action from X-Amz-Target, the resource from the SecretId or KeyId, and the
kms:Decrypt Secrets Manager makes with the caller's permissions when a secret
is under a customer managed key."""

from __future__ import annotations

import json

import pytest

from test_caller_permissions import ROOT_TRUST, allow, error_of, last_entry, no_policy_allows, policy, role_arn
from xpander_setup import ACCOUNT

REGION = "us-east-1"
READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
VIA_SECRETS_MANAGER = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


@pytest.fixture
def key(aws) -> str:
    return aws.boto3_client("kms").create_key()["KeyMetadata"]["Arn"]


@pytest.fixture
def secrets(aws, key) -> dict[str, str]:
    """ARNs of two secrets under the AWS managed key and one under `key`."""
    sm = aws.boto3_client("secretsmanager")
    made = {name: sm.create_secret(Name=name, SecretString=f"{name}-value", Tags=[{"Key": "team", "Value": name}])["ARN"]
            for name in ("xpander/listed", "xpander/other")}
    made["xpander/sealed"] = sm.create_secret(Name="xpander/sealed", SecretString="sealed-value", KmsKeyId=key)["ARN"]
    return made


def session(aws, *statements: dict) -> dict:
    """Credentials of a role session whose role holds exactly `statements`."""
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=ROOT_TRUST)
    iam.put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=json.dumps(policy(*statements)))
    return aws.boto3_client("sts").assume_role(RoleArn=role_arn("reader"), RoleSessionName="sess")["Credentials"]


SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/sess"


def test_a_role_session_reads_only_the_secrets_its_policy_names(aws, secrets):
    sm = aws.client_for("secretsmanager", session(aws, allow(READ, secrets["xpander/listed"])))
    listed, other = secrets["xpander/listed"], secrets["xpander/other"]
    # By name, full ARN or partial ARN (no random suffix): IAM sees the full ARN.
    for secret_id in ("xpander/listed", listed, listed.rsplit("-", 1)[0]):
        assert sm.get_secret_value(SecretId=secret_id)["SecretString"] == "xpander/listed-value"
    assert sm.describe_secret(SecretId="xpander/listed")["ARN"] == listed
    for action, call in (("secretsmanager:GetSecretValue", sm.get_secret_value), ("secretsmanager:DescribeSecret", sm.describe_secret)):
        err = error_of(lambda: call(SecretId="xpander/other"))
        assert (err["Code"], err["Status"]) == ("AccessDeniedException", 403)
        assert err["Message"] == no_policy_allows(SESSION_ARN, action, other)
    entry = last_entry(aws, "DescribeSecret")
    assert (entry["service"], entry["params"], entry["denied"]) == ("secretsmanager", {"SecretId": "xpander/other"}, "secretsmanager:DescribeSecret")
    # Calls naming no secret act on "*".
    err = error_of(sm.list_secrets)
    assert err["Message"] == no_policy_allows(SESSION_ARN, "secretsmanager:ListSecrets", "*")


def test_a_missing_secret_is_refused_on_the_arn_of_its_name(aws, secrets):
    sm = aws.client_for("secretsmanager", session(aws, allow(READ, secrets["xpander/listed"])))
    err = error_of(lambda: sm.get_secret_value(SecretId="absent"))
    assert err["Message"] == no_policy_allows(SESSION_ARN, "secretsmanager:GetSecretValue",
                                              f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:absent")


def test_secret_tags_are_resource_tags(aws, secrets):
    creds = session(aws, allow(READ, "*", Condition={"StringEquals": {"aws:ResourceTag/team": "xpander/listed"}}))
    sm = aws.client_for("secretsmanager", creds)
    sm.describe_secret(SecretId="xpander/listed")
    assert error_of(lambda: sm.describe_secret(SecretId="xpander/other"))["Code"] == "AccessDeniedException"


def test_a_customer_managed_key_is_decrypted_with_the_callers_permission_through_secrets_manager(aws, secrets, key):
    sealed = secrets["xpander/sealed"]
    sm = aws.client_for("secretsmanager", session(aws, allow(READ, sealed)))
    sm.describe_secret(SecretId="xpander/sealed")  # reads metadata only: no decryption
    err = error_of(lambda: sm.get_secret_value(SecretId="xpander/sealed"))
    assert (err["Code"], err["Message"]) == ("AccessDeniedException", no_policy_allows(SESSION_ARN, "kms:Decrypt", key))
    assert last_entry(aws, "GetSecretValue")["denied"] == "kms:Decrypt"

    through_secrets_manager = allow("kms:Decrypt", key, Condition={
        **VIA_SECRETS_MANAGER, "StringLike": {"kms:EncryptionContext:SecretARN": sealed, "kms:CallerAccount": ACCOUNT}})
    aws.boto3_client("iam").put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=json.dumps(
        policy(allow(READ, sealed), through_secrets_manager)))
    assert sm.get_secret_value(SecretId=sealed)["SecretString"] == "sealed-value"


def test_decrypt_through_another_regions_secrets_manager_is_refused(aws, secrets, key):
    other_region = {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}
    creds = session(aws, allow(READ, secrets["xpander/sealed"]), allow("kms:Decrypt", key, Condition=other_region))
    err = error_of(lambda: aws.client_for("secretsmanager", creds).get_secret_value(SecretId="xpander/sealed"))
    assert err["Message"] == no_policy_allows(SESSION_ARN, "kms:Decrypt", key)


def test_kms_decrypt_called_directly_is_not_through_secrets_manager(aws, key):
    admin = aws.boto3_client("kms")
    admin.create_alias(AliasName="alias/xpander", TargetKeyId=key)
    blob = admin.encrypt(KeyId=key, Plaintext=b"credential")["CiphertextBlob"]
    creds = session(aws, allow("kms:Decrypt", key, Condition=VIA_SECRETS_MANAGER))
    kms = aws.client_for("kms", creds)
    # The key comes from the ciphertext, or from a KeyId given as id, ARN or alias.
    for extra in ({}, {"KeyId": key}, {"KeyId": key.rsplit("/", 1)[1]}, {"KeyId": "alias/xpander"}):
        err = error_of(lambda: kms.decrypt(CiphertextBlob=blob, **extra))
        assert (err["Code"], err["Message"]) == ("AccessDeniedException", no_policy_allows(SESSION_ARN, "kms:Decrypt", key)), extra

    aws.boto3_client("iam").put_role_policy(RoleName="reader", PolicyName="p", PolicyDocument=json.dumps(policy(allow("kms:Decrypt", key))))
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"credential"
    err = error_of(lambda: kms.describe_key(KeyId="alias/absent"))
    assert err["Message"] == no_policy_allows(SESSION_ARN, "kms:DescribeKey", f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/absent")


def test_an_unknown_key_is_refused_as_json_services_refuse_it(aws):
    stranger = {"AccessKeyId": "AKIAUNKNOWNKEY000000", "SecretAccessKey": "whatever"}
    for service, call in (("secretsmanager", lambda c: c.list_secrets()), ("kms", lambda c: c.list_keys())):
        err = error_of(lambda: call(aws.client_for(service, stranger)))
        assert (err["Code"], err["Status"]) == ("UnrecognizedClientException", 403), service
