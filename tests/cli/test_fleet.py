"""sdk-examples/fleet: ten clusters, one stack each, deployed in parallel by the
Automation API (each stack its own `pulumi` process) against awssim. They all
converge; a second run changes nothing in AWS; a call denied to one stack
fails that stack alone, and a rerun once the call is allowed finishes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from awssim.harness import AwsSim
from cli.conftest import CANARY
from cli.workspace import REPO, Pulumi, toolchain
from e2e.seed import chain, role_arn

FLEET = REPO / "sdk-examples" / "fleet" / "fleet.py"
PROJECT = "xpander-iam-fleet"
CLUSTERS = [f"fleet-{i:02d}" for i in range(1, 11)]
# The last cluster adds an S3 connector to the default Redshift and EKS ones.
WITH_S3 = CLUSTERS[-1]
PARALLEL_STACKS = 5
DENIED_ROLE = "xpander-fleet-07-redshift-access"


def roles_of(cluster: str) -> dict[str, str]:
    """Output name -> role name of one cluster's stack."""
    roles = {
        "baseRoleArn": f"xpander-{cluster}-base-role",
        "redshiftRoleArn": f"xpander-{cluster}-redshift-access",
        "eksRoleArn": f"xpander-{cluster}-eks-connector",
    }
    if cluster == WITH_S3:
        roles["s3RoleArn"] = f"xpander-{cluster}-s3-connector"
    return roles


class FleetRun:
    def __init__(self, done: subprocess.CompletedProcess, summary: dict):
        self.returncode = done.returncode
        self.output = done.stdout + done.stderr
        self.stacks = {s["stack"]: s for s in summary["stacks"]}


class Fleet:
    """A user with a fleet file, the toolchain and a file backend, running fleet.py."""

    def __init__(self, sim: AwsSim, root: Path, home: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        # The CLI environment of tests/cli (PULUMI_HOME, file backend,
        # passphrase, AWS at awssim) plus what fleet.py reads.
        self.pulumi = Pulumi(root=root / "user", project=self._project(), aws_env=sim.provider_env(), home=home)
        self.file = root / "fleet.json"
        self.file.write_text(json.dumps({
            "defaults": {
                "region": "us-east-1",
                "organizationId": {"env": "XPANDER_ORG_ID"},
                "connectors": {"redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"}, "eks": {}},
            },
            "clusters": [
                {"name": name}
                if name != WITH_S3
                else {"name": name, "connectors": {"redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
                                                   "eks": {}, "s3": {"buckets": ["xpander-data"]}}}
                for name in CLUSTERS
            ],
        }, indent=2))
        self.outputs: list[str] = []
        self.runs = 0

    def _project(self) -> Path:
        """A folder naming the fleet's project, for `pulumi stack output` on its stacks."""
        folder = self.root / "project"
        folder.mkdir(exist_ok=True)
        (folder / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
        return folder

    def run(self, *flags: str) -> FleetRun:
        self.runs += 1
        summary = self.root / f"summary-{self.runs}.json"
        env = {**self.pulumi.env(), "XPANDER_ORG_ID": CANARY, "XPANDER_PULUMI_BIN": str(toolchain())}
        done = subprocess.run(
            [sys.executable, str(FLEET), str(self.file), "--parallel-stacks", str(PARALLEL_STACKS), "--progress", "lines",
             "--log-dir", str(self.root / f"logs-{self.runs}"), "--summary-json", str(summary), *flags],
            env=env, capture_output=True, text=True, timeout=900,
        )
        self.outputs.append(done.stdout + done.stderr)
        assert summary.exists(), f"fleet.py wrote no summary (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        return FleetRun(done, json.loads(summary.read_text()))

    def stack_outputs(self, stack: str) -> dict:
        """The stack's outputs as `pulumi stack output` reads them from the backend."""
        self.pulumi.stack = stack
        return self.pulumi.outputs()

    def everything_written(self) -> str:
        logs = [p.read_text() for p in self.root.glob("logs-*/*.log")]
        return "\n".join([self.pulumi.everything_written(), *self.outputs, *logs])


@pytest.fixture
def fleet(sim: AwsSim, tmp_path, pulumi_home) -> Fleet:
    eks = sim.boto3_client("eks")
    for name in CLUSTERS:
        eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks-cluster", resourcesVpcConfig={},
            accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    return Fleet(sim, tmp_path, pulumi_home)


def mutating_calls(sim: AwsSim) -> list[dict]:
    return [r for r in sim.requests() if r["mutating"]]


def role_names(sim: AwsSim) -> set[str]:
    pages = sim.boto3_client("iam").get_paginator("list_roles").paginate()
    return {role["RoleName"] for page in pages for role in page["Roles"]}


def test_ten_stacks_converge_and_a_second_run_changes_nothing(fleet: Fleet, sim: AwsSim):
    first = fleet.run()
    assert first.returncode == 0, first.output
    assert set(first.stacks) == set(CLUSTERS)
    for name, stack in first.stacks.items():
        roles = roles_of(name)
        assert stack["result"] == "changed", stack
        # Every role, plus the stack resource itself, as `pulumi up` counts them.
        assert stack["resourceChanges"] == {"create": len(roles) + 1}, stack
        assert stack["outputs"] == {key: role_arn(role) for key, role in roles.items()}
        assert stack["errors"] == [] and stack["failedResources"] == []
    assert role_names(sim) == {role for name in CLUSTERS for role in roles_of(name).values()}
    # The state in the backend holds the same outputs.
    assert fleet.stack_outputs("fleet-04") == first.stacks["fleet-04"]["outputs"]
    assert fleet.stack_outputs(WITH_S3) == first.stacks[WITH_S3]["outputs"]
    # Each cluster's pods reach their own connectors.
    arn = first.stacks["fleet-03"]["outputs"]["redshiftRoleArn"]
    assert chain(sim, arn, cluster="fleet-03")["AssumedRoleUser"]["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/xpander-fleet-03-redshift-access/"
    )
    assert "10 stacks: 10 changed" in first.output
    assert "fleet-05  redshiftRoleArn  arn:aws:iam::123456789012:role/xpander-fleet-05-redshift-access" in first.output

    sim.clear_requests()
    second = fleet.run()
    assert second.returncode == 0, second.output
    for name, stack in second.stacks.items():
        assert stack["result"] == "unchanged", stack
        assert stack["resourceChanges"] == {"same": len(roles_of(name)) + 1}, stack
        assert stack["outputs"] == first.stacks[name]["outputs"]
    assert mutating_calls(sim) == [], "a second run must not change AWS"
    assert "10 stacks: 10 unchanged" in second.output
    # The organization id went to every stack as a secret: never printed, never stored in the clear.
    assert CANARY not in fleet.everything_written()


def test_a_denied_call_fails_one_stack_alone(fleet: Fleet, sim: AwsSim):
    sim.set_faults(deny=[{"action": "CreateRole", "params": {"RoleName": DENIED_ROLE}}])
    run = fleet.run()
    assert run.returncode == 1, run.output
    failed = {name for name, stack in run.stacks.items() if stack["result"] != "changed"}
    assert failed == {"fleet-07"}, run.output
    broken = run.stacks["fleet-07"]
    assert broken["result"] == "failed"
    assert broken["failedResources"] == ["redshift"]
    assert any(e.startswith("redshift: ") and "iam:CreateRole" in e for e in broken["errors"]), broken["errors"]
    assert broken["outputs"] == {}
    assert sim.faults()["injected"] == 1
    # Every other stack converged. In the failed one the engine started no
    # step after the failure: its base role exists, the denied role does not
    # (the EKS connector exists if its step had started before).
    expected = {role for name in CLUSTERS for role in roles_of(name).values()}
    broken_roles = set(roles_of("fleet-07").values())
    names = role_names(sim)
    assert names - broken_roles == expected - broken_roles
    assert "xpander-fleet-07-base-role" in names and DENIED_ROLE not in names
    for name, stack in run.stacks.items():
        if name != "fleet-07":
            assert stack["outputs"] == {key: role_arn(role) for key, role in roles_of(name).items()}
    assert "10 stacks: 9 changed, 1 failed" in run.output
    assert "Failed stacks:\n  fleet-07:\n    redshift: " in run.output

    # Once the call is allowed, rerunning the fleet finishes that stack and
    # leaves the others as they are.
    sim.clear_faults()
    sim.clear_requests()
    rerun = fleet.run()
    assert rerun.returncode == 0, rerun.output
    assert rerun.stacks["fleet-07"]["result"] == "changed"
    assert rerun.stacks["fleet-07"]["resourceChanges"].get("create") == len(broken_roles - names)
    assert rerun.stacks["fleet-07"]["outputs"] == {key: role_arn(role) for key, role in roles_of("fleet-07").items()}
    assert {name for name, stack in rerun.stacks.items() if stack["result"] == "unchanged"} == set(CLUSTERS) - {"fleet-07"}
    assert role_names(sim) == expected
    touched = {r["params"].get("RoleName") for r in mutating_calls(sim) if r["service"] == "iam"}
    assert touched <= broken_roles, touched
    assert CANARY not in fleet.everything_written()
