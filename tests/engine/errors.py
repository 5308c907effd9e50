"""Decode the rich error details a provider attaches to a gRPC status.

The provider sends a google.rpc.Status in the `grpc-status-details-bin`
trailer; grpc-go in the engine rebuilds the error from it, so its code and
message must equal the outer ones (reference §4). We read it back the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2

# pulumi ships its own google.rpc.Status; importing googleapis-common-protos'
# copy as well would register the same full name twice in the default pool.
from pulumi.runtime.proto import errors_pb2, provider_pb2, status_pb2

DETAILS_TRAILER = "grpc-status-details-bin"

_DETAIL_TYPES = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        provider_pb2.ErrorResourceInitFailed,
        provider_pb2.ErrorResourceAwaitFailed,
        provider_pb2.ConfigureErrorMissingKeys,
        errors_pb2.InputPropertiesError,
    )
}


@dataclass
class RpcFailure:
    code: grpc.StatusCode
    message: str
    status: status_pb2.Status | None = None  # the decoded trailer, if any
    details: list = field(default_factory=list)  # unpacked messages (or raw Any)

    def detail(self, cls):
        """The first detail of the given message class, or None."""
        return next((d for d in self.details if isinstance(d, cls)), None)


def decode_error(err: grpc.RpcError) -> RpcFailure:
    failure = RpcFailure(code=err.code(), message=err.details() or "")
    raw = _trailer(err)
    if raw is None:
        return failure
    status = status_pb2.Status.FromString(raw)
    failure.status = status
    failure.details = [_unpack(any_msg) for any_msg in status.details]
    return failure


def _trailer(err: grpc.RpcError) -> bytes | None:
    trailers = err.trailing_metadata() or ()
    for key, value in trailers:
        if key == DETAILS_TRAILER:
            return value
    return None


def _unpack(any_msg: any_pb2.Any):
    name = any_msg.type_url.rsplit("/", 1)[-1]
    cls = _DETAIL_TYPES.get(name)
    if cls is None:
        return any_msg
    msg = cls()
    any_msg.Unpack(msg)
    return msg
