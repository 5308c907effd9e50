"""The SDK generator (tools/sdkgen): what it derives from schema.json and
what it refuses to generate."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tools.sdkgen import model, nodejs, python

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schema.json").read_text())


@pytest.fixture(scope="module")
def pkg() -> model.Package:
    return model.parse(SCHEMA)


def test_generation_is_deterministic(pkg):
    again = model.parse(copy.deepcopy(SCHEMA))
    assert python.generate(pkg) == python.generate(again)
    assert nodejs.generate(pkg) == nodejs.generate(again)


def test_every_generated_python_module_compiles(pkg):
    for rel, text in python.generate(pkg).items():
        if rel.endswith(".py"):
            compile(text, rel, "exec")


def test_plugin_metadata_names_the_schema_version(pkg):
    files = python.generate(pkg)
    assert json.loads(files["pulumi_xpander/pulumi-plugin.json"]) == {"resource": True, "name": "xpander", "version": SCHEMA["version"]}
    package_json = json.loads(nodejs.generate(pkg)["package.json"])
    assert package_json["name"] == "@xpander-ai/pulumi-xpander"
    assert package_json["pulumi"] == {"resource": True, "name": "xpander", "version": SCHEMA["version"]}
    assert f'_VERSION = "{SCHEMA["version"]}"' in files["pulumi_xpander/_utilities.py"]


def test_secret_outputs_follow_the_schema(pkg):
    for resource in pkg.resources:
        marked = sorted(name for name, spec in SCHEMA["resources"][resource.token]["properties"].items() if spec.get("secret"))
        assert sorted(resource.secret_outputs) == marked
        py = python.generate(pkg)[f"pulumi_xpander/{model.snake_case(resource.name)}.py"]
        ts = nodejs.generate(pkg)[f"{model.lower_camel(resource.name)}.ts"]
        if marked:
            assert f"additional_secret_outputs={json.dumps(marked)}" in py
            assert f"additionalSecretOutputs: {json.dumps(marked)}" in ts


def test_secret_inputs_are_wrapped_before_registration(pkg):
    py = python.generate(pkg)["pulumi_xpander/xpander_connector_role.py"]
    ts = nodejs.generate(pkg)["xpanderConnectorRole.ts"]
    assert '__props__.__dict__["external_id"] = None if external_id is None else pulumi.Output.secret(external_id)' in py
    assert 'resourceInputs["externalId"] = args?.externalId ? pulumi.secret(args.externalId) : undefined;' in ts


def test_python_names_map_to_wire_names(pkg):
    py = python.generate(pkg)["pulumi_xpander/_inputs.py"]
    assert '@pulumi.getter(name="clusterName")\n    def cluster_name(self)' in py
    assert "class PodIdentityArgsDict(TypedDict):" in py


@pytest.mark.parametrize("name, expected", [
    ("clusterName", "cluster_name"), ("s3", "s3"), ("dynamodb", "dynamodb"),
    ("XpanderConnectorRole", "xpander_connector_role"), ("renderConnectorPolicies", "render_connector_policies"),
])
def test_snake_case(name, expected):
    assert model.snake_case(name) == expected


@pytest.mark.parametrize("change, message", [
    (lambda s: s["types"]["xpander:index:S3"].update({"enum": [{"value": "a"}]}), "only object types"),
    (lambda s: s["resources"]["xpander:index:XpanderBaseRole"].update({"isComponent": True}), "component resources"),
    (lambda s: s["resources"].update({"xpander:iam:Role": {}}), "xpander:index:<Name>"),
    (lambda s: s["types"]["xpander:index:S3"]["properties"].update({"x": {"oneOf": []}}), "unsupported type"),
])
def test_unsupported_schema_features_are_refused(change, message):
    schema = copy.deepcopy(SCHEMA)
    change(schema)
    with pytest.raises(model.SchemaError, match=message):
        model.parse(schema)


def test_python_sdk_builds_a_wheel_with_its_plugin_metadata(tmp_path):
    """`pip install ./sdk/python` must ship pulumi-plugin.json (the engine's
    plugin lookup) and py.typed (type checkers) with the code."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = shutil.copytree(REPO / "sdk" / "python", tmp_path / "src")  # setuptools writes into the source tree
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)], check=True)
    wheel = next(tmp_path.glob("pulumi_xpander-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {"pulumi_xpander/pulumi-plugin.json", "pulumi_xpander/py.typed", "pulumi_xpander/xpander_connector_role.py"} <= set(names)
