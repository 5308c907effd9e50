"""The policy whoever runs `pulumi` with this provider needs
(`deployer-policy`, `xpander:index:deployerPolicy`), in every mode: preview,
deploy, doctor, deploy held to a permissions boundary (`--permissions-boundary`,
with and without `--managed-policy-arn`), and the boundary itself (`--mode
boundary`). Valid against AWS's catalogue by the same linter as the templates,
and the same document from the subcommand and from the function."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pulumi.runtime.proto import provider_pb2

from engine import from_struct, to_struct
from policy_lint.test_policies import BASELINE, BINARY, findings, offline  # noqa: F401 (fixture)

SCOPES = [
    [],
    ["--account-id", "123456789012", "--region", "eu-west-1", "--cluster", "prod"],
    ["--role-name-prefix", "team-a-", "--path", "/xpander/", "--partition", "aws-us-gov"],
    ["--path", "/xpander/", "--connector-path", "/xpander/connectors/"],
]
BOUNDARY = "arn:aws:iam::123456789012:policy/xpander-boundary"
ATTACHABLE = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/xpander/*"]
# (mode, its own flags): every document the subcommand prints.
DOCUMENTS = {
    "preview": ("preview", []),
    "deploy": ("deploy", []),
    "doctor": ("doctor", []),
    "deploy-within-boundary": ("deploy", ["--permissions-boundary", BOUNDARY]),
    "deploy-within-boundary-attaching": ("deploy", ["--permissions-boundary", BOUNDARY,
                                                    *(f for arn in ATTACHABLE for f in ("--managed-policy-arn", arn))]),
    "boundary": ("boundary", []),
}
# The boundary grants each data source's actions where its policies do, and
# the seed's RedshiftDataAPI grants these on "*": the same findings as the
# rendered RedshiftDataAPI, which test_policies.py holds to the seed's.
BOUNDARY_BASELINE = {tuple(atom) for (name, *atom) in BASELINE if name == "RedshiftDataAPI"}


def printed(mode: str, flags: list[str]) -> dict:
    done = subprocess.run([str(BINARY), "deployer-policy", "--mode", mode, *flags, "--json"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("flags", SCOPES, ids=["defaults", "scoped", "prefix-path-partition", "connector-path"])
def test_the_deployer_policy_passes_the_linter(document, flags):
    mode, own = DOCUMENTS[document]
    found = findings(printed(mode, [*own, *flags]))
    allowed = BOUNDARY_BASELINE if document == "boundary" else set()
    assert [line for atom, line in found if tuple(atom) not in allowed] == []


def test_the_boundary_baseline_is_what_the_linter_reports():
    found = {tuple(atom) for atom, _ in findings(printed("boundary", []))}
    assert found == BOUNDARY_BASELINE and len(found) == 4, found


def test_within_a_boundary_the_deployer_keeps_it_and_attaches_only_what_it_lists():
    def allowed(doc):
        return {a for s in doc["Statement"] if s["Effect"] == "Allow"
                for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}

    plain = printed("deploy", [])
    held = printed("deploy", DOCUMENTS["deploy-within-boundary-attaching"][1])
    bare = printed("deploy", DOCUMENTS["deploy-within-boundary"][1])
    assert allowed(held) == allowed(plain) - {"iam:DeleteRolePermissionsBoundary"}
    assert allowed(bare) == allowed(held) - {"iam:AttachRolePolicy"}
    by_sid = {s["Sid"]: s for s in held["Statement"]}
    assert by_sid["KeepTheBoundary"] == {"Sid": "KeepTheBoundary", "Effect": "Deny",
                                         "Action": "iam:DeleteRolePermissionsBoundary", "Resource": "*"}
    assert by_sid["AttachListedPoliciesWithinBoundary"]["Condition"] == {
        "ArnEquals": {"iam:PermissionsBoundary": BOUNDARY, "iam:PolicyARN": ATTACHABLE}}
    # Every role write IAM authorises with the role's boundary is held to it.
    keyed = {"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
             "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
             "iam:DeleteRole"}
    for s in held["Statement"]:
        acts = set(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if s["Effect"] == "Allow" and acts & keyed:
            assert acts <= keyed and s["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == BOUNDARY, s


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


@pytest.mark.parametrize("args,flags", [
    ({"mode": "deploy", "permissionsBoundary": BOUNDARY, "managedPolicyArns": ATTACHABLE},
     DOCUMENTS["deploy-within-boundary-attaching"][1]),
    ({"mode": "boundary", "path": "/xpander/", "connectorPath": "/xpander/connectors/"},
     ["--path", "/xpander/", "--connector-path", "/xpander/connectors/"]),
], ids=["deploy-within-boundary", "boundary"])
def test_the_function_returns_what_the_subcommand_prints_for_a_boundary(offline, args, flags):  # noqa: F811
    response = offline.call("Invoke", provider_pb2.InvokeRequest(tok="xpander:index:deployerPolicy", args=to_struct(args)))
    assert not response.failures, response.failures
    assert from_struct(getattr(response, "return"))["policy"] == printed(args["mode"], flags)


def test_bad_scope_is_refused_naming_the_argument(offline):  # noqa: F811
    response = offline.call("Invoke", provider_pb2.InvokeRequest(
        tok="xpander:index:deployerPolicy", args=to_struct({"mode": "apply", "accountId": "12"}),
    ))
    assert [f.property for f in response.failures] == ["mode"]
    done = subprocess.run([str(BINARY), "deployer-policy", "--mode", "deploy", "--account-id", "12"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "12-digit" in done.stderr


# README's blocks, by marker: the document and the command that prints it.
README_BLOCKS = {
    "preview": ("preview", []),
    "deploy": ("deploy", []),
    "deploy-within-boundary": ("deploy", ["--permissions-boundary", BOUNDARY, "--managed-policy-arn",
                                          "arn:aws:iam::123456789012:policy/xpander-extra"]),
    "boundary": ("boundary", []),
}


@pytest.mark.parametrize("block", README_BLOCKS)
def test_the_readme_shows_the_printed_documents(block):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    mode, flags = README_BLOCKS[block]
    assert f"<!-- deployer-policy:{block} -->" in readme, f"README.md shows no {block} document"
    shown = readme.split(f"<!-- deployer-policy:{block} -->\n```json\n", 1)[1].split("\n```\n<!-- deployer-policy:end -->", 1)[0]
    command = " ".join(["deployer-policy", "--mode", mode, *flags, "--json"])
    assert json.loads(shown) == printed(mode, flags), f"README.md's {block} policy is stale: paste `{command}`"
