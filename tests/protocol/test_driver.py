"""The engine driver itself: call order and arguments as the engine's step
generator produces them, checked against fake_provider.py (a provider whose
answers we control) so that the real-provider suites can trust the driver."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine import (
    UNKNOWN,
    CheckFailed,
    Engine,
    ProviderProcess,
    ResourceOptions,
    Secret,
    Stack,
    StepFailed,
    format_preview,
)
from engine.values import from_struct

FAKE = Path(__file__).with_name("fake_provider.py")
WIDGET = "fake:index:Widget"


@pytest.fixture(scope="module")
def fake_provider():
    proc = ProviderProcess(sys.executable, args=[str(FAKE)])
    yield proc
    proc.stop()


@pytest.fixture
def stack(fake_provider) -> Stack:
    engine = Engine(fake_provider)
    engine.boot({"region": "us-east-1"})
    engine.calls.clear()
    return Stack(engine)


def widgets(*specs):
    """A program registering one Widget per (name, inputs[, opts])."""

    def program(ctx):
        return [ctx.resource(WIDGET, spec[0], spec[1], *spec[2:]) for spec in specs]

    return program


def calls(stack: Stack, method: str | None = None):
    return [c for c in stack.engine.calls if method is None or c.method == method]


def ops(events):
    return [(e.op, e.name) for e in events]


def test_boot_sequence_matches_the_plugin_host(fake_provider):
    engine = Engine(fake_provider)
    engine.boot({"region": "us-east-1", "maxRetries": 3, "assumeRole": Secret({"externalId": "x"})})
    assert engine.methods_called() == ["Handshake", "GetPluginInfo", "CheckConfig", "Configure"]
    check, configure = engine.calls[2].request, engine.calls[3].request
    assert from_struct(check.news)["assumeRole"] == {"externalId": "x"}  # the engine unwraps config secrets
    assert from_struct(configure.args)["assumeRole"] == Secret({"externalId": "x"})
    assert configure.variables == {
        "xpander:config:region": "us-east-1",
        "xpander:config:maxRetries": "3",
        "xpander:config:assumeRole": '{"externalId": "x"}',
    }
    assert configure.urn == engine.provider_urn and configure.type == "pulumi:providers:xpander"


def test_create_then_same(stack):
    events = stack.up(widgets(("a1", {"color": "red"})))
    assert ops(events) == [("create", "a1")]
    assert [c.method for c in calls(stack)] == ["Check", "Create"]
    check = calls(stack, "Check")[0].request
    assert from_struct(check.olds) == {} and len(check.randomSeed) == 32
    assert check.autonaming.proposed_name.startswith("a1-")
    created = stack.get("a1")
    assert created.id == created.inputs["name"] and created.outputs["arn"] == f"arn:fake:{created.id}"

    stack.engine.calls.clear()
    assert ops(stack.up(widgets(("a1", {"color": "red"})))) == [("same", "a1")]
    assert [c.method for c in calls(stack)] == ["Check", "Diff"]
    check, diff = calls(stack)[0].request, calls(stack)[1].request
    assert from_struct(check.olds) == created.inputs
    assert diff.id == created.id
    assert from_struct(diff.olds) == created.outputs and from_struct(diff.old_inputs) == created.inputs


def test_preview_writes_nothing_and_outputs_are_unknown(stack):
    seen = {}

    def program(ctx):
        first = ctx.resource(WIDGET, "p1", {"color": "red"})
        seen["arn"] = first["arn"]
        ctx.resource(WIDGET, "p2", {"peer": first["arn"]})

    events = stack.preview(program)
    assert ops(events) == [("create", "p1"), ("create", "p2")]
    assert seen["arn"] is UNKNOWN and stack.resources == []
    assert all(c.request.preview for c in calls(stack, "Create"))
    assert from_struct(calls(stack, "Check")[1].request.news) == {"peer": UNKNOWN}
    shown = format_preview(events)
    assert "+ fake:index:Widget: (create)" in shown and "peer: [unknown]" in shown
    assert "+  2 to create" in shown


def test_update_shows_the_detailed_diff(stack):
    stack.up(widgets(("u1", {"color": "red", "tags": Secret({"k": "v"})})))
    events = stack.preview(widgets(("u1", {"color": "blue", "tags": Secret({"k": "w"})})))
    assert ops(events) == [("update", "u1")]
    assert calls(stack, "Update")[-1].request.preview
    shown = format_preview(events)
    assert '~ color: "red" => "blue"' in shown
    assert "~ tags: [secret] => [secret]" in shown and '"w"' not in shown

    stack.up(widgets(("u1", {"color": "blue"})))
    assert stack.get("u1").outputs["color"] == "blue"


def test_replace_creates_before_deleting(stack):
    stack.up(widgets(("r1", {"color": "red", "replaceKeys": ["color"]})))
    old_id = stack.get("r1").id
    stack.engine.calls.clear()
    events = stack.up(widgets(("r1", {"color": "blue", "replaceKeys": ["color"], "name": "r1-new"})))
    assert ops(events) == [("replace", "r1"), ("delete-replaced", "r1")]
    assert [c.method for c in calls(stack)] == ["Check", "Diff", "Check", "Create", "Delete"]
    first, recheck = (c.request for c in calls(stack, "Check"))
    assert from_struct(recheck.olds) == {}  # a replacement is checked from scratch...
    assert recheck.randomSeed == first.randomSeed  # ...with the registration's seed
    assert calls(stack, "Delete")[0].request.id == old_id
    assert [r.id for r in stack.resources] == ["r1-new"]
    assert "+- fake:index:Widget: (replace)" in format_preview(events)


@pytest.mark.parametrize("by_option", [False, True])
def test_delete_before_replace(stack, by_option):
    name = f"d{int(by_option)}"
    inputs = {"color": "red", "replaceKeys": ["color"], "dbr": not by_option}
    opts = ResourceOptions(delete_before_replace=True if by_option else None)
    stack.up(widgets((name, inputs, opts)))
    stack.engine.calls.clear()
    events = stack.up(widgets((name, dict(inputs, color="blue"), opts)))
    assert ops(events) == [("replace", name), ("delete-replaced", name)]
    assert [c.method for c in calls(stack)] == ["Check", "Diff", "Check", "Delete", "Create"]


def test_replace_on_changes_upgrades_an_update(stack):
    opts = ResourceOptions(replace_on_changes=["size"])
    stack.up(widgets(("roc", {"size": 1}, opts)))
    events = stack.preview(widgets(("roc", {"size": 2}, opts)))
    assert ops(events) == [("replace", "roc"), ("delete-replaced", "roc")]
    assert events[0].diff.replaces == ["size"] and events[0].diff.detailed["size"].kind == "UPDATE_REPLACE"


def test_init_errors_with_replace_on_changes_star_force_a_replacement(stack):
    opts = ResourceOptions(replace_on_changes=["*"])
    with pytest.raises(StepFailed):
        stack.up(widgets(("ie", {"initFail": "sick"}, opts)))
    events = stack.preview(widgets(("ie", {"initFail": "sick"}, opts)))
    assert ops(events) == [("replace", "ie"), ("delete-replaced", "ie")]
    assert "#initerror" in events[0].diff.replaces


def test_ignore_changes_resets_inputs_before_check(stack):
    opts = ResourceOptions(ignore_changes=["color"])
    stack.up(widgets(("ig", {"color": "red", "size": 1}, opts)))
    stack.engine.calls.clear()
    events = stack.up(widgets(("ig", {"color": "blue", "size": 1}, opts)))
    assert ops(events) == [("same", "ig")]
    assert from_struct(calls(stack, "Check")[0].request.news)["color"] == "red"
    assert list(calls(stack, "Diff")[0].request.ignoreChanges) == ["color"]


def test_diff_unknown_falls_back_to_comparing_inputs(stack):
    stack.up(widgets(("du", {"color": "red", "diffUnknown": True})))
    assert ops(stack.preview(widgets(("du", {"color": "red", "diffUnknown": True})))) == [("same", "du")]
    events = stack.preview(widgets(("du", {"color": "blue", "diffUnknown": True})))
    assert ops(events) == [("update", "du")] and events[0].diff.diffs == ["color"]


def test_unregistered_resources_are_deleted_in_reverse_order(stack):
    stack.up(widgets(("o1", {}), ("o2", {}), ("o3", {})))
    ids = [r.id for r in stack.resources]
    stack.engine.calls.clear()
    events = stack.up(widgets(("o2", {})))
    assert ops(events) == [("same", "o2"), ("delete", "o3"), ("delete", "o1")]
    assert [c.request.id for c in calls(stack, "Delete")] == [ids[2], ids[0]]
    assert [r.name for r in stack.resources] == ["o2"]


def test_check_failure_stops_the_run(stack):
    with pytest.raises(CheckFailed) as raised:
        stack.up(widgets(("cf", {"fail": "colour must be a colour"})))
    assert raised.value.failures == [("fail", "colour must be a colour")]
    assert stack.resources == []


def test_init_failure_is_recorded_and_forces_an_update(stack):
    with pytest.raises(StepFailed) as raised:
        stack.up(widgets(("if", {"initFail": "not healthy yet"})))
    assert raised.value.init_errors == ["not healthy yet"]
    recorded = stack.get("if")
    assert recorded.id and recorded.init_errors == ["not healthy yet"]

    stack.engine.calls.clear()
    with pytest.raises(StepFailed):
        stack.up(widgets(("if", {"initFail": "not healthy yet"})))
    # Diff says nothing changed, but the init errors force an Update.
    assert [c.method for c in calls(stack)] == ["Check", "Diff", "Update"]
    assert stack.get("if").init_errors == ["not healthy yet"]


def test_refresh_reads_each_resource_and_drops_deleted_ones(stack):
    stack.up(widgets(("f1", {"color": "red"}), ("f2", {})))
    gone = stack.get("f2")
    stack.engine.call("Delete", _delete_request(gone))  # deleted out of band
    stack.engine.calls.clear()
    events = stack.refresh()
    assert [(e.name, e.gone) for e in events] == [("f1", False), ("f2", True)]
    read = calls(stack, "Read")[0].request
    assert from_struct(read.properties) == stack.get("f1").outputs and from_struct(read.inputs) == stack.get("f1").inputs
    assert [c.method for c in calls(stack)] == ["Read", "Diff", "Read"]
    assert [r.name for r in stack.resources] == ["f1"]
    assert events[0].diff.changes == "none"


def test_import_reads_by_id_then_checks(stack):
    source = Stack(stack.engine)
    source.up(widgets(("im", {"color": "red"})))
    resource_id = source.get("im").id
    stack.engine.calls.clear()
    event = stack.import_resource(WIDGET, "im", resource_id)
    read, check = calls(stack)
    assert (read.method, check.method) == ("Read", "Check")
    assert read.request.id == resource_id
    assert not read.request.HasField("properties") and not read.request.HasField("inputs")
    assert from_struct(check.request.olds) == from_struct(check.request.news) == source.get("im").inputs
    assert event.op == "import" and stack.get("im").outputs == source.get("im").outputs


def test_destroy_deletes_everything_in_reverse(stack):
    stack.up(widgets(("x1", {}), ("x2", {})))
    ids = [r.id for r in stack.resources]
    stack.engine.calls.clear()
    assert ops(stack.destroy()) == [("delete", "x2"), ("delete", "x1")]
    assert [c.request.id for c in calls(stack, "Delete")] == ids[::-1]
    assert stack.resources == []


def test_state_survives_save_and_load(stack, tmp_path):
    stack.up(widgets(("s1", {"token": Secret("hunter2"), "n": 3})))
    path = tmp_path / "state.json"
    stack.save(path)
    loaded = Stack.load(stack.engine, path)
    assert loaded.resources == stack.resources
    assert loaded.get("s1").inputs["token"] == Secret("hunter2")


def _delete_request(resource):
    from pulumi.runtime.proto import provider_pb2

    from engine.values import to_struct

    return provider_pb2.DeleteRequest(id=resource.id, urn=resource.urn, properties=to_struct(resource.outputs))
