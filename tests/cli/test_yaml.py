"""sdk-examples/yaml: the seed's stack as a Pulumi YAML program (no SDK at
all), through the real CLI and pulumi-language-yaml."""

from __future__ import annotations

import pytest

from awssim.harness import AwsSim
from cli.conftest import CANARY, new_stack
from cli.workspace import Pulumi
from e2e.seed import assert_scoped_trust, chain, role_arn

CLOUD_ONLY = "externalId without baseRoleArn"


@pytest.fixture
def yaml_example(sim: AwsSim, tmp_path, pulumi_home) -> Pulumi:
    return new_stack(sim, tmp_path, pulumi_home, "yaml")


def test_the_yaml_program_deploys_the_seed_stack(yaml_example: Pulumi, sim: AwsSim):
    sim.clear_requests()
    preview = yaml_example.preview()
    assert [r for r in sim.requests() if r["mutating"]] == []
    # baseRoleArn is unknown until the base role exists: no false alarm.
    assert CLOUD_ONLY not in preview.output
    yaml_example.up()
    outputs = yaml_example.outputs()
    assert outputs["redshiftRoleArn"] == role_arn("xpander-redshift-access")
    assert_scoped_trust(sim.boto3_client("iam"), ("xpander-redshift-access", "xpander-eks-connector"))
    assert chain(sim, outputs["eksRoleArn"])["AssumedRoleUser"]["Arn"].endswith("/refresh")
    yaml_example.preview("--expect-no-changes")
    yaml_example.destroy()
    assert sim.boto3_client("iam").list_roles()["Roles"] == []
    assert CANARY not in yaml_example.everything_written()


def test_a_connector_without_base_role_is_warned_about_at_preview(yaml_example: Pulumi):
    program = yaml_example.project / "Pulumi.yaml"
    text = program.read_text()
    kept = "      externalId: ${organizationId}\n      trustedAccountId: ${platformAccountId}\n      podIdentityScope: ${base.podIdentity}\n      redshift:"
    program.write_text(text.replace("      baseRoleArn: ${base.arn}\n      baseRoleId: ${base.roleId}\n" + kept, kept))
    assert program.read_text() != text
    preview = yaml_example.preview()
    assert f"xpander:index:XpanderConnectorRole (redshift):\n    warning: {CLOUD_ONLY}" in preview.stdout
