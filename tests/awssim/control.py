"""The simulator's own JSON API under /_awssim/ (never logged, never faulted)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs

from . import policy_grammar as grammar
from .authz import request_context
from .identity import access_denied, caller_of_key, denial_reason
from .pod_identity import PodIdentityError, pod_credentials
from .policy_eval import EvalRequest
from .state import iam
from .wire import ACCOUNT_ID, DEFAULT_REGION, AwsError, Response, is_account_id, read_body

PREFIX = "/_awssim/"
PRINCIPAL_POLICY_NAME = "awssim-principal"
_USER_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
_PATH_RE = re.compile(r"^(/|/[\u0021-\u007E]+/)$")


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"error": code, "message": message}, status)


class ControlApi:
    def __init__(self, sim) -> None:
        self.sim = sim
        self._routes: dict[tuple[str, str], Callable[[dict, dict], Response]] = {
            ("POST", "reset"): self._reset,
            ("GET", "config"): lambda body, query: Response.json(self.sim.state.config.as_dict()),
            ("POST", "config"): self._set_config,
            ("GET", "faults"): lambda body, query: Response.json(self.sim.faults.describe()),
            ("POST", "faults"): self._set_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "requests"): self._requests,
            ("DELETE", "requests"): self._clear_requests,
            ("GET", "sessions"): self._sessions,
            ("GET", "propagation"): self._propagation,
            ("POST", "pod-identity/credentials"): self._pod_credentials,
            ("POST", "principals"): self._create_principal,
            ("POST", "authorize"): self._authorize,
        }

    def handle(self, environ: dict) -> Response:
        route = environ.get("PATH_INFO", "")[len(PREFIX):].strip("/")
        handler = self._routes.get((environ["REQUEST_METHOD"], route))
        if handler is None:
            return _error(404, "NotFound", f"no control route {environ['REQUEST_METHOD']} /_awssim/{route}")
        raw = read_body(environ)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "InvalidJson", "request body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "InvalidJson", "request body must be a JSON object")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            return handler(body, query)
        except (ValueError, TypeError) as err:
            return _error(400, "InvalidArgument", str(err))

    def _reset(self, body: dict, query: dict) -> Response:
        with self.sim.state.lock:
            self.sim.state.reset()
            self.sim.faults.clear()
            self.sim.log.clear()
        return Response.json({"reset": True})

    def _set_config(self, body: dict, query: dict) -> Response:
        self.sim.state.update_config(body)
        return Response.json(self.sim.state.config.as_dict())

    def _set_faults(self, body: dict, query: dict) -> Response:
        self.sim.faults.configure(body)
        return Response.json(self.sim.faults.describe())

    def _clear_faults(self, body: dict, query: dict) -> Response:
        self.sim.faults.clear()
        return Response.json({})

    def _requests(self, body: dict, query: dict) -> Response:
        return Response.json(self.sim.log.entries(int(query.get("since", 0))))

    def _clear_requests(self, body: dict, query: dict) -> Response:
        self.sim.log.clear()
        return Response.json({})

    def _sessions(self, body: dict, query: dict) -> Response:
        with self.sim.state.lock:
            return Response.json([s.describe() for s in self.sim.state.sessions.values()])

    def _propagation(self, body: dict, query: dict) -> Response:
        with self.sim.state.lock:
            return Response.json({"unsettled": self.sim.state.unsettled_changes()})

    def _pod_credentials(self, body: dict, query: dict) -> Response:
        try:
            with self.sim.state.lock:
                creds = pod_credentials(
                    self.sim.state, self.sim.eks, self.sim.sts, body, _account(body), body.get("region") or DEFAULT_REGION
                )
        except PodIdentityError as err:
            return _error(err.status, err.code, err.message)
        return Response.json(creds)

    def _create_principal(self, body: dict, query: dict) -> Response:
        """An IAM user with an inline identity policy (and optional boundary) and an access key."""
        unknown = set(body) - {"name", "policy", "boundary", "path", "policyArns", "tags", "account"}
        if unknown:
            raise ValueError(f"unknown principal keys: {sorted(unknown)}")
        name, path = body.get("name"), body.get("path", "/")
        if not isinstance(name, str) or not _USER_NAME_RE.match(name):
            raise ValueError("name must be an IAM user name: 1-64 characters of [\\w+=,.@-]")
        if not isinstance(path, str) or not _PATH_RE.match(path):
            raise ValueError("path must be / or /segments/")
        policy = _document(body.get("policy"), "policy")
        boundary = body.get("boundary")
        if not (isinstance(boundary, str) and boundary.startswith("arn:")):
            boundary = _document(boundary, "boundary")
        tags = body.get("tags") or {}
        policy_arns = body.get("policyArns") or []
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise ValueError("tags must map strings to strings")
        if not isinstance(policy_arns, list) or not all(isinstance(a, str) for a in policy_arns):
            raise ValueError("policyArns must be a list of policy ARNs")
        with self.sim.state.lock:
            backend = iam(_account(body))
            if name in backend.users:
                return _error(409, "EntityAlreadyExists", f"User with name {name} already exists.")
            missing = [a for a in policy_arns + ([boundary] if isinstance(boundary, str) else []) if a not in backend.managed_policies]
            if missing:
                raise ValueError(f"no such managed policy: {missing[0]}")
            user = backend.create_user(DEFAULT_REGION, name, path, [{"Key": k, "Value": v} for k, v in tags.items()])
            if policy is not None:
                user.put_policy(PRINCIPAL_POLICY_NAME, json.dumps(policy))
            for arn in policy_arns:
                backend.attach_user_policy(arn, name)
            if boundary is not None:
                self.sim.state.user_boundaries[user.id] = boundary
            key = backend.create_access_key(name)
        return Response.json(
            {
                "UserName": user.name,
                "Arn": user.arn,
                "UserId": user.id,
                "AccessKeyId": key.access_key_id,
                "SecretAccessKey": key.secret_access_key,
            }
        )

    def _authorize(self, body: dict, query: dict) -> Response:
        """Would the holder of these credentials be allowed `action` on `resource`,
        the request carrying `context`?  For services moto does not serve (Bedrock
        runtime): decided as authz.py decides a signed request, over the caller's
        identity policies within its boundary, in the resource's Region."""
        unknown = set(body) - {"accessKeyId", "sessionToken", "action", "resource", "context"}
        if unknown:
            raise ValueError(f"unknown authorize keys: {sorted(unknown)}")
        action, resource, context = body.get("action"), body.get("resource"), body.get("context") or {}
        if not (isinstance(action, str) and action.count(":") == 1 and isinstance(resource, str) and resource):
            raise ValueError("action must be service:Action and resource an ARN or *")
        if not isinstance(context, dict) or not all(isinstance(v, (str, list)) for v in context.values()):
            raise ValueError("context must map condition keys to a string or a list of strings")
        service = action.partition(":")[0]
        region = resource.split(":")[3] if resource.count(":") >= 5 and resource.split(":")[3] else DEFAULT_REGION
        with self.sim.state.lock:
            try:
                caller = caller_of_key(self.sim.state, service, body.get("accessKeyId"), body.get("sessionToken"))
            except AwsError as err:
                return _error(err.status, err.code, err.message)
            given = {k.lower(): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in context.items()}
            request = EvalRequest(action, resource, {**request_context(caller, region), **given})
            reason = denial_reason(self.sim.state, caller, request)
        if reason is None:
            return Response.json({"allowed": True, "message": None})
        return Response.json({"allowed": False, "message": access_denied(service, caller, action, resource, reason).message})


def _account(body: dict) -> str:
    account = body.get("account", ACCOUNT_ID)
    if not is_account_id(account):
        raise ValueError("account must be a 12-digit account id")
    return account


def _document(value: object, what: str) -> dict | None:
    """A policy document given as JSON text or as an object, checked like IAM checks identity policies."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        return grammar.parse(text, grammar.IDENTITY)
    except AwsError as err:
        raise ValueError(f"{what}: {err.code}: {err.message}") from None
