"""The ExternalId is a secret: the provider must hand it back wrapped (the
engine stores unwrapped values in plaintext, since a provider that accepts
secrets is trusted to mark them) and must never print it (reference §3)."""

from __future__ import annotations

import json

from pulumi.runtime.proto import provider_pb2

from engine import Engine, Secret, values

SECRET = "xpander-org-7c1f0e9a-external-id"
ROLE_ARN = "arn:aws:iam::123456789012:role/xpander-deployer"
VERBOSE = ["--logtostderr", "-v=9"]  # the most talkative the engine ever makes a plugin


def plaintext_paths(value, needle: str, path: str = "") -> list[str]:
    """Where ``needle`` occurs outside any Secret wrapper."""
    if isinstance(value, Secret):
        return []
    if isinstance(value, str):
        return [path or "<root>"] if needle in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in plaintext_paths(v, needle, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plaintext_paths(v, needle, f"{path}[{i}]")]
    return []


def assert_wrapped(struct, what: str) -> None:
    decoded = values.from_struct(struct)
    leaks = plaintext_paths(decoded, SECRET)
    assert not leaks, f"{what}: secret in plaintext at {leaks}"
    assert SECRET in json.dumps(values.encode(decoded)), f"{what}: the secret was dropped, not kept wrapped"


def assert_not_printed(proc) -> None:
    logged = [log.message for log in proc.logs if SECRET in log.message]
    assert not logged, f"Engine.Log messages contain the secret: {logged}"
    assert SECRET not in proc.stderr, "the provider's stderr contains the secret"
    assert SECRET not in proc.stdout_after_port, "the provider's stdout contains the secret"


def check_config(engine: Engine, config: dict) -> provider_pb2.CheckResponse:
    return engine.call("CheckConfig", provider_pb2.CheckRequest(
        urn=engine.provider_urn,
        olds=values.to_struct({}),
        news=values.to_struct(config),
        name="default",
        type="pulumi:providers:xpander",
    ))


def test_secret_external_id_in_config_stays_wrapped_and_unprinted(launch, aws_env):
    proc = launch(args=VERBOSE, env=aws_env(RUST_LOG="trace"))
    engine = Engine(proc)
    engine.handshake()
    config = {
        "region": "us-east-1",
        "skipCredentialsValidation": True,
        "assumeRole": {"roleArn": ROLE_ARN, "externalId": Secret(SECRET)},
    }
    response = check_config(engine, config)
    assert not response.failures, [(f.property, f.reason) for f in response.failures]
    assert_wrapped(response.inputs, "CheckConfig inputs")
    engine.configure(config)
    # A bad value next to the secret: the failure text must not quote the secret.
    rejected = check_config(engine, dict(config, assumeRole={"roleArn": "not-an-arn", "externalId": Secret(SECRET)}))
    assert rejected.failures, "an invalid roleArn must be a CheckFailure"
    assert not [f.reason for f in rejected.failures if SECRET in f.reason]
    assert proc.stop() == 0
    assert_not_printed(proc)


def test_secret_resource_inputs_stay_wrapped_and_unprinted(launch, aws_env):
    """For every resource input the schema marks secret (the connector's
    ExternalId), Check must echo it wrapped and never print it."""
    proc = launch(args=VERBOSE, env=aws_env(RUST_LOG="trace"))
    engine = Engine(proc)
    engine.boot({"region": "us-east-1", "skipCredentialsValidation": True})
    schema = json.loads(engine.call("GetSchema", provider_pb2.GetSchemaRequest()).schema)
    secret_inputs = [
        (token, name)
        for token, resource in sorted(schema.get("resources", {}).items())
        for name, prop in sorted(resource.get("inputProperties", {}).items())
        if prop.get("secret")
    ]
    for token, name in secret_inputs:
        response = engine.call("Check", provider_pb2.CheckRequest(
            urn=engine.urn(token, "secretive"),
            olds=values.to_struct({}),
            news=values.to_struct({name: Secret(SECRET)}),
            name="secretive",
            type=token,
            randomSeed=bytes(32),
        ))
        reasons = [f.reason for f in response.failures if SECRET in f.reason or SECRET in f.property]
        assert not reasons, f"{token}.{name}: CheckFailures quote the secret"
        if response.HasField("inputs"):
            assert_wrapped(response.inputs, f"{token} Check inputs")
    assert proc.stop() == 0
    assert_not_printed(proc)
