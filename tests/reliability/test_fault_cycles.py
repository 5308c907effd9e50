"""Up / update / destroy cycles while awssim injects 5xx errors, throttling
and latency: every operation converges in one go, the state matches AWS after
each step, and after destroy nothing is left.

Cycles run in several workers at once (one provider process and stack each,
disjoint names, one shared simulator and cluster), as independent stacks of
one account would. XPANDER_SOAK=1 runs many more cycles with harsher faults,
including dropped connections and the Redshift connector (XPANDER_SOAK_CYCLES per
worker, default 20: 200 cycles).
"""

from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine import Stack, StepFailed
from reliability.world import SOAK, create_managed_policy, Names, architecture, assert_state_matches_aws, boot, leftovers

WORKERS = 10
CYCLES_PER_WORKER = int(os.environ.get("XPANDER_SOAK_CYCLES", "20")) if SOAK else 3  # 30 cycles by default
# The EKS connector (access entry + access policy) and the S3 connector
# (inline policies, managed-policy attachment, custom policy) cover every kind
# of object; the soak adds the seed's Redshift connector.
KINDS = ("redshift", "eks", "s3") if SOAK else ("eks", "s3")

# About one AWS call in five fails: 5xx on ~15% of all calls, plus throttling
# by token buckets when the workers burst, plus latency on every call.
FAULTS = {
    "error_ratio": 0.15,
    "throttle": {"iam": {"rate": 50, "burst": 20}, "eks": {"rate": 20, "burst": 10}},
    "latency_ms": [0, 25],
    "seed": 7,
}
SOAK_FAULTS = {**FAULTS, "error_ratio": 0.25, "drop_ratio": 0.03, "latency_ms": [0, 80]}


def run_worker(aws, launcher, cluster: str, worker: int) -> list[str]:
    names = Names(prefix=f"rel{worker}", cluster=cluster, namespace=f"ns{worker}",
                  managed_policy_arn=create_managed_policy(aws, f"rel{worker}-extra"), kinds=KINDS)
    log: list[str] = []
    proc = launcher()
    stack = Stack(boot(proc, aws, maxRetries=10))
    for cycle in range(CYCLES_PER_WORKER):
        org = f"org-{worker}-{cycle}"
        for step, action in (
            ("up", lambda: stack.up(architecture(names, 0, org))),
            ("update", lambda: stack.up(architecture(names, 1, org + "-rotated"))),
            ("destroy", stack.destroy),
        ):
            started = time.monotonic()
            try:
                action()
            except StepFailed as err:
                raise AssertionError(f"worker {worker} cycle {cycle}: {step} did not converge: {err}") from None
            log.append(f"w{worker} c{cycle} {step} {time.monotonic() - started:.1f}s")
            if step == "destroy":
                assert stack.resources == [], f"worker {worker} cycle {cycle}: state not empty after destroy"
                left = leftovers(aws, names)
                assert not left, f"worker {worker} cycle {cycle}: left after destroy: {left}"
            else:
                assert_state_matches_aws(aws, stack, names)
    return log


@pytest.mark.awssim_config(propagation_delay=0.5)
def test_cycles_converge_under_faults(aws, launcher, cluster):
    aws.set_faults(**(SOAK_FAULTS if SOAK else FAULTS))
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(run_worker, aws, launcher, cluster, w) for w in range(WORKERS)]
        errors, logs = [], []
        for f in futures:
            try:
                logs += f.result()
            except Exception:
                errors.append(traceback.format_exc(limit=3))
    injected = aws.faults()["injected"]
    aws.clear_faults()
    assert not errors, "\n".join(errors)
    provider_calls = [r for r in aws.requests() if r["service"] in ("iam", "eks", "sts")]
    faulted = [r for r in provider_calls if r["fault"]]
    # The faults really happened, at about the intended rate.
    assert injected >= 0.08 * len(provider_calls), (injected, len(provider_calls))
    print("\n".join(logs))
    print(f"{WORKERS * CYCLES_PER_WORKER} cycles in {time.monotonic() - started:.0f}s; "
          f"{len(faulted)} of {len(provider_calls)} AWS calls faulted")
