"""sdk-examples/python deployed for real: Pulumi's Python runtime runs the
program, its monitor hands each registration to the engine driver, and the
provider creates the roles in the AWS simulator (what `make demo` shows)."""

from __future__ import annotations

import os

import pytest

from e2e.seed import ACCOUNT, CLUSTER, ORG_ID, assert_scoped_trust, chain, provider_config, role_arn
from engine import Engine, ProviderProcess, Secret, Stack
from sdk.conftest import BINARY, PROJECT
from sdk.program import PYTHON_EXAMPLE, engine_program

CONFIG = {
    "clusterName": CLUSTER,
    "organizationId": Secret(ORG_ID),
    "platformAccountId": "777788889999",
    "redshiftClusterId": "analytics",
    "redshiftDatabase": "dev",
    "s3Buckets": [],
}


@pytest.fixture
def stack(aws):
    aws.boto3_client("eks").create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    env = {**os.environ, **aws.provider_env()}
    env.pop("AWS_ENDPOINT_URL", None)  # the provider reaches the simulator through its own config
    with ProviderProcess(BINARY, env=env) as proc:
        engine = Engine(proc, project=PROJECT, stack="dev")
        engine.boot(provider_config(aws))
        yield Stack(engine)


def example(exports: dict, **config):
    return engine_program(PYTHON_EXAMPLE, PROJECT, "dev", {**CONFIG, **config}, exports)


def ops(events) -> list[tuple[str, str]]:
    return sorted((e.op, e.name) for e in events)


def test_preview_up_add_a_connector_destroy(stack, aws):
    exports: dict = {}
    assert ops(stack.preview(example(exports))) == [("create", "base"), ("create", "eks"), ("create", "redshift")]
    assert stack.resources == []

    stack.up(example(exports))
    assert exports == {
        "baseRoleArn": role_arn("xpander-base-role"),
        "eksRoleArn": role_arn("xpander-eks-connector"),
        "redshiftRoleArn": role_arn("xpander-redshift-access"),
    }
    redshift = stack.get("redshift")
    assert redshift.inputs["externalId"] == Secret(ORG_ID)
    assert isinstance(redshift.outputs["trustPolicy"], Secret)
    assert_scoped_trust(aws.boto3_client("iam"), ("xpander-redshift-access", "xpander-eks-connector"))

    # The seed's "Adding a New Connector": one create, nothing else touched.
    events = stack.up(example(exports, s3Buckets=["xpander-data"]))
    assert ops(events) == [("create", "s3"), ("same", "base"), ("same", "eks"), ("same", "redshift")]
    assert chain(aws, exports["s3RoleArn"])["AssumedRoleUser"]["Arn"].endswith("xpander-s3-connector/refresh")

    stack.destroy()
    assert aws.boto3_client("iam").list_roles()["Roles"] == []
