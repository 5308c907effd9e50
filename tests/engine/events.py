"""What a deployment did, step by step, in a form tests can assert on and
``display.format_preview`` can render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.proto import provider_pb2

_CHANGES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_SOME: "some",
}
_KIND_BY_NUMBER = {number: name for name, number in provider_pb2.PropertyDiff.Kind.items()}
# refresh shows Diff(refreshed -> previous) inverted, so additions become deletions
_INVERTED_KIND = {
    "ADD": "DELETE",
    "DELETE": "ADD",
    "ADD_REPLACE": "DELETE_REPLACE",
    "DELETE_REPLACE": "ADD_REPLACE",
    "UPDATE": "UPDATE",
    "UPDATE_REPLACE": "UPDATE_REPLACE",
}


@dataclass
class PropertyChange:
    kind: str  # a PropertyDiff.Kind name: ADD, UPDATE_REPLACE, ...
    input_diff: bool = False

    @property
    def replaces(self) -> bool:
        return self.kind.endswith("_REPLACE")


@dataclass
class DiffSummary:
    changes: str  # "none" | "some" | "unknown"
    diffs: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    detailed: dict[str, PropertyChange] = field(default_factory=dict)
    has_detailed_diff: bool = False
    delete_before_replace: bool = False

    @classmethod
    def from_response(cls, resp: provider_pb2.DiffResponse) -> DiffSummary:
        return cls(
            changes=_CHANGES.get(resp.changes, "unknown"),
            diffs=list(resp.diffs),
            replaces=list(resp.replaces),
            detailed={
                path: PropertyChange(_KIND_BY_NUMBER.get(d.kind, str(d.kind)), d.inputDiff)
                for path, d in resp.detailedDiff.items()
            },
            has_detailed_diff=resp.hasDetailedDiff,
            delete_before_replace=resp.deleteBeforeReplace,
        )

    @property
    def replace(self) -> bool:
        return bool(self.replaces) or any(c.replaces for c in self.detailed.values())

    def inverted(self) -> DiffSummary:
        return DiffSummary(
            changes=self.changes,
            diffs=list(self.diffs),
            replaces=list(self.replaces),
            detailed={p: PropertyChange(_INVERTED_KIND[c.kind], c.input_diff) for p, c in self.detailed.items()},
            has_detailed_diff=self.has_detailed_diff,
            delete_before_replace=self.delete_before_replace,
        )


@dataclass
class Event:
    """One step. ``op`` is one of: create, update, same, replace,
    delete-replaced, delete, refresh, import."""

    op: str
    urn: str
    type: str
    name: str
    id: str = ""
    diff: DiffSummary | None = None
    old_inputs: dict[str, Any] | None = None
    old_outputs: dict[str, Any] | None = None
    new_inputs: dict[str, Any] | None = None
    delete_before_replace: bool = False
    gone: bool = False  # refresh found the resource deleted out of band
    warnings: list[str] = field(default_factory=list)
