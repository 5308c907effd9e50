"""`make demo`: the seed's architecture deployed end to end by the real `pulumi`
CLI (built from its Go modules by tools/pulumi) on the local AWS simulator.

The stack is sdk-examples/python with a file backend in a temporary folder and
passphrase secrets: preview → up → add the S3 connector through stack config
(`preview --diff`, `up`) → refresh → the AI Gateway's credential chain
(pod → base role → connector → self-assume) → destroy.

`transcript()` is also what README.md shows; tests/cli/test_readme.py runs it
and fails when the README no longer matches what the CLI prints.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from awssim.harness import AwsSim  # noqa: E402
from cli.workspace import Pulumi, copy_project, install_provider, toolchain  # noqa: E402
from e2e.seed import CLUSTER, PLATFORM, chain  # noqa: E402

ORGANIZATION_ID = "org-7f3a9c21"
ROLES = ("xpander-base-role", "xpander-redshift-access", "xpander-eks-connector", "xpander-s3-connector")

# What changes from run to run, so the README can hold one run's output.
VOLATILE = [
    (re.compile(r"\(\d+(\.\d+)?s\)"), "(…s)"),
    (re.compile(r"Duration: \d+s"), "Duration: …s"),
    (re.compile(r"default_(\d+_\d+_\d+)::[0-9a-f-]{36}"), r"default_\1::…"),
    (re.compile(r"\ba-[0-9a-z]{17}\b"), "a-…"),
    (re.compile(r"\bAROA[0-9A-Z]{17}\b"), "AROA…"),
]


# The CLI's non-interactive display prints a heartbeat ("@ previewing update....")
# when a step takes long, which it does on a busy machine only.
HEARTBEAT = re.compile(r"^@ [a-z ]+\.+$")


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    lines = (line.rstrip() for line in text.strip("\n").splitlines())
    return "\n".join(line for line in lines if not HEARTBEAT.match(line))


def transcript(work: Path, show: Callable[[str, str], None]) -> None:
    """Runs the demo; `show(command, output)` receives each step as a user sees it."""
    with AwsSim(propagation_delay=2.0) as sim:
        sim.boto3_client("eks").create_cluster(
            name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks-cluster", resourcesVpcConfig={},
            accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}
        )
        install_provider(work / "pulumi-home")
        project = copy_project(REPO / "sdk-examples" / "python", work / "xpander-iam")
        pulumi = Pulumi(root=work, project=project, aws_env=sim.provider_env(), home=work / "pulumi-home")
        pulumi.init({"clusterName": CLUSTER, "platformAccountId": PLATFORM}, {"organizationId": ORGANIZATION_ID})
        show("pulumi config", pulumi.run("config").stdout)
        show("pulumi preview", pulumi.preview().stdout)
        show("pulumi up --yes   # IAM propagation delay of the simulator: 2 s", pulumi.run("up", "--yes").stdout)
        pulumi.config_set("s3Buckets[0]", "xpander-data", path=True)
        show("pulumi config set --path 's3Buckets[0]' xpander-data && pulumi preview --diff", pulumi.preview("--diff").stdout)
        show("pulumi up --yes --skip-preview", pulumi.up().stdout)
        show("pulumi refresh --yes --skip-preview", pulumi.refresh().stdout)
        show("pulumi stack output", pulumi.run("stack", "output").stdout)

        lines = []
        for name, arn in sorted(pulumi.outputs().items()):
            if name != "baseRoleArn":
                assumed = chain(sim, arn)["AssumedRoleUser"]["Arn"]
                lines.append(f"ok  {name:16} {assumed}")
        show("the AI Gateway's chain: pod credentials → base role → connector → self-assume", "\n".join(lines))

        iam = sim.boto3_client("iam")
        show("what AWS holds", "\n".join(describe_role(iam, name) for name in ROLES))
        show("pulumi destroy --yes --skip-preview", pulumi.destroy().stdout)
        left = [r["RoleName"] for r in iam.list_roles()["Roles"]]
        if left:
            raise SystemExit(f"roles left after destroy: {left}")


def describe_role(iam, name: str) -> str:
    role = iam.get_role(RoleName=name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = trust if isinstance(trust, dict) else json.loads(trust)
    lines = [role["Arn"]]
    for stmt in trust["Statement"]:
        condition = "  (ExternalId condition)" if "sts:ExternalId" in json.dumps(stmt.get("Condition")) else (
            "  (Pod Identity session tags)" if "Condition" in stmt else "")
        lines.append(f"  trust  {stmt.get('Sid', '-'):28} {json.dumps(stmt['Principal'])}{condition}")
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        doc = doc if isinstance(doc, dict) else json.loads(doc)
        actions = sorted({a for s in doc["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])})
        more = " …" if len(actions) > 3 else ""
        lines.append(f"  policy {policy:28} {len(actions)} actions: {', '.join(actions[:3])}{more}")
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    try:
        bin_dir = toolchain()
    except RuntimeError as err:
        print(f"make demo needs the Pulumi CLI built from its Go modules, and the build failed:\n{err}", file=sys.stderr)
        return 1
    print(f"pulumi and its language hosts: {bin_dir}")

    def show(command: str, output: str) -> None:
        print(f"\n\033[1m$ {command}\033[0m\n{output.rstrip()}")

    with tempfile.TemporaryDirectory(prefix="xpander-demo-") as work:
        transcript(Path(work), show)
    print(f"\ndemo finished in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
