"""The request log tests query ("preview made zero mutating calls").

Only an allow-list of identifying parameters is recorded, so secrets such as
ExternalId, SecretAccessKey or policy documents (whose conditions may carry
an ExternalId) never reach it."""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_ENTRIES = 10_000

LOGGED_PARAMS = (
    # IAM / STS (query protocol)
    "RoleName", "PolicyName", "PolicyArn", "UserName", "Path", "RoleArn", "RoleSessionName", "DurationSeconds",
    "VersionId", "InstanceProfileName", "PermissionsBoundary",
    # EKS (path labels and body fields)
    "clusterName", "associationId", "principalArn", "policyArn", "namespace", "serviceAccount",
    "roleArn", "targetRoleArn", "type", "disableSessionTags",
    # Secrets Manager, KMS (JSON body fields)
    "SecretId", "Name", "KeyId",
)
_READ_PREFIXES = ("Get", "List", "Describe", "Simulate", "Generate")


def is_mutating(service: str, method: str, action: str | None) -> bool:
    if service == "sts":
        # STS issues credentials but changes no resource.
        return False
    if service == "eks":
        return method not in ("GET", "HEAD")
    return not (action or "").startswith(_READ_PREFIXES)


def key_params(params: dict) -> dict:
    return {k: params[k] for k in LOGGED_PARAMS if k in params and isinstance(params[k], (str, int, bool))}


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0

    def record(
        self,
        service: str,
        action: str | None,
        params: dict,
        status: int | None,
        mutating: bool,
        fault: str | None,
        caller: str | None = None,
        denied: str | None = None,
    ) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append(
                {
                    "seq": self._seq,
                    "time": time.time(),
                    "service": service,
                    "action": action,
                    "params": key_params(params),
                    "status": status,
                    "mutating": mutating,
                    "fault": fault,
                    # ARN of the authenticated caller; None if the key was refused or never checked.
                    "caller": caller,
                    # The action an AccessDenied named ("iam:CreateRole"), else None.
                    "denied": denied,
                }
            )

    def entries(self, since: int = 0) -> list[dict]:
        with self._lock:
            return [e for e in self._entries if e["seq"] > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
