"""`pulumi import` through the real CLI, of a setup a user built by hand with
the seed's own steps (IAM Best Practices, steps 1-2: the base role on Pod
Identity and a Redshift connector created in the "Role Creation Order"),
into a new stack of an empty program.

The import only reads AWS. Its generated code must type-check, and a program
made of it must preview with no changes; the ExternalId (the organization id)
is a secret input, so the user moves it into secret config, and it never
shows up in what the CLI prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awssim.harness import AwsSim
from cli.conftest import CANARY, EXAMPLES, PROPAGATION_DELAY_S
from cli.workspace import Pulumi, Result, mypy, tsc
from doctor import handbuilt
from e2e.seed import BASE, CONNECTOR

PROJECT = "imported"
# The resource names a user chooses; the ids are the role names.
IMPORTS = [
    {"type": BASE, "name": "base", "id": handbuilt.BASE},
    {"type": CONNECTOR, "name": "redshift", "id": handbuilt.REDSHIFT},
]
PROGRAM_FILE = {"python": "__main__.py", "typescript": "index.ts"}


class PlannedChanges(AssertionError):
    """`pulumi preview --expect-no-changes` failed: the program and the imported state differ."""


@pytest.fixture
def hand_built(aws: AwsSim) -> handbuilt.Blueprint:
    """The seed's steps 1-2 with boto3, for the base role and one Redshift
    connector whose ExternalId is the CANARY. The cluster is created by the
    blueprint, so this uses the bare simulator rather than `sim`."""
    aws.set_config(propagation_delay=PROPAGATION_DELAY_S)
    bp = handbuilt.blueprint()
    handbuilt.seed_trust(bp)  # the seed's documents as written: no Pod Identity scope, the own account's root
    bp.connectors = {handbuilt.REDSHIFT: bp.redshift}
    bp.access = {}
    bp.base.policies["AssumeConnectorRoles"][0]["Resource"] = [handbuilt.arn(handbuilt.REDSHIFT)]
    bp.redshift.sid("CrossAccountWithExternalId")["Condition"] = {"StringEquals": {"sts:ExternalId": CANARY}}
    handbuilt.apply(aws, bp)
    # The setup works before anyone imports it: the AI Gateway's chain succeeds.
    assert handbuilt.chain_works(aws, handbuilt.REDSHIFT)
    return bp


def empty_project(language: str, folder: Path) -> Path:
    """What a user has before importing: a project whose program declares nothing."""
    folder.mkdir(parents=True)
    if language == "python":
        (folder / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
        (folder / "__main__.py").write_text("import pulumi\n")
        return folder
    (folder / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: nodejs\n")
    example = EXAMPLES["typescript"]
    dependencies = json.loads((example / "package.json").read_text())["dependencies"]
    (folder / "package.json").write_text(json.dumps({"name": PROJECT, "main": "bin/index.js", "dependencies": dependencies}))
    (folder / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "outDir": "bin", "target": "es2020", "module": "commonjs", "moduleResolution": "node"},
        "files": ["index.ts"],
    }))
    (folder / "node_modules").symlink_to(example / "node_modules")
    (folder / "index.ts").write_text('import * as pulumi from "@pulumi/pulumi";\n')
    tsc(folder)
    return folder


def new_stack(sim: AwsSim, tmp_path: Path, home: Path, language: str) -> Pulumi:
    project = empty_project(language, tmp_path / language)
    pulumi = Pulumi(root=tmp_path / "user", project=project, aws_env=sim.provider_env(), home=home)
    pulumi.run("stack", "init", pulumi.stack, "--secrets-provider", "passphrase")
    return pulumi


def import_setup(pulumi: Pulumi, *flags: str) -> Result:
    """One `pulumi import` for both roles, as a user imports several resources."""
    spec = pulumi.root / "import.json"
    spec.write_text(json.dumps({"resources": IMPORTS}))
    return pulumi.run("import", "--yes", "--file", str(spec), *flags)


def mutating_calls(sim: AwsSim) -> list[dict]:
    return [r for r in sim.requests() if r["mutating"]]


def expect_no_changes(pulumi: Pulumi, sim: AwsSim) -> None:
    """`pulumi preview --expect-no-changes` on the program now holding the
    imported roles; the secret is checked for whether or not it passes."""
    sim.clear_requests()
    preview = pulumi.run("preview", "--expect-no-changes", check=False)
    assert mutating_calls(sim) == [], "pulumi preview must not change AWS"
    assert CANARY not in pulumi.everything_written()
    if preview.returncode != 0:
        raise PlannedChanges(preview.output)


def assert_imported(pulumi: Pulumi) -> None:
    resources = pulumi.resources()
    assert {name: (r["type"], r["id"]) for name, r in resources.items() if name in ("base", "redshift")} == {
        "base": (BASE, handbuilt.BASE),
        "redshift": (CONNECTOR, handbuilt.REDSHIFT),
    }
    assert all(resources[name].get("protect") for name in ("base", "redshift")), "import protects what it adopts"
    connector = resources["redshift"]["inputs"]
    assert connector["baseRoleArn"] == handbuilt.arn(handbuilt.BASE)
    assert connector["grantBaseRole"] is False, "the hand-built base role grants through AssumeConnectorRoles"
    assert "ciphertext" in connector["externalId"], "the ExternalId is a secret in the state"


HAND_WRITTEN = """\
import pulumi
import pulumi_xpander as xpander

# What the import recorded, with the organization id in secret config.
protect = pulumi.ResourceOptions(protect=True)
xpander.XpanderBaseRole(
    "base",
    role_name={base_name!r},
    connector_role_arns=[{connector_arn!r}],
    tags={base_tags!r},
    opts=protect,
)
xpander.XpanderConnectorRole(
    "redshift",
    role_name={connector_name!r},
    base_role_arn={base_arn!r},
    external_id=pulumi.Config().require_secret("organizationId"),
    grant_base_role=False,
    policies={policies!r},
    tags={connector_tags!r},
    opts=protect,
)
"""


def test_import_only_reads_and_a_program_of_its_inputs_has_no_changes(hand_built, aws, tmp_path, pulumi_home):
    """The import without code generation, then the program a user writes from
    what it recorded: the provider's half of the round trip, which needs no
    language host to generate code."""
    pulumi = new_stack(aws, tmp_path, pulumi_home, "python")
    aws.clear_requests()
    imported = import_setup(pulumi, "--generate-code=false")
    assert mutating_calls(aws) == [], "pulumi import only reads AWS"
    assert_imported(pulumi)
    assert CANARY not in imported.output

    connector = hand_built.redshift
    (pulumi.project / "__main__.py").write_text(HAND_WRITTEN.format(
        base_name=handbuilt.BASE,
        connector_arn=handbuilt.arn(handbuilt.REDSHIFT),
        base_tags=hand_built.base.tags,
        connector_name=handbuilt.REDSHIFT,
        base_arn=handbuilt.arn(handbuilt.BASE),
        # The provider writes SelfAssumeAndTagSession itself.
        policies={
            name: {"Version": "2012-10-17", "Statement": statements}
            for name, statements in connector.policies.items()
            if name != "SelfAssumeAndTagSession"
        },
        connector_tags=connector.tags,
    ))
    pulumi.config_set("organizationId", CANARY, secret=True)
    expect_no_changes(pulumi, aws)


@pytest.mark.parametrize("language", sorted(PROGRAM_FILE))
def test_generated_code_type_checks_and_previews_no_changes(language, hand_built, aws, tmp_path, pulumi_home):
    pulumi = new_stack(aws, tmp_path, pulumi_home, language)
    # The user's program becomes the generated code.
    program = pulumi.project / PROGRAM_FILE[language]
    aws.clear_requests()
    imported = import_setup(pulumi, "--out", str(program))
    assert mutating_calls(aws) == [], "pulumi import only reads AWS"
    assert_imported(pulumi)
    # --out sends the code to the file: nothing secret is printed.
    assert CANARY not in imported.output

    if language == "python":
        mypy(program)
    else:
        tsc(pulumi.project, "--noEmit")
    # The engine's import code generation (pkg/importer, 3.274.1) writes a
    # secret input as secret(<literal>): the organization id is in the code.
    # A user moves it into secret config before committing the program.
    generated = program.read_text()
    literal = f'"{CANARY}"'
    assert generated.count(literal) == 1, generated
    from_config = {
        "python": 'pulumi.Config().require_secret("organizationId")',
        "typescript": 'new pulumi.Config().requireSecret("organizationId")',
    }[language]
    program.write_text(generated.replace(literal, from_config))
    pulumi.config_set("organizationId", CANARY, secret=True)
    if language == "typescript":
        tsc(pulumi.project)
    expect_no_changes(pulumi, aws)
