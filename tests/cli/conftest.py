"""Fixtures for tests/cli: the example projects deployed by the real `pulumi`
CLI against awssim, with a non-zero IAM propagation delay so every deploy
passes through the provider's retry path."""

from __future__ import annotations

import subprocess

import pytest

from awssim.harness import AwsSim
from cli.workspace import PROVIDER, REPO, Pulumi, copy_project, install_provider, toolchain
from e2e.seed import CLUSTER, PLATFORM

# A value nobody else writes: if it shows up anywhere, a secret leaked.
CANARY = "org-canary-9f3e7c1d5b"
PROPAGATION_DELAY_S = 0.5
EXAMPLES = {"python": REPO / "sdk-examples" / "python", "typescript": REPO / "sdk-examples" / "typescript"}
# Programs that need no SDK, deployed by their own tests.
PROGRAMS = {**EXAMPLES, "yaml": REPO / "sdk-examples" / "yaml"}
# The examples' plain config (the secret organizationId aside): where the xpander
# pods run, and xpander's platform account (the YAML example holds that in the program).
EXAMPLE_CONFIG = {"clusterName": CLUSTER, "platformAccountId": PLATFORM}
YAML_CONFIG = {"clusterName": CLUSTER}


@pytest.fixture(scope="session")
def pulumi_home(tmp_path_factory):
    """One PULUMI_HOME for the session: the provider is installed once (a debug
    binary is large); every test has its own backend and project folder."""
    assert PROVIDER.exists(), f"provider binary missing at {PROVIDER}: run `make build`"
    toolchain()
    home = tmp_path_factory.mktemp("pulumi-home")
    install_provider(home)
    return home


@pytest.fixture
def sim(aws: AwsSim) -> AwsSim:
    return prepare(aws)


def prepare(aws: AwsSim) -> AwsSim:
    """The simulator every example is deployed to: IAM that propagates slowly, and the EKS cluster."""
    aws.set_config(propagation_delay=PROPAGATION_DELAY_S)
    aws.boto3_client("eks").create_cluster(
        name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}
    )
    return aws


# The YAML example names xpander's account in the program (see its comment), as a placeholder to fill.
YAML_PLATFORM_PLACEHOLDER = '"<xpander platform account id>"'


def project_copy(language: str, target) -> object:
    folder = copy_project(PROGRAMS[language], target)
    if language == "yaml":
        program = folder / "Pulumi.yaml"
        text = program.read_text()
        assert YAML_PLATFORM_PLACEHOLDER in text, "sdk-examples/yaml no longer holds the platform account placeholder"
        program.write_text(text.replace(YAML_PLATFORM_PLACEHOLDER, f'"{PLATFORM}"'))
    if language == "typescript":
        # The program the Node.js host runs is package.json's main: bin/index.js.
        subprocess.run(["node_modules/.bin/tsc"], cwd=folder, check=True, capture_output=True, text=True)
    return folder


def new_stack(sim: AwsSim, tmp_path, home, language: str) -> Pulumi:
    pulumi = Pulumi(
        root=tmp_path / "user", project=project_copy(language, tmp_path / language), aws_env=sim.provider_env(), home=home
    )
    pulumi.init(YAML_CONFIG if language == "yaml" else EXAMPLE_CONFIG, {"organizationId": CANARY})
    return pulumi


@pytest.fixture(params=sorted(EXAMPLES))
def example(request, sim: AwsSim, tmp_path, pulumi_home) -> Pulumi:
    """A new stack of one example project (both languages, one each)."""
    return new_stack(sim, tmp_path, pulumi_home, request.param)


@pytest.fixture
def python_example(sim: AwsSim, tmp_path, pulumi_home) -> Pulumi:
    return new_stack(sim, tmp_path, pulumi_home, "python")
