"""What a pull request's `pulumi preview --diff` shows, and what the state file
holds, for the changes a team makes after the first deploy: an edited
property, a renamed role, a rotated ExternalId, and drift made out of band."""

from __future__ import annotations

import json

from awssim.harness import AwsSim
from cli.conftest import CANARY
from cli.workspace import Pulumi
from e2e.seed import role_arn, trust_of

ROTATED = "org-canary-rotated-4c2a8e"


def ops(pulumi: Pulumi, *flags: str) -> dict[str, str]:
    return {name: step["op"] for name, step in pulumi.plan(*flags).items()}


def test_an_edited_property_is_an_update_naming_its_path(example: Pulumi):
    example.up()
    example.config_set("redshiftDatabase", "analytics")
    step = example.plan()["redshift"]
    assert step["op"] == "update"
    assert "redshift.databaseName" in step["detailedDiff"]
    assert step["detailedDiff"]["redshift.databaseName"]["kind"] == "update"
    shown = example.preview("--diff").stdout
    assert '~ databaseName: "dev" => "analytics"' in shown
    example.up()
    example.preview("--expect-no-changes")


def test_a_renamed_role_is_replaced(python_example: Pulumi, sim: AwsSim):
    example = python_example
    example.up()
    program = example.project / "__main__.py"
    program.write_text(program.read_text().replace('"xpander-redshift-access"', '"xpander-redshift-reader"'))
    step = example.plan()["redshift"]
    assert step["op"] == "replace"
    assert "roleName" in step["detailedDiff"] and step["detailedDiff"]["roleName"]["kind"] == "update-replace"
    example.up()
    iam = sim.boto3_client("iam")
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert "xpander-redshift-reader" in names and "xpander-redshift-access" not in names
    # The base role's grant follows the new name; the old grant is gone.
    grants = iam.list_role_policies(RoleName="xpander-base-role")["PolicyNames"]
    assert "xpander-assume-xpander-redshift-reader" in grants
    assert "xpander-assume-xpander-redshift-access" not in grants
    example.preview("--expect-no-changes")


def test_rotating_the_external_id_updates_in_place_and_never_shows_it(example: Pulumi, sim: AwsSim):
    example.up()
    example.config_set("organizationId", ROTATED, secret=True)
    assert ops(example) == {"redshift": "update", "eks": "update"}
    example.preview("--diff")
    example.up()
    trust = trust_of(sim.boto3_client("iam"), "xpander-redshift-access")
    external = next(s for s in trust["Statement"] if s["Sid"] == "CrossAccountWithExternalId")
    assert external["Condition"] == {"StringEquals": {"sts:ExternalId": ROTATED}}
    example.preview("--expect-no-changes")
    written = example.everything_written()
    assert CANARY not in written and ROTATED not in written


def test_state_holds_the_external_id_and_trust_as_ciphertext_only(python_example: Pulumi):
    example = python_example
    # Verbose engine and plugin logs too: what a CI log would keep.
    verbose = example.run("up", "--yes", "--skip-preview", "--logtostderr", "--logflow", "-v=9")
    assert CANARY not in verbose.output
    state = example.resources()["redshift"]
    for where, props in (("inputs", state["inputs"]), ("outputs", state["outputs"])):
        for key in ("externalId", "trustPolicy") if where == "outputs" else ("externalId",):
            value = props[key]
            assert isinstance(value, dict) and "ciphertext" in value, f"{where}.{key} is not a secret in state: {value!r}"
    assert CANARY not in json.dumps(example.export())
    assert CANARY not in example.everything_written()
    # The owner can still read it back, explicitly.
    shown = example.run("stack", "output", "--show-secrets", "--json")
    assert CANARY not in shown.stdout  # no output carries the ExternalId at all


def test_out_of_band_drift_is_reported_by_refresh_and_repaired_by_up(example: Pulumi, sim: AwsSim):
    example.up()
    iam = sim.boto3_client("iam")
    role = "xpander-redshift-access"
    iam.put_role_policy(
        RoleName=role,
        PolicyName="added-by-hand",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )
    trust = trust_of(iam, role)
    trust["Statement"] = [s for s in trust["Statement"] if s["Sid"] != "AllowFromBaseRole"]
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))

    refreshed = example.refresh("--diff")
    assert "added-by-hand" in refreshed.stdout
    # The trust holds the ExternalId, so the whole document is a secret.
    assert "~ trustPolicy: [secret] => [secret]" in refreshed.stdout
    step = example.plan()["redshift"]
    assert step["op"] == "update"

    example.up()
    assert "added-by-hand" not in iam.list_role_policies(RoleName=role)["PolicyNames"]
    sids = [s["Sid"] for s in trust_of(iam, role)["Statement"]]
    assert sids == ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]
    allow = next(s for s in trust_of(iam, role)["Statement"] if s["Sid"] == "AllowFromBaseRole")
    assert allow["Principal"] == {"AWS": role_arn("xpander-base-role")}
    example.refresh("--expect-no-changes")
