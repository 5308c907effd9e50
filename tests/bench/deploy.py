"""What the benchmarks deploy, and a deployer that registers resources
concurrently the way `pulumi up` does.

The engine driver (tests/engine) registers one resource at a time. The real
engine runs independent steps in parallel (`pulumi up --parallel`, unbounded
by default): every connector depends only on the base role, so after the base
role all connector Check+Create calls are in flight against the same
provider process at once. `deploy_concurrently` does exactly that through the
official stubs, one thread per in-flight registration."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
from pulumi.runtime.proto import provider_pb2

from e2e.seed import BASE, CONNECTOR
from engine import Engine, ResourceState, Secret, decode_error, from_struct, to_struct

ORG_ID = "org-bench-2f6c81"
KINDS = ("redshift", "s3", "dynamodb", "athena", "eks")
# Every connector writes its own grant (an inline policy of ~170 characters)
# on its base role, and IAM caps a role's inline policies at 10,240
# characters in total: one base role holds the grants of about 55 connectors.
# Larger stacks spread their connectors over several base roles.
CONNECTORS_PER_BASE = 50


def connector_inputs(index: int, base_arn: Any, base_id: Any, cluster: str, kinds=KINDS) -> dict:
    """Connector number `index`: a rotation through the connector kinds."""
    kind = kinds[index % len(kinds)]
    spec = {
        "redshift": {"redshift": {"clusterIdentifier": f"analytics-{index}", "databaseName": "dev"}},
        "s3": {"s3": {"buckets": [f"xpander-data-{index}"], "readOnly": True}},
        "dynamodb": {"dynamodb": {"tables": [f"sessions-{index}"], "readOnly": True}},
        "athena": {"athena": {"workGroups": ["primary"], "outputBucket": f"athena-results-{index}",
                              "glueDatabases": ["analytics"]}},
        "eks": {"eks": {"clusterName": cluster,
                        "accessPolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"}},
    }[kind]
    return {
        "roleName": f"xpander-bench-{kind}-{index}",
        "baseRoleArn": base_arn,
        "baseRoleId": base_id,
        "externalId": Secret(ORG_ID),
        **spec,
    }


def base_inputs(cluster: str, index: int = 0) -> dict:
    """Base role number `index`; each has its own Pod Identity service account."""
    suffix = f"-{index}" if index else ""
    return {"roleName": f"xpander-bench-base{suffix}",
            "podIdentity": {"clusterName": cluster, "serviceAccount": f"xpander{suffix}"}}


def base_count(connectors: int) -> int:
    return max(1, -(-connectors // CONNECTORS_PER_BASE))


def base_name(index: int) -> str:
    return "base" if index == 0 else f"base-{index}"


def stack_program(count: int, cluster: str, kinds=KINDS):
    """Base role(s) + `count` connectors, for the engine driver."""
    def program(ctx):
        bases = [ctx.resource(BASE, base_name(b), base_inputs(cluster, b)) for b in range(base_count(count))]
        for i in range(count):
            base = bases[i // CONNECTORS_PER_BASE]
            ctx.resource(CONNECTOR, f"connector-{i}", connector_inputs(i, base["arn"], base["roleId"], cluster, kinds))
    return program


@dataclass
class Deployment:
    wall: float = 0.0
    resources: list[ResourceState] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def register(engine: Engine, type_: str, name: str, inputs: dict) -> ResourceState:
    """Check then Create, as the engine's step generator does for a new resource."""
    urn = engine.urn(type_, name)
    checked = engine.call("Check", provider_pb2.CheckRequest(
        urn=urn, type=type_, name=name, olds=to_struct({}), news=to_struct(inputs), randomSeed=os.urandom(32),
    ))
    if checked.failures:
        raise RuntimeError(f"{name}: Check failed: {[(f.property, f.reason) for f in checked.failures]}")
    created = engine.call("Create", provider_pb2.CreateRequest(
        urn=urn, type=type_, name=name, properties=checked.inputs, preview=False,
    ))
    return ResourceState(urn, type_, name, created.id, from_struct(checked.inputs), from_struct(created.properties))


def deploy_concurrently(engine: Engine, items: list[tuple[str, str, dict]], parallel: int) -> Deployment:
    """Register `items` (type, name, inputs) with up to `parallel` in flight."""
    result = Deployment()
    lock = threading.Lock()
    by_name: dict[str, ResourceState] = {}

    def one(item):
        type_, name, inputs = item
        try:
            state = register(engine, type_, name, inputs)
            with lock:
                by_name[name] = state
        except grpc.RpcError as err:
            failure = decode_error(err)
            with lock:
                result.failures.append(f"{name}: {failure.code.name}: {failure.message[:200]}")
        except Exception as err:  # noqa: BLE001 - counted as a failure of this registration
            with lock:
                result.failures.append(f"{name}: {err}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, items))
    result.wall = time.perf_counter() - started
    result.resources = [by_name[name] for _, name, _ in items if name in by_name]
    return result


def base_items(count: int, cluster: str) -> list[tuple[str, str, dict]]:
    return [(BASE, base_name(b), base_inputs(cluster, b)) for b in range(base_count(count))]


def connector_items(count: int, bases: list[ResourceState] | ResourceState, cluster: str,
                    kinds=KINDS) -> list[tuple[str, str, dict]]:
    bases = bases if isinstance(bases, list) else [bases]
    items = []
    for i in range(count):
        base = bases[i // CONNECTORS_PER_BASE]
        items.append((CONNECTOR, f"connector-{i}",
                      connector_inputs(i, base.outputs["arn"], base.outputs["roleId"], cluster, kinds)))
    return items
