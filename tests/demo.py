"""`make demo`: the seed's architecture deployed end to end on the local AWS
simulator, through the same gRPC calls the Pulumi engine makes.

The stack is the real `sdk-examples/python` program, run by Pulumi's Python
runtime against the generated SDK; its resource monitor hands each
registration to the engine driver (tests/engine), which drives the provider.

preview → up → add a connector (update) → refresh → destroy, then a summary:
the roles, their documents, and the AI Gateway's credential chain
(pod → base role → connector → self-assume) succeeding.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from pulumi.runtime.proto import engine_pb2  # noqa: E402

from awssim.harness import AwsSim  # noqa: E402
from e2e.seed import CLUSTER, ORG_ID, chain, provider_config, role_arn  # noqa: E402
from engine import Engine, ProviderProcess, Secret, Stack, format_preview  # noqa: E402
from engine.values import render  # noqa: E402
from sdk.program import PYTHON_EXAMPLE, engine_program  # noqa: E402

BINARY = REPO / "target" / "debug" / "pulumi-resource-xpander"
PROJECT = "xpander-iam"  # sdk-examples/python/Pulumi.yaml
STACK = "dev"


def example(s3_buckets: list[str], exports: dict):
    """The Python example with its stack config, as an engine-driver program."""
    config = {
        "clusterName": CLUSTER,
        "organizationId": Secret(ORG_ID),
        "redshiftClusterId": "analytics",
        "redshiftDatabase": "dev",
        "s3Buckets": s3_buckets,
    }
    return engine_program(PYTHON_EXAMPLE, PROJECT, STACK, config, exports)


def heading(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m")


def diagnostics(logs) -> str:
    """Non-ephemeral warnings and errors, grouped by resource as `pulumi preview` prints them."""
    lines = []
    for log in logs:
        if log.ephemeral or log.severity < engine_pb2.WARNING:
            continue
        level = "warning" if log.severity == engine_pb2.WARNING else "error"
        type_, name = log.urn.split("::")[-2:]
        lines += [f"  {type_} ({name}):", f"    {level}: {log.message}"]
    return "Diagnostics:\n" + "\n".join(lines) + "\n" if lines else ""


def show_role(iam, name: str) -> None:
    role = iam.get_role(RoleName=name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    print(f"\n{role['Arn']}")
    for stmt in trust["Statement"]:
        who = stmt["Principal"]
        cond = " (ExternalId condition)" if "Condition" in stmt else ""
        print(f"  trust  {stmt.get('Sid', '-'):28} {json.dumps(who)}{cond}")
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        doc = doc if isinstance(doc, dict) else json.loads(doc)
        actions = sorted({a for s in doc["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])})
        print(f"  policy {policy:28} {len(actions)} actions: {', '.join(actions[:3])}{' …' if len(actions) > 3 else ''}")


def main() -> int:
    started = time.monotonic()
    with AwsSim(propagation_delay=2.0) as sim:
        sim.boto3_client("eks").create_cluster(
            name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks-cluster", resourcesVpcConfig={}
        )
        env = {**os.environ, **sim.provider_env()}
        with ProviderProcess(BINARY, env=env) as proc:
            engine = Engine(proc, project=PROJECT, stack=STACK)
            engine.boot(provider_config(sim))
            stack = Stack(engine)
            exports: dict = {}

            heading(f"pulumi preview --diff   ({PYTHON_EXAMPLE.relative_to(REPO)})")
            print(format_preview(stack.preview(example([], exports))))
            print(diagnostics(proc.logs))

            heading("pulumi up (IAM propagation delay: 2 s; no fixed sleeps)")
            t = time.monotonic()
            print(format_preview(stack.up(example([], exports))))
            print(f"done in {time.monotonic() - t:.1f}s")
            for log in proc.logs:
                if log.ephemeral and "waiting" in log.message:
                    print(f"  progress: {log.message}")
                    break

            heading("pulumi config set --path 's3Buckets[0]' xpander-data && pulumi up   (seed: Adding a New Connector)")
            print(format_preview(stack.up(example(["xpander-data"], exports))))
            print("Outputs (the IAM Role ARNs for the xpander UI):")
            for name, value in exports.items():
                print(f"    {name:16} {render(value)}")

            heading("pulumi refresh")
            print(format_preview(stack.refresh()))

            heading("What AWS holds")
            iam = sim.boto3_client("iam")
            for name in ("xpander-base-role", "xpander-redshift-access", "xpander-eks-connector", "xpander-s3-connector"):
                show_role(iam, name)
            state = stack.get("redshift")
            print(f"\nstate: trustPolicy of the Redshift connector is stored as {render(state.outputs['trustPolicy'])}")

            heading("The AI Gateway's chain: pod → base role → connector → self-assume")
            for name in ("xpander-redshift-access", "xpander-eks-connector", "xpander-s3-connector"):
                result = chain(sim, role_arn(name))
                print(f"  ok  {result['AssumedRoleUser']['Arn']}")

            heading("pulumi destroy")
            print(format_preview(stack.destroy()))
            left = [r["RoleName"] for r in iam.list_roles()["Roles"]]
            print(f"roles left: {left or 'none'}")
            if left:
                return 1
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
