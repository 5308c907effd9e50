"""The policy whoever runs `pulumi` with this provider needs
(`deployer-policy`, `xpander:index:deployerPolicy`): valid against AWS's
catalogue by the same linter as the templates, and the same document from
the subcommand and from the function."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pulumi.runtime.proto import provider_pb2

from engine import from_struct, to_struct
from policy_lint.test_policies import BINARY, findings, offline  # noqa: F401 (fixture)

SCOPES = [
    [],
    ["--account-id", "123456789012", "--region", "eu-west-1", "--cluster", "prod"],
    ["--role-name-prefix", "team-a-", "--path", "/xpander/", "--partition", "aws-us-gov"],
]


def printed(mode: str, flags: list[str]) -> dict:
    done = subprocess.run([str(BINARY), "deployer-policy", "--mode", mode, *flags, "--json"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("mode", ["preview", "deploy"])
@pytest.mark.parametrize("flags", SCOPES, ids=["defaults", "scoped", "prefix-path-partition"])
def test_the_deployer_policy_passes_the_linter(mode, flags):
    assert [line for _, line in findings(printed(mode, flags))] == []


def test_preview_is_reads_and_a_subset_of_deploy():
    def actions(doc):
        return {a for s in doc["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}

    preview, deploy = actions(printed("preview", [])), actions(printed("deploy", []))
    assert preview < deploy
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in preview), preview
    assert "iam:CreateRole" in deploy and "iam:PassRole" in deploy


def test_the_function_returns_what_the_subcommand_prints(offline):  # noqa: F811
    response = offline.call("Invoke", provider_pb2.InvokeRequest(
        tok="xpander:index:deployerPolicy",
        args=to_struct({"mode": "deploy", "accountId": "123456789012", "clusterName": "prod"}),
    ))
    assert not response.failures, response.failures
    result = from_struct(getattr(response, "return"))
    assert result["policy"] == printed("deploy", ["--account-id", "123456789012", "--cluster", "prod"])
    assert result["actions"] == sorted(result["actions"]) and len(result["actions"]) == 30


def test_bad_scope_is_refused_naming_the_argument(offline):  # noqa: F811
    response = offline.call("Invoke", provider_pb2.InvokeRequest(
        tok="xpander:index:deployerPolicy", args=to_struct({"mode": "apply", "accountId": "12"}),
    ))
    assert [f.property for f in response.failures] == ["mode"]
    done = subprocess.run([str(BINARY), "deployer-policy", "--mode", "deploy", "--account-id", "12"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "12-digit" in done.stderr


@pytest.mark.parametrize("mode", ["preview", "deploy"])
def test_the_readme_shows_the_printed_documents(mode):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split(f"<!-- deployer-policy:{mode} -->\n```json\n", 1)[1].split("\n```\n<!-- deployer-policy:end -->", 1)[0]
    assert json.loads(block) == printed(mode, []), f"README.md's {mode} policy is stale: paste `deployer-policy --mode {mode} --json`"
