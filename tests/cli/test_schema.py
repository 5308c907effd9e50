"""The package schema through Pulumi's own tools: what the plugin serves is
schema.json, and Pulumi's validator and binder accept it without a word."""

from __future__ import annotations

import json
import os
import subprocess

from cli.workspace import PROVIDER, REPO, toolchain


def pulumi(*args: str, home) -> subprocess.CompletedProcess:
    env = {**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true", "NO_COLOR": "1"}
    return subprocess.run(
        [str(toolchain() / "pulumi"), *args, "--non-interactive"], env=env, capture_output=True, text=True, cwd=REPO
    )


def test_get_schema_serves_schema_json(tmp_path):
    served = pulumi("package", "get-schema", str(PROVIDER), home=tmp_path)
    assert served.returncode == 0, served.stderr
    assert json.loads(served.stdout) == json.loads((REPO / "schema.json").read_text())


def test_the_schema_binds_without_errors_or_warnings(tmp_path):
    checked = pulumi("schema", "check", "schema.json", home=tmp_path)
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    # The binder resolves every type reference of both resources.
    for resource in ("XpanderBaseRole", "XpanderConnectorRole"):
        info = pulumi("package", "info", "schema.json", "--module", "index", "--resource", resource, home=tmp_path)
        assert info.returncode == 0, info.stderr
        assert f"Resource: xpander:index:{resource}" in info.stdout
