"""A whole stack lifecycle through the driver: preview, up, no-op up, update,
refresh, import and destroy of an XpanderBaseRole against the AWS simulator."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from engine import Engine, Stack, clean_env, format_preview

BASE = "xpander:index:XpanderBaseRole"
ROLE = "xpander-base-role"


def base_role(description: str):
    return lambda ctx: ctx.resource(BASE, "base", {"roleName": ROLE, "description": description})


def role_in_aws(iam) -> dict | None:
    try:
        return iam.get_role(RoleName=ROLE)["Role"]
    except ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchEntity":
            return None
        raise


@pytest.fixture
def engine(launch, home, aws) -> Engine:
    proc = launch(env=clean_env(home, **aws.provider_env()))
    eng = Engine(proc)
    eng.boot({"region": "us-east-1", "endpoints": {"iam": aws.url, "sts": aws.url, "eks": aws.url}})
    return eng


def test_preview_up_update_refresh_import_destroy(engine, aws):
    iam = aws.boto3_client("iam")
    stack = Stack(engine)

    planned = stack.preview(base_role("first"))
    assert [e.op for e in planned] == ["create"]
    assert stack.resources == [] and role_in_aws(iam) is None, "a preview must change nothing"
    assert f'roleName: "{ROLE}"' in format_preview(planned)

    stack.up(base_role("first"))
    created = stack.get("base")
    assert created.id == ROLE
    assert created.outputs["arn"] == role_in_aws(iam)["Arn"]

    engine.calls.clear()
    assert [e.op for e in stack.up(base_role("first"))] == ["same"]
    assert engine.methods_called() == ["Check", "Diff"]

    changed = stack.preview(base_role("second"))
    assert [e.op for e in changed] == ["update"] and "description" in changed[0].diff.detailed
    assert '~ description: "first" => "second"' in format_preview(changed)
    stack.up(base_role("second"))
    assert role_in_aws(iam)["Description"] == "second"

    refreshed = stack.refresh()
    assert [(e.op, e.diff.changes) for e in refreshed] == [("refresh", "none")], format_preview(refreshed)

    imported = Stack(engine)
    event = imported.import_resource(BASE, "base", ROLE)
    assert not event.warnings, event.warnings
    assert imported.get("base").inputs["roleName"] == ROLE
    assert imported.get("base").inputs.get("description") == "second"

    assert [e.op for e in stack.destroy()] == ["delete"]
    assert stack.resources == [] and role_in_aws(iam) is None
