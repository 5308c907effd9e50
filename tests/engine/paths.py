"""Pulumi property paths: ``a.b``, ``a[0].c``, ``a["key.with.dots"]``, ``a[*]``.

The same syntax appears in CheckFailure.property, detailedDiff keys,
ignoreChanges and replaceOnChanges (reference §4).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from .values import Secret

WILDCARD = "*"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # "no value here", distinct from a null value

_TOKEN = re.compile(
    r"""\[(?P<index>\d+|\*)\]           # [0] or [*]
      |\[(?P<quoted>"(?:[^"\\]|\\.)*")\]  # ["key.with.dots"]
      |(?P<dot>\.)?(?P<name>[^.\[\]]+)   # name or .name
    """,
    re.VERBOSE,
)

def parse(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None or (match["dot"] and not tokens) or (match["name"] and not match["dot"] and tokens):
            raise ValueError(f"malformed property path {path!r} at offset {pos}")
        if match["index"] is not None:
            tokens.append(WILDCARD if match["index"] == WILDCARD else int(match["index"]))
        elif match["quoted"] is not None:
            tokens.append(json.loads(match["quoted"]))
        else:
            tokens.append(match["name"])
        pos = match.end()
    if not tokens:
        raise ValueError("empty property path")
    return tokens


def lookup(value: Any, tokens: list[str | int]) -> Any:
    """The value at ``tokens``, or ``MISSING``. A secret on the way keeps the
    result secret, so displaying it cannot leak the plaintext."""
    secret = False
    for token in tokens:
        if isinstance(value, Secret):
            secret, value = True, value.value
        if isinstance(token, int) and isinstance(value, list) and token < len(value):
            value = value[token]
        elif isinstance(token, str) and isinstance(value, dict) and token in value:
            value = value[token]
        else:
            return MISSING
    return Secret(value) if secret and not isinstance(value, Secret) else value


def contains(pattern: str, path: str) -> bool:
    """Whether ``path`` lies under ``pattern`` (Go: PropertyPath.Contains):
    ``a`` contains ``a`` and ``a.b[0]``, ``a[*]`` contains ``a[3].c``, but
    ``a.b`` does not contain ``a``."""
    want, have = parse(pattern), parse(path)
    return len(want) <= len(have) and all(w == WILDCARD or w == h for w, h in zip(want, have))


def reset_to_old(news: dict, olds: dict, paths: list[str]) -> dict:
    """Apply ``ignoreChanges``: each path in ``news`` takes its value from
    ``olds`` (or disappears if ``olds`` lacks it), as the engine does before Check."""
    result = copy.deepcopy(news)
    for path in paths:
        tokens = parse(path)
        if WILDCARD in tokens:
            raise ValueError(f"ignore_changes wildcards are not supported by this driver: {path!r}")
        old = lookup(olds, tokens)
        _assign(result, tokens, old)
    return result


def _assign(root: dict, tokens: list[str | int], value: Any) -> None:
    node: Any = root
    for i, token in enumerate(tokens[:-1]):
        nxt = node[token] if _has(node, token) else MISSING
        if nxt is MISSING:
            if value is MISSING:
                return
            nxt = [] if isinstance(tokens[i + 1], int) else {}
            _put(node, token, nxt)
        node = nxt.value if isinstance(nxt, Secret) else nxt
    last = tokens[-1]
    if value is MISSING:
        if _has(node, last):
            del node[last]
    else:
        _put(node, last, copy.deepcopy(value))


def _has(node: Any, token: str | int) -> bool:
    if isinstance(node, dict):
        return token in node
    return isinstance(node, list) and isinstance(token, int) and token < len(node)


def _put(node: Any, token: str | int, value: Any) -> None:
    if isinstance(node, list):
        node.extend([None] * (token + 1 - len(node)))
    node[token] = value
