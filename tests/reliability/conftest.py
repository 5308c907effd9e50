"""Fixtures for the reliability suite: provider processes launched against
the session's AWS simulator (tests/conftest.py), stopped at teardown."""

from __future__ import annotations

import pytest

from reliability.world import create_managed_policy, launch, make_cluster


@pytest.fixture
def launcher(aws):
    """``launcher(**kw)`` starts a provider process (see world.launch); all are stopped at teardown."""
    started = []

    def start(**kwargs):
        proc = launch(aws, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def cluster(aws) -> str:
    return make_cluster(aws, "reliability-cluster")


@pytest.fixture
def managed_policy(aws) -> str:
    return create_managed_policy(aws, "xpander-reliability-extra")
