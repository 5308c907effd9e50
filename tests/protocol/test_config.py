"""Provider configuration: the `xpander:` stack-config keys, as CheckConfig,
DiffConfig and Configure receive them from the engine (reference §2.3)."""

from __future__ import annotations

import grpc
import pytest
from pulumi.runtime.proto import engine_pb2, provider_pb2

from engine import Engine, Secret, clean_env, values
from engine.errors import decode_error

ROLE_ARN = "arn:aws:iam::123456789012:role/xpander-deployer"

FULL_CONFIG = {
    "region": "eu-west-1",
    "profile": "xpander-dev",
    "assumeRole": {"roleArn": ROLE_ARN, "externalId": Secret("org-1234"), "sessionName": "pulumi"},
    "endpoints": {"iam": "http://127.0.0.1:5000", "sts": "http://127.0.0.1:5000", "eks": "http://127.0.0.1:5000"},
    "defaultTags": {"team": "platform", "managed-by": "pulumi"},
    "propagationTimeout": 30,
    "maxRetries": 5,
    "skipCredentialsValidation": True,
}


def check_config(engine: Engine, news: dict, olds: dict | None = None) -> provider_pb2.CheckResponse:
    return engine.call("CheckConfig", provider_pb2.CheckRequest(
        urn=engine.provider_urn,
        olds=values.to_struct(olds or {}),
        news=values.to_struct(news),
        name="default",
        type="pulumi:providers:xpander",
    ))


def failures(response) -> dict[str, str]:
    return {f.property: f.reason for f in response.failures}


def test_every_documented_key_is_accepted(engine):
    response = check_config(engine, FULL_CONFIG)
    assert not response.failures, failures(response)
    configured = engine.configure(FULL_CONFIG)
    assert configured.acceptSecrets and configured.supportsPreview and configured.acceptResources


def test_defaults_are_applied(engine):
    response = check_config(engine, {"region": "us-east-1"})
    assert not response.failures, failures(response)
    inputs = values.from_struct(response.inputs)
    assert inputs["region"] == "us-east-1"
    assert inputs.get("propagationTimeout") == 120


@pytest.mark.parametrize(
    "config, key",
    [
        ({"propagationTimeout": -1}, "propagationTimeout"),
        ({"propagationTimeout": "soon"}, "propagationTimeout"),
        ({"region": "not a region"}, "region"),
        ({"region": "mars-central-1x"}, "region"),
        ({"maxRetries": -1}, "maxRetries"),
        ({"maxRetries": 2.5}, "maxRetries"),
        ({"skipCredentialsValidation": "perhaps"}, "skipCredentialsValidation"),
        ({"assumeRole": {"roleArn": "not-an-arn"}}, "assumeRole"),
        ({"endpoints": {"iam": "not a url"}}, "endpoints"),
        ({"defaultTags": ["not", "a", "map"]}, "defaultTags"),
    ],
)
def test_invalid_values_are_check_failures_naming_the_key(engine, config, key):
    response = check_config(engine, {"region": "us-east-1", **config})
    named = [p for p in failures(response) if p.split(".")[0].split("[")[0] == key]
    assert named, f"expected a CheckFailure on {key!r}, got {failures(response)}"


def test_string_encoded_values_are_tolerated(engine):
    # Stack config set with `pulumi config set` arrives as strings, objects as JSON text.
    config = {
        "region": "us-east-1",
        "propagationTimeout": "45",
        "maxRetries": "3",
        "skipCredentialsValidation": "true",
        "defaultTags": '{"team": "platform"}',
        "endpoints": '{"iam": "http://127.0.0.1:5000"}',
        "assumeRole": '{"roleArn": "%s", "sessionName": "pulumi-ci"}' % ROLE_ARN,
    }
    response = check_config(engine, config)
    assert not response.failures, failures(response)
    assert engine.configure(config).supportsPreview


def test_secret_wrappers_are_tolerated(engine):
    config = {"region": Secret("us-east-1"), "assumeRole": Secret({"roleArn": ROLE_ARN, "externalId": "org-1"})}
    response = check_config(engine, config)
    assert not response.failures, failures(response)
    assert values.unwrap_secrets(values.from_struct(response.inputs))["region"] == "us-east-1"


@pytest.mark.parametrize("version", ["0.1.0", "9.9.9-alpha.1+build.5"])
def test_reserved_version_key_is_echoed_unchanged(engine, version):
    response = check_config(engine, {"region": "us-east-1", "version": version})
    assert not response.failures, failures(response)
    assert values.from_struct(response.inputs).get("version") == version


def test_unknown_keys_are_warned_about_not_failed(engine):
    response = check_config(engine, {"region": "us-east-1", "regoin": "us-east-2"})
    assert not response.failures, failures(response)
    warning = engine.provider.engine.service.wait_for_log(
        lambda log: log.severity == engine_pb2.WARNING and "regoin" in log.message
    )
    assert warning is not None, f"no warning naming 'regoin'; logs: {[l.message for l in engine.provider.logs]}"


def test_diff_config_reports_changes(engine):
    old = values.from_struct(check_config(engine, {"region": "us-east-1"}).inputs)
    new = values.from_struct(check_config(engine, {"region": "us-west-2"}).inputs)
    changed = engine.diff_config(old, new)
    assert changed.changes == "some" and "region" in changed.diffs
    assert engine.diff_config(old, old).changes == "none"


def test_configure_without_any_region_names_the_missing_key(launch, home):
    proc = launch(env=clean_env(home))  # no AWS_REGION / AWS_DEFAULT_REGION, empty ~/.aws
    engine = Engine(proc)
    engine.handshake()
    request = provider_pb2.ConfigureRequest(
        args=values.to_struct({"skipCredentialsValidation": True}),
        acceptSecrets=True,
        acceptResources=True,
        id=engine.provider_id,
        urn=engine.provider_urn,
        name="default",
        type="pulumi:providers:xpander",
    )
    with pytest.raises(grpc.RpcError) as raised:
        engine.call("Configure", request)
    failure = decode_error(raised.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT, failure
    detail = failure.detail(provider_pb2.ConfigureErrorMissingKeys)
    assert detail is not None, f"no ConfigureErrorMissingKeys detail in {failure}"
    assert [k.name for k in detail.missingKeys] == ["xpander:region"]
    assert failure.status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert failure.status.message == failure.message  # grpc-go rebuilds the error from the trailer


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_region_may_come_from_the_environment(launch, home, variable):
    engine = Engine(launch(env=clean_env(home, **{variable: "ap-south-1"})))
    engine.handshake()
    assert engine.configure({"skipCredentialsValidation": True}).acceptSecrets
