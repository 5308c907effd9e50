"""An `up` interrupted half way must be finished by the next one: the
provider SIGKILLed in the middle of a create, and Cancel during a long
propagation wait. Nothing may be duplicated or leaked, and the result must
work end to end (the AI Gateway's credential chain)."""

from __future__ import annotations

import threading

import pytest
from google.protobuf import empty_pb2

from e2e.seed import BASE, CONNECTOR, chain, trust_of
from engine import Secret, Stack, StepFailed
from reliability.world import (
    Names,
    assert_state_matches_aws,
    boot,
    kill_hard,
    last_seq,
    leftovers,
    wait_for_request,
)

ORG = "org-interrupted"


def base_only(names: Names):
    def program(ctx):
        ctx.resource(BASE, "base", {"roleName": names.base, "podIdentity": {"clusterName": names.cluster}})
    return program


def with_connector(names: Names):
    def program(ctx):
        base = ctx.resource(BASE, "base", {"roleName": names.base, "podIdentity": {"clusterName": names.cluster}})
        ctx.resource(CONNECTOR, "redshift", {
            "roleName": names.connector("redshift"),
            "baseRoleArn": base["arn"],
            "baseRoleId": base["roleId"],
            "externalId": Secret(ORG),
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
        })
    return program


class Background:
    """Runs one `up` in a thread; `.error` holds what it raised."""

    def __init__(self, action) -> None:
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(action,), daemon=True)
        self._thread.start()

    def _run(self, action) -> None:
        try:
            action()
        except BaseException as err:  # noqa: BLE001 - handed to the test
            self.error = err

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the interrupted `up` did not return within {timeout}s"


def creates_of(aws, role: str) -> list[dict]:
    return [r for r in aws.requests() if r["action"] == "CreateRole" and r["params"].get("RoleName") == role
            and r["status"] == 200]


def is_call(action: str, role: str | None = None, status: int | None = None, fault: str | None = None):
    def match(entry: dict) -> bool:
        return (entry["action"] == action
                and (role is None or entry["params"].get("RoleName") == role)
                and (status is None or entry["status"] == status)
                and (fault is None or entry["fault"] == fault))
    return match


# Where the create is killed: (role being created, how to hold the provider
# there, the request that shows it is there).
KILL_POINTS = {
    "connector-during-propagation-wait": "connector",
    "connector-while-writing-permissions": "connector",
    "base-role-before-pod-identity": "base",
}


def assert_half_done(aws, names: Names, point: str) -> None:
    """The kill really landed in the middle: the role exists, the rest does not."""
    iam, eks = aws.boto3_client("iam"), aws.boto3_client("eks")
    if KILL_POINTS[point] == "base":
        iam.get_role(RoleName=names.base)
        assert eks.list_pod_identity_associations(clusterName=names.cluster)["associations"] == []
        return
    role = names.connector("redshift")
    sids = [s.get("Sid") for s in trust_of(iam, role)["Statement"]]
    assert "SelfAssume" not in sids, "the full trust was already written"
    policies = iam.list_role_policies(RoleName=role)["PolicyNames"]
    if point == "connector-while-writing-permissions":
        assert len(policies) == 1, policies
    else:
        assert len(policies) == 3, policies


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_mid_create_then_up_adopts(aws, launcher, cluster, tmp_path, point):
    names = Names(prefix="kill", cluster=cluster, kinds=("redshift",))
    connector = names.connector("redshift")
    state_file = tmp_path / "stack.json"

    first = launcher()
    stack = Stack(boot(first, aws, propagationTimeout=120))
    if KILL_POINTS[point] == "connector":
        stack.up(base_only(names))
        stack.save(state_file)
    since = last_seq(aws)

    # Each hold lasts until the kill, however slow the machine: the simulator's
    # longest propagation delay and throttle buckets that refill every 1000 s.
    if point == "connector-during-propagation-wait":
        # The base role and the new role stay invisible to IAM principals.
        aws.set_config(propagation_delay=120)
        there = is_call("UpdateAssumeRolePolicy", connector, status=400)
    elif point == "connector-while-writing-permissions":
        aws.set_faults(throttle={"iam:PutRolePolicy": {"rate": 0.001, "burst": 1}})
        there = is_call("PutRolePolicy", connector, fault="throttle")
    else:
        aws.set_faults(throttle={"eks:CreatePodIdentityAssociation": {"rate": 0.001, "burst": 1}})
        # The first attempt passes the bucket; make it fail by hiding the role.
        aws.set_config(propagation_delay=120)
        there = is_call("CreatePodIdentityAssociation", None)

    run = Background(lambda: stack.up(with_connector(names)))
    # The request shows the provider is held where the kill must land, and the
    # hold does not end on its own: kill at once, no sleep.
    wait_for_request(aws, there, since=since, timeout=60)
    kill_hard(first)
    run.join(30)
    assert isinstance(run.error, StepFailed), f"the killed `up` should fail, got {run.error!r}"
    assert_half_done(aws, names, point)
    stack.save(state_file)  # what the engine checkpointed: the interrupted create is not in it

    aws.clear_faults()
    aws.set_config(propagation_delay=1)
    second = launcher()
    resumed = Stack.load(boot(second, aws, propagationTimeout=120), state_file)
    since = last_seq(aws)
    resumed.up(with_connector(names))

    killed_role = connector if KILL_POINTS[point] == "connector" else names.base
    assert len(creates_of(aws, killed_role)) == 1, "the role was created twice"
    assert not [r for r in aws.requests(since) if r["action"] == "CreateRole" and r["params"].get("RoleName") == killed_role], \
        "the second `up` should adopt the role it owns, not create it again"
    assert_state_matches_aws(aws, resumed, names)
    result = chain(aws, resumed.get("redshift").outputs["arn"], cluster=names.cluster)
    assert f":assumed-role/{connector}/" in result["AssumedRoleUser"]["Arn"]

    resumed.destroy()
    assert leftovers(aws, names) == []


@pytest.mark.awssim_config(propagation_delay=0)
def test_cancel_during_propagation_wait_is_prompt_and_recoverable(aws, launcher, cluster):
    names = Names(prefix="cancel", cluster=cluster, kinds=("redshift",))
    connector = names.connector("redshift")
    first = launcher()
    engine = boot(first, aws, propagationTimeout=300)
    stack = Stack(engine)
    stack.up(base_only(names))
    since = last_seq(aws)
    aws.set_config(propagation_delay=60)

    run = Background(lambda: stack.up(with_connector(names)))
    trust_write = is_call("UpdateAssumeRolePolicy", connector)
    wait_for_request(aws, is_call("UpdateAssumeRolePolicy", connector, status=400), since=since, timeout=30)
    before_cancel = last_seq(aws)
    engine.call("Cancel", empty_pb2.Empty())
    # Long enough for a Create that ignored Cancel to sit out the 60 s delay
    # and succeed, which the assertions below then catch; no clock reading.
    run.join(120)
    # The Create stopped polling: at most the attempt in flight when Cancel
    # arrived, no success, and the failure is the cancellation.
    after = [r["status"] for r in aws.requests(before_cancel) if trust_write(r)]
    assert len(after) <= 1 and 200 not in after, f"trust writes after Cancel: {after}"
    assert isinstance(run.error, StepFailed), run.error
    assert "cancelled" in str(run.error), run.error
    # The role exists, so the create must hand back its partial state (ErrorResourceInitFailed).
    assert run.error.init_errors, f"no partial state after Cancel: {run.error}"
    partial = stack.get("redshift")
    assert partial.id == connector and partial.init_errors

    # The engine shuts the provider down after a cancel; a later `up` starts a new one.
    first.stop()
    aws.set_config(propagation_delay=0)
    second = launcher()
    resumed = Stack(boot(second, aws), stack.resources)
    since = last_seq(aws)
    events = resumed.up(with_connector(names))
    assert {e.name: e.op for e in events}["redshift"] == "update", "init errors must make the next up call Update"
    assert not [r for r in aws.requests(since) if r["action"] == "CreateRole"], "nothing may be created twice"
    assert len(creates_of(aws, connector)) == 1
    assert_state_matches_aws(aws, resumed, names)
    chain(aws, resumed.get("redshift").outputs["arn"], cluster=names.cluster)
    resumed.destroy()
    assert leftovers(aws, names) == []
