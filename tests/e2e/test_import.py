"""Import of a setup made by replaying the seed's CLI steps (suite 8): the
provider returns inputs a user could have written, and a program made of
exactly those inputs deploys with no changes."""

from __future__ import annotations

from awssim_tests import xpander_setup
from e2e.seed import BASE, CONNECTOR
from engine import Secret


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
