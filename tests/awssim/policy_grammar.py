"""Parsing and grammar checks for IAM policy documents (trust and identity).

The checks mirror what IAM itself rejects with MalformedPolicyDocument, with
IAM's own wording, so a client that matches on messages (as the provider's
retry classifier does for "Invalid principal in policy") sees the real text.
Existence of principals is not checked here: that needs IAM state (iam_layer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from .wire import AwsError

TRUST = "trust"
IDENTITY = "identity"

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
CONDITION_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike", "StringNotLike",
    "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals",
    "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
    "Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
    "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}
_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_SID_RE = re.compile(r"^[0-9A-Za-z]*$")
# Characters IAM accepts in any policy document (API reference, PolicyDocument pattern).
_DOCUMENT_CHARS_RE = re.compile(r"^[\u0009\u000A\u000D\u0020-\u00FF]+$")
DOCUMENT_CHARS_PATTERN = r"[\u0009\u000A\u000D\u0020-\u00FF]+"


def malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicyDocument", message)


def invalid_principal(kind: str, value: str) -> AwsError:
    return malformed(f'Invalid principal in policy: "{kind.upper()}":"{value}"')


def size_without_whitespace(text: str) -> int:
    """IAM counts policy sizes with whitespace removed."""
    return len(re.sub(r"\s", "", text))


def has_valid_characters(text: str) -> bool:
    return bool(_DOCUMENT_CHARS_RE.match(text))


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def statements(doc: dict) -> list[dict]:
    return as_list(doc.get("Statement", []))


def parse(text: str, kind: str) -> dict:
    """Parse and grammar-check a policy document; raise MalformedPolicyDocument."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise malformed("This policy contains invalid Json")
    if not isinstance(doc, dict):
        raise malformed("This policy contains invalid Json")
    if set(doc) - {"Version", "Id", "Statement"}:
        raise malformed("Syntax errors in policy.")
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise malformed("The policy failed legacy parsing")
    if "Statement" not in doc:
        raise malformed("Syntax errors in policy.")
    stmts = statements(doc)
    if not stmts or not all(isinstance(s, dict) for s in stmts):
        raise malformed("Syntax errors in policy.")
    sids: set[str] = set()
    for stmt in stmts:
        _check_statement(stmt, kind)
        sid = stmt.get("Sid")
        if sid is not None:
            if sid in sids:
                raise malformed("Statement IDs (SID) in a single policy must be unique.")
            sids.add(sid)
    return doc


def _check_statement(stmt: dict, kind: str) -> None:
    if set(stmt) - STATEMENT_KEYS:
        raise malformed("Syntax errors in policy.")
    sid = stmt.get("Sid")
    if sid is not None and (not isinstance(sid, str) or (kind == IDENTITY and not _SID_RE.match(sid))):
        raise malformed(
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
        )
    if "Effect" not in stmt:
        raise malformed("Missing required field Effect")
    if stmt["Effect"] not in ("Allow", "Deny"):
        raise malformed(f"Invalid effect: {stmt['Effect']}")

    if ("Action" in stmt) == ("NotAction" in stmt):
        raise malformed("Policy statement must contain actions." if "Action" not in stmt else "Syntax errors in policy.")
    actions = as_list(stmt.get("Action", stmt.get("NotAction")))
    if not actions or not all(isinstance(a, str) for a in actions):
        raise malformed("Syntax errors in policy.")
    for action in actions:
        if action != "*" and not _ACTION_RE.match(action):
            raise malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
        if kind == TRUST and action != "*" and not action.lower().startswith("sts:"):
            raise malformed("AssumeRole policy may only specify STS AssumeRole actions.")

    has_principal = "Principal" in stmt or "NotPrincipal" in stmt
    has_resource = "Resource" in stmt or "NotResource" in stmt
    if kind == TRUST:
        if "Principal" in stmt and "NotPrincipal" in stmt:
            raise malformed("Syntax errors in policy.")
        if not has_principal:
            raise malformed("Missing required field Principal")
        if has_resource:
            raise malformed("Has prohibited field Resource")
        _check_principal(stmt.get("Principal", stmt.get("NotPrincipal")))
    else:
        if has_principal:
            raise malformed("Policy document should not specify a principal.")
        if not has_resource:
            raise malformed("Policy statement must contain resources.")
        if "Resource" in stmt and "NotResource" in stmt:
            raise malformed("Syntax errors in policy.")
        for resource in as_list(stmt.get("Resource", stmt.get("NotResource"))):
            if not isinstance(resource, str):
                raise malformed("Syntax errors in policy.")
            if resource != "*" and not (resource.startswith("arn:") and resource.count(":") >= 5):
                raise malformed(f'Resource {resource} must be in ARN format or "*".')

    if "Condition" in stmt:
        _check_condition(stmt["Condition"])


def _check_principal(principal: object) -> None:
    if principal == "*":
        return
    if not isinstance(principal, dict) or not principal:
        raise malformed("Syntax errors in policy.")
    for kind, values in principal.items():
        if kind not in PRINCIPAL_TYPES:
            raise malformed("Syntax errors in policy.")
        for value in as_list(values):
            if not isinstance(value, str) or not value:
                raise malformed("Syntax errors in policy.")
            if kind == "Service" and not re.match(r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$", value):
                raise invalid_principal(kind, value)


def _check_condition(condition: object) -> None:
    if not isinstance(condition, dict):
        raise malformed("Syntax errors in policy.")
    for operator, pairs in condition.items():
        base = operator.split(":", 1)[1] if operator.startswith(("ForAnyValue:", "ForAllValues:")) else operator
        if base.endswith("IfExists") and base != "Null":
            base = base[: -len("IfExists")]
        if base not in CONDITION_OPERATORS:
            raise malformed(f"Invalid Condition type : {operator}")
        if not isinstance(pairs, dict) or not pairs:
            raise malformed("Syntax errors in policy.")
        for key, values in pairs.items():
            if ":" not in key:
                raise malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
            if not all(isinstance(v, (str, bool, int, float)) for v in as_list(values)):
                raise malformed("Syntax errors in policy.")


def aws_principals(doc: dict) -> Iterator[str]:
    """Every value of every AWS principal (Principal and NotPrincipal)."""
    for stmt in statements(doc):
        block = stmt.get("Principal", stmt.get("NotPrincipal"))
        if isinstance(block, dict) and "AWS" in block:
            yield from as_list(block["AWS"])


def map_aws_principals(doc: dict, mapping: dict[str, str]) -> bool:
    """Replace AWS principal values in place per `mapping`; report whether any changed."""
    changed = False
    for stmt in statements(doc):
        for key in ("Principal", "NotPrincipal"):
            block = stmt.get(key)
            if isinstance(block, dict) and "AWS" in block:
                values = block["AWS"]
                mapped = [mapping.get(v, v) for v in as_list(values)]
                if mapped != as_list(values):
                    block["AWS"] = mapped if isinstance(values, list) else mapped[0]
                    changed = True
    return changed
