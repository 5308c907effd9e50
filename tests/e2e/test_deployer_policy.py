"""The policies `deployer-policy` prints are enough and no more: a full
lifecycle of both resources passes as a principal holding the `deploy`
policy, fails naming the action when any single action is taken away, and
previews and refreshes pass as a principal holding only the `preview`
policy, writing nothing.

The same for a deployer that cannot escalate (`--mode deploy
--permissions-boundary B --managed-policy-arn P`, B the printed `--mode
boundary` document, the provider's `permissionsBoundary` B): its lifecycle
starts from a role deployed before the boundary was configured, which takes
the boundary on the next up. It cannot create a role without B or with
another boundary, remove B, or attach anything but P (not
AdministratorAccess), and what it writes is capped by B."""

from __future__ import annotations

import contextlib
import json
import os

import pytest
from botocore.exceptions import ClientError
from pulumi.runtime.proto import engine_pb2

from e2e.conftest import BINARY, boundary_config, create_boundary, deploy_policy, printed_policy
from e2e.seed import ACCOUNT, CLUSTER, CONNECTOR, ORG_ID, BASE, chain, provider_config, role_arn
from engine import Engine, ProviderProcess, Secret, Stack, StepFailed

ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
# What the deployer held to the boundary may attach; the ARN the policy gets once created.
LISTED = f"arn:aws:iam::{ACCOUNT}:policy/xpander-extra"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/xpander-boundary"


def allowed_actions(doc: dict) -> list[str]:
    return sorted({
        a for s in doc["Statement"] if s["Effect"] == "Allow"
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    })


DEPLOY_ACTIONS = allowed_actions(printed_policy("deploy"))
BOUNDARY_ACTIONS = allowed_actions(deploy_policy(BOUNDARY, [LISTED]))


def without(doc: dict, action: str) -> dict:
    statements = []
    for s in doc["Statement"]:
        actions = [a for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a != action]
        if actions:
            statements.append({**s, "Action": actions})
    return {**doc, "Statement": statements}


@contextlib.contextmanager
def stack_as(aws, credentials: dict, resources=None, **config):
    """A provider process running with `credentials`, and a stack on it."""
    env = {**os.environ, **aws.provider_env(credentials)}
    env.pop("AWS_ENDPOINT_URL", None)
    with ProviderProcess(BINARY, env=env) as proc:
        engine = Engine(proc)
        engine.boot(provider_config(aws, **config))
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


# -- a deployer that cannot escalate --------------------------------------------------------

# Deployed before the boundary was configured, by a deployer without one.
LEGACY = {"roleName": "xpander-legacy", "s3": {"buckets": ["xpander-data"], "readOnly": True}}


def with_legacy(base: dict, connector: dict):
    rest = program(base, connector)

    def run(ctx):
        ctx.resource(CONNECTOR, "legacy", LEGACY)
        rest(ctx)
    return run


@pytest.fixture
def held(world) -> dict:
    """The boundary and the policy it may attach, and a deployer without a
    boundary that deployed the legacy role before either existed."""
    plain = world.principal("plain-deployer", printed_policy("deploy"))
    with stack_as(world, plain) as stack:
        stack.up(lambda ctx: ctx.resource(CONNECTOR, "legacy", LEGACY))
    iam = world.boto3_client("iam")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    assert iam.create_policy(PolicyName="xpander-extra", PolicyDocument=doc)["Policy"]["Arn"] == LISTED
    assert create_boundary(world) == BOUNDARY
    world.clear_requests()
    return {"legacy": stack.resources}


def boundary_lifecycle(aws, stack: Stack) -> None:
    """Every kind of call the provider makes held to the boundary: the legacy
    role takes it; create with tags, the listed managed policy and an access
    entry; update description, tags, managed policies, access policy, Pod
    Identity association and trust; refresh; destroy."""
    stack.up(with_legacy({}, {"managedPolicyArns": [LISTED], "description": "one", "tags": {"team": "a", "env": "x"}}))
    stack.up(with_legacy({"podIdentity": {"clusterName": CLUSTER, "disableSessionTags": True}}, {
        "description": "two", "tags": {"team": "a"},
        "eks": {"clusterName": CLUSTER, "accessPolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"},
    }))
    stack.refresh()
    stack.up(with_legacy({}, {"description": "two"}))
    stack.destroy()


def test_the_boundary_deploy_policy_is_enough(world, held):
    deployer = world.principal("deployer", deploy_policy(BOUNDARY, [LISTED]))
    iam = world.boto3_client("iam")
    with stack_as(world, deployer, held["legacy"], **boundary_config(BOUNDARY)) as stack:
        stack.up(with_legacy({}, {}))
        for role in ("xpander-legacy", "xpander-base-role", "xpander-redshift-access"):
            assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
        assert chain(world, role_arn("xpander-redshift-access"))["AssumedRoleUser"]["Arn"].endswith("/refresh")
        boundary_lifecycle(world, stack)
    assert [r for r in world.requests() if r.get("denied")] == []
    creates = [r["params"] for r in world.requests() if r["action"] == "CreateRole"]
    assert len(creates) == 2 and {c.get("PermissionsBoundary") for c in creates} == {BOUNDARY}, creates
    assert iam.list_roles()["Roles"] == []


@pytest.mark.parametrize("action", BOUNDARY_ACTIONS)
def test_each_action_of_the_boundary_deploy_policy_is_needed(world, held, action):
    deployer = world.principal("deployer", without(deploy_policy(BOUNDARY, [LISTED]), action))
    with stack_as(world, deployer, held["legacy"], **boundary_config(BOUNDARY)) as stack, pytest.raises(StepFailed) as failed:
        boundary_lifecycle(world, stack)
    message = str(failed.value)
    assert action in message and "deployer-policy --mode" in message, message
    assert {r["denied"] for r in world.requests() if r.get("denied")} == {action}


def test_roles_deployed_before_the_boundary_take_it_on_the_next_up(world, held):
    """The upgrade: set the provider's permissionsBoundary and run as the
    deployer held to it. The preview shows the boundary as an input change of
    every role; the up writes it (PutRolePermissionsBoundary) first, then the
    role's other changes (here the legacy role's description), nothing else."""
    deployer = world.principal("deployer", deploy_policy(BOUNDARY))
    plain = world.principal("plain-again", printed_policy("deploy"))
    with stack_as(world, plain, held["legacy"]) as stack:
        stack.up(with_legacy({}, {}))
        deployed = stack.resources
    iam = world.boto3_client("iam")
    names = ["xpander-legacy", "xpander-base-role", "xpander-redshift-access"]
    assert all("PermissionsBoundary" not in iam.get_role(RoleName=n)["Role"] for n in names)
    described = dict(LEGACY, description="held to the boundary")

    def upgraded(ctx):
        ctx.resource(CONNECTOR, "legacy", described)
        program({}, {})(ctx)

    world.clear_requests()
    with stack_as(world, deployer, deployed, **boundary_config(BOUNDARY)) as stack:
        events = {e.name: e for e in stack.preview(upgraded)}
        for name, changed in (("legacy", {"permissionsBoundary", "description"}), ("base", {"permissionsBoundary"}),
                              ("conn", {"permissionsBoundary"})):
            assert events[name].op == "update", events[name]
            assert set(events[name].diff.detailed) == changed, events[name].diff
            boundary = events[name].diff.detailed["permissionsBoundary"]
            assert boundary.kind == "ADD" and boundary.input_diff, events[name].diff
        stack.up(upgraded)
        assert {e.op for e in stack.preview(upgraded) if e.name in events} == {"same"}
    writes = [(r["action"], r["params"].get("RoleName")) for r in world.requests() if r["mutating"]]
    assert sorted(writes) == sorted([("PutRolePermissionsBoundary", n) for n in names] + [("UpdateRole", "xpander-legacy")]), writes
    assert writes.index(("PutRolePermissionsBoundary", "xpander-legacy")) < writes.index(("UpdateRole", "xpander-legacy"))
    assert all(iam.get_role(RoleName=n)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY for n in names)
    assert chain(world, role_arn("xpander-redshift-access"))["AssumedRoleUser"]["Arn"].endswith("/refresh")


def test_a_boundary_removed_out_of_band_shows_on_refresh_and_is_put_back(world, held):
    deployer = world.principal("deployer", deploy_policy(BOUNDARY))
    admin = world.boto3_client("iam")
    with stack_as(world, deployer, held["legacy"], **boundary_config(BOUNDARY)) as stack:
        stack.up(with_legacy({}, {}))
        admin.delete_role_permissions_boundary(RoleName="xpander-redshift-access")
        refreshed = {e.name: e for e in stack.refresh()}
        assert set(refreshed["conn"].diff.detailed) == {"permissionsBoundary"}, refreshed["conn"].diff
        assert not refreshed["base"].diff.detailed and not refreshed["legacy"].diff.detailed
        world.clear_requests()
        stack.up(with_legacy({}, {}))
    assert [(r["action"], r["params"].get("RoleName")) for r in world.requests() if r["mutating"]] == [
        ("PutRolePermissionsBoundary", "xpander-redshift-access")]
    assert admin.get_role(RoleName="xpander-redshift-access")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY


def refused(call) -> str:
    with pytest.raises(ClientError) as info:
        call()
    assert info.value.response["Error"]["Code"] == "AccessDenied", info.value.response
    return info.value.response["Error"]["Message"]


def test_the_boundary_deploy_policy_cannot_escalate(world, held):
    """The printed policy, called directly as an attacker holding it would."""
    deployer = world.principal("deployer", deploy_policy(BOUNDARY, [LISTED]))
    iam, admin = world.client_for("iam", deployer), world.boto3_client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})

    def create(**boundary):
        return lambda: iam.create_role(RoleName="xpander-mine", AssumeRolePolicyDocument=trust, **boundary)
    assert "iam:CreateRole" in refused(create())
    assert "iam:CreateRole" in refused(create(PermissionsBoundary=ADMINISTRATOR))
    create(PermissionsBoundary=BOUNDARY)()

    assert "iam:DeleteRolePermissionsBoundary" in refused(lambda: iam.delete_role_permissions_boundary(RoleName="xpander-mine"))
    assert "iam:PutRolePermissionsBoundary" in refused(
        lambda: iam.put_role_permissions_boundary(RoleName="xpander-mine", PermissionsBoundary=ADMINISTRATOR))
    assert "iam:CreatePolicyVersion" in refused(lambda: iam.create_policy_version(
        PolicyArn=BOUNDARY, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}), SetAsDefault=True))

    assert "iam:AttachRolePolicy" in refused(lambda: iam.attach_role_policy(RoleName="xpander-mine", PolicyArn=ADMINISTRATOR))
    assert "iam:AttachRolePolicy" in refused(lambda: iam.attach_role_policy(RoleName="xpander-mine", PolicyArn=BOUNDARY))
    iam.attach_role_policy(RoleName="xpander-mine", PolicyArn=LISTED)
    # A role it did not give the boundary (the legacy one) is out of reach but for giving it the boundary.
    assert "iam:PutRolePolicy" in refused(lambda: iam.put_role_policy(
        RoleName="xpander-legacy", PolicyName="more", PolicyDocument=trust.replace("sts:AssumeRole", "iam:*")))

    # Anything it writes inline is capped by the boundary: the role cannot use IAM at all.
    iam.put_role_policy(RoleName="xpander-mine", PolicyName="everything", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    world.settle()
    session = world.boto3_client("sts").assume_role(RoleArn=role_arn("xpander-mine"), RoleSessionName="escalate")["Credentials"]
    assert refused(lambda: world.client_for("iam", session).attach_role_policy(
        RoleName="xpander-mine", PolicyArn=ADMINISTRATOR)).endswith("because no permissions boundary allows the iam:AttachRolePolicy action")
    assert [p["PolicyArn"] for p in admin.list_attached_role_policies(RoleName="xpander-mine")["AttachedPolicies"]] == [LISTED]
    assert admin.get_role(RoleName="xpander-mine")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY


def test_a_program_held_to_the_boundary_cannot_make_itself_an_administrator(world, held):
    deployer = world.principal("deployer", deploy_policy(BOUNDARY, [LISTED]))
    admin = world.boto3_client("iam")
    with stack_as(world, deployer, held["legacy"], **boundary_config(BOUNDARY)) as stack, pytest.raises(StepFailed) as failed:
        stack.up(with_legacy({}, {"managedPolicyArns": [ADMINISTRATOR]}))
    assert "iam:AttachRolePolicy" in str(failed.value), failed.value
    assert admin.list_entities_for_policy(PolicyArn=ADMINISTRATOR)["PolicyRoles"] == []

    # A role's own boundary, other than the provider's, is warned about at preview and refused at create.
    unbounded = {"roleName": "xpander-unbounded", "permissionsBoundary": ADMINISTRATOR, "s3": {"buckets": ["xpander-data"]}}
    world.clear_requests()
    with stack_as(world, deployer, **boundary_config(BOUNDARY)) as stack:
        stack.preview(lambda ctx: ctx.resource(CONNECTOR, "unbounded", unbounded))
        # Check's warnings reach the engine on their own ordered stream, which may trail Check's answer.
        warned = stack.engine.provider.engine.service.wait_for_log(
            lambda log: log.severity == engine_pb2.WARNING and log.urn == stack.engine.urn(CONNECTOR, "unbounded")
            and log.message.startswith(f"permissionsBoundary {ADMINISTRATOR} differs from the provider's"))
        assert warned is not None
        with pytest.raises(StepFailed) as failed:
            stack.up(lambda ctx: ctx.resource(CONNECTOR, "unbounded", unbounded))
    assert "iam:CreateRole" in str(failed.value), failed.value
    assert {r["denied"] for r in world.requests() if r.get("denied")} == {"iam:CreateRole"}
    assert "xpander-unbounded" not in {r["RoleName"] for r in admin.list_roles()["Roles"]}
