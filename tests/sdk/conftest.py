"""Fixtures for the SDK suites: the provider binary, configured, for the
mocks to send every registration to its Check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import Engine, ProviderProcess, clean_env

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))
PROJECT = "xpander-iam"  # both sdk-examples' Pulumi.yaml


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    assert BINARY.exists(), f"provider binary missing at {BINARY}: run `make build`"
    # Check needs no AWS access: no credentials, no endpoints.
    with ProviderProcess(BINARY, env=clean_env(tmp_path_factory.mktemp("home"))) as proc:
        yield proc


@pytest.fixture(scope="session")
def engine(provider) -> Engine:
    eng = Engine(provider, project=PROJECT, stack="dev")
    eng.boot({"region": "us-east-1"})
    return eng
