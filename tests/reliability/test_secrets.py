"""The ExternalId is a secret through a whole lifecycle: preview, up, refresh,
rotation, a failed update, import, destroy. Afterwards it must appear in no
provider output (stderr, stdout after the port, at the most verbose settings),
no Engine.Log message, no error message, no RPC answer outside a Secret
wrapper, no state field outside a Secret wrapper, and no simulator log entry."""

from __future__ import annotations

import json

import pytest

from e2e.seed import BASE, CONNECTOR
from engine import Secret, Stack, StepFailed
from engine.values import decode, encode, from_struct
from reliability.world import Names, boot

ORG_1 = "org-secret-4c9d2e71"
ORG_2 = "org-secret-rotated-88a0f3b6"
SECRETS = (ORG_1, ORG_2)
VERBOSE = ("--logtostderr", "-v=9")


def plaintext_paths(value, needle: str, path: str = "") -> list[str]:
    """Where `needle` occurs outside any Secret wrapper (in values or keys)."""
    if isinstance(value, Secret):
        return []
    if isinstance(value, str):
        return [path or "<root>"] if needle in value else []
    if isinstance(value, dict):
        found = [f"{path}.{k} (key)" for k in value if needle in k]
        return found + [p for k, v in value.items() for p in plaintext_paths(v, needle, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plaintext_paths(v, needle, f"{path}[{i}]")]
    return []


def program(names: Names, org: str, role_name: str | None = None):
    def run(ctx):
        base = ctx.resource(BASE, "base", {"roleName": names.base, "podIdentity": {"clusterName": names.cluster}})
        for kind, extra in (("redshift", {"redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"}}),
                            ("eks", {"eks": {"clusterName": names.cluster}})):
            ctx.resource(CONNECTOR, kind, {
                "roleName": role_name if (role_name and kind == "redshift") else names.connector(kind),
                "baseRoleArn": base["arn"],
                "baseRoleId": base["roleId"],
                "externalId": Secret(org),
                **extra,
            })
    return run


@pytest.mark.awssim_config(propagation_delay=0.3)
def test_external_id_never_in_plaintext(aws, launcher, cluster, tmp_path):
    names = Names(prefix="secret", cluster=cluster)
    proc = launcher(args=VERBOSE, RUST_LOG="trace", RUST_BACKTRACE="1")
    engine = boot(proc, aws)
    stack = Stack(engine)
    states, errors = [], []

    def checkpoint(label: str) -> None:
        path = tmp_path / f"{label}.json"
        stack.save(path)
        states.append((label, json.loads(path.read_text())))

    stack.preview(program(names, ORG_1))
    stack.up(program(names, ORG_1))
    checkpoint("up")
    stack.refresh()
    checkpoint("refresh")
    stack.preview(program(names, ORG_2))
    # A rotation that fails half way: the error travels back with the partial state.
    aws.set_faults(deny=[{"action": "UpdateAssumeRolePolicy", "params": {"RoleName": names.connector("eks")}}])
    with pytest.raises(StepFailed) as failed:
        stack.up(program(names, ORG_2))
    errors.append(str(failed.value))
    checkpoint("failed-rotation")
    aws.clear_faults()
    stack.up(program(names, ORG_2))
    checkpoint("rotated")
    # A Check failure next to the secret (an invalid role name).
    with pytest.raises(Exception) as refused:
        stack.preview(program(names, ORG_2, role_name="not a valid role name!"))
    errors.append(str(refused.value))
    # Import reads the trust back: the ExternalId it recovers must come back wrapped.
    imported = Stack(engine)
    imported.import_resource(CONNECTOR, "imported", names.connector("redshift"))
    imported_state = tmp_path / "imported.json"
    imported.save(imported_state)
    states.append(("import", json.loads(imported_state.read_text())))
    assert isinstance(imported.resources[0].inputs.get("externalId"), Secret), \
        "import must return the recovered ExternalId as a secret input"
    stack.destroy()
    checkpoint("destroyed")
    assert proc.stop() == 0

    for secret in SECRETS:
        assert secret not in proc.stderr, "the provider's stderr carries the ExternalId"
        assert secret not in proc.stdout_after_port, "the provider's stdout carries the ExternalId"
        logged = [entry.message for entry in proc.logs if secret in entry.message]
        assert not logged, f"Engine.Log messages carry the ExternalId: {logged[:3]}"
        assert not [e for e in errors if secret in e], "an error message carries the ExternalId"
        for call in engine.calls + imported.engine.calls:
            if call.error is not None:
                assert secret not in call.error.message, f"{call.method} error message carries the ExternalId"
            if call.response is None:
                continue
            for field in ("properties", "inputs"):
                if call.response.DESCRIPTOR.fields_by_name.get(field) and call.response.HasField(field):
                    leaks = plaintext_paths(from_struct(getattr(call.response, field)), secret)
                    assert not leaks, f"{call.method} answer has the ExternalId in plaintext at {leaks}"
        for label, doc in states:
            for resource in doc["resources"]:
                for part in ("inputs", "outputs"):
                    leaks = plaintext_paths(decode(resource[part]), secret)
                    assert not leaks, f"state after {label}: {resource['name']}.{part} in plaintext at {leaks}"
                assert not [r for r in resource.get("initErrors", []) if secret in r]
        assert secret not in json.dumps(aws.requests()), "the simulator's request log carries the ExternalId"

    # The secret is kept (wrapped), not dropped: the rotated state holds ORG_2 inside a wrapper.
    rotated = dict(states)["rotated"]
    assert ORG_2 in json.dumps(rotated)
    assert encode(Secret(ORG_2)) in [r["inputs"].get("externalId") for r in rotated["resources"]]
