"""The stack's checkpoint: what the engine remembers about each resource."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from typing import Any

from .values import decode, encode

_FORMAT_VERSION = 1


@dataclass
class ResourceState:
    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]  # checked inputs, as Check returned them
    outputs: dict[str, Any]
    # Reasons from ErrorResourceInitFailed: the object exists but is unhealthy,
    # and the next update must call Update even if Diff reports no change.
    init_errors: list[str] = field(default_factory=list)
    # An old copy kept after a create-before-delete replacement whose Delete
    # has not succeeded yet; the next update deletes it after its program.
    pending_delete: bool = False
    # Reference (URN::ID) of the explicit provider managing it; empty: the default provider.
    provider: str = ""

    def evolve(self, **changes) -> ResourceState:
        return replace(self, **changes)


def save(resources: list[ResourceState], path: str | os.PathLike) -> None:
    """Write the checkpoint as JSON. Secrets keep their signature wrapper but
    are NOT encrypted (the real engine encrypts them): test use only."""
    doc = {
        "version": _FORMAT_VERSION,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "id": r.id,
                "inputs": encode(r.inputs),
                "outputs": encode(r.outputs),
                "initErrors": r.init_errors,
                "pendingDelete": r.pending_delete,
                "provider": r.provider,
            }
            for r in resources
        ],
    }
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
    os.replace(tmp, path)  # a crash mid-write must not lose the previous state


def load(path: str | os.PathLike) -> list[ResourceState]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("version") != _FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported state version {doc.get('version')!r}")
    return [
        ResourceState(
            urn=r["urn"],
            type=r["type"],
            name=r["name"],
            id=r["id"],
            inputs=decode(r["inputs"]),
            outputs=decode(r["outputs"]),
            init_errors=list(r.get("initErrors", [])),
            pending_delete=bool(r.get("pendingDelete", False)),
            provider=r.get("provider", ""),
        )
        for r in doc["resources"]
    ]
