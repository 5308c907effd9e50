"""Fixtures for the end-to-end suites: the provider binary driven by the
engine driver, configured against the AWS simulator, and running as a
principal that holds only the policy `deployer-policy --mode deploy` prints
(the simulator's administrator key is for test set-up only).

The suites run as README recommends: a deployer that cannot escalate (the
deploy policy printed with `--permissions-boundary`), the boundary
(`--mode boundary`) a managed policy of the account, and the provider's
`permissionsBoundary` set to it. A test marked `deployer_mode("deploy")` runs
with the plain deploy policy and no boundary instead."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from e2e.seed import ACCOUNT, CLUSTER, provider_config
from engine import Engine, ProviderProcess, Stack

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))


# IAM takes a moment to see a new principal: every suite goes through the
# provider's retry path unless a test sets its own delay.
DEFAULT_PROPAGATION_DELAY_S = 0.3


@pytest.fixture(autouse=True)
def slow_iam(aws, request):
    if not request.node.get_closest_marker("awssim_config"):
        aws.set_config(propagation_delay=DEFAULT_PROPAGATION_DELAY_S)


@pytest.fixture
def cluster(aws):
    aws.boto3_client("eks").create_cluster(
        name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"}
    )
    return CLUSTER


def printed_policy(mode: str, *flags: str) -> dict:
    """The deployer policy, as the provider prints it for users."""
    done = subprocess.run([str(BINARY), "deployer-policy", "--mode", mode, *flags, "--json"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


BOUNDARY_NAME = "xpander-boundary"


def create_boundary(aws, account: str = ACCOUNT) -> str:
    """The printed `--mode boundary` document as a managed policy of `account`."""
    iam = aws.boto3_client("iam", account=account)
    doc = json.dumps(printed_policy("boundary"))
    return iam.create_policy(PolicyName=BOUNDARY_NAME, PolicyDocument=doc)["Policy"]["Arn"]


def deploy_policy(boundary: str | None, attachable=(), *flags: str) -> dict:
    """The printed deploy policy: held to `boundary`, attaching only `attachable`,
    or the plain one when `boundary` is None."""
    if boundary is None:
        return printed_policy("deploy", *flags)
    listed = [f for arn in attachable for f in ("--managed-policy-arn", arn)]
    return printed_policy("deploy", "--permissions-boundary", boundary, *listed, *flags)


def boundary_config(boundary: str | None) -> dict:
    """Provider configuration that sets `boundary` on every role."""
    return {"permissionsBoundary": boundary} if boundary else {}


@pytest.fixture
def boundary(aws, request) -> str | None:
    """The boundary of every role the test's provider creates, None for a test
    marked `deployer_mode("deploy")`."""
    marker = request.node.get_closest_marker("deployer_mode")
    if marker and marker.args == ("deploy",):
        return None
    return create_boundary(aws)


@pytest.fixture
def deployer(aws, request, boundary) -> dict:
    """Credentials of a principal holding exactly the printed deploy policy: one
    document per IAM path a test's roles use (`@pytest.mark.deployer_paths`),
    as a user with roles under two paths would attach two; held to the
    boundary, it attaches only the managed policies a test lists with
    `@pytest.mark.deployer_attaches`."""
    marker = request.node.get_closest_marker("deployer_paths")
    attaches = request.node.get_closest_marker("deployer_attaches")
    attachable = attaches.args if attaches else ()
    first, *more = [deploy_policy(boundary, attachable, "--path", path) for path in (marker.args if marker else ("/",))]
    iam = aws.boto3_client("iam")
    attached = [
        iam.create_policy(PolicyName=f"deployer-{i}", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
        for i, doc in enumerate(more)
    ]
    return aws.principal("deployer", first, policy_arns=attached or None)


@pytest.fixture
def provider(aws, deployer):
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    env = {**os.environ, **aws.provider_env(deployer)}
    env.pop("AWS_ENDPOINT_URL", None)  # the provider must reach the simulator through its own config
    with ProviderProcess(BINARY, env=env) as proc:
        yield proc


@pytest.fixture
def engine(provider, aws, boundary):
    eng = Engine(provider)
    eng.boot(provider_config(aws, **boundary_config(boundary)))
    return eng


@pytest.fixture
def stack(engine):
    return Stack(engine)
