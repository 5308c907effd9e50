"""The simulator's own JSON API under /_awssim/ (never logged, never faulted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

from .pod_identity import PodIdentityError, pod_credentials
from .wire import DEFAULT_REGION, Response, read_body

PREFIX = "/_awssim/"


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
            ("POST", "pod-identity/credentials"): self._pod_credentials,
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

    def _pod_credentials(self, body: dict, query: dict) -> Response:
        try:
            with self.sim.state.lock:
                creds = pod_credentials(
                    self.sim.state, self.sim.eks, self.sim.sts, body, body.get("region") or DEFAULT_REGION
                )
        except PodIdentityError as err:
            return _error(err.status, err.code, err.message)
        return Response.json(creds)
