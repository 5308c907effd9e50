"""HTTP-level view of an AWS request and the two error wire formats we answer in.

IAM and STS speak the query protocol (form-encoded request, XML response); EKS
speaks REST-JSON, Secrets Manager and KMS JSON (the action in X-Amz-Target).
Errors must follow each protocol exactly, because the SDKs pick the error code
out of `<Error><Code>` (query), the `x-amzn-ErrorType` header (REST-JSON) or
the body's `__type` (JSON; botocore reads only that) and map it to a typed
error only then.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlencode
from xml.sax.saxutils import escape

import botocore.session

if TYPE_CHECKING:
    from .identity import Caller

# The default account: the administrator key `testing` and unsigned calls act in it.
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
_ACCOUNT_RE = re.compile(r"^\d{12}$")

XML_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


class AwsError(Exception):
    """An error answered to the client in the protocol of the service called."""

    def __init__(self, code: str, message: str, status: int = 400, sender: bool = True, **fields: str):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender = sender
        self.fields = fields


# Services answering in JSON (Bedrock only through POST /_awssim/authorize); IAM, STS and
# a request naming no service (unsigned) answer in XML.
JSON_SERVICES = ("eks", "secretsmanager", "kms", "bedrock")


def is_account_id(value: object) -> bool:
    return isinstance(value, str) and _ACCOUNT_RE.match(value) is not None


def arn_account(arn: str) -> str | None:
    """The account field of an ARN (arn:partition:service:region:ACCOUNT:…), if it is one."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and is_account_id(parts[4]) else None


def validation_error(value: object, member: str, constraint: str) -> AwsError:
    """IAM/STS input-constraint failure, worded like the real services' model validation."""
    return AwsError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}",
    )


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def json(cls, payload: object, status: int = 200) -> "Response":
        return cls(status, [("Content-Type", "application/json")], json.dumps(payload).encode())

    @classmethod
    def xml(cls, body: str, status: int = 200) -> "Response":
        return cls(status, [("Content-Type", "text/xml")], body.encode())


def query_list(params: dict[str, str], prefix: str) -> list[str]:
    """Values of a query-protocol list: Prefix.member.1, Prefix.member.2, …"""
    out, n = [], 1
    while f"{prefix}.member.{n}" in params:
        out.append(params[f"{prefix}.member.{n}"])
        n += 1
    return out


def query_tags(params: dict[str, str]) -> dict[str, str]:
    """Tags.member.N.Key / .Value of a query-protocol request."""
    tags, n = {}, 1
    while f"Tags.member.{n}.Key" in params:
        tags[params[f"Tags.member.{n}.Key"]] = params.get(f"Tags.member.{n}.Value", "")
        n += 1
    return tags


def request_id() -> str:
    return str(uuid.uuid4())


def query_result(service: str, action: str, inner_xml: str) -> Response:
    """A successful query-protocol response: <ActionResponse><ActionResult>…"""
    ns = XML_NAMESPACES[service]
    return Response.xml(
        f'<{action}Response xmlns="{ns}"><{action}Result>{inner_xml}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id()}</RequestId></ResponseMetadata></{action}Response>"
    )


def render_error(service: str, err: AwsError) -> Response:
    if service in JSON_SERVICES:
        body = {"__type": err.code, "message": err.message, **err.fields}
        return Response(
            err.status,
            [("Content-Type", "application/json"), ("x-amzn-ErrorType", err.code)],
            json.dumps(body).encode(),
        )
    ns = XML_NAMESPACES.get(service, XML_NAMESPACES["iam"])
    kind = "Sender" if err.sender else "Receiver"
    return Response.xml(
        f'<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>'
        f"<Message>{escape(err.message)}</Message></Error><RequestId>{request_id()}</RequestId></ErrorResponse>",
        err.status,
    )


def read_body(environ: dict) -> bytes:
    # werkzeug de-chunks a chunked request body and marks the stream as terminated.
    if environ.get("wsgi.input_terminated"):
        return environ["wsgi.input"].read()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


class _EksRoutes:
    """(method, raw path) -> operation name, built from botocore's EKS model so
    every EKS call is named in the request log, including those moto answers."""

    def __init__(self) -> None:
        model = botocore.session.get_session().get_service_model("eks")
        routes = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http["requestUri"].split("?")[0]
            literal_len = len(re.sub(r"\{[^}]+\}", "", uri))
            pattern = re.sub(
                r"\{([^}+]+)(\+?)\}",
                lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
                re.escape(uri).replace(r"\{", "{").replace(r"\}", "}"),
            )
            routes.append((literal_len, http["method"], re.compile(f"^{pattern}/?$"), name))
        # A literal segment beats a label at the same position.
        routes.sort(key=lambda r: -r[0])
        self._routes = [(method, regex, name) for _, method, regex, name in routes]

    def match(self, method: str, raw_path: str) -> tuple[str | None, dict[str, str]]:
        for route_method, regex, name in self._routes:
            if route_method == method:
                m = regex.match(raw_path)
                if m:
                    return name, {k: unquote(v) for k, v in m.groupdict().items()}
        return None, {}


_eks_routes: _EksRoutes | None = None


def eks_routes() -> _EksRoutes:
    global _eks_routes
    if _eks_routes is None:
        _eks_routes = _EksRoutes()
    return _eks_routes


@dataclass
class AwsRequest:
    environ: dict
    method: str
    raw_path: str
    query: dict[str, list[str]]
    body: bytes
    service: str
    region: str
    access_key: str | None
    action: str | None
    params: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] = field(default_factory=dict)
    # Who signed it (identity.Caller), once the server has authenticated the request.
    caller: Caller | None = None

    @classmethod
    def from_environ(cls, environ: dict) -> "AwsRequest":
        body = read_body(environ)
        # PATH_INFO has %2F decoded into "/", which would split an EKS principalArn label.
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        raw_path = raw_uri.split("?", 1)[0]
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = _CREDENTIAL_RE.search(auth) or _CREDENTIAL_RE.search(
            "Credential=" + query.get("X-Amz-Credential", [""])[0]
        )
        access_key, region, service = (m.group(1), m.group(2), m.group(3).lower()) if m else (None, DEFAULT_REGION, "")

        params: dict[str, str] = {}
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            params = {k: v[0] for k, v in {**query, **form}.items()}
        elif environ["REQUEST_METHOD"] == "GET" and "Action" in query:
            params = {k: v[0] for k, v in query.items()}

        # JSON-protocol services (Secrets Manager, KMS) name the operation in X-Amz-Target: "<prefix>.<Action>".
        action = params.get("Action") or environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or None
        path_params: dict[str, str] = {}
        if not service:
            service = "eks" if raw_path.startswith(("/clusters", "/access-policies")) else ""
        if service == "eks":
            action, path_params = eks_routes().match(environ["REQUEST_METHOD"], raw_path)
        return cls(
            environ=environ,
            method=environ["REQUEST_METHOD"],
            raw_path=raw_path,
            query=query,
            body=body,
            service=service or "unknown",
            region=region,
            access_key=access_key,
            action=action,
            params=params,
            path_params=path_params,
        )

    @property
    def account(self) -> str:
        """The account the request acts in: its caller's (each account has its own IAM, STS and EKS)."""
        return self.caller.account if self.caller is not None else ACCOUNT_ID

    @property
    def security_token(self) -> str | None:
        return self.environ.get("HTTP_X_AMZ_SECURITY_TOKEN") or self.query.get("X-Amz-Security-Token", [None])[0]

    def json_body(self) -> dict:
        if not self.body:
            return {}
        try:
            payload = json.loads(self.body)
        except ValueError:
            raise AwsError("InvalidParameterException", "Request body is not valid JSON")
        if not isinstance(payload, dict):
            raise AwsError("InvalidParameterException", "Request body must be a JSON object")
        return payload

    def with_params(self, **changes: str) -> "AwsRequest":
        """The same query-protocol request with some parameters rewritten, for
        handing moto a normalized document instead of the one the client sent."""
        params = {**self.params, **changes}
        body = urlencode(params).encode()
        environ = dict(self.environ)
        environ["CONTENT_LENGTH"] = str(len(body))
        return AwsRequest(**{**self.__dict__, "environ": environ, "body": body, "params": params})

    def wsgi_environ(self) -> dict:
        environ = dict(self.environ)
        environ["wsgi.input"] = io.BytesIO(self.body)
        environ["CONTENT_LENGTH"] = str(len(self.body))
        return environ
