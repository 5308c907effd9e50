"""Provider-level RPCs whose answers the engine relies on (reference §2.1, §2.3)."""

from __future__ import annotations

import json
import subprocess

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from engine import values
from engine.errors import decode_error

TEN_MIB = 10 * 1024 * 1024
UNKNOWN_TYPE = "xpander:index:NoSuchResource"


def _rpc_error(call, *args) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call(*args)
    return raised.value


def test_handshake_accepts_secrets_and_resources(engine):
    response = engine.calls[0].response
    assert response.accept_secrets and response.accept_resources


def test_plugin_info_reports_the_crate_version(engine, crate_version):
    assert engine.plugin_info().version == crate_version


def test_get_schema_returns_what_the_schema_subcommand_prints(engine, binary):
    response = engine.call("GetSchema", provider_pb2.GetSchemaRequest(version=0))
    printed = subprocess.run([binary, "schema"], capture_output=True, text=True, timeout=10, check=True).stdout
    assert json.loads(response.schema) == json.loads(printed)


@pytest.mark.parametrize(
    "method, request_",
    [
        ("Construct", provider_pb2.ConstructRequest(type="xpander:index:Component", name="c")),
        ("Call", provider_pb2.CallRequest(tok="xpander:index:fn")),
        ("Parameterize", provider_pb2.ParameterizeRequest(args=provider_pb2.ParameterizeRequest.ParametersArgs())),
    ],
)
def test_component_and_parameterize_rpcs_are_unimplemented(engine, method, request_):
    err = _rpc_error(engine.call, method, request_)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err


def test_list_is_unimplemented(engine):
    stream = engine.provider.stub.List(provider_pb2.ListRequest(token="xpander:index:XpanderBaseRole"), timeout=10)
    err = _rpc_error(list, stream)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err


def test_mappings_are_empty_answers_not_errors(engine):
    mapping = engine.call("GetMapping", provider_pb2.GetMappingRequest(key="terraform", provider="aws"))
    assert mapping.provider == "" and mapping.data == b""
    mappings = engine.call("GetMappings", provider_pb2.GetMappingsRequest(key="terraform"))
    assert list(mappings.providers) == []


def test_cancel_returns_ok(engine):
    assert engine.call("Cancel", empty_pb2.Empty()) == empty_pb2.Empty()
    # Cancel must not take the server down with it.
    assert engine.plugin_info().version


def test_check_on_an_unknown_type_is_invalid_argument(engine):
    request = provider_pb2.CheckRequest(
        urn=engine.urn(UNKNOWN_TYPE, "x"),
        olds=values.to_struct({}),
        news=values.to_struct({"a": 1}),
        name="x",
        type=UNKNOWN_TYPE,
        randomSeed=bytes(32),
    )
    err = _rpc_error(engine.call, "Check", request)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, decode_error(err)
    assert UNKNOWN_TYPE in (err.details() or ""), "the error should name the type"


def test_ten_mib_messages_are_accepted(engine):
    """tonic's default 4 MiB limit must be raised to the engine's 400 MiB."""
    big = "x" * TEN_MIB
    config = engine.call("CheckConfig", provider_pb2.CheckRequest(
        urn=engine.provider_urn,
        olds=values.to_struct({}),
        news=values.to_struct({"region": "us-east-1", "defaultTags": {"big": big}}),
        name="default",
        type="pulumi:providers:xpander",
    ))
    # An oversize tag value is the user's mistake: a CheckFailure, not a transport error.
    assert config.failures or config.HasField("inputs")

    resource_type = _first_resource_type(engine)
    request = provider_pb2.CheckRequest(
        urn=engine.urn(resource_type, "big"),
        olds=values.to_struct({}),
        news=values.to_struct({"padding": big}),
        name="big",
        type=resource_type,
        randomSeed=bytes(32),
    )
    try:
        response = engine.call("Check", request)
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, decode_error(err)
    else:
        assert response.failures or response.HasField("inputs")
    assert engine.plugin_info().version  # still serving


def _first_resource_type(engine) -> str:
    """A resource type from the provider's own schema, or an unknown one if it has none yet."""
    schema = json.loads(engine.call("GetSchema", provider_pb2.GetSchemaRequest()).schema)
    return next(iter(sorted(schema.get("resources", {}))), UNKNOWN_TYPE)


@pytest.mark.parametrize(
    "special",
    [
        {values.SIG_KEY: values.ASSET_SIG, "text": "hello"},
        {values.SIG_KEY: values.ARCHIVE_SIG, "assets": {}},
    ],
    ids=["asset", "archive"],
)
def test_assets_and_archives_are_rejected_naming_the_property(engine, special):
    """No xpander input is an asset: one sent anyway must be named in a
    CheckFailure or an INVALID_ARGUMENT, never crash or be stored."""
    engine.configure({"region": "us-east-1", "skipCredentialsValidation": True})
    resource_type = "xpander:index:XpanderBaseRole"
    request = provider_pb2.CheckRequest(
        urn=engine.urn(resource_type, "assets"),
        olds=values.to_struct({}),
        news=values.to_struct({"description": special}),
        name="assets",
        type=resource_type,
        randomSeed=bytes(32),
    )
    try:
        response = engine.call("Check", request)
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, decode_error(err)
        assert "description" in (err.details() or "")
    else:
        assert "description" in [f.property for f in response.failures], response
