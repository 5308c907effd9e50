"""Fixtures for the protocol suite: the plugin binary, launched like the engine does."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from engine import Engine, ProviderProcess, clean_env

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))

# Credentials the AWS SDK accepts but no AWS accepts; the endpoint is the
# discard port, so any call the provider makes by mistake fails at once
# instead of reaching the internet.
FAKE_AWS = {
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIAXPANDERTESTONLY0",
    "AWS_SECRET_ACCESS_KEY": "xpander-test-secret-access-key-not-real",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}

# Enough for Configure to succeed without touching AWS.
BASE_CONFIG = {"region": "us-east-1", "skipCredentialsValidation": True}


@pytest.fixture(scope="session")
def binary() -> Path:
    if not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        pytest.fail(
            f"provider binary not found at {BINARY}; build it with `cargo build` "
            "(or point XPANDER_PROVIDER_BINARY at one)",
            pytrace=False,
        )
    return BINARY


@pytest.fixture(scope="session")
def crate_version() -> str:
    with open(REPO / "provider" / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def aws_env(home):
    """``aws_env(**extra)``: a clean environment with fake AWS settings."""
    return lambda **extra: clean_env(home, **{**FAKE_AWS, **extra})


@pytest.fixture
def launch(binary, aws_env):
    """Start provider processes (stopped at teardown): ``launch(args=..., env=..., engine_address=...)``."""
    started: list[ProviderProcess] = []

    def start(env: dict[str, str] | None = None, **kwargs) -> ProviderProcess:
        proc = ProviderProcess(binary, env=env if env is not None else aws_env(), **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def provider(launch) -> ProviderProcess:
    return launch()


@pytest.fixture
def engine(provider) -> Engine:
    """An engine that has done the handshake but not configured the provider."""
    eng = Engine(provider)
    eng.handshake()
    return eng
