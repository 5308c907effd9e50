"""What every doctor report must satisfy, whatever the setup: the shape of a
finding, the human rendering, the exit code, no ExternalId anywhere, and
agreement with the simulator's chain."""

from __future__ import annotations

import json

from pulumi.runtime.proto import provider_pb2

from doctor.handbuilt import BASE, ORG_ID, arn, chain_works
from engine import Secret, from_struct, to_struct

DIAGNOSE = "xpander:index:diagnose"
RENDER = "xpander:index:renderConnectorPolicies"

SEVERITY = {
    "ROLE_NOT_FOUND": "error",
    "BASE_TRUST_NO_POD_IDENTITY": "error",
    "TAG_SESSION_TRUST": "error",
    "BASE_SERVICE_PERMISSIONS": "error",
    "BASE_ASSUMES_ANY_ROLE": "warning",
    "POD_IDENTITY_MISSING": "error",
    "POD_IDENTITY_OTHER_ROLE": "error",
    "EXTERNAL_ID_ON_INTERNAL": "error",
    "TRUST_MISSING_BASE_ROLE": "error",
    "TRUST_MISSING_SELF": "error",
    "SELF_ASSUME_PERMISSION_MISSING": "error",
    "TAG_SESSION_PERMISSION": "error",
    "BASE_CANNOT_ASSUME": "error",
    "MIXED_DATA_SOURCES": "warning",
    "RESOURCE_STAR": "warning",
    "EKS_ACCESS_ENTRY_MISSING": "error",
    "EKS_ACCESS_POLICY_MISSING": "error",
    "EKS_CLUSTER_ADMIN": "info",
    "STALE_PRINCIPAL": "error",
    "SIZE_NEAR_QUOTA": "warning",
    "MISSING_TAGS": "info",
    "EXTERNAL_ID_OWN_ACCOUNT": "warning",
    "POD_IDENTITY_OUT_OF_SCOPE": "error",
}

# Findings about a statement or policy that exists carry it as evidence.
EVIDENCE = {
    "TAG_SESSION_TRUST",
    "EXTERNAL_ID_ON_INTERNAL",
    "TRUST_MISSING_BASE_ROLE",
    "TRUST_MISSING_SELF",
    "RESOURCE_STAR",
    "BASE_ASSUMES_ANY_ROLE",
    "EXTERNAL_ID_OWN_ACCOUNT",
    "POD_IDENTITY_OUT_OF_SCOPE",
}

# Errors that mean the AI Gateway's chain (pod -> base -> connector -> self) is refused.
CHAIN = {
    "ROLE_NOT_FOUND",
    "BASE_TRUST_NO_POD_IDENTITY",
    "TAG_SESSION_TRUST",
    "POD_IDENTITY_MISSING",
    "POD_IDENTITY_OTHER_ROLE",
    "EXTERNAL_ID_ON_INTERNAL",
    "TRUST_MISSING_BASE_ROLE",
    "TRUST_MISSING_SELF",
    "SELF_ASSUME_PERMISSION_MISSING",
    "TAG_SESSION_PERMISSION",
    "BASE_CANNOT_ASSUME",
    "STALE_PRINCIPAL",
    "POD_IDENTITY_OUT_OF_SCOPE",
}
# Chain errors on the base role that break every connector (the others name the connector's ARN).
BASE_WIDE = {"ROLE_NOT_FOUND", "BASE_TRUST_NO_POD_IDENTITY", "TAG_SESSION_TRUST", "POD_IDENTITY_MISSING", "POD_IDENTITY_OTHER_ROLE",
             "POD_IDENTITY_OUT_OF_SCOPE"}


def triples(findings: list[dict]) -> list[tuple[str, str, str]]:
    return sorted((f["severity"], f["code"], f["role"]) for f in findings)


def expected(pairs) -> list[tuple[str, str, str]]:
    return sorted((SEVERITY[code], code, role) for code, role in pairs)


def check_shape(findings: list[dict]) -> None:
    order = {"error": 0, "warning": 1, "info": 2}
    assert [order[f["severity"]] for f in findings] == sorted(order[f["severity"]] for f in findings), "most severe first"
    for f in findings:
        assert set(f) == {"code", "severity", "role", "summary", "evidence", "fix"}, f
        assert f["severity"] == SEVERITY[f["code"]], f
        assert f["summary"].strip() and f["fix"].strip(), f
        if f["code"] in EVIDENCE:
            assert isinstance(f["evidence"], dict) and f["evidence"], f"{f['code']} without evidence: {f}"


def check_human(text: str, findings: list[dict], header: str) -> None:
    """The human report: header, each finding's code, role, summary, evidence
    and fix in order, then the counts."""
    assert text.startswith(header + "\n"), text
    pos = 0
    for f in findings:
        for piece in (f["code"], f["role"], f["summary"], f"fix: {f['fix']}"):
            at = text.find(piece, pos)
            assert at >= 0, f"{piece!r} missing (in order) from the human report:\n{text}"
            pos = at + len(piece)
        if f["evidence"] is not None:
            assert f"evidence: {json.dumps(f['evidence'], separators=(',', ':'))}" in text, text
    errors = sum(f["severity"] == "error" for f in findings)
    warnings = sum(f["severity"] == "warning" for f in findings)
    assert text.rstrip().endswith(f"{errors} error(s), {warnings} warning(s)"), text
    if not findings:
        assert "no problems found" in text


def no_leak(*texts: str) -> None:
    for text in texts:
        assert ORG_ID not in text, f"the ExternalId leaked:\n{text}"


def broken_connectors(findings: list[dict], connectors) -> set[str]:
    """Connectors whose chain the findings say is refused."""
    out = set()
    for f in findings:
        if f["severity"] != "error" or f["code"] not in CHAIN:
            continue
        for c in connectors:
            if f["role"] == c or (f["role"] == BASE and (f["code"] in BASE_WIDE or arn(c) in f["summary"])):
                out.add(c)
    return out


def check_chain(sim, findings: list[dict], connectors) -> None:
    """An error on a connector's path means the simulator refuses its chain; none means it works."""
    said_broken = broken_connectors(findings, connectors)
    really = {c for c in connectors if not chain_works(sim, c)}
    assert said_broken == really, f"doctor says broken {sorted(said_broken)}, the chain fails for {sorted(really)}"


# -- Invoke through the engine driver -----------------------------------------------


def invoke(engine, token: str, args: dict, preview: bool = False):
    """(return value, [(property, reason)]) of one Invoke."""
    response = engine.call("Invoke", provider_pb2.InvokeRequest(tok=token, args=to_struct(args), preview=preview))
    result = from_struct(getattr(response, "return")) if response.HasField("return") else None
    return result, [(f.property, f.reason) for f in response.failures]


def diagnose(engine, connectors, cluster: str | None, base: str = BASE, preview: bool = False) -> dict:
    args = {"baseRoleName": base, "connectorRoleNames": list(connectors)}
    if cluster:
        args["clusterName"] = cluster
    result, failures = invoke(engine, DIAGNOSE, args, preview=preview)
    assert failures == [], failures
    assert not _has_secret(result)
    return result


def _has_secret(value) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, dict):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def engine_texts(provider) -> list[str]:
    """Everything the provider said outside its answers: stderr, stdout after the port, Engine.Log."""
    return [provider.stderr, provider.stdout_after_port, *(str(entry) for entry in provider.logs)]
