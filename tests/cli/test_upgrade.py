"""Upgrades lose nothing: the seed's stack (base role on Pod Identity, Redshift,
EKS and S3 connectors) deployed with v0.1.0, the last release (built from
its commit, tests/cli/released.py), then upgraded to this build with the
program unchanged, byte for byte (Pulumi YAML: no SDK to upgrade with it).
The upgrade's preview shows exactly the migration this release makes, its
`up` never refuses the AI Gateway's chain (polled every 100 ms), and going
back to v0.1.0 is one plugin away."""

from __future__ import annotations

import subprocess

import pytest

from awssim.harness import AwsSim
from cli import released
from cli.chains import ChainPoller
from cli.conftest import CANARY
from cli.workspace import PROVIDER, Pulumi, provider_version, toolchain
from cli.yaml_programs import BASE_TYPE, CONNECTOR_TYPE, write_project
from e2e.seed import CLUSTER, chain, trust_of

CONNECTORS = {"redshift": "xpander-redshift-access", "eks": "xpander-eks-connector", "s3": "xpander-s3-connector"}


def seed_project(folder):
    def connector(role: str, source: dict) -> dict:
        return {"type": CONNECTOR_TYPE, "properties": {
            "roleName": role, "baseRoleArn": "${base.arn}", "baseRoleId": "${base.roleId}",
            "externalId": "${organizationId}", **source}}

    resources = {
        "base": {"type": BASE_TYPE, "properties": {"roleName": "xpander-base-role",
                                                   "podIdentity": {"clusterName": "${clusterName}"}}},
        "redshift": connector(CONNECTORS["redshift"], {"redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"}}),
        "eks": connector(CONNECTORS["eks"], {"eks": {"clusterName": "${clusterName}"}}),
        "s3": connector(CONNECTORS["s3"], {"s3": {"buckets": ["xpander-data"]}}),
    }
    outputs = {name: f"${{{name}.arn}}" for name in CONNECTORS}
    config = {"clusterName": {"type": "string"}, "organizationId": {"type": "string", "secret": True}}
    return write_project(folder, "xpander-iam", resources, outputs, config=config)


def install(home, version: str, binary) -> None:
    subprocess.run([str(toolchain() / "pulumi"), "plugin", "install", "resource", "xpander", version, "--file",
                    str(binary), "--reinstall", "--non-interactive"],
                   env={"PATH": "/usr/bin:/bin", "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"},
                   check=True, capture_output=True, text=True)


def uninstall(home, version: str) -> None:
    subprocess.run([str(toolchain() / "pulumi"), "plugin", "rm", "resource", "xpander", version, "--yes",
                    "--non-interactive"],
                   env={"PATH": "/usr/bin:/bin", "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"},
                   check=True, capture_output=True, text=True)


@pytest.fixture
def seed_stack(sim: AwsSim, tmp_path) -> Pulumi:
    """The seed's stack deployed by v0.1.0 in a Pulumi home that has only that plugin."""
    home = tmp_path / "home"
    install(home, released.VERSION, released.binary())
    pulumi = Pulumi(root=tmp_path / "user", project=seed_project(tmp_path / "project"), aws_env=sim.provider_env(),
                    home=home)
    pulumi.init({"clusterName": CLUSTER}, {"organizationId": CANARY})
    pulumi.up()
    return pulumi


def scoped(trust: dict) -> bool:
    """Whether the base role's Pod Identity statement requires the xpander service account's session tags."""
    [statement] = trust["Statement"]
    return statement.get("Condition") == {"StringEquals": {
        "aws:RequestTag/eks-cluster-arn": f"arn:aws:eks:us-east-1:123456789012:cluster/{CLUSTER}",
        "aws:RequestTag/kubernetes-namespace": "xpander",
        "aws:RequestTag/kubernetes-service-account": "xpander"}}


def only_the_base_trust_changes(pulumi: Pulumi) -> None:
    plan = pulumi.plan()
    assert {name: (step["op"], step["diffReasons"], step["detailedDiff"]) for name, step in plan.items()} == {
        "base": ("update", ["trustPolicy"], {"trustPolicy": {"kind": "update", "inputDiff": False}})}


def test_an_upgrade_from_0_1_0_rewrites_only_the_base_trust_and_never_breaks_a_chain(seed_stack: Pulumi, sim: AwsSim):
    pulumi = seed_stack
    program = (pulumi.project / "Pulumi.yaml").read_bytes()
    arns = list(pulumi.outputs().values())
    iam = sim.boto3_client("iam")
    connector_trusts = {role: trust_of(iam, role) for role in CONNECTORS.values()}
    assert not scoped(trust_of(iam, "xpander-base-role"))

    # The upgrade: plugin 0.2.0 installed beside 0.1.0. The YAML program names
    # no version, so the engine takes the newest plugin for its default provider.
    install(pulumi.home, provider_version(), PROVIDER)
    preview = pulumi.preview()
    assert " ~  xpander:index:XpanderBaseRole base update [diff: ~trustPolicy]" in preview.stdout
    assert "~ 1 to update\n    4 unchanged" in preview.stdout
    # What the connectors keep (their trust as it is) comes with a warning naming the input to set.
    for name in CONNECTORS:
        warnings = preview.stdout.split(f"xpander:index:XpanderConnectorRole ({name}):", 1)[1].split("\n\n", 1)[0]
        assert "set podIdentityScope to the base role's podIdentity" in warnings
        assert "set trustedAccountId to the xpander platform's account" in warnings
    only_the_base_trust_changes(pulumi)

    with ChainPoller(sim, arns) as poller:
        pulumi.up()
    assert poller.refusals == [] and poller.rounds > 0
    assert scoped(trust_of(iam, "xpander-base-role"))
    assert {role: trust_of(iam, role) for role in CONNECTORS.values()} == connector_trusts
    pulumi.preview("--expect-no-changes")

    # Rolling back: without plugin 0.2.0, 0.1.0 is the newest again; its first
    # up writes the trust it knows, unscoped, and the chains keep working.
    uninstall(pulumi.home, provider_version())
    only_the_base_trust_changes(pulumi)
    with ChainPoller(sim, arns) as poller:
        pulumi.up()
    assert poller.refusals == [] and poller.rounds > 0
    assert not scoped(trust_of(iam, "xpander-base-role"))
    pulumi.preview("--expect-no-changes")
    for arn in arns:
        assert chain(sim, arn)["AssumedRoleUser"]["Arn"].endswith("/refresh")

    assert (pulumi.project / "Pulumi.yaml").read_bytes() == program
    assert CANARY not in pulumi.everything_written()
