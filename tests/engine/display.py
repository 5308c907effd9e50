"""Render deployment events roughly as `pulumi preview --diff` does.

With a detailed diff the engine shows exactly the provider's paths and kinds
(TranslateDetailedDiff in pkg/engine/detailedDiff.go): the old value comes
from the old outputs, or the old inputs when `inputDiff` is set, and the new
value from the new inputs. Secrets always print as [secret].
"""

from __future__ import annotations

from collections import Counter

from . import paths
from .events import DiffSummary, Event
from .values import render

_HEADER = {
    "create": ("+", "create"),
    "update": ("~", "update"),
    "replace": ("+-", "replace"),
    "delete": ("-", "delete"),
    "import": ("=", "import"),
}
_KIND_SYMBOL = {"ADD": "+", "DELETE": "-", "UPDATE": "~"}
_SUMMARY = [
    ("create", "+", "to create"),
    ("update", "~", "to update"),
    ("replace", "+-", "to replace"),
    ("delete", "-", "to delete"),
    ("import", "=", "to import"),
]


def format_preview(events: list[Event]) -> str:
    lines: list[str] = []
    counts: Counter[str] = Counter()
    for event in events:
        op = _display_op(event)
        counts[op] += 1
        if op in _HEADER:
            lines.extend(_resource_block(event, op))
    lines.append("Resources:")
    for op, symbol, label in _SUMMARY:
        if counts[op]:
            lines.append(f"    {symbol:<2} {counts[op]} {label}")
    if counts["same"]:
        lines.append(f"    {counts['same']} unchanged")
    return "\n".join(lines) + "\n"


def _display_op(event: Event) -> str:
    if event.op == "refresh":
        if event.gone:
            return "delete"
        return "update" if event.diff and event.diff.changes == "some" else "same"
    return event.op


def _resource_block(event: Event, op: str) -> list[str]:
    symbol, label = _HEADER[op]
    if op == "replace" and event.delete_before_replace:
        label = "delete-replace"
    lines = [f"  {symbol} {event.type}: ({label})"]
    if event.id:
        lines.append(f"      [id={event.id}]")
    lines.append(f"      [urn={event.urn}]")
    if op in ("create", "import"):
        lines.extend(f"      {key}: {render(value)}" for key, value in sorted((event.new_inputs or {}).items()))
    elif event.diff is not None:
        lines.extend(_diff_lines(event, event.diff))
    lines.extend(f"      warning: {w}" for w in event.warnings)
    return lines


def _diff_lines(event: Event, diff: DiffSummary) -> list[str]:
    if diff.has_detailed_diff:
        changes = [(path, change.kind, change.input_diff) for path, change in diff.detailed.items()]
    else:
        # Without a detailed diff the engine falls back to the top-level keys.
        changes = [(key, "UPDATE_REPLACE" if key in diff.replaces else "UPDATE", True) for key in diff.diffs]
    lines = []
    for path, kind, input_diff in sorted(changes):
        old_side = event.old_inputs if input_diff else event.old_outputs
        old = paths.lookup(old_side or {}, paths.parse(path))
        new = paths.lookup(event.new_inputs or {}, paths.parse(path))
        base = kind.removesuffix("_REPLACE")
        symbol = "+-" if kind.endswith("_REPLACE") else _KIND_SYMBOL[base]
        if base == "ADD":
            lines.append(f"    {symbol} {path}: {_show(new)}")
        elif base == "DELETE":
            lines.append(f"    {symbol} {path}: {_show(old)}")
        else:
            lines.append(f"    {symbol} {path}: {_show(old)} => {_show(new)}")
    return lines


def _show(value) -> str:
    return "<absent>" if value is paths.MISSING else render(value)
