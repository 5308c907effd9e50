"""The plugin process contract (reference §1): how the engine starts, finds,
talks to and stops pulumi-resource-xpander."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import jsonschema
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, plugin_pb2, provider_pb2

from engine import values
from engine.process import SHUTDOWN_GRACE

REPO = Path(__file__).resolve().parents[2]
METASCHEMA = REPO.parent / "shared" / "reference" / "pulumi-package-metaschema.json"
COMMITTED_SCHEMA = REPO / "schema.json"

_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")  # not the lookbehinds (?<= and (?<!


def _warned_about(proc, key: str):
    return proc.engine.service.wait_for_log(
        lambda log: log.severity == engine_pb2.WARNING and key in log.message
    )


def _check_config_with_unknown_key(proc, key: str):
    """CheckConfig with a key the provider does not know: it must answer
    without failures and warn through Engine.Log, which proves it dialled
    the engine address it was given."""
    response = proc.stub.CheckConfig(
        provider_pb2.CheckRequest(
            urn="urn:pulumi:dev::xpander-test::pulumi:providers:xpander::default",
            news=values.to_struct({"region": "us-east-1", key: "x"}),
            olds=values.to_struct({}),
            name="default",
            type="pulumi:providers:xpander",
        ),
        timeout=30,
    )
    assert not response.failures, [(f.property, f.reason) for f in response.failures]
    return _warned_about(proc, key)


def test_first_stdout_line_is_the_port(provider):
    # ProviderProcess waits for the port as long as the engine does (its
    # 10 s connection budget) and fails the fixture past it. How fast the
    # port comes is a figure, not a contract: `make bench`, process row.
    assert re.fullmatch(rb"[0-9]+\n", provider.first_line), provider.first_line
    assert 1 <= provider.port <= 65535
    # The port is ready when printed: the first call on it is answered.
    assert provider.stub.GetPluginInfo(empty_pb2.Empty(), timeout=10).version


def test_engine_address_is_the_last_argument_and_engine_flags_are_ignored(launch):
    proc = launch(args=["--logtostderr", "-v=9", "--tracing", "http://127.0.0.1:1"])
    # No Handshake: the address can only have come from argv.
    assert _check_config_with_unknown_key(proc, "notAnXpanderKey") is not None, (
        "no WARNING about the unknown config key reached the engine address given as the last argument"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_makes_it_exit_zero_promptly(provider, sig):
    provider.stub.GetPluginInfo(empty_pb2.Empty(), timeout=10)
    # stop() gives the process the engine's grace (SHUTDOWN_GRACE) and then
    # SIGKILLs it, as the engine does: exit code 0, not -SIGKILL, is the
    # proof it left by itself within the grace, with no clock reading here.
    code = provider.stop(sig)
    assert code != -signal.SIGKILL, f"not gone {SHUTDOWN_GRACE} s after {signal.Signals(sig).name}: killed"
    assert code == 0, f"exit code {code} after {signal.Signals(sig).name}\n{provider.stderr}"


def test_attach_mode(launch):
    proc = launch(engine_address=None)  # started by hand: no engine address in argv
    assert proc.port > 0
    # In attach mode the engine's Handshake carries no directories.
    response = proc.stub.Handshake(provider_pb2.ProviderHandshakeRequest(engine_address=proc.engine.address), timeout=10)
    assert response.accept_secrets
    proc.stub.Attach(plugin_pb2.PluginAttach(address=proc.engine.address), timeout=10)
    assert _check_config_with_unknown_key(proc, "attachModeProbe") is not None, (
        "after Handshake/Attach the provider did not log to the engine address it was given"
    )


def test_version_flag_prints_the_crate_version(binary, crate_version):
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    first_line = result.stdout.splitlines()[0] if result.stdout else ""
    assert crate_version in first_line, f"--version printed {result.stdout!r}"


@pytest.mark.parametrize("word", ["deployer-polcy", "schemas", "localhost"])
def test_an_unknown_first_word_is_refused_not_served(binary, word):
    """A mistyped subcommand must not start a server that waits forever."""
    result = subprocess.run([binary, word], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2
    assert result.stdout == ""  # no port line: no server started
    assert f'unknown command "{word}"' in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def schema_from_subcommand(binary):
    result = subprocess.run([binary, "schema"], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_schema_subcommand_prints_the_committed_schema(schema_from_subcommand):
    # Until schema.json is first generated there is nothing to be stale against.
    if COMMITTED_SCHEMA.is_file():
        committed = json.loads(COMMITTED_SCHEMA.read_text())
        assert schema_from_subcommand == committed, "schema.json is stale: regenerate it from the provider"


def test_schema_is_valid_against_pulumis_metaschema(schema_from_subcommand, crate_version):
    validator = jsonschema.Draft202012Validator(_python_regex_patterns(json.loads(METASCHEMA.read_text())))
    errors = sorted(validator.iter_errors(schema_from_subcommand), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
    assert schema_from_subcommand["name"] == "xpander"
    assert schema_from_subcommand.get("version") in (None, crate_version)


def _python_regex_patterns(node):
    """The metaschema writes named groups as `(?<name>` (ECMAScript); Python's
    `re`, which jsonschema uses, spells them `(?P<name>`."""
    if isinstance(node, dict):
        return {
            k: _NAMED_GROUP.sub("(?P<", v) if k == "pattern" and isinstance(v, str) else _python_regex_patterns(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_python_regex_patterns(v) for v in node]
    return node
