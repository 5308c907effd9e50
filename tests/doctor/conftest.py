"""Fixtures for the doctor suite: the e2e fixtures (provider, engine, stack,
cluster) for tests that deploy, and one provider for the whole session that
answers `xpander:index:diagnose` against the (per-test reset) simulator."""

from __future__ import annotations

import os

import pytest

from doctor.handbuilt import BINARY
from e2e.conftest import cluster, deployer, engine, provider, stack  # noqa: F401  (fixtures)
from e2e.seed import provider_config
from engine import Engine, ProviderProcess


@pytest.fixture(scope="session")
def session_provider(awssim):
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    env = {**os.environ, **awssim.provider_env()}
    env.pop("AWS_ENDPOINT_URL", None)  # reach the simulator through the provider's own config
    with ProviderProcess(BINARY, env=env) as proc:
        yield proc


@pytest.fixture(scope="session")
def session_engine(session_provider, awssim):
    eng = Engine(session_provider)
    eng.boot(provider_config(awssim))
    return eng
