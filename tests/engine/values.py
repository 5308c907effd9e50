"""Property values as the Pulumi engine puts them in a google.protobuf.Struct.

The engine has no richer wire type than JSON, so secrets, resource references,
assets and unknowns travel as JSON objects tagged with a signature key, or as
sentinel strings (reference §3; Go: sdk/go/common/resource/plugin/rpc.go).

Python side:
  * ``Secret(value)`` for a secret,
  * ``UNKNOWN`` for any of the seven unknown sentinels,
  * ``ResourceRef(urn, id, package_version)`` for a resource reference,
  * plain JSON (dict, list, str, int/float, bool, None) otherwise.
Assets and archives are kept as their signature-tagged dicts: the tests only
need to send them unchanged and see the provider reject them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
TYPED_UNKNOWN_SENTINELS = {
    "bool": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "number": "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "array": "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "asset": "030794c1-ac77-496b-92df-f27374a8bd58",
    "archive": "e48ece36-62e2-4504-bad9-02848725956a",
    "object": "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
}
ALL_UNKNOWN_SENTINELS = frozenset({UNKNOWN_SENTINEL, *TYPED_UNKNOWN_SENTINELS.values()})

# Struct numbers are doubles; integers beyond 2**53 would silently lose digits.
_MAX_EXACT_INT = 2**53


class _Unknown:
    """The value of an output that is not known until the resource exists."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self):
        return (_Unknown, ())


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Secret:
    value: Any

    def __repr__(self) -> str:
        # Keep secrets out of pytest failure output and logs by default.
        return "Secret(***)"


@dataclass(frozen=True)
class ResourceRef:
    urn: str
    id: Any = None  # str, UNKNOWN, or None for a component resource
    package_version: str = ""


def encode(value: Any) -> Any:
    """Python value -> the JSON the engine would send (signature objects, sentinels)."""
    if value is UNKNOWN:
        return UNKNOWN_SENTINEL
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": encode(value.value)}
    if isinstance(value, ResourceRef):
        ref: dict[str, Any] = {SIG_KEY: RESOURCE_REF_SIG, "urn": value.urn}
        if value.id is not None:
            ref["id"] = encode(value.id)
        if value.package_version:
            ref["packageVersion"] = value.package_version
        return ref
    if isinstance(value, dict):
        return {_key(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_EXACT_INT:
            raise ValueError(f"integer {value} cannot be represented exactly in a Struct")
        return value
    if isinstance(value, float):
        return value
    raise TypeError(f"cannot encode {type(value).__name__} as a property value")


def decode(value: Any) -> Any:
    """JSON as found on the wire -> Python value. Inverse of ``encode``."""
    if isinstance(value, str):
        return UNKNOWN if value in ALL_UNKNOWN_SENTINELS else value
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_EXACT_INT:
        # The engine renders whole numbers without a fraction; so do we, which
        # keeps `120 == outputs["propagationTimeout"]` and JSON dumps readable.
        return int(value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(SIG_KEY)
    if sig == SECRET_SIG:
        return Secret(decode(value.get("value")))
    if sig == RESOURCE_REF_SIG:
        ref_id = value.get("id")
        return ResourceRef(
            urn=value["urn"],
            id=None if ref_id is None else decode(ref_id),
            package_version=value.get("packageVersion", ""),
        )
    if sig == OUTPUT_VALUE_SIG:
        # Only Construct/Call see output values; everywhere else the engine
        # flattens them into an unknown or a secret, and so do we.
        inner = decode(value["value"]) if "value" in value else UNKNOWN
        return Secret(inner) if value.get("secret") else inner
    return {k: decode(v) for k, v in value.items()}


def to_struct(props: dict[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(encode(props or {}))
    return struct


def from_struct(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    if struct is None:
        return {}
    return decode(json_format.MessageToDict(struct))


def unwrap_secrets(value: Any) -> Any:
    if isinstance(value, Secret):
        return unwrap_secrets(value.value)
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def contains_secret(value: Any) -> bool:
    return _contains(value, lambda v: isinstance(v, Secret))


def contains_unknown(value: Any) -> bool:
    return _contains(value, lambda v: v is UNKNOWN)


def annotate_secrets(outs: Any, ins: Any) -> Any:
    """Copy secretness from ``ins`` onto ``outs`` the way the engine does for
    CheckConfig results (Go: ``annotateSecrets`` in provider_plugin.go): objects
    present on both sides are merged key by key; any other value that holds a
    secret in ``ins`` makes the corresponding ``outs`` value secret."""
    if isinstance(outs, Secret):
        return outs
    if isinstance(ins, Secret):
        return Secret(outs)
    if isinstance(outs, dict) and isinstance(ins, dict):
        return {k: annotate_secrets(v, ins[k]) if k in ins else v for k, v in outs.items()}
    if contains_secret(ins) and not contains_secret(outs):
        return Secret(outs)
    return outs


def render(value: Any) -> str:
    """A display form that never reveals a secret."""
    if isinstance(value, Secret):
        return "[secret]"
    if value is UNKNOWN:
        return "[unknown]"
    if isinstance(value, ResourceRef):
        return f"[ref {value.urn}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"property names must be strings, got {key!r}")
    return key


def _contains(value: Any, pred) -> bool:
    if pred(value):
        return True
    if isinstance(value, Secret):
        return _contains(value.value, pred)
    if isinstance(value, ResourceRef):
        return _contains(value.id, pred)
    if isinstance(value, dict):
        return any(_contains(v, pred) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v, pred) for v in value)
    return False
