"""Our .proto files must say exactly what Pulumi's do, for everything we declare.

The engine and our provider only agree on field numbers, types and labels; a
renumbered or retyped field decodes silently as garbage. So we compile
proto/ with protoc (from grpcio-tools) and compare every message, field, enum
and method with the descriptors shipped in the `pulumi` package, the same
files the engine is generated from.

Omitting a field we never read is allowed (reference §1.4); declaring
anything pulumi does not have, or declaring it differently, is not.
"""

from __future__ import annotations

import importlib
import importlib.resources
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "proto"

FieldProto = descriptor_pb2.FieldDescriptorProto

# Services whose every method we must implement, not just a subset.
COMPLETE_SERVICES = {"pulumirpc.ResourceProvider"}

# What issue 2 requires proto/ to declare.
REQUIRED = {
    "services": {"pulumirpc.ResourceProvider", "pulumirpc.Engine"},
    "messages": {
        "pulumirpc.PluginInfo",
        "pulumirpc.PluginAttach",
        "pulumirpc.LogRequest",
        "pulumirpc.ErrorResourceInitFailed",
        "pulumirpc.ConfigureErrorMissingKeys",
        "google.rpc.Status",
    },
}


class Index:
    """Messages, enums and services of a set of files, by full name."""

    def __init__(self, files) -> None:
        self.messages: dict[str, tuple[descriptor_pb2.DescriptorProto, str]] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.services: dict[str, descriptor_pb2.ServiceDescriptorProto] = {}
        for f in files:
            prefix = f.package
            syntax = f.syntax or "proto2"
            for msg in f.message_type:
                self._add_message(prefix, msg, syntax)
            for enum in f.enum_type:
                self.enums[f"{prefix}.{enum.name}"] = enum
            for svc in f.service:
                self.services[f"{prefix}.{svc.name}"] = svc

    def _add_message(self, prefix: str, msg, syntax: str) -> None:
        name = f"{prefix}.{msg.name}"
        self.messages[name] = (msg, syntax)
        for nested in msg.nested_type:
            self._add_message(name, nested, syntax)
        for enum in msg.enum_type:
            self.enums[f"{name}.{enum.name}"] = enum


def _compile_ours(tmp_path: Path) -> tuple[Index, set[str]]:
    sources = sorted(p.relative_to(PROTO_DIR).as_posix() for p in PROTO_DIR.rglob("*.proto"))
    assert sources, f"no .proto files under {PROTO_DIR}"
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    out = tmp_path / "ours.pb"
    result = subprocess.run(
        [
            sys.executable, "-m", "grpc_tools.protoc",
            f"-I{PROTO_DIR}", f"-I{well_known}",
            "--include_imports", f"--descriptor_set_out={out}",
            *sources,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"protoc rejected proto/:\n{result.stderr}"
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    # google.protobuf.* are library types (Struct, Empty, Any): not ours to compare.
    ours = [f for f in fds.file if f.name in sources and f.package != "google.protobuf"]
    return Index(ours), {f.package for f in ours}


def _pulumi_index() -> Index:
    import pulumi.runtime.proto as pkg

    files = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            files.append(descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb))
    return Index(files)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    ours, _ = _compile_ours(tmp_path_factory.mktemp("proto"))
    return ours, _pulumi_index()


def _field_shape(field: FieldProto, msg: descriptor_pb2.DescriptorProto) -> dict:
    real_oneof = field.HasField("oneof_index") and not field.proto3_optional
    return {
        "name": field.name,
        "type": FieldProto.Type.Name(field.type),
        "type_name": field.type_name.lstrip("."),
        "label": FieldProto.Label.Name(field.label),
        "proto3_optional": field.proto3_optional,
        "oneof": msg.oneof_decl[field.oneof_index].name if real_oneof else None,
    }


def _compare_message(name: str, ours, theirs, problems: list[str]) -> None:
    (msg, syntax), (their_msg, their_syntax) = ours, theirs
    if syntax != their_syntax:
        problems.append(f"{name}: declared in a {syntax} file, pulumi's is {their_syntax}")
    if msg.options.map_entry != their_msg.options.map_entry:
        problems.append(f"{name}: map entry is {msg.options.map_entry}, pulumi's is {their_msg.options.map_entry}")
    their_fields = {f.number: f for f in their_msg.field}
    their_numbers = {f.name: f.number for f in their_msg.field}
    for field in msg.field:
        their_field = their_fields.get(field.number)
        if their_field is None:
            hint = f" (pulumi numbers {field.name!r} {their_numbers[field.name]})" if field.name in their_numbers else ""
            problems.append(f"{name}.{field.name} = {field.number}: pulumi has no field {field.number}{hint}")
            continue
        mine, pulumis = _field_shape(field, msg), _field_shape(their_field, their_msg)
        for attr in mine:
            if mine[attr] != pulumis[attr]:
                problems.append(
                    f"{name} field {field.number} ({field.name}): {attr} is {mine[attr]!r}, pulumi's is {pulumis[attr]!r}"
                )


def _compare_enum(name: str, enum, their_enum, problems: list[str]) -> None:
    mine = {v.name: v.number for v in enum.value}
    pulumis = {v.name: v.number for v in their_enum.value}
    if mine != pulumis:
        problems.append(f"enum {name}: values {mine}, pulumi's are {pulumis}")


def _compare_service(name: str, svc, their_svc, problems: list[str]) -> None:
    their_methods = {m.name: m for m in their_svc.method}
    for method in svc.method:
        theirs = their_methods.get(method.name)
        if theirs is None:
            problems.append(f"{name}.{method.name}: pulumi has no such method")
            continue
        for attr in ("input_type", "output_type", "client_streaming", "server_streaming"):
            if getattr(method, attr) != getattr(theirs, attr):
                problems.append(
                    f"{name}.{method.name}: {attr} is {getattr(method, attr)!r}, pulumi's is {getattr(theirs, attr)!r}"
                )
    if name in COMPLETE_SERVICES:
        missing = sorted(set(their_methods) - {m.name for m in svc.method})
        if missing:
            problems.append(f"{name}: methods missing: {', '.join(missing)}")


def test_proto_compiles_and_declares_what_the_provider_needs(tmp_path):
    ours, packages = _compile_ours(tmp_path)
    assert packages <= {"pulumirpc", "google.rpc"}, f"unexpected packages in proto/: {packages}"
    missing = sorted((REQUIRED["services"] - set(ours.services)) | (REQUIRED["messages"] - set(ours.messages)))
    assert not missing, f"proto/ does not declare: {', '.join(missing)}"


def test_every_declaration_matches_pulumi(indexes):
    ours, theirs = indexes
    problems: list[str] = []
    for name, msg in sorted(ours.messages.items()):
        if name not in theirs.messages:
            problems.append(f"message {name}: pulumi has no such message")
        else:
            _compare_message(name, msg, theirs.messages[name], problems)
    for name, enum in sorted(ours.enums.items()):
        if name not in theirs.enums:
            problems.append(f"enum {name}: pulumi has no such enum")
        else:
            _compare_enum(name, enum, theirs.enums[name], problems)
    for name, svc in sorted(ours.services.items()):
        if name not in theirs.services:
            problems.append(f"service {name}: pulumi has no such service")
        else:
            _compare_service(name, svc, theirs.services[name], problems)
    assert not problems, f"{len(problems)} wire-contract mismatch(es) with pulumi:\n  " + "\n  ".join(problems)
