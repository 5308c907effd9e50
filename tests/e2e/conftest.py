"""Fixtures for the end-to-end suites: the provider binary driven by the
engine driver, configured against the AWS simulator."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e.seed import ACCOUNT, CLUSTER, provider_config
from engine import Engine, ProviderProcess, Stack

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))


@pytest.fixture
def cluster(aws):
    aws.boto3_client("eks").create_cluster(
        name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={}
    )
    return CLUSTER


@pytest.fixture
def provider(aws):
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    env = {**os.environ, **aws.provider_env()}
    env.pop("AWS_ENDPOINT_URL", None)  # the provider must reach the simulator through its own config
    with ProviderProcess(BINARY, env=env) as proc:
        yield proc


@pytest.fixture
def engine(provider, aws):
    eng = Engine(provider)
    eng.boot(provider_config(aws))
    return eng


@pytest.fixture
def stack(engine):
    return Stack(engine)
