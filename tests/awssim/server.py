"""The WSGI application: moto's server app wrapped by our layers.

Per request: control routes are answered directly; otherwise faults are
decided first (latency, drop, throttle, random 5xx), then the caller is
authenticated by its access key (identity.py), the request's input checked,
and, for any caller but the administrator, authorised against the caller's
identity policies and permissions boundary (authz.py).  Only then does the
service layer handle the call, handing to moto whatever it does not take over.
"""

from __future__ import annotations

import socket
import time
import traceback

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from .authz import authorize
from .control import PREFIX, ControlApi
from .eks_layer import EksLayer
from .faults import Faults
from .iam_layer import IamLayer
from .identity import AccessDeniedError, Caller, resolve_caller
from .requestlog import RequestLog, is_mutating, key_params
from .state import SimState
from .sts_layer import StsLayer
from .wire import JSON_SERVICES, AwsError, AwsRequest, Response, eks_routes, render_error

SERVICES = ("iam", "sts", "eks")


class _DroppedConnection(ConnectionError):
    """Raised after closing the socket on purpose; werkzeug treats ConnectionError as a client hang-up."""


def _throttle_error(service: str) -> AwsError:
    if service == "eks":
        return AwsError("ThrottlingException", "Rate exceeded", status=429)
    # IAM and STS throttle with HTTP 400 and code Throttling (the SDKs retry it).
    return AwsError("Throttling", "Rate exceeded", status=400)


def _server_error(service: str, variant: int) -> AwsError:
    if service == "eks":
        return AwsError("ServerException", "An internal error occurred. Please try again.", status=500, sender=False)
    if variant == 1:
        return AwsError("ServiceUnavailable", "Service is unavailable. Please try again later.", status=503, sender=False)
    if service == "iam":
        return AwsError("ServiceFailure", "Request processing has failed because of an unknown error, exception or failure.", status=500, sender=False)
    return AwsError("InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", status=500, sender=False)


class _QuietHandler(MotoRequestHandler):
    # Our request log replaces werkzeug's per-request stderr line.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class AwsSimApp:
    def __init__(self, propagation_delay: float) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.state = SimState(propagation_delay)
        self.faults = Faults()
        self.log = RequestLog()
        self.iam = IamLayer(self.state)
        self.sts = StsLayer(self.state)
        self.eks = EksLayer(self.state)
        self.control = ControlApi(self)
        self._layers: dict[str, IamLayer | StsLayer | EksLayer] = {"iam": self.iam, "sts": self.sts, "eks": self.eks}

    def warm_up(self) -> None:
        """Build moto's per-service apps and our route table now, not on the first request."""
        for service in SERVICES:
            self.moto.app_instances.setdefault(service, create_backend_app(service))
        eks_routes()
        self.state.reset()

    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return self._respond(self.control.handle(environ), start_response)

        req = AwsRequest.from_environ(environ)
        decision = self.faults.decide(req.service, req.action)
        if decision.latency_s:
            time.sleep(decision.latency_s)
        params = self._loggable_params(req)
        mutating = is_mutating(req.service, req.method, req.action)
        if decision.fault == "drop":
            self.log.record(req.service, req.action, params, None, mutating, "drop")
            self._drop(environ)
        caller_arn = denied = None
        if self.faults.denied(req.action, params):
            decision.fault = "deny"
            denied = f"{req.service}:{req.action}"
            resp = render_error(req.service, AwsError("AccessDenied", f"User is not authorized to perform: {denied} (awssim deny rule)", status=403))
        elif decision.fault == "throttle":
            resp = render_error(req.service, _throttle_error(req.service))
        elif decision.fault == "error":
            resp = render_error(req.service, _server_error(req.service, decision.variant))
        else:
            resp, caller_arn, denied = self._dispatch(req)
        self.log.record(req.service, req.action, params, resp.status, mutating, decision.fault, caller=caller_arn, denied=denied)
        return self._respond(resp, start_response)

    def _dispatch(self, req: AwsRequest) -> tuple[Response, str | None, str | None]:
        """(response, caller ARN, refused action) for one request."""
        layer = self._layers.get(req.service)
        caller: Caller | None = None
        denied: str | None = None
        try:
            with self.state.lock:
                caller = req.caller = resolve_caller(self.state, req)
                precheck = getattr(layer, "precheck", None)
                if precheck is not None:
                    precheck(req)
                authorize(self.state, req, caller)
                resp = self._call_moto(req) if layer is None else layer.handle(req, self._call_moto)
        except AwsError as err:
            denied = err.action if isinstance(err, AccessDeniedError) else None
            resp = render_error(req.service, err)
        except Exception:
            traceback.print_exc()
            resp = render_error(req.service, AwsError("InternalFailure", "awssim internal error", status=500, sender=False))
        return resp, caller.arn if caller is not None else None, denied

    def _call_moto(self, req: AwsRequest) -> Response:
        captured: dict = {}

        def start_response(status: str, headers: list, exc_info=None):
            captured["status"], captured["headers"] = int(status.split()[0]), headers

        environ = req.wsgi_environ()
        # moto would take the account from the access key, and knows none of ours.
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = req.account
        chunks = self.moto(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() not in ("content-length", "connection")]
        return Response(captured["status"], headers, body)

    @staticmethod
    def _loggable_params(req: AwsRequest) -> dict:
        if req.service not in JSON_SERVICES:
            return key_params(req.params)
        try:
            body = req.json_body()
        except AwsError:
            body = {}
        params = {**body, **req.path_params}
        # EKS calls the cluster "name" both in its path label and in CreateCluster's body.
        if "name" in params:
            params["clusterName"] = params.pop("name")
        return key_params(params)

    @staticmethod
    def _drop(environ: dict) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        raise _DroppedConnection("awssim dropped the connection on purpose")

    @staticmethod
    def _respond(resp: Response, start_response):
        headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(resp.body))))
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
        start_response(f"{resp.status} {reason.get(resp.status, 'Status')}", headers)
        return [resp.body]


def build_server(port: int, propagation_delay: float) -> BaseWSGIServer:
    app = AwsSimApp(propagation_delay)
    app.warm_up()
    return make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
