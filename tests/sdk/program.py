"""Run a Pulumi Python program under Pulumi's own runtime, with the resource
monitor played in-process (`pulumi.runtime.set_mocks`), and connect that
monitor to the provider binary.

Two monitors:
  * ``CheckingMocks`` (unit tests): records every registration, sends its
    inputs to the provider's Check (CheckConfig for a provider resource) and
    answers with the checked inputs plus made-up outputs; invokes go to the
    provider's Invoke;
  * ``EngineMonitor`` (`make demo`): hands every registration to the engine
    driver (tests/engine), which runs Check, Diff and Create/Update against
    the provider exactly as the Pulumi engine's step generator would.

Both see what the real engine receives: the SDK's serialized inputs, with
secrets and (in a preview) unknowns still marked.
"""

from __future__ import annotations

import contextvars
import json
import os
import runpy
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from engine import Engine, ProgramContext, ResourceOptions, Secret
from engine.driver import PROVIDER_TYPE
from engine.values import UNKNOWN, UNKNOWN_SENTINEL, decode, encode, from_struct, to_struct

REPO = Path(__file__).resolve().parents[2]
PYTHON_EXAMPLE = REPO / "sdk-examples" / "python" / "__main__.py"
ACCOUNT = "123456789012"

# The example imports the SDK generated in this repository, not an installed copy.
if str(REPO / "sdk" / "python") not in sys.path:
    sys.path.insert(0, str(REPO / "sdk" / "python"))


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]  # engine.values model: Secret(...) and UNKNOWN kept
    failures: list[tuple[str, str]]


def run_program(
    program: Path,
    project: str,
    stack: str,
    config: dict[str, Any],
    preview: bool = False,
    mocks: pulumi.runtime.Mocks | None = None,
    monitor: pulumi_mocks.MockMonitor | None = None,
) -> dict[str, Any]:
    """Run ``program`` once, as `pulumi up` (or `preview`) would, and return
    its stack exports (secret ones as ``Secret``). ``config`` is the stack
    config without the project prefix; ``Secret`` values are secret config.

    Each run gets a fresh copy of the Pulumi runtime's context variables
    (settings, root stack, config), so runs never see each other's state.
    """
    return contextvars.copy_context().run(_run, program, project, stack, config, preview, mocks, monitor)


def _run(program, project, stack, config, preview, mocks, monitor) -> dict[str, Any]:
    values = {f"{project}:{k}": _config_string(v.value if isinstance(v, Secret) else v) for k, v in config.items()}
    secret_keys = [f"{project}:{k}" for k, v in config.items() if isinstance(v, Secret)]
    pulumi.runtime.set_all_config(values, secret_keys)
    pulumi.runtime.set_mocks(mocks or _NoMocks(), project=project, stack=stack, preview=preview, monitor=monitor)
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    root = get_root_resource()
    exports = {}
    for name, value in sorted(root.outputs.items()):
        output = pulumi.Output.from_input(value)
        resolved = _sync_await(output.future(with_unknowns=True))
        resolved = UNKNOWN if isinstance(resolved, pulumi.output.Unknown) else resolved
        exports[name] = Secret(resolved) if _sync_await(output.is_secret()) else resolved
    return exports


def _config_string(value: Any) -> str:
    # Stack config reaches a program as strings; objects and lists as JSON.
    return value if isinstance(value, str) else json.dumps(value)


def engine_value(value: Any) -> Any:
    """A mock's view of inputs (secrets as wire objects, `Unknown()` in a
    preview) -> the engine driver's value model."""
    def wire(v: Any) -> Any:
        if isinstance(v, pulumi.output.Unknown):
            return UNKNOWN_SENTINEL
        if isinstance(v, dict):
            return {k: wire(x) for k, x in v.items()}
        if isinstance(v, list):
            return [wire(x) for x in v]
        return v
    return decode(wire(value))


class _NoMocks(pulumi.runtime.Mocks):
    """Mocks for a custom monitor: the program makes no invokes."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        raise AssertionError(f"unexpected registration of {args.typ} {args.name}")

    def call(self, args: pulumi.runtime.MockCallArgs):
        raise AssertionError(f"unexpected invoke of {args.token}")


class CheckingMocks(pulumi.runtime.Mocks):
    """Mocks that validate every registration with the provider's own Check.

    A CheckFailure means the SDK and the provider disagree on a property (a
    name, a type, a nested shape) or the program's values are invalid; it is
    recorded on the registration and the resource gets no outputs.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registrations: list[Registration] = []
        self._lock = threading.Lock()

    def failures(self) -> list[str]:
        return [f"{r.type} {r.name}: {prop or '<resource>'}: {reason}" for r in self.registrations for prop, reason in r.failures]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        inputs = engine_value(args.inputs)
        urn = self.engine.urn(args.typ, args.name)
        request = provider_pb2.CheckRequest(urn=urn, olds=to_struct({}), news=to_struct(inputs), randomSeed=os.urandom(32),
                                            name=args.name, type=args.typ)
        method = "CheckConfig" if args.typ == PROVIDER_TYPE else "Check"
        with self._lock:  # registrations arrive on several threads
            response = self.engine.call(method, request)
        failures = [(f.property, f.reason) for f in response.failures]
        self.registrations.append(Registration(args.typ, args.name, inputs, failures))
        if failures:
            return "", {}
        checked = from_struct(response.inputs)
        return _fake_outputs(args.typ, args.name, checked)

    def call(self, args: pulumi.runtime.MockCallArgs):
        """Invokes run for real: the provider's functions are pure or read AWS."""
        request = provider_pb2.InvokeRequest(tok=args.token, args=to_struct(engine_value(args.args)))
        with self._lock:
            response = self.engine.call("Invoke", request)
        failures = [(f.property, f.reason) for f in response.failures]
        return encode(from_struct(getattr(response, "return"))), failures


def _fake_outputs(type_: str, name: str, checked: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What Create would return, enough for dependents: id = role name."""
    role_name = checked.get("roleName", name)
    if type_ == PROVIDER_TYPE:
        return "provider-id", encode(checked)
    outputs = {
        **checked,
        "arn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
        "roleId": "AROA" + role_name.upper().replace("-", "")[:17],
        "accountId": ACCOUNT,
    }
    return role_name, encode(outputs)


class EngineMonitor(pulumi_mocks.MockMonitor):
    """The resource monitor of a deployment run by the engine driver: every
    registration becomes a step (Check, Diff, Create/Update/Replace) against
    the provider, and the program gets the provider's outputs back.

    It reads the raw RegisterResourceRequest rather than `Mocks.new_resource`
    arguments because the options the engine honours (additionalSecretOutputs,
    ignoreChanges, replaceOnChanges, deleteBeforeReplace) are only there.
    """

    def __init__(self, ctx: ProgramContext) -> None:
        super().__init__(_NoMocks())
        self.ctx = ctx
        self._lock = threading.Lock()

    def RegisterResource(self, request):
        if request.type == "pulumi:pulumi:Stack":
            return super().RegisterResource(request)
        opts = ResourceOptions(
            delete_before_replace=request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            replace_on_changes=list(request.replaceOnChanges),
            ignore_changes=list(request.ignoreChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        with self._lock:  # the driver runs one step at a time, like a serial `pulumi up`
            handle = self.ctx.resource(request.type, request.name, from_struct(request.object), opts)
        return resource_pb2.RegisterResourceResponse(
            urn=handle.urn,
            id="" if handle.id is UNKNOWN else handle.id,
            object=to_struct(handle.outputs),
        )


def engine_program(program: Path, project: str, stack: str, config: dict[str, Any], exports: dict[str, Any]):
    """``program`` as an engine-driver program (for ``Stack.up``/``preview``):
    each run's stack exports land in ``exports``."""
    def run(ctx: ProgramContext) -> None:
        exports.clear()
        exports.update(run_program(program, project, stack, config, preview=ctx.preview, monitor=EngineMonitor(ctx)))
    return run

