"""The policies `deployer-policy` prints are enough and no more: a full
lifecycle of both resources passes as a principal holding the `deploy`
policy, fails naming the action when any single action is taken away, and
previews and refreshes pass as a principal holding only the `preview`
policy, writing nothing."""

from __future__ import annotations

import contextlib
import json
import os

import pytest

from e2e.conftest import BINARY, printed_policy
from e2e.seed import CLUSTER, CONNECTOR, ORG_ID, BASE, provider_config, role_arn
from engine import Engine, ProviderProcess, Secret, Stack, StepFailed

DEPLOY_ACTIONS = sorted({
    a for s in printed_policy("deploy")["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
})


def without(doc: dict, action: str) -> dict:
    statements = []
    for s in doc["Statement"]:
        actions = [a for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a != action]
        if actions:
            statements.append({**s, "Action": actions})
    return {**doc, "Statement": statements}


@contextlib.contextmanager
def stack_as(aws, credentials: dict, resources=None):
    """A provider process running with `credentials`, and a stack on it."""
    env = {**os.environ, **aws.provider_env(credentials)}
    env.pop("AWS_ENDPOINT_URL", None)
    with ProviderProcess(BINARY, env=env) as proc:
        engine = Engine(proc)
        engine.boot(provider_config(aws))
        yield Stack(engine, resources)


def program(base: dict, connector: dict):
    def run(ctx):
        b = ctx.resource(BASE, "base", {
            "roleName": "xpander-base-role", "podIdentity": {"clusterName": CLUSTER}, "tags": {"team": "a"}, **base,
        })
        ctx.resource(CONNECTOR, "conn", {
            "roleName": "xpander-redshift-access",
            "baseRoleArn": b["arn"],
            "baseRoleId": b["roleId"],
            "externalId": Secret(ORG_ID),
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
            "eks": {"clusterName": CLUSTER},
            **connector,
        })
    return run


def lifecycle(aws, stack: Stack) -> None:
    """Every kind of call the provider makes: create with tags, a managed
    policy and an access entry; update the boundary, description, tags,
    managed policies, access policy and Pod Identity association; refresh;
    remove the boundary; destroy."""
    iam = aws.boto3_client("iam")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    extra = iam.create_policy(PolicyName="xpander-extra", PolicyDocument=doc)["Policy"]["Arn"]
    boundary = iam.create_policy(PolicyName="xpander-boundary", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    stack.up(program({}, {"managedPolicyArns": [extra], "description": "one", "tags": {"team": "a", "env": "x"}}))
    stack.up(program({"podIdentity": {"clusterName": CLUSTER, "disableSessionTags": True}}, {
        "permissionsBoundary": boundary, "description": "two", "tags": {"team": "a"},
        "eks": {"clusterName": CLUSTER, "accessPolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"},
    }))
    stack.refresh()
    stack.up(program({}, {"description": "two"}))
    stack.destroy()


@pytest.fixture
def world(aws, cluster):
    return aws


def test_the_deploy_policy_is_enough(world):
    deployer = world.principal("deployer", printed_policy("deploy"))
    with stack_as(world, deployer) as stack:
        lifecycle(world, stack)
    assert [r for r in world.requests() if r.get("denied")] == []
    assert world.boto3_client("iam").list_roles()["Roles"] == []


@pytest.mark.parametrize("action", DEPLOY_ACTIONS)
def test_each_action_of_the_deploy_policy_is_needed(world, action):
    deployer = world.principal("deployer", without(printed_policy("deploy"), action))
    with stack_as(world, deployer) as stack, pytest.raises(StepFailed) as failed:
        lifecycle(world, stack)
    message = str(failed.value)
    assert action in message and "deployer-policy --mode" in message, message
    assert {r["denied"] for r in world.requests() if r.get("denied")} == {action}


def test_previews_and_refreshes_need_only_the_preview_policy(world):
    reader = world.principal("reader", printed_policy("preview"))
    deployer = world.principal("deployer", printed_policy("deploy"))
    seed = program({}, {})
    with stack_as(world, reader) as stack:
        stack.preview(seed)  # a new stack
    with stack_as(world, deployer) as stack:
        stack.up(seed)
        deployed = stack.resources
    world.clear_requests()
    with stack_as(world, reader, deployed) as stack:
        stack.refresh()
        events = stack.preview(seed)
        assert {e.op for e in events if e.name in ("base", "conn")} == {"same"}
        # A change shows in the preview; applying it is refused, naming the action.
        stack.preview(program({}, {"description": "changed"}))
        with pytest.raises(StepFailed) as refused:
            stack.up(program({}, {"description": "changed"}))
    assert "iam:UpdateRole" in str(refused.value) and "--mode deploy" in str(refused.value)
    writes = [r for r in world.requests() if r["mutating"]]
    assert [r["denied"] for r in writes] == ["iam:UpdateRole"], writes
    assert world.boto3_client("iam").get_role(RoleName="xpander-redshift-access")["Role"]["Arn"] == role_arn("xpander-redshift-access")
