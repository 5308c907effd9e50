"""A thousand randomized malformed requests: garbage bytes, wrong types,
unknown properties, oversize and deeply nested values, broken special
objects. Each gets CheckFailures naming a property, or a precise error —
never INTERNAL/UNKNOWN (the engine reads those as "state unknown") — and the
server answers correctly afterwards."""

from __future__ import annotations

import random

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2

from conftest import BASE_CONFIG
from engine.values import SECRET_SIG, SIG_KEY, to_struct

CONNECTOR = "xpander:index:XpanderConnectorRole"
BASE = "xpander:index:XpanderBaseRole"
REQUESTS = 1000
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
KNOWN = ["roleName", "path", "description", "maxSessionDuration", "tags", "baseRoleArn", "externalId", "redshift", "eks", "s3", "policies", "managedPolicyArns", "podIdentityTrust"]


def junk(rng: random.Random, depth: int = 0):
    """A random JSON-ish value, sometimes huge, deep or a broken special object."""
    pick = rng.randrange(12 if depth < 40 else 5)
    if pick == 0:
        return None
    if pick == 1:
        return rng.random() < 0.5
    if pick == 2:
        return rng.choice([0, -1, 1e308, -0.5, float(2**53 + 1), float(rng.randrange(10**6))])
    if pick == 3:
        return "".join(chr(rng.randrange(1, 0x2FFF)) for _ in range(rng.randrange(0, 40)))
    if pick == 4:
        return "x" * rng.choice([65, 1025, 100_000])
    if pick in (5, 6):
        return [junk(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if pick == 7:
        return {SIG_KEY: rng.choice(["not-a-signature", SECRET_SIG, "c44067f5952c0a294b673a41bacd8c17", 42])}
    if pick == 8:
        nested = junk(rng, depth + 1)
        for _ in range(rng.randrange(1, 60)):
            nested = {"a": nested}
        return nested
    return {rng.choice(KNOWN + ["zz", "clusterName", "buckets", ""]): junk(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def malformed_news(rng: random.Random) -> dict:
    news = {rng.choice(KNOWN + ["bogus", "id", "urn"]): junk(rng) for _ in range(rng.randrange(1, 5))}
    if rng.random() < 0.3:
        news["roleName"] = "ok-name"
    return news


def call(stub_method, request):
    try:
        return stub_method(request, timeout=10), None
    except grpc.RpcError as err:
        return None, err


def test_a_thousand_malformed_requests(provider, engine):
    engine.configure(BASE_CONFIG)
    rng = random.Random(20261125)
    stub = provider.stub
    raw = {m: provider.channel.unary_unary(f"/pulumirpc.ResourceProvider/{m}", request_serializer=lambda b: b, response_deserializer=lambda b: b)
           for m in ("Check", "Diff", "Create", "Configure", "Invoke")}
    outcomes: dict[str, int] = {}
    for i in range(REQUESTS):
        kind = i % 5
        if kind == 0:
            method = rng.choice(list(raw))
            _, err = call(raw[method], bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        elif kind in (1, 2):
            type_ = rng.choice([CONNECTOR, BASE, "xpander:index:Nope", ""])
            news = malformed_news(rng)
            try:
                struct = to_struct(news)
            except Exception:
                continue
            resp, err = call(stub.Check, provider_pb2.CheckRequest(urn=f"urn:pulumi:dev::p::{type_}::r{i}", type=type_, name=f"r{i}", olds=struct_pb2.Struct(), news=struct, randomSeed=b"s" * 32))
            if resp is not None:
                assert all(f.property for f in resp.failures), resp.failures
                # A value the codec cannot read stops decoding at the first one; otherwise
                # every wrongly typed property is named.
                codec_level = any("signature" in f.reason or "assets" in f.reason for f in resp.failures)
                bad_known = [] if codec_level else [
                    k for k, v in news.items()
                    if k in ("maxSessionDuration", "podIdentityTrust") and v is not None and not isinstance(v, (int, bool))
                ]
                for k in bad_known:
                    assert any(f.property.split(".")[0].split("[")[0] == k for f in resp.failures), (k, news[k], resp.failures)
        elif kind == 3:
            news = to_struct({"roleName": "r", "s3": {"buckets": ["xpander-b"]}})
            olds = to_struct(malformed_news(rng))
            _, err = call(stub.Diff, provider_pb2.DiffRequest(id="r", urn=f"urn:pulumi:dev::p::{CONNECTOR}::r", type=CONNECTOR, name="r", olds=olds, old_inputs=olds, news=news))
        else:
            tok = rng.choice(["xpander:index:renderConnectorPolicies", "xpander:index:diagnose", "xpander:index:nope"])
            _, err = call(stub.Invoke, provider_pb2.InvokeRequest(tok=tok, args=to_struct(malformed_news(rng)), preview=True))
        code = "OK" if err is None else err.code().name
        outcomes[code] = outcomes.get(code, 0) + 1
        if err is not None:
            assert err.code() not in FORBIDDEN, f"request {i} ({kind}): {err.code().name}: {err.details()}"

    assert sum(outcomes.values()) >= 0.9 * REQUESTS
    assert outcomes.get("INVALID_ARGUMENT", 0) > 0 and outcomes.get("OK", 0) > 0, outcomes

    # Still healthy: a correct request gets a correct answer.
    checked = stub.Check(provider_pb2.CheckRequest(urn=f"urn:pulumi:dev::p::{CONNECTOR}::fine", type=CONNECTOR, name="fine", olds=struct_pb2.Struct(),
                                                   news=to_struct({"roleName": "fine", "s3": {"buckets": ["xpander-b"]}}), randomSeed=b"s" * 32))
    assert list(checked.failures) == []
    assert provider.proc.poll() is None


@pytest.mark.parametrize("method", ["Check", "Diff", "Create", "Update", "Delete", "Read", "Configure", "Invoke", "CheckConfig"])
def test_garbage_bytes_are_invalid_argument(provider, engine, method):
    raw = provider.channel.unary_unary(f"/pulumirpc.ResourceProvider/{method}", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as err:
        raw(b"\xff\xff\xff\xff\x0f\x01", timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
