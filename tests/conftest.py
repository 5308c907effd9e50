"""Fixtures shared by every suite under tests/: the AWS simulator.

`awssim` starts one simulator per test session, only when a test asks for it.
`aws` hands a test that simulator reset to empty, with the propagation delay
set to 0 unless the test is marked `@pytest.mark.awssim_config(propagation_delay=…)`
(any /_awssim/config key is accepted there).
"""

from __future__ import annotations

import pytest

from awssim.harness import AwsSim


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "awssim_config(**config): simulator config for this test (see tests/conftest.py)")
    config.addinivalue_line("markers", "deployer_paths(*paths): IAM paths the e2e deployer's printed policies cover")
    config.addinivalue_line("markers", "deployer_mode(mode): \"deploy\": the e2e deployer holds the plain deploy policy, and no role has a boundary")
    config.addinivalue_line("markers", "deployer_attaches(*arns): managed policies the e2e deployer held to a boundary may attach")


@pytest.fixture(scope="session")
def awssim():
    with AwsSim() as sim:
        yield sim


@pytest.fixture
def aws(awssim: AwsSim, request: pytest.FixtureRequest) -> AwsSim:
    awssim.reset()
    marker = request.node.get_closest_marker("awssim_config")
    awssim.set_config(**{"propagation_delay": 0, **(marker.kwargs if marker else {})})
    return awssim
