"""Fixtures for the doctor suite: the e2e fixtures (provider, engine, stack,
cluster) for tests that deploy, and a provider that answers
`xpander:index:diagnose` as a principal holding only the policy
`deployer-policy --mode doctor` prints (reads only)."""

from __future__ import annotations

import os

import pytest

from doctor.handbuilt import BINARY, doctor_principal
from e2e.conftest import boundary, cluster, deployer, engine, provider, stack  # noqa: F401  (fixtures)
from e2e.seed import provider_config
from engine import Engine, ProviderProcess


@pytest.fixture
def session_provider(aws):
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    env = {**os.environ, **aws.provider_env(doctor_principal(aws))}
    env.pop("AWS_ENDPOINT_URL", None)  # reach the simulator through the provider's own config
    with ProviderProcess(BINARY, env=env) as proc:
        yield proc


@pytest.fixture
def session_engine(session_provider, aws):
    eng = Engine(session_provider)
    eng.boot(provider_config(aws))
    return eng
