"""sdk-examples/go through the real `pulumi` CLI, with the Go SDK generated in
sdk/go: its automation command runs the example's program as an Automation
API inline program, so the Go process serves the program to the CLI itself
(`--client`) and no Go language host is needed. Preview a new stack, deploy
it, prove it converged, add a connector through stack config, tear it down.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from awssim.harness import AwsSim
from cli.conftest import CANARY, EXAMPLE_CONFIG
from cli.workspace import COMMAND_TIMEOUT_S, REPO, CliError, Pulumi, Result, copy_project
from e2e.seed import CLUSTER, assert_scoped_trust, chain, role_arn, trust_of

EXAMPLE = REPO / "sdk-examples" / "go"
ROLES = {"xpander-base-role", "xpander-redshift-access", "xpander-eks-connector"}


@pytest.fixture(scope="session")
def automation(tmp_path_factory) -> Path:
    """The example's automation command, built once from the committed go.mod
    and go.sum (modules come through the Go module proxy into Go's cache)."""
    binary = tmp_path_factory.mktemp("go-example") / "xpander-iam-automation"
    done = subprocess.run(
        ["go", "build", "-mod=readonly", "-o", str(binary), "./automation"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return binary


class GoStack:
    """One user's stack of the Go example: the CLI for the stack itself and its
    config, the automation command for every operation that runs the program."""

    def __init__(self, pulumi: Pulumi, automation: Path) -> None:
        self.pulumi = pulumi
        self.automation = automation

    def run(self, *args: str, check: bool = True) -> Result:
        argv = [str(self.automation), "-stack", self.pulumi.stack, *args]
        done = subprocess.run(
            argv, cwd=self.pulumi.project, env=self.pulumi.env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
        )
        result = Result(argv, done.returncode, done.stdout, done.stderr)
        self.pulumi.transcript.append(result)
        if check and done.returncode != 0:
            raise CliError(f"{' '.join(argv)} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
        return result


@pytest.fixture
def go_example(sim: AwsSim, tmp_path, pulumi_home, automation) -> GoStack:
    pulumi = Pulumi(root=tmp_path / "user", project=copy_project(EXAMPLE, tmp_path / "go"), aws_env=sim.provider_env(),
                    home=pulumi_home)
    pulumi.init(EXAMPLE_CONFIG, {"organizationId": CANARY})
    return GoStack(pulumi, automation)


def mutating_calls(sim: AwsSim) -> list[dict]:
    return [r for r in sim.requests() if r["mutating"]]


def test_go_example_preview_up_converges_and_destroy(go_example: GoStack, sim: AwsSim):
    sim.clear_requests()
    preview = go_example.run("preview")
    assert mutating_calls(sim) == [], "a preview must not change AWS"
    assert "+ 4 to create" in preview.stdout, preview.stdout  # the stack and three roles

    go_example.run("up")
    iam = sim.boto3_client("iam")
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == ROLES
    sids = [s["Sid"] for s in trust_of(iam, "xpander-redshift-access")["Statement"]]
    assert sids == ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]
    assert_scoped_trust(iam, ("xpander-redshift-access", "xpander-eks-connector"))
    # The Go program defaulted redshiftClusterId from Pulumi.yaml, like the other examples.
    policy = iam.get_role_policy(RoleName="xpander-redshift-access", PolicyName="RedshiftCredentials")["PolicyDocument"]
    assert "arn:aws:redshift:us-east-1:123456789012:cluster:analytics" in policy["Statement"][0]["Resource"]
    outputs = go_example.pulumi.outputs()
    assert outputs == {
        "baseRoleArn": role_arn("xpander-base-role"),
        "redshiftRoleArn": role_arn("xpander-redshift-access"),
        "eksRoleArn": role_arn("xpander-eks-connector"),
    }
    assert chain(sim, outputs["eksRoleArn"])["AssumedRoleUser"]["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/xpander-eks-connector/"
    )
    # The ExternalId reached the provider as a secret: ciphertext in the state.
    redshift = go_example.pulumi.resources()["redshift"]
    assert "ciphertext" in redshift["inputs"]["externalId"], redshift["inputs"]["externalId"]
    assert "ciphertext" in redshift["outputs"]["trustPolicy"], "the trust holds the ExternalId: secret"

    sim.clear_requests()
    go_example.run("-expect-no-changes", "preview")
    go_example.run("-expect-no-changes", "refresh")
    assert mutating_calls(sim) == []

    # The seed's "Adding a New Connector": the preview that expects no changes now fails.
    go_example.pulumi.config_set("s3Buckets[0]", "xpander-data", path=True)
    assert go_example.run("-expect-no-changes", "preview", check=False).returncode != 0
    go_example.run("up")
    s3_arn = go_example.pulumi.outputs()["s3RoleArn"]
    assert chain(sim, s3_arn)["AssumedRoleUser"]["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/xpander-s3-connector/")
    go_example.run("-expect-no-changes", "preview")

    go_example.run("destroy")
    assert iam.list_roles()["Roles"] == []
    assert sim.boto3_client("eks").list_pod_identity_associations(clusterName=CLUSTER)["associations"] == []
    assert go_example.pulumi.resources() == {}
    assert CANARY not in go_example.pulumi.everything_written()
