"""Pure evaluation of IAM policy statements against one request.

Only what STS needs for AssumeRole/TagSession decisions: Action/NotAction with
wildcards, Resource/NotResource ARN wildcards, Principal/NotPrincipal through a
caller-supplied matcher (principal identity needs IAM state), and the common
condition operators.  An operator we do not implement makes an Allow statement
not apply and a Deny statement apply, so gaps can only deny, never grant.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .policy_grammar import as_list, statements


class Decision(enum.Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "Deny"
    IMPLICIT_DENY = "NotApplicable"


@dataclass
class EvalRequest:
    action: str
    # Target ARN for identity policies; None for trust policies, which have no Resource.
    resource: str | None = None
    # Condition keys, lower-cased, each with its list of values.
    context: dict[str, list[str]] = field(default_factory=dict)
    # For trust policies: does this Principal block name the caller?
    principal_matches: Callable[[object], bool] | None = None


def evaluate(docs: Iterable[dict], req: EvalRequest) -> Decision:
    allowed = False
    for doc in docs:
        for stmt in statements(doc):
            if not _applies(stmt, req):
                continue
            if stmt["Effect"] == "Deny":
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _applies(stmt: dict, req: EvalRequest) -> bool:
    if req.principal_matches is not None:
        if "Principal" in stmt and not req.principal_matches(stmt["Principal"]):
            return False
        if "NotPrincipal" in stmt and req.principal_matches(stmt["NotPrincipal"]):
            return False
    if "Action" in stmt:
        if not any(wildcard_match(a, req.action, ignore_case=True) for a in as_list(stmt["Action"])):
            return False
    elif any(wildcard_match(a, req.action, ignore_case=True) for a in as_list(stmt["NotAction"])):
        return False
    if req.resource is not None:
        if "Resource" in stmt:
            if not any(wildcard_match(r, req.resource) for r in as_list(stmt["Resource"])):
                return False
        elif any(wildcard_match(r, req.resource) for r in as_list(stmt.get("NotResource", []))):
            return False
    outcome = conditions_hold(stmt.get("Condition", {}), req.context)
    if outcome is None:
        return stmt["Effect"] == "Deny"
    return outcome


def conditions_hold(condition: dict, context: dict[str, list[str]]) -> bool | None:
    """True/False, or None when an operator is outside what we evaluate."""
    unknown = False
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            outcome = _condition(operator, [_text(e) for e in as_list(expected)], context.get(key.lower()))
            if outcome is False:
                return False
            unknown = unknown or outcome is None
    return None if unknown else True


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _numeric(op: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def test(actual: str, expected: str) -> bool:
        try:
            return op(float(actual), float(expected))
        except ValueError:
            return False

    return test


# Positive operators; each negated one is listed in _NEGATIONS against its positive twin.
_POSITIVE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda a, e: a == e,
    "StringEqualsIgnoreCase": lambda a, e: a.lower() == e.lower(),
    "StringLike": lambda a, e: wildcard_match(e, a),
    "ArnEquals": lambda a, e: wildcard_match(e, a),
    "ArnLike": lambda a, e: wildcard_match(e, a),
    "Bool": lambda a, e: a.lower() == e.lower(),
    "NumericEquals": _numeric(lambda a, e: a == e),
    "NumericLessThan": _numeric(lambda a, e: a < e),
    "NumericLessThanEquals": _numeric(lambda a, e: a <= e),
    "NumericGreaterThan": _numeric(lambda a, e: a > e),
    "NumericGreaterThanEquals": _numeric(lambda a, e: a >= e),
}
_NEGATIONS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def _condition(operator: str, expected: list[str], actual: list[str] | None) -> bool | None:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    if if_exists:
        base = base[: -len("IfExists")]
    if base == "Null":
        # "Null": "true" means the key must be absent.
        return (not actual) == (expected[0].lower() == "true")

    negated = base in _NEGATIONS
    positive = _POSITIVE.get(_NEGATIONS.get(base, base))
    if positive is None:
        return None
    if not actual:
        if qualifier == "ForAllValues" or if_exists:
            return True
        # A missing key fails positive operators and satisfies negated ones (IAM docs).
        return negated

    def value_ok(a: str) -> bool:
        hit = any(positive(a, e) for e in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues" or (not qualifier and negated):
        return all(value_ok(a) for a in actual)
    return any(value_ok(a) for a in actual)
