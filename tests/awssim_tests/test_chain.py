"""The seed's architecture end to end, and its four Troubleshooting failures."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

import xpander_setup as seed


def _denied(sim, bad: seed.Misconfig) -> str:
    seed.build(sim, bad)
    with pytest.raises(ClientError) as info:
        seed.run_chain(sim)
    error = info.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return error["Message"]


def test_correct_setup_chains_pod_to_base_to_connector_to_self(aws):
    seed.build(aws)
    final = seed.run_chain(aws)
    assert final["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{seed.ACCOUNT}:assumed-role/{seed.CONNECTOR}/ai-gateway-refresh"
    assert final["Credentials"]["AccessKeyId"].startswith("ASIA")
    identity = aws.client_for("sts", final["Credentials"]).get_caller_identity()
    assert identity["Arn"] == final["AssumedRoleUser"]["Arn"]
    sessions = aws.sessions()
    assert [(s["roleArn"], s["chained"]) for s in sessions] == [
        (seed.BASE_ARN, False), (seed.CONNECTOR_ARN, True), (seed.CONNECTOR_ARN, True)
    ]
    pod_tags = sessions[0]["tags"]
    assert len(pod_tags) == 6 and sessions[0]["transitiveTagKeys"] == sorted(pod_tags)
    # The six transitive pod tags reach the last hop unchanged.
    assert sessions[2]["tags"] == pod_tags and sessions[2]["transitiveTagKeys"] == sorted(pod_tags)


def test_pod_session_tags_are_carried_through_the_chain(aws):
    seed.build(aws)
    pod = aws.pod_credentials(seed.CLUSTER, seed.NAMESPACE, seed.SERVICE_ACCOUNT, pod_name="gw-0")
    assert pod["AssumedRoleArn"].startswith(f"arn:aws:sts::{seed.ACCOUNT}:assumed-role/{seed.BASE_ROLE}/")
    assert pod["SessionTags"]["kubernetes-namespace"] == seed.NAMESPACE
    assert pod["SessionTags"]["kubernetes-pod-name"] == "gw-0"
    # A trust condition on a carried tag proves the tags arrive at the connector hop.
    trust = json.loads(seed.connector_trust(True, seed.Misconfig()))
    from_base = next(s for s in trust["Statement"] if s["Sid"] == "AllowFromBaseRole")
    from_base["Condition"] = {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "other"}}
    aws.boto3_client("iam").update_assume_role_policy(RoleName=seed.CONNECTOR, PolicyDocument=json.dumps(trust))
    with pytest.raises(ClientError) as info:
        aws.client_for("sts", pod).assume_role(RoleArn=seed.CONNECTOR_ARN, RoleSessionName="gw")
    assert info.value.response["Error"]["Code"] == "AccessDenied"


def test_tag_session_missing_in_trust_is_denied_on_tag_session(aws):
    message = _denied(aws, seed.Misconfig(trust_without_tag_session=True))
    assert re.fullmatch(
        rf"User: arn:aws:sts::{seed.ACCOUNT}:assumed-role/{seed.BASE_ROLE}/eks-[\w+=,.@-]+ "
        rf"is not authorized to perform: sts:TagSession on resource: {seed.CONNECTOR_ARN}",
        message,
    ), message


def test_external_id_condition_on_self_assume_is_denied_on_self_assume(aws):
    message = _denied(aws, seed.Misconfig(self_assume_with_external_id=True))
    assert message == (
        f"User: arn:aws:sts::{seed.ACCOUNT}:assumed-role/{seed.CONNECTOR}/ai-gateway "
        f"is not authorized to perform: sts:AssumeRole on resource: {seed.CONNECTOR_ARN}"
    )


def test_base_role_without_permission_is_denied_from_base_role(aws):
    message = _denied(aws, seed.Misconfig(base_without_permission=True))
    assert f"assumed-role/{seed.BASE_ROLE}/" in message
    assert message.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {seed.CONNECTOR_ARN}")


def test_connector_trust_without_base_role_is_denied_from_base_role(aws):
    message = _denied(aws, seed.Misconfig(connector_without_base_trust=True))
    assert f"assumed-role/{seed.BASE_ROLE}/" in message
    assert message.endswith(f"is not authorized to perform: sts:AssumeRole on resource: {seed.CONNECTOR_ARN}")


def test_cloud_path_with_external_id_works_where_self_hosted_chain_fails(aws):
    """Seed: "Connector works in cloud but not self-hosted"."""
    seed.build(aws, seed.Misconfig(connector_without_base_trust=True))
    sts = aws.boto3_client("sts")
    cloud = sts.assume_role(RoleArn=seed.CONNECTOR_ARN, RoleSessionName="xpander-cloud", ExternalId=seed.ORG_ID)
    assert cloud["AssumedRoleUser"]["Arn"].endswith(f"{seed.CONNECTOR}/xpander-cloud")
    with pytest.raises(ClientError) as info:
        sts.assume_role(RoleArn=seed.CONNECTOR_ARN, RoleSessionName="no-external-id")
    assert info.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        seed.run_chain(aws)
