"""A tiny in-memory provider, so the driver's engine behaviour can be tested
on its own (test_driver.py) with a provider whose answers we control.

Run as ``python fake_provider.py [flags] <engine-address>``. One resource type,
``fake:index:Widget``: inputs are echoed as outputs plus ``arn``; the id is
the ``name`` input (autonamed in Check). Knobs, as inputs:
  fail: str          -> Check failure on `fail`
  replaceKeys: list  -> changes to these keys force a replacement
  dbr: bool          -> Diff asks for delete-before-replace
  initFail: str      -> Create/Update report ErrorResourceInitFailed with this reason
  diffUnknown: bool  -> Diff answers DIFF_UNKNOWN
The store lives as long as the process, so refresh and import see it.
"""

from __future__ import annotations

import sys
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.process import GRPC_OPTIONS  # noqa: E402
from engine.values import UNKNOWN, from_struct, to_struct, unwrap_secrets  # noqa: E402
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc, status_pb2  # noqa: E402

WIDGET = "fake:index:Widget"
PropertyDiff = provider_pb2.PropertyDiff
_ABSENT = object()


class _Status(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata=()) -> None:
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


class FakeProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self) -> None:
        self.store: dict[str, tuple[dict, dict]] = {}  # id -> (inputs, outputs)

    def Handshake(self, request, context):
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=True)

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version="0.0.1")

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def Configure(self, request, context):
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=True)

    def Check(self, request, context):
        news, olds = from_struct(request.news), from_struct(request.olds)
        if "fail" in news:
            return provider_pb2.CheckResponse(failures=[provider_pb2.CheckFailure(property="fail", reason=news["fail"])])
        news.setdefault("name", olds.get("name") or request.autonaming.proposed_name)
        return provider_pb2.CheckResponse(inputs=to_struct(news))

    def Diff(self, request, context):
        olds, news = from_struct(request.old_inputs), from_struct(request.news)
        if news.get("diffUnknown"):
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_UNKNOWN)
        replace_keys = set(news.get("replaceKeys", []))
        detailed = {}
        for key in sorted(set(olds) | set(news)):
            if olds.get(key, _ABSENT) == news.get(key, _ABSENT):
                continue
            kind = PropertyDiff.ADD if key not in olds else PropertyDiff.DELETE if key not in news else PropertyDiff.UPDATE
            if key in replace_keys:
                kind += 1  # each *_REPLACE kind follows its plain kind
            detailed[key] = PropertyDiff(kind=kind, inputDiff=True)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if detailed else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=list(detailed),
            replaces=[k for k in detailed if k in replace_keys],
            detailedDiff=detailed,
            hasDetailedDiff=True,
            deleteBeforeReplace=bool(news.get("dbr")),
        )

    def Create(self, request, context):
        inputs = from_struct(request.properties)
        resource_id = unwrap_secrets(inputs["name"])
        outputs = dict(inputs, arn=UNKNOWN if request.preview else f"arn:fake:{resource_id}")
        if request.preview:
            return provider_pb2.CreateResponse(properties=to_struct(outputs))
        self.store[resource_id] = (inputs, outputs)
        self._maybe_init_fail(context, inputs, resource_id, outputs)
        return provider_pb2.CreateResponse(id=resource_id, properties=to_struct(outputs))

    def Update(self, request, context):
        inputs = from_struct(request.news)
        outputs = dict(inputs, arn=f"arn:fake:{request.id}")
        if not request.preview:
            self.store[request.id] = (inputs, outputs)
            self._maybe_init_fail(context, inputs, request.id, outputs)
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Delete(self, request, context):
        self.store.pop(request.id, None)
        return empty_pb2.Empty()

    def Read(self, request, context):
        if request.id not in self.store:
            return provider_pb2.ReadResponse()
        inputs, outputs = self.store[request.id]
        return provider_pb2.ReadResponse(id=request.id, properties=to_struct(outputs), inputs=to_struct(inputs))

    def _maybe_init_fail(self, context, inputs: dict, resource_id: str, outputs: dict) -> None:
        reason = inputs.get("initFail")
        if not reason:
            return
        detail = provider_pb2.ErrorResourceInitFailed(id=resource_id, properties=to_struct(outputs), reasons=[reason])
        status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=reason)
        status.details.add().Pack(detail)
        context.abort_with_status(
            _Status(grpc.StatusCode.UNKNOWN, reason, (("grpc-status-details-bin", status.SerializeToString()),))
        )


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=GRPC_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(FakeProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=None)


if __name__ == "__main__":
    main()
