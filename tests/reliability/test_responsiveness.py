"""Responsiveness found wanting by `make bench`, pinned as tests: an answer
must not wait on the network stack, one throttling response must cost about
one backoff (not seconds of client-side rate limiting), and a propagation
wait must end close to when IAM becomes consistent."""

from __future__ import annotations

import statistics
import time

import pytest
from pulumi.runtime.proto import provider_pb2

from e2e.seed import BASE, CONNECTOR
from engine import Engine, ProviderProcess, Secret, Stack, clean_env, to_struct
from reliability.world import BINARY, boot, last_seq


def test_larger_responses_are_not_delayed(tmp_path):
    """Without TCP_NODELAY on the provider's socket, Nagle's algorithm holds
    the last segment of every answer over ~250 bytes until the client's
    delayed ACK: +40 ms per Check (found by `make bench`, fixed in 65ab70a)."""
    proc = ProviderProcess(BINARY, env=clean_env(tmp_path, AWS_REGION="us-east-1"))
    try:
        engine = boot_offline(proc)
        request = provider_pb2.CheckRequest(
            urn=engine.urn(CONNECTOR, "c"), type=CONNECTOR, name="c", olds=to_struct({}), randomSeed=b"\0" * 32,
            news=to_struct({"roleName": "c", "baseRoleArn": "arn:aws:iam::123456789012:role/base",
                            "externalId": Secret("org-1"), "s3": {"buckets": ["data"]},
                            "description": "x" * 300}),
        )
        samples = []
        for _ in range(15):
            started = time.perf_counter()
            response = proc.stub.Check(request)
            samples.append(time.perf_counter() - started)
        assert response.ByteSize() > 250 and not response.failures
        assert statistics.median(samples) < 0.02, f"median Check {statistics.median(samples) * 1000:.1f} ms"
    finally:
        proc.stop()


def boot_offline(proc):
    engine = Engine(proc)
    engine.handshake()
    engine.configure({"region": "us-east-1", "skipCredentialsValidation": True})
    return engine


@pytest.mark.xfail(strict=True, reason=(
    "defect reported to the lead: cloud::connect uses RetryConfig::adaptive(); one Throttling answer "
    "switches on the SDK's client-side rate limiter (5 tokens per retry against a fill rate that can start "
    "at 0.5/s), so the retry waits ~2.5 s here and 8-23 s in some benchmark runs instead of one standard "
    "backoff (<= 1 s); how much a throttled `up` of 50 connectors loses varies from 1.1x to 1.7x calls/rate"))
@pytest.mark.awssim_config(propagation_delay=0)
def test_one_throttled_call_costs_about_one_backoff(aws, launcher):
    """The first IAM call of a fresh provider process is throttled once; the
    retry should follow after about one backoff (the SDK's standard first
    backoff is at most 1 s), not after seconds of client-side rate limiting."""
    engine = boot(launcher(), aws)
    stack = Stack(engine)
    aws.set_faults(throttle={"iam:GetRole": {"rate": 0.01, "burst": 1}}, limit=1)
    # Take the bucket's only token, so the provider's first GetRole is the throttled call.
    iam = aws.boto3_client("iam")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="nobody")
    since = last_seq(aws)
    started = time.monotonic()
    stack.up(lambda ctx: ctx.resource(CONNECTOR, "s3", {"roleName": "thr-s3", "s3": {"buckets": ["data"]}}))
    elapsed = time.monotonic() - started
    throttled = [r for r in aws.requests(since) if r["fault"] == "throttle"]
    assert [r["action"] for r in throttled] == ["GetRole"]
    assert elapsed < 2.0, f"creating one connector with one throttled call took {elapsed:.1f}s"


@pytest.mark.awssim_config(propagation_delay=0)
def test_propagation_wait_polls_often_enough_to_finish_near_the_delay(aws, launcher, cluster):
    """The issue's target: a connector works within 1.5 s of IAM accepting
    it. That holds only while the propagation retries stay <= ~1.5 s apart
    (cloud/retry.rs MAX_DELAY); a longer backoff overshoots by up to itself."""
    engine = boot(launcher(), aws)
    stack = Stack(engine)
    base = {"roleName": "poll-base", "podIdentity": {"clusterName": cluster}}
    stack.up(lambda ctx: ctx.resource(BASE, "base", base))
    delay = 8.0
    aws.set_config(propagation_delay=delay)

    def program(ctx):
        b = ctx.resource(BASE, "base", base)
        ctx.resource(CONNECTOR, "c", {"roleName": "poll-connector", "baseRoleArn": b["arn"], "baseRoleId": b["roleId"],
                                      "s3": {"buckets": ["data"]}})

    since = last_seq(aws)
    stack.up(program)
    log = aws.requests(since)
    created = next(r["time"] for r in log if r["action"] == "CreateRole" and r["status"] == 200)
    attempts = [r["time"] for r in log if r["action"] == "UpdateAssumeRolePolicy"]
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    written = attempts[-1] - created
    # 1.5 s of backoff plus the call itself.
    assert written - delay < 1.6, f"the trust was written {written - delay:.1f}s after IAM would accept it"
    assert max(gaps) < 1.6, f"attempts up to {max(gaps):.1f}s apart: {[round(g, 2) for g in gaps]}"
