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


PROVIDER_TYPE = "pulumi:providers:xpander"
# What must be secret, from outside the provider: the seed document's
# CrossAccountWithExternalId statement conditions the connector role's trust
# on the organization's ExternalId (the connector input `externalId`), and the
# provider config's assumeRole carries an ExternalId for the same purpose.
EXPECTED_SECRET_INPUTS = {
    ("xpander:index:XpanderConnectorRole", "externalId"),
    (PROVIDER_TYPE, "assumeRole.externalId"),
}


def secret_input_paths(schema: dict, props: dict, prefix: str = "", seen: tuple = ()) -> list[str]:
    """Dotted paths of the properties marked secret, following $refs into the
    package's object types (and through arrays and maps of them)."""
    found = []
    for name, prop in sorted(props.items()):
        path = f"{prefix}{name}"
        if prop.get("secret"):
            found.append(path)
        for inner in (prop, prop.get("items") or {}, prop.get("additionalProperties") or {}):
            ref = inner.get("$ref", "") if isinstance(inner, dict) else ""
            if ref.startswith("#/types/") and ref not in seen:
                type_ = schema.get("types", {}).get(ref[len("#/types/"):], {})
                found += secret_input_paths(schema, type_.get("properties", {}), f"{path}.", seen + (ref,))
    return found


def schema_secret_inputs(schema: dict) -> set[tuple[str, str]]:
    found = {(PROVIDER_TYPE, path)
             for path in secret_input_paths(schema, schema.get("provider", {}).get("inputProperties", {}))}
    for token, resource in schema.get("resources", {}).items():
        found |= {(token, path) for path in secret_input_paths(schema, resource.get("inputProperties", {}))}
    return found


def nested(path: str, leaf) -> dict:
    value = leaf
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def test_secret_resource_inputs_stay_wrapped_and_unprinted(launch, aws_env):
    """Every input the schema marks secret (the connector's ExternalId, the
    provider's assumeRole.externalId): the schema must mark each of the
    expected ones, and Check (CheckConfig for the provider) must echo it
    wrapped and never print it."""
    proc = launch(args=VERBOSE, env=aws_env(RUST_LOG="trace"))
    engine = Engine(proc)
    engine.boot({"region": "us-east-1", "skipCredentialsValidation": True})
    schema = json.loads(engine.call("GetSchema", provider_pb2.GetSchemaRequest()).schema)
    secret_inputs = schema_secret_inputs(schema)
    assert secret_inputs == EXPECTED_SECRET_INPUTS, (
        f"schema marks secret {sorted(secret_inputs)}; expected exactly {sorted(EXPECTED_SECRET_INPUTS)} "
        f"(missing {sorted(EXPECTED_SECRET_INPUTS - secret_inputs)}, unexpected {sorted(secret_inputs - EXPECTED_SECRET_INPUTS)})"
    )
    for token, path in sorted(secret_inputs):
        if token == PROVIDER_TYPE:
            # The rest of a valid config around the secret, so the answer has inputs to check.
            config = {"region": "us-east-1", "skipCredentialsValidation": True}
            news = {**config, **nested(path, Secret(SECRET))}
            if path == "assumeRole.externalId":
                news["assumeRole"]["roleArn"] = ROLE_ARN
            response = check_config(engine, news)
            assert not response.failures, [(f.property, f.reason) for f in response.failures]
        else:
            response = engine.call("Check", provider_pb2.CheckRequest(
                urn=engine.urn(token, "secretive"),
                olds=values.to_struct({}),
                news=values.to_struct(nested(path, Secret(SECRET))),
                name="secretive",
                type=token,
                randomSeed=bytes(32),
            ))
        reasons = [f.reason for f in response.failures if SECRET in f.reason or SECRET in f.property]
        assert not reasons, f"{token}.{path}: CheckFailures quote the secret"
        assert response.HasField("inputs"), f"{token}.{path}: Check returned no inputs to hold the secret"
        assert_wrapped(response.inputs, f"{token} Check inputs")
    assert proc.stop() == 0
    assert_not_printed(proc)
