"""Play the Pulumi engine against a provider process.

``Engine`` starts the provider the way the plugin host does (Handshake,
GetPluginInfo, CheckConfig, DiffConfig, Configure). ``Stack`` holds the
checkpoint and runs programs with the step generator's decisions
(pkg/resource/deploy/step_generator.go, step.go), one registration at a time:

    Check ─┬─ new ─────────────────────────────────────────► Create
           └─ in state ─► Diff ─┬─ replace ─► Check(olds={}) ─► Create (+ Delete)
                                ├─ some / init errors ──────► Update
                                └─ none ────────────────────► same

Resources the program no longer registers are deleted afterwards in reverse
registration order. Everything is synchronous: a registration returns after
its step, so handles carry real outputs (or UNKNOWN in a preview).

A resource registered with ``opts={"provider": other_engine}`` is managed by
that explicit provider instance (its own process and config, e.g. an
``assumeRole`` into another account); state records which one, so refresh
and destroy reach it through the same instance, as the real engine does.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2

from . import paths
from . import state as checkpoint
from .errors import RpcFailure, decode_error
from .events import DiffSummary, Event, PropertyChange
from .process import ProviderProcess
from .state import ResourceState
from .values import (
    UNKNOWN,
    Secret,
    annotate_secrets,
    contains_unknown,
    encode,
    from_struct,
    to_struct,
    unwrap_secrets,
)

PACKAGE = "xpander"
PROVIDER_TYPE = f"pulumi:providers:{PACKAGE}"
DEFAULT_PROVIDER_NAME = "default"
RPC_TIMEOUT = 600.0  # a guard against hung tests; the engine itself sets no deadline
INIT_ERROR_KEY = "#initerror"


class EngineError(Exception):
    """The engine would abort the operation (not a provider-reported failure)."""


class CheckFailed(EngineError):
    def __init__(self, urn: str, failures: list[tuple[str, str]]) -> None:
        self.urn = urn
        self.failures = failures
        detail = "; ".join(f"{prop or '<resource>'}: {reason}" for prop, reason in failures)
        super().__init__(f"{urn}: Check failed: {detail}")


class StepFailed(EngineError):
    def __init__(self, op: str, urn: str, reason: str, failure: RpcFailure | None = None) -> None:
        self.op = op
        self.urn = urn
        self.failure = failure
        self.init_errors: list[str] = []
        super().__init__(f"{op} {urn}: {reason}")


@dataclass
class RpcCall:
    method: str
    request: Any
    response: Any = None
    error: RpcFailure | None = None


class Engine:
    """The engine's side of one provider instance: the default provider, or an
    explicit one when given another `name`."""

    def __init__(
        self,
        provider: ProviderProcess,
        project: str = "xpander-test",
        stack: str = "dev",
        rpc_timeout: float = RPC_TIMEOUT,
        name: str = DEFAULT_PROVIDER_NAME,
    ) -> None:
        self.provider = provider
        self.project = project
        self.stack = stack
        self.name = name
        self.rpc_timeout = rpc_timeout
        self.provider_id = str(uuid.uuid4())
        self.config: dict[str, Any] = {}
        self.calls: list[RpcCall] = []

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    @property
    def provider_urn(self) -> str:
        return self.urn(PROVIDER_TYPE, self.name)

    @property
    def reference(self) -> str:
        """How state names this provider instance (providers.Reference: URN::ID)."""
        return f"{self.provider_urn}::{self.provider_id}"

    def call(self, method: str, request: Any) -> Any:
        """Invoke one RPC through the official stub, recording it in ``calls``."""
        record = RpcCall(method, request)
        self.calls.append(record)
        try:
            record.response = getattr(self.provider.stub, method)(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:
            record.error = decode_error(err)
            raise
        return record.response

    def methods_called(self) -> list[str]:
        return [c.method for c in self.calls]

    # -- plugin start-up (pkg/resource/deploy/providers/registry.go) ---------

    def boot(self, config: dict[str, Any]) -> provider_pb2.ConfigureResponse:
        self.handshake()
        self.plugin_info()
        return self.configure(config)

    def handshake(self) -> provider_pb2.ProviderHandshakeResponse:
        directory = str(self.provider.binary.resolve().parent)
        return self.call(
            "Handshake",
            provider_pb2.ProviderHandshakeRequest(
                engine_address=self.provider.engine.address,
                root_directory=directory,
                program_directory=directory,
                configure_with_urn=True,
                supports_views=True,
                supports_refresh_before_update=True,
                invoke_with_preview=True,
                accepts_byte_string=True,
            ),
        )

    def plugin_info(self) -> plugin_pb2.PluginInfo:
        return self.call("GetPluginInfo", empty_pb2.Empty())

    def configure(self, config: dict[str, Any], previous: dict[str, Any] | None = None):
        """CheckConfig, DiffConfig (only when ``previous`` config exists in
        state), then Configure. ``config`` uses stack-config keys without the
        ``xpander:`` prefix; values may be ``Secret``."""
        checked = self.check_config(config, previous)
        if previous is not None:
            self.diff_config(previous, checked)
        variables = {
            f"{PACKAGE}:config:{key}": value if isinstance(value, str) else json.dumps(encode(value))
            for key, value in unwrap_secrets(checked).items()
            if key != "version"  # the engine never passes the pinned version as a variable
        }
        response = self.call(
            "Configure",
            provider_pb2.ConfigureRequest(
                variables=variables,
                args=to_struct(checked),
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
                id=self.provider_id,
                urn=self.provider_urn,
                name=self.name,
                type=PROVIDER_TYPE,
            ),
        )
        self.config = checked
        return response

    def check_config(self, config: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        # The engine sends config secrets unwrapped and re-applies secretness
        # to the result itself (annotateSecrets in provider_plugin.go).
        response = self.call(
            "CheckConfig",
            provider_pb2.CheckRequest(
                urn=self.provider_urn,
                olds=to_struct(unwrap_secrets(previous or {})),
                news=to_struct(unwrap_secrets(config)),
                randomSeed=os.urandom(32),
                name=self.name,
                type=PROVIDER_TYPE,
            ),
        )
        if response.failures:
            raise CheckFailed(self.provider_urn, [(f.property, f.reason) for f in response.failures])
        checked = annotate_secrets(from_struct(response.inputs), config)
        if "version" in config:
            # The engine restores a dropped `version` and refuses a changed one.
            if "version" not in checked:
                checked["version"] = config["version"]
            elif checked["version"] != config["version"]:
                raise EngineError(f"CheckConfig changed the reserved `version` to {checked['version']!r}")
        return checked

    def diff_config(self, previous: dict[str, Any], checked: dict[str, Any]) -> DiffSummary:
        olds = to_struct(unwrap_secrets(previous))
        response = self.call(
            "DiffConfig",
            provider_pb2.DiffRequest(
                id=self.provider_id,
                urn=self.provider_urn,
                olds=olds,
                news=to_struct(unwrap_secrets(checked)),
                old_inputs=olds,
                name=self.name,
                type=PROVIDER_TYPE,
            ),
        )
        return DiffSummary.from_response(response)


@dataclass
class ResourceOptions:
    delete_before_replace: bool | None = None  # None: the provider's DiffResponse decides
    replace_on_changes: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    timeout: float = 0.0  # seconds, sent as Create/Update/Delete `timeout`
    provider: Engine | None = None  # an explicit provider instance; None: the stack's default


class ResourceHandle:
    """What a program gets back from a registration."""

    def __init__(self, resource: ResourceState, preview: bool) -> None:
        self.urn = resource.urn
        self.type = resource.type
        self.name = resource.name
        self.outputs = resource.outputs
        self.preview = preview
        self.id = resource.id or (UNKNOWN if preview else "")

    def __getitem__(self, key: str) -> Any:
        if key in self.outputs:
            return self.outputs[key]
        if self.preview:
            return UNKNOWN  # not known until the resource is really created
        raise KeyError(f"{self.urn} has no output {key!r} (outputs: {sorted(self.outputs)})")


class ProgramContext:
    def __init__(self, deployment: _Deployment) -> None:
        self._deployment = deployment
        self.preview = deployment.preview

    def resource(self, type_: str, name: str, inputs: dict[str, Any], opts=None) -> ResourceHandle:
        if isinstance(opts, dict):
            opts = ResourceOptions(**opts)
        return self._deployment.register(type_, name, inputs, opts or ResourceOptions())


Program = Callable[[ProgramContext], Any]


class Stack:
    """A stack's checkpoint plus the operations that change it."""

    def __init__(
        self, engine: Engine, resources: list[ResourceState] | None = None, providers: list[Engine] | None = None
    ) -> None:
        self.engine = engine
        self.resources: list[ResourceState] = list(resources or [])
        self.events: list[Event] = []  # of the most recent operation
        # Explicit provider instances by reference; the resources' `provider` names them.
        self.providers: dict[str, Engine] = {p.reference: p for p in providers or []}

    @classmethod
    def load(cls, engine: Engine, path: str | os.PathLike, providers: list[Engine] | None = None) -> Stack:
        return cls(engine, checkpoint.load(path), providers)

    def engine_of(self, resource: ResourceState) -> Engine:
        """The provider instance managing `resource`."""
        if not resource.provider:
            return self.engine
        if resource.provider not in self.providers:
            raise EngineError(f"{resource.urn}: its provider {resource.provider} is not known to this stack")
        return self.providers[resource.provider]

    def save(self, path: str | os.PathLike) -> None:
        checkpoint.save(self.resources, path)

    def get(self, name: str, type_: str | None = None) -> ResourceState:
        found = [r for r in self.resources if r.name == name and not r.pending_delete and type_ in (None, r.type)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} live resources named {name!r} in state")
        return found[0]

    # -- operations -----------------------------------------------------------

    def up(self, program: Program, preview: bool = False) -> list[Event]:
        deployment = _Deployment(self, preview)
        self.events = deployment.events
        try:
            program(ProgramContext(deployment))
            deployment.delete_unregistered()
        finally:
            if not preview:
                self.resources = deployment.final_state()
        return self.events

    def preview(self, program: Program) -> list[Event]:
        return self.up(program, preview=True)

    def refresh(self, preview: bool = False) -> list[Event]:
        self.events = []
        refreshed: list[ResourceState] = []
        for resource in self.resources:
            event, fresh = _refresh_one(self.engine_of(resource), resource)
            self.events.append(event)
            if fresh is not None:
                refreshed.append(fresh)
        if not preview:
            self.resources = refreshed
        return self.events

    def destroy(self, preview: bool = False) -> list[Event]:
        self.events = []
        remaining = list(self.resources)
        try:
            for resource in reversed(self.resources):
                self.events.append(_delete_event(resource, "delete"))
                if not preview:
                    _delete(self.engine_of(resource), resource, timeout=0.0)
                remaining.remove(resource)
        finally:
            if not preview:
                self.resources = remaining
        return self.events

    def import_resource(self, type_: str, name: str, id_: str, preview: bool = False) -> Event:
        urn = self.engine.urn(type_, name)
        if any(r.urn == urn for r in self.resources):
            raise EngineError(f"{urn} is already in the stack")
        imported, event = _import_one(self.engine, urn, type_, name, id_)
        self.events = [event]
        if not preview:
            self.resources.append(imported)
        return event


class _Deployment:
    """One run of a program: the step generator's bookkeeping."""

    def __init__(self, stack: Stack, preview: bool) -> None:
        self.stack = stack
        self.engine = stack.engine
        self.preview = preview
        self.old = list(stack.resources)  # untouched snapshot, in registration order
        self.remaining = list(stack.resources)  # old entries still present (not deleted or superseded)
        self.new: dict[str, ResourceState] = {}  # this run's registrations, in order
        self.events: list[Event] = []

    def final_state(self) -> list[ResourceState]:
        return list(self.new.values()) + self.remaining

    def _live_old(self, urn: str) -> ResourceState | None:
        return next((r for r in self.old if r.urn == urn and not r.pending_delete), None)

    # -- registration ---------------------------------------------------------

    def register(self, type_: str, name: str, inputs: dict[str, Any], opts: ResourceOptions) -> ResourceHandle:
        urn = self.engine.urn(type_, name)
        if urn in self.new:
            raise EngineError(f"duplicate resource URN {urn}")
        if not self.preview and contains_unknown(inputs):
            raise EngineError(f"{urn}: unknown input outside a preview (the SDK resolves inputs before registering)")
        old = self._live_old(urn)
        news = paths.reset_to_old(inputs, old.inputs, opts.ignore_changes) if old else inputs
        seed = _CheckSeed.fresh(name)
        if opts.provider is not None:
            self.stack.providers[opts.provider.reference] = opts.provider
        checked = _check(self._engine(opts), urn, type_, name, old.inputs if old else {}, news, seed)

        if old is None:
            event = Event("create", urn, type_, name, new_inputs=checked)
            self.events.append(event)
            created = self._create(urn, type_, name, checked, opts)
            event.id = created.id
            return self._registered(created)

        diff = self._diff(old, checked, opts)
        event = Event("same", urn, type_, name, id=old.id, diff=diff,
                      old_inputs=old.inputs, old_outputs=old.outputs, new_inputs=checked)
        self.events.append(event)
        if diff.changes == "some" and diff.replace:
            return self._replace(old, inputs, opts, diff, event, seed)
        if diff.changes == "some" or old.init_errors:
            event.op = "update"
            return self._registered(self._update(old, checked, opts))
        self.remaining.remove(old)
        return self._registered(old.evolve(inputs=checked, provider=self._reference(opts)))

    def _engine(self, opts: ResourceOptions) -> Engine:
        return opts.provider or self.engine

    @staticmethod
    def _reference(opts: ResourceOptions) -> str:
        return opts.provider.reference if opts.provider is not None else ""

    def _registered(self, resource: ResourceState) -> ResourceHandle:
        self.new[resource.urn] = resource
        return ResourceHandle(resource, self.preview)

    def _diff(self, old: ResourceState, checked: dict, opts: ResourceOptions) -> DiffSummary:
        response = _rpc(self._engine(opts), "diff", old.urn, "Diff", provider_pb2.DiffRequest(
            id=old.id,
            urn=old.urn,
            olds=to_struct(old.outputs),
            news=to_struct(checked),
            ignoreChanges=opts.ignore_changes,
            old_inputs=to_struct(old.inputs),
            name=old.name,
            type=old.type,
        ))
        diff = DiffSummary.from_response(response)
        if diff.changes == "unknown":
            diff = _input_diff(old.inputs, checked)
        _apply_replace_on_changes(diff, opts.replace_on_changes, bool(old.init_errors))
        return diff

    def _replace(self, old: ResourceState, inputs: dict, opts: ResourceOptions, diff: DiffSummary, event: Event,
                 seed: _CheckSeed):
        delete_first = diff.delete_before_replace if opts.delete_before_replace is None else opts.delete_before_replace
        event.op = "replace"
        event.delete_before_replace = delete_first
        # The replacement is a new object: re-check the program's inputs from
        # scratch (same seed) so the provider computes fresh defaults and names.
        checked = _check(self._engine(opts), old.urn, old.type, old.name, {}, inputs, seed)
        event.new_inputs = checked
        if delete_first:
            self._delete_old(old, opts.timeout)
        else:
            # Until the old object is deleted it stays in state, marked so a
            # later update retries its deletion.
            self.remaining[self.remaining.index(old)] = old.evolve(pending_delete=True)
        return self._registered(self._create(old.urn, old.type, old.name, checked, opts))

    # -- provider steps ---------------------------------------------------------

    def _create(self, urn: str, type_: str, name: str, checked: dict, opts: ResourceOptions) -> ResourceState:
        request = provider_pb2.CreateRequest(
            urn=urn, properties=to_struct(checked), timeout=opts.timeout, preview=self.preview, name=name, type=type_
        )
        try:
            response = self._engine(opts).call("Create", request)
        except grpc.RpcError as err:
            raise self._failed_step("create", urn, type_, name, err, inputs=checked, old_id="", opts=opts) from None
        outputs = _mark_secret(from_struct(response.properties), opts.additional_secret_outputs)
        if not self.preview:
            if not response.id:
                raise StepFailed("create", urn, "provider returned an empty resource ID")
            _reject_unknowns("create", urn, outputs)
        return ResourceState(urn, type_, name, response.id, checked, outputs, provider=self._reference(opts))

    def _update(self, old: ResourceState, checked: dict, opts: ResourceOptions) -> ResourceState:
        request = provider_pb2.UpdateRequest(
            id=old.id,
            urn=old.urn,
            olds=to_struct(old.outputs),
            news=to_struct(checked),
            timeout=opts.timeout,
            ignoreChanges=opts.ignore_changes,
            preview=self.preview,
            old_inputs=to_struct(old.inputs),
            name=old.name,
            type=old.type,
        )
        try:
            response = self._engine(opts).call("Update", request)
        except grpc.RpcError as err:
            failed = self._failed_step("update", old.urn, old.type, old.name, err, inputs=old.inputs, old_id=old.id, opts=opts)
            if old.urn in self.new:  # superseded by the partially updated state
                self.remaining.remove(old)
            raise failed from None
        self.remaining.remove(old)
        outputs = _mark_secret(from_struct(response.properties), opts.additional_secret_outputs)
        if not self.preview:
            _reject_unknowns("update", old.urn, outputs)
        return old.evolve(inputs=checked, outputs=outputs, init_errors=[], provider=self._reference(opts))

    def _failed_step(self, op, urn, type_, name, err: grpc.RpcError, inputs: dict, old_id: str,
                     opts: ResourceOptions) -> StepFailed:
        """Build the step's error. For ErrorResourceInitFailed the object
        exists: record it with its init errors (step.go) so the next update
        calls Update on it. For an update that means old inputs + new outputs."""
        failure = decode_error(err)
        failed = StepFailed(op, urn, f"{failure.code.name}: {failure.message}", failure)
        init = failure.detail(provider_pb2.ErrorResourceInitFailed)
        if init is None or self.preview:
            return failed
        resource_id = init.id or old_id
        if not resource_id:
            reason = f"provider returned an empty resource ID with init errors: {failure.message}"
            return StepFailed(op, urn, reason, failure)
        failed.init_errors = list(init.reasons)
        outputs = from_struct(init.properties)
        self.new[urn] = ResourceState(urn, type_, name, resource_id, inputs, outputs, failed.init_errors,
                                      provider=self._reference(opts))
        return failed

    def _delete_old(self, old: ResourceState, timeout: float) -> None:
        self.events.append(_delete_event(old, "delete-replaced"))
        if not self.preview:
            _delete(self.stack.engine_of(old), old, timeout)
        self.remaining.remove(old)

    # -- after the program ------------------------------------------------------

    def delete_unregistered(self) -> None:
        """Condemned resources (unregistered ones, and old copies left by
        create-before-delete replacements, including those pending from an
        earlier run) go in reverse registration order: dependents were
        registered after what they depend on."""
        for resource in reversed(list(self.remaining)):
            self.events.append(_delete_event(resource, "delete-replaced" if resource.pending_delete else "delete"))
            if not self.preview:
                _delete(self.stack.engine_of(resource), resource, 0.0)
            self.remaining.remove(resource)


# -- single steps shared by the operations ----------------------------------------


def _rpc(engine: Engine, op: str, urn: str, method: str, request: Any) -> Any:
    try:
        return engine.call(method, request)
    except grpc.RpcError as err:
        failure = decode_error(err)
        raise StepFailed(op, urn, f"{failure.code.name}: {failure.message}", failure) from None


@dataclass(frozen=True)
class _CheckSeed:
    """Randomness the engine draws once per registration and reuses for the
    re-Check of a replacement."""

    random_seed: bytes
    proposed_name: str

    @classmethod
    def fresh(cls, name: str) -> _CheckSeed:
        return cls(os.urandom(32), f"{name}-{secrets.token_hex(4)[:7]}")


def _check(engine: Engine, urn: str, type_: str, name: str, olds: dict, news: dict, seed: _CheckSeed) -> dict:
    response = _rpc(engine, "check", urn, "Check", provider_pb2.CheckRequest(
        urn=urn,
        olds=to_struct(olds),
        news=to_struct(news),
        randomSeed=seed.random_seed,
        name=name,
        type=type_,
        autonaming=provider_pb2.CheckRequest.AutonamingOptions(
            proposed_name=seed.proposed_name,
            mode=provider_pb2.CheckRequest.AutonamingOptions.PROPOSE,
        ),
    ))
    if response.failures:
        raise CheckFailed(urn, [(f.property, f.reason) for f in response.failures])
    if not response.HasField("inputs"):
        raise StepFailed("check", urn, "provider returned no inputs and no failures from Check")
    return from_struct(response.inputs)


def _delete(engine: Engine, resource: ResourceState, timeout: float) -> None:
    _rpc(engine, "delete", resource.urn, "Delete", provider_pb2.DeleteRequest(
        id=resource.id,
        urn=resource.urn,
        properties=to_struct(resource.outputs),
        timeout=timeout,
        old_inputs=to_struct(resource.inputs),
        name=resource.name,
        type=resource.type,
    ))


def _delete_event(resource: ResourceState, op: str) -> Event:
    return Event(op, resource.urn, resource.type, resource.name, id=resource.id,
                 old_inputs=resource.inputs, old_outputs=resource.outputs)


def _refresh_one(engine: Engine, resource: ResourceState) -> tuple[Event, ResourceState | None]:
    """Read the live object; then, as the refresh display does, Diff with the
    arguments swapped (old = refreshed, news = previous inputs) and invert it."""
    event = Event("refresh", resource.urn, resource.type, resource.name, id=resource.id,
                  old_inputs=resource.inputs, old_outputs=resource.outputs)
    request = provider_pb2.ReadRequest(
        id=resource.id,
        urn=resource.urn,
        properties=to_struct(resource.outputs),
        inputs=to_struct(resource.inputs),
        name=resource.name,
        type=resource.type,
    )
    init_errors: list[str] = []
    try:
        response = engine.call("Read", request)
    except grpc.RpcError as err:
        failure = decode_error(err)
        init = failure.detail(provider_pb2.ErrorResourceInitFailed)
        if init is None:
            raise StepFailed("refresh", resource.urn, f"{failure.code.name}: {failure.message}", failure) from None
        # During refresh an unhealthy resource is only a warning; the detail
        # carries the same id/properties/inputs a ReadResponse would.
        init_errors = list(init.reasons)
        event.warnings.append(f"refreshed resource is in an unhealthy state: {'; '.join(init_errors)}")
        response = init
    if not response.id:
        event.gone = True
        return event, None
    outputs = from_struct(response.properties)
    inputs = from_struct(response.inputs) if response.HasField("inputs") else resource.inputs
    _reject_unknowns("refresh", resource.urn, outputs)
    fresh = resource.evolve(id=response.id, inputs=inputs, outputs=outputs, init_errors=init_errors)
    swapped = _rpc(engine, "refresh", resource.urn, "Diff", provider_pb2.DiffRequest(
        id=fresh.id,
        urn=fresh.urn,
        olds=to_struct(fresh.outputs),
        news=to_struct(resource.inputs),
        old_inputs=to_struct(fresh.inputs),
        name=fresh.name,
        type=fresh.type,
    ))
    event.id = fresh.id
    event.diff = DiffSummary.from_response(swapped).inverted()
    event.new_inputs = fresh.inputs
    return event, fresh


def _import_one(engine: Engine, urn: str, type_: str, name: str, id_: str) -> tuple[ResourceState, Event]:
    """`pulumi import`: Read by id alone (no properties, no inputs), then
    Check(olds=inputs, news=inputs), whose failures are only warnings. The
    state keeps Read's inputs, not Check's (ImportStep.Apply in the real engine:
    a provider whose Check adds defaults must still diff cleanly afterwards)."""
    response = _rpc(engine, "import", urn, "Read",
                    provider_pb2.ReadRequest(id=id_, urn=urn, name=name, type=type_))
    if not response.id:
        raise StepFailed("import", urn, f"resource {id_!r} does not exist")
    if not response.HasField("inputs"):
        raise StepFailed("import", urn, "provider does not support importing resources (Read returned no inputs)")
    inputs = from_struct(response.inputs)
    outputs = from_struct(response.properties)
    _reject_unknowns("import", urn, outputs)
    event = Event("import", urn, type_, name, id=response.id, new_inputs=inputs)
    check = _rpc(engine, "import", urn, "Check", provider_pb2.CheckRequest(
        urn=urn, olds=to_struct(inputs), news=to_struct(inputs), randomSeed=os.urandom(32), name=name, type=type_
    ))
    event.warnings.extend(f"{f.property}: {f.reason}" for f in check.failures)
    return ResourceState(urn, type_, name, response.id, inputs, outputs), event


def _input_diff(old_inputs: dict, news: dict) -> DiffSummary:
    """DIFF_UNKNOWN: the engine compares inputs itself, top-level key by key."""
    detailed = {}
    for key in sorted(set(old_inputs) | set(news)):
        if key not in news:
            detailed[key] = PropertyChange("DELETE", input_diff=True)
        elif key not in old_inputs:
            detailed[key] = PropertyChange("ADD", input_diff=True)
        elif old_inputs[key] != news[key]:
            detailed[key] = PropertyChange("UPDATE", input_diff=True)
    return DiffSummary("some" if detailed else "none", diffs=list(detailed), detailed=detailed, has_detailed_diff=True)


def _apply_replace_on_changes(diff: DiffSummary, patterns: list[str], has_init_errors: bool) -> None:
    """The `replaceOnChanges` option upgrades matching changes to replacements
    (applyReplaceOnChanges in step_generator.go). Init errors count as a
    change of the pseudo-property `#initerror`, which only `*` matches."""
    if diff.changes != "some" and not has_init_errors:
        return
    for path, change in diff.detailed.items():
        if not change.replaces and any(paths.contains(p, path) for p in patterns):
            change.kind += "_REPLACE"
    for key in diff.diffs:
        if key not in diff.replaces and any(paths.contains(p, key) for p in patterns):
            diff.replaces.append(key)
    if has_init_errors and any(paths.contains(p, INIT_ERROR_KEY) for p in patterns):
        diff.replaces.append(INIT_ERROR_KEY)
        diff.detailed[INIT_ERROR_KEY] = PropertyChange("UPDATE_REPLACE")
        diff.changes = "some"


def _mark_secret(outputs: dict, names: list[str]) -> dict:
    """`additionalSecretOutputs`: the engine stores these outputs as secrets."""
    return {k: Secret(v) if k in names and not isinstance(v, Secret) else v for k, v in outputs.items()}


def _reject_unknowns(op: str, urn: str, outputs: dict) -> None:
    if contains_unknown(outputs):
        raise StepFailed(op, urn, "provider returned unknown values outside a preview")
