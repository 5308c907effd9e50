"""Import of a setup made by replaying the seed's CLI steps (suite 8): the
provider returns inputs a user could have written, and a program made of
exactly those inputs deploys with no changes."""

from __future__ import annotations

import pytest

from awssim_tests import xpander_setup
from e2e.seed import BASE, CONNECTOR
from engine import Secret


@pytest.mark.deployer_mode("deploy")
def test_imported_manual_setup_has_no_changes(aws, stack):
    xpander_setup.build(aws)
    base = stack.import_resource(BASE, "base", xpander_setup.BASE_ROLE)
    connector = stack.import_resource(CONNECTOR, "eks", xpander_setup.CONNECTOR)
    assert base.op == "import" and connector.op == "import"

    imported = {r.name: r.inputs for r in stack.resources}
    conn = imported["eks"]
    assert conn["baseRoleArn"] == xpander_setup.BASE_ARN
    assert isinstance(conn["externalId"], Secret) and conn["externalId"].value == xpander_setup.ORG_ID
    assert conn["grantBaseRole"] is False, "the manual setup grants through AssumeConnectorRoles"
    assert imported["base"]["connectorRoleArns"] == [xpander_setup.CONNECTOR_ARN]

    aws.clear_requests()
    events = stack.up(lambda ctx: [ctx.resource(r.type, r.name, r.inputs) for r in list(stack.resources)])
    assert [(e.name, e.op) for e in events] == [("base", "same"), ("eks", "same")]
    assert [r for r in aws.requests() if r["mutating"]] == []


def test_an_imported_manual_setup_takes_the_providers_boundary(aws, stack, boundary):
    """Held to a boundary, the only input change an import brings is the boundary itself, written first."""
    xpander_setup.build(aws)
    stack.import_resource(BASE, "base", xpander_setup.BASE_ROLE)
    stack.import_resource(CONNECTOR, "eks", xpander_setup.CONNECTOR)
    aws.clear_requests()
    program = lambda ctx: [ctx.resource(r.type, r.name, r.inputs) for r in list(stack.resources)]  # noqa: E731
    events = stack.up(program)
    assert [(e.name, e.op, sorted(e.diff.detailed)) for e in events] == [
        ("base", "update", ["permissionsBoundary"]), ("eks", "update", ["permissionsBoundary"])]
    writes = [(r["params"]["RoleName"], r["action"]) for r in aws.requests() if r["mutating"]]
    # Each role is also tagged as managed by its resource now that one writes it.
    assert writes == [(role, action) for role in (xpander_setup.BASE_ROLE, xpander_setup.CONNECTOR)
                      for action in ("PutRolePermissionsBoundary", "TagRole")], writes
    assert [(e.name, e.op) for e in stack.up(program)] == [("base", "same"), ("eks", "same")]
