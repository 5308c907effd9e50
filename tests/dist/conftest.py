"""Fixtures for tests/dist: the release in dist/, its user (release.py)."""

from __future__ import annotations

import shutil

import pytest

from awssim.harness import AwsSim
from dist.release import DIST, REPO, Release, User, crate_version, install_commands


@pytest.fixture(scope="session")
def release() -> Release:
    found = Release(crate_version())
    missing = [name for name in found.files if not (DIST / name).is_file()]
    assert not missing, f"dist/ lacks {missing}: run `make dist`"
    return found


@pytest.fixture(scope="session")
def user(tmp_path_factory, release: Release) -> User:
    """The user, with the release downloaded and the plugin installed once."""
    root = tmp_path_factory.mktemp("user")
    assert not root.resolve().is_relative_to(REPO), f"{root} is inside the checkout"
    person = User(root)
    person.downloads.mkdir(parents=True)
    for name in release.files:
        shutil.copy(DIST / name, person.downloads / name)
    for command in install_commands(release)["downloads"]:
        person.sh(command, person.downloads)
    return person


@pytest.fixture
def deployer(user: User, aws: AwsSim) -> User:
    """The user, with AWS pointed at awssim (a fresh account for each test)."""
    user.aws_env = aws.provider_env()
    return user
