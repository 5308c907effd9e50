"""Partial failures become ErrorResourceInitFailed and the next up finishes
(suite 6); IAM propagation is waited out by polling, not sleeping (suite 5)."""

from __future__ import annotations

import pytest

from e2e.seed import BASE, CLUSTER, CONNECTOR, chain, role_arn, seed_program
from engine import StepFailed


def test_grant_failure_is_partial_and_the_next_up_completes(aws, cluster, stack):
    aws.set_faults(deny=[{"action": "PutRolePolicy", "params": {"RoleName": "xpander-base-role", "PolicyName": "xpander-assume-xpander-eks-connector"}, "times": 1}])
    with pytest.raises(StepFailed) as failed:
        stack.up(seed_program(cluster))
    assert failed.value.op == "create" and failed.value.urn.endswith("::eks")
    assert failed.value.init_errors, "the engine must record the half-made connector"
    eks = stack.get("eks")
    assert eks.id == "xpander-eks-connector" and eks.init_errors
    aws.clear_faults()

    events = stack.up(seed_program(cluster))
    assert {e.name: e.op for e in events}["eks"] == "update"
    assert not stack.get("eks").init_errors
    chain(aws, role_arn("xpander-eks-connector"))

    stack.destroy()
    iam, eks_api = aws.boto3_client("iam"), aws.boto3_client("eks")
    assert iam.list_roles()["Roles"] == []
    assert eks_api.list_access_entries(clusterName=CLUSTER)["accessEntries"] == []
    assert eks_api.list_pod_identity_associations(clusterName=CLUSTER)["associations"] == []


def test_a_role_left_by_an_interrupted_create_is_adopted(aws, cluster, stack, engine):
    # The base role exists with this stack's ownership tag but is not in state
    # (the provider died before answering): the next create adopts it.
    stack.up(seed_program(cluster))
    stack.resources = [r for r in stack.resources if r.name != "redshift"]
    events = stack.up(seed_program(cluster))
    assert {e.name: e.op for e in events}["redshift"] == "create"
    roles = [r["RoleName"] for r in aws.boto3_client("iam").list_roles()["Roles"]]
    assert roles.count("xpander-redshift-access") == 1


def test_a_foreign_role_with_the_same_name_is_not_taken_over(aws, cluster, stack):
    aws.boto3_client("iam").create_role(
        RoleName="xpander-base-role",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )
    with pytest.raises(StepFailed) as failed:
        stack.up(seed_program(cluster))
    assert "pulumi import" in str(failed.value)
    assert not failed.value.init_errors


def assert_polled_through(attempts: list[dict], messages: list[str], step: str) -> None:
    """One step's calls (awssim's request log) and what the provider reported
    for it: tried at once, retried until IAM answered, stopped at the first
    success. Counts, not clock readings; the time it takes is `make bench`'s
    propagation row."""
    statuses = [r["status"] for r in attempts]
    assert statuses and statuses[0] == 400, f"{step}: the first attempt must come before IAM has propagated: {statuses}"
    assert statuses[-1] == 200 and statuses.count(200) == 1, f"{step}: exactly one success, last: {statuses}"
    assert statuses.count(400) >= 3, f"{step}: polled through the delay, not slept through it: {statuses}"
    waits = [m for m in messages if m.startswith(f"{step}: waiting for IAM propagation (attempt ")]
    numbers = [int(m.split("(attempt ", 1)[1].split(",", 1)[0]) for m in waits]
    assert numbers == list(range(1, statuses.count(400) + 1)), \
        f"{step}: one reported wait per rejected attempt: {numbers} for {statuses}"
    assert [m for m in messages if m.startswith(f"{step}: done after ")], f"{step}: no 'done' message after the wait"


@pytest.mark.awssim_config(propagation_delay=15.0)
def test_a_slow_iam_is_waited_out(aws, cluster, stack, provider):
    def one_connector(ctx):
        base = ctx.resource(BASE, "base", {"roleName": "xpander-base-role", "podIdentity": {"clusterName": CLUSTER}})
        ctx.resource(CONNECTOR, "s3", {"roleName": "xpander-s3", "baseRoleArn": base["arn"], "s3": {"buckets": ["xpander-data"]}})
    stack.up(one_connector)
    # Progress reaches the engine on its own stream, which may trail the step's answer.
    for step in (f"associate xpander/xpander on {CLUSTER} via Pod Identity", "write trust policy of xpander-s3"):
        provider.engine.service.wait_for_log(lambda entry, step=step: entry.message.startswith(f"{step}: done after "), timeout=10)
    messages = [log.message for log in provider.logs]
    requests = aws.requests()
    # The base role's Pod Identity association names the new role, then the
    # connector's trust names it and the connector role itself: each waits.
    assert_polled_through([r for r in requests if r["action"] == "CreatePodIdentityAssociation"], messages,
                          f"associate xpander/xpander on {CLUSTER} via Pod Identity")
    assert_polled_through([r for r in requests if r["action"] == "UpdateAssumeRolePolicy"
                           and r["params"].get("RoleName") == "xpander-s3"], messages,
                          "write trust policy of xpander-s3")
    chain(aws, role_arn("xpander-s3"))
