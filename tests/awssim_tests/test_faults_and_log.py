"""Fault injection (throttling, 5xx, latency, drops) and the request log."""

from __future__ import annotations

import json
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from awssim.harness import AwsSimError
from xpander_setup import ACCOUNT, doc

TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})


def error_of(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["Error"]["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_iam_throttling_is_a_token_bucket_answered_like_iam(aws):
    iam = aws.boto3_client("iam")
    aws.set_faults(throttle={"iam": {"rate": 0.01, "burst": 2}})
    iam.list_roles()
    iam.list_roles()
    assert error_of(iam.list_roles) == ("Throttling", 400)
    assert [r["fault"] for r in aws.requests()] == [None, None, "throttle"]
    # Other services are not throttled by the IAM bucket.
    aws.boto3_client("sts").get_caller_identity()


def test_throttled_calls_succeed_with_sdk_retries(aws):
    aws.set_faults(throttle={"iam": {"rate": 20, "burst": 1}})
    iam = aws.boto3_client("iam", config=Config(retries={"mode": "standard", "total_max_attempts": 10}))
    for _ in range(4):
        iam.list_roles()
    assert "throttle" in [r["fault"] for r in aws.requests()]


def test_per_action_bucket(aws):
    iam = aws.boto3_client("iam")
    aws.set_faults(throttle={"iam:CreateRole": {"rate": 0.01, "burst": 1}})
    iam.create_role(RoleName="one", AssumeRolePolicyDocument=TRUST)
    assert error_of(lambda: iam.create_role(RoleName="two", AssumeRolePolicyDocument=TRUST)) == ("Throttling", 400)
    iam.get_role(RoleName="one")


def test_eks_throttling_is_429_throttling_exception(aws):
    eks = aws.boto3_client("eks")
    aws.set_faults(throttle={"eks": {"rate": 0.01, "burst": 1}})
    eks.list_clusters()
    assert error_of(eks.list_clusters) == ("ThrottlingException", 429)


def test_random_server_errors_per_protocol(aws):
    aws.set_faults(error_ratio=1.0, seed=7)
    iam_errors = {error_of(aws.boto3_client("iam").list_roles) for _ in range(12)}
    assert iam_errors == {("ServiceFailure", 500), ("ServiceUnavailable", 503)}
    assert error_of(aws.boto3_client("eks").list_clusters) == ("ServerException", 500)
    assert error_of(aws.boto3_client("sts").get_caller_identity)[1] in (500, 503)


def test_seeded_faults_repeat_exactly(aws):
    def pattern() -> list:
        aws.set_faults(error_ratio=0.5, seed=42)
        aws.clear_requests()
        iam = aws.boto3_client("iam")
        for _ in range(10):
            try:
                iam.list_roles()
            except ClientError:
                pass
        return [r["fault"] for r in aws.requests()]

    first = pattern()
    assert "error" in first and None in first
    assert pattern() == first


def test_limit_bounds_the_number_of_faults(aws):
    iam = aws.boto3_client("iam")
    aws.set_faults(error_ratio=1.0, limit=2)
    assert error_of(iam.list_roles)[1] >= 500
    assert error_of(iam.list_roles)[1] >= 500
    iam.list_roles()
    assert aws.faults()["injected"] == 2


def test_services_filter(aws):
    aws.set_faults(error_ratio=1.0, services=["eks"])
    aws.boto3_client("iam").list_roles()
    assert error_of(aws.boto3_client("eks").list_clusters)[0] == "ServerException"


def test_latency(aws):
    aws.set_faults(latency_ms=[300, 300])
    started = time.monotonic()
    aws.boto3_client("sts").get_caller_identity()
    assert time.monotonic() - started >= 0.3


def test_dropped_connection(aws):
    aws.set_faults(drop_ratio=1.0, services=["iam"])
    with pytest.raises(ConnectionClosedError):
        aws.boto3_client("iam").list_roles()
    assert aws.requests()[-1]["fault"] == "drop" and aws.requests()[-1]["status"] is None


@pytest.mark.parametrize(
    "faults",
    [
        {"error_ratio": 1.5},
        {"error_ratio": 0.6, "drop_ratio": 0.6},
        {"latency_ms": [0, 60_000]},
        {"throttle": {"iam": {"rate": 0, "burst": 1}}},
        {"throttle": {"s3": {"rate": 1, "burst": 1}}},
        {"services": ["s3"]},
        {"bogus": 1},
    ],
)
def test_fault_settings_are_bounded(aws, faults):
    with pytest.raises(AwsSimError) as info:
        aws.set_faults(**faults)
    assert info.value.status == 400


def test_faults_are_cleared_by_delete_and_by_reset(aws):
    iam = aws.boto3_client("iam")
    aws.set_faults(error_ratio=1.0)
    aws.clear_faults()
    iam.list_roles()
    aws.set_faults(error_ratio=1.0)
    aws.reset()
    iam.list_roles()


def test_request_log_records_key_params_and_mutations(aws):
    iam, eks = aws.boto3_client("iam"), aws.boto3_client("eks")
    iam.create_role(RoleName="logged", AssumeRolePolicyDocument=TRUST)
    iam.get_role(RoleName="logged")
    eks.create_cluster(name="c1", roleArn=f"arn:aws:iam::{ACCOUNT}:role/logged", resourcesVpcConfig={})
    eks.describe_cluster(name="c1")
    entries = aws.requests()
    assert [(e["service"], e["action"], e["mutating"], e["status"]) for e in entries] == [
        ("iam", "CreateRole", True, 200),
        ("iam", "GetRole", False, 200),
        ("eks", "CreateCluster", True, 200),
        ("eks", "DescribeCluster", False, 200),
    ]
    assert entries[0]["params"] == {"RoleName": "logged"}
    assert entries[3]["params"] == {"clusterName": "c1"}
    assert [e["seq"] for e in aws.requests(since=entries[1]["seq"])] == [entries[2]["seq"], entries[3]["seq"]]
    aws.clear_requests()
    assert aws.requests() == []


def test_request_log_never_holds_secrets(aws):
    iam, sts = aws.boto3_client("iam"), aws.boto3_client("sts")
    secret = "org-Sup3rSecretExternalId"
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"sts:ExternalId": secret}}})
    iam.create_role(RoleName="cross", AssumeRolePolicyDocument=trust)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/cross", RoleSessionName="cloud", ExternalId=secret)["Credentials"]
    aws.client_for("sts", creds).get_caller_identity()
    text = json.dumps(aws.requests())
    assert "AssumeRole" in text
    for forbidden in (secret, creds["SecretAccessKey"], creds["SessionToken"], "PolicyDocument", "AssumeRolePolicyDocument"):
        assert forbidden not in text


def test_read_only_traffic_logs_no_mutation(aws):
    iam = aws.boto3_client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    aws.clear_requests()
    iam.get_role(RoleName="r")
    iam.list_role_policies(RoleName="r")
    aws.boto3_client("eks").list_clusters()
    aws.boto3_client("sts").get_caller_identity()
    assert len(aws.requests()) == 4
    assert not any(e["mutating"] for e in aws.requests())


def test_control_calls_are_not_logged_and_reset_clears_log(aws):
    aws.boto3_client("iam").list_roles()
    aws.set_config(propagation_delay=0)
    aws.set_faults(latency_ms=[0, 0])
    assert [e["action"] for e in aws.requests()] == ["ListRoles"]
    aws.reset()
    assert aws.requests() == []
