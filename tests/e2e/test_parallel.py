"""Twenty connectors created at once on one base role while IAM throttles at
5 requests/s (suite 9): the engine runs registrations in parallel
(`pulumi up --parallel`), so Check and Create arrive concurrently on one
provider process. All succeed and no grant is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pulumi.runtime.proto import provider_pb2

from e2e.seed import CONNECTOR, role_arn
from engine.values import from_struct, to_struct

COUNT = 20


def create(engine, name: str, base_arn: str) -> dict:
    urn = engine.urn(CONNECTOR, name)
    news = {"roleName": f"xpander-{name}", "baseRoleArn": base_arn, "s3": {"buckets": [f"xpander-{name}"]}}
    checked = engine.call("Check", provider_pb2.CheckRequest(urn=urn, olds=to_struct({}), news=to_struct(news), name=name, type=CONNECTOR, randomSeed=b"0" * 32))
    assert not checked.failures, checked.failures
    created = engine.call("Create", provider_pb2.CreateRequest(urn=urn, properties=checked.inputs, name=name, type=CONNECTOR, timeout=600))
    return {"id": created.id, **from_struct(created.properties)}


def test_twenty_connectors_in_parallel_under_throttling(aws, stack, engine):
    stack.up(lambda ctx: ctx.resource("xpander:index:XpanderBaseRole", "base", {"roleName": "xpander-base-role"}))
    base_arn = stack.get("base").outputs["arn"]
    aws.set_faults(throttle={"iam": {"rate": 5, "burst": 5}})

    names = [f"conn-{i:02d}" for i in range(COUNT)]
    with ThreadPoolExecutor(max_workers=COUNT) as pool:
        results = list(pool.map(lambda n: create(engine, n, base_arn), names))

    assert sorted(r["id"] for r in results) == sorted(f"xpander-{n}" for n in names)
    aws.clear_faults()
    iam = aws.boto3_client("iam")
    grants = iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]
    assert sorted(grants) == sorted(f"xpander-assume-xpander-{n}" for n in names)
    throttled = [r for r in aws.requests() if r["fault"] == "throttle"]
    assert throttled, "the test must actually exercise throttling"
    for n in names:
        trust = iam.get_role(RoleName=f"xpander-{n}")["Role"]["AssumeRolePolicyDocument"]
        assert role_arn(f"xpander-{n}") in str(trust)


def test_requests_queued_behind_a_throttled_iam_for_seconds_still_succeed(aws, stack, engine):
    """A request waits for its send slot inside the SDK's HTTP client: the
    SDK's upload stall check failed every one queued over 5 s ("throughput of
    0 B/s"), which 500 connectors in flight at 10 requests/s reach. Here
    fourteen refreshes at once, with IAM at two requests a second: the last
    one queues about 7 s."""
    stack.up(lambda ctx: ctx.resource("xpander:index:XpanderBaseRole", "base", {"roleName": "xpander-base-role"}))
    base = stack.get("base")
    aws.set_faults(throttle={"iam": {"rate": 2, "burst": 1}})
    read = provider_pb2.ReadRequest(id=base.id, urn=base.urn, type=base.type, name=base.name,
                                    properties=to_struct(base.outputs), inputs=to_struct(base.inputs))
    with ThreadPoolExecutor(max_workers=14) as pool:
        results = list(pool.map(lambda _: engine.call("Read", read), range(14)))
    aws.clear_faults()
    assert [r.id for r in results] == [base.id] * 14
    assert [r for r in aws.requests() if r["fault"] == "throttle"], "the test must actually exercise throttling"
