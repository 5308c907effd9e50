"""The schema compatibility check itself: crafted schema pairs, one per rule,
each proving the rule fires where it should, at the level semver gives it, and
that the verdict follows the version."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest

from compat import schema_compat as sc

REPO = Path(__file__).resolve().parents[2]
BASE = "xpander:index:Base"
CONN = "xpander:index:Conn"
S3 = "xpander:index:S3"
FINDING = "xpander:index:Finding"
COLOR = "xpander:index:Color"
FN = "xpander:index:render"


def schema(version: str = "0.1.0") -> dict:
    """A small package with every section the check reads."""
    return {
        "name": "xpander",
        "version": version,
        "description": "test package",
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": {"region": {"type": "string", "description": "AWS region"}}},
        "provider": {
            "inputProperties": {"region": {"type": "string"}, "maxRetries": {"type": "integer", "default": 3}},
        },
        "types": {
            S3: {
                "type": "object",
                "properties": {
                    "buckets": {"type": "array", "items": {"type": "string"}},
                    "readOnly": {"type": "boolean", "default": True},
                },
                "required": ["buckets"],
            },
            FINDING: {
                "type": "object",
                "properties": {"code": {"type": "string"}, "fix": {"type": "string"}},
                "required": ["code"],
            },
            COLOR: {"type": "string", "enum": [{"value": "red"}, {"value": "blue"}]},
        },
        "resources": {
            BASE: {
                "inputProperties": {
                    "roleName": {"type": "string", "willReplaceOnChanges": True},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "properties": {"arn": {"type": "string"}, "roleName": {"type": "string"}},
                "required": ["arn", "roleName"],
            },
            CONN: {
                "inputProperties": {
                    "baseRoleArn": {"type": "string"},
                    "description": {"type": "string", "description": "what it is for"},
                    "externalId": {"type": "string", "secret": True},
                    "s3": {"$ref": f"#/types/{S3}"},
                    "color": {"$ref": f"#/types/{COLOR}"},
                    "path": {"type": "string", "default": "/"},
                },
                "requiredInputs": ["baseRoleArn"],
                "properties": {
                    "arn": {"type": "string"},
                    "s3": {"$ref": f"#/types/{S3}"},
                    "accessEntryArn": {"type": "string"},
                },
                "required": ["arn"],
            },
        },
        "functions": {
            FN: {
                "inputs": {"properties": {"roleName": {"type": "string"}, "accountId": {"type": "string"}},
                           "required": ["roleName"]},
                "outputs": {"properties": {"findings": {"type": "array", "items": {"$ref": f"#/types/{FINDING}"}}},
                            "required": ["findings"]},
            },
        },
        "language": {
            "nodejs": {"packageName": "@xpander-ai/pulumi-xpander", "respectSchemaVersion": True},
            "python": {"packageName": "pulumi_xpander", "respectSchemaVersion": True},
        },
    }


def mutate(path: str, value=None, *, delete: bool = False, append=None, remove=None):
    """An edit of the schema at a '/'-separated path (keys may hold ':')."""

    def edit(doc: dict) -> None:
        keys = path.split("/")
        target = doc
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        last = keys[-1]
        if delete:
            del target[last]
        elif append is not None:
            target.setdefault(last, []).append(append)
        elif remove is not None:
            target[last].remove(remove)
        else:
            target[last] = value

    return edit


R_CONN = f"resources/{CONN}"
R_BASE = f"resources/{BASE}"
T_S3 = f"types/{S3}/properties"

# (case id, edit, level, rule, where): the rule must fire, at that level, there.
CASES = [
    ("resource removed", mutate(R_BASE, delete=True), "breaking", "resource-removed", "Base"),
    ("function removed", mutate(f"functions/{FN}", delete=True), "breaking", "function-removed", "render()"),
    ("type removed", mutate(f"types/{COLOR}", delete=True), "breaking", "type-removed", "Color"),
    ("input removed", mutate(f"{R_CONN}/inputProperties/path", delete=True), "breaking", "input-removed", "Conn.path"),
    ("output removed", mutate(f"{R_CONN}/properties/accessEntryArn", delete=True), "breaking", "output-removed",
     "Conn.accessEntryArn"),
    ("nested property removed", mutate(f"{T_S3}/readOnly", delete=True), "breaking", "property-removed",
     "Conn.s3.readOnly"),
    ("function input removed", mutate(f"functions/{FN}/inputs/properties/accountId", delete=True), "breaking",
     "input-removed", "render().accountId"),
    ("function output removed", mutate(f"functions/{FN}/outputs/properties/findings", delete=True), "breaking",
     "output-removed", "render().findings"),
    ("provider input removed", mutate("provider/inputProperties/maxRetries", delete=True), "breaking",
     "input-removed", "Provider.maxRetries"),
    ("config variable removed", mutate("config/variables/region", delete=True), "breaking", "input-removed",
     "config xpander:region"),
    ("type changed", mutate(f"{R_CONN}/inputProperties/path", {"type": "integer"}), "breaking", "type-changed",
     "Conn.path"),
    ("array item type changed", mutate(f"{T_S3}/buckets/items", {"type": "integer"}), "breaking", "type-changed",
     "Conn.s3.buckets"),
    ("map value type changed", mutate(f"{R_BASE}/inputProperties/tags/additionalProperties", {"type": "number"}),
     "breaking", "type-changed", "Base.tags"),
    ("reference changed", mutate(f"{R_CONN}/inputProperties/s3", {"$ref": f"#/types/{FINDING}"}), "breaking",
     "type-changed", "Conn.s3"),
    ("enum became another kind", mutate(f"types/{COLOR}/type", "integer"), "breaking", "type-changed", "Conn.color"),
    ("default changed", mutate(f"{T_S3}/readOnly/default", False), "breaking", "default-changed", "Conn.s3.readOnly"),
    ("default added", mutate(f"{R_CONN}/inputProperties/description/default", "none"), "breaking",
     "default-changed", "Conn.description"),
    ("default removed", mutate(f"{R_CONN}/inputProperties/path/default", delete=True), "breaking",
     "default-changed", "Conn.path"),
    ("environment default added", mutate("provider/inputProperties/region/defaultInfo", {"environment": ["AWS_REGION"]}),
     "breaking", "default-changed", "Provider.region"),
    ("input now required", mutate(f"{R_CONN}/requiredInputs", append="path"), "breaking", "now-required",
     "Conn.path"),
    ("required input added", lambda d: (mutate(f"{R_CONN}/inputProperties/clusterName", {"type": "string"})(d),
                                        mutate(f"{R_CONN}/requiredInputs", append="clusterName")(d)),
     "breaking", "required-input-added", "Conn.clusterName"),
    ("nested input now required", mutate(f"types/{S3}/required", append="readOnly"), "breaking", "now-required",
     "Conn.s3.readOnly"),
    ("config now required", mutate("config/defaults", ["region"]), "breaking", "now-required",
     "config xpander:region"),
    ("output may be absent", mutate(f"{R_BASE}/required", remove="arn"), "breaking", "now-optional", "Base.arn"),
    ("output type field may be absent", mutate(f"types/{FINDING}/required", remove="code"), "breaking",
     "now-optional", "render().findings.code"),
    ("function argument now optional (Go pointer)", mutate(f"functions/{FN}/inputs/required", remove="roleName"),
     "breaking", "now-optional", "render().roleName"),
    ("output now required (Go pointer)", mutate(f"{R_CONN}/required", append="accessEntryArn"), "breaking",
     "now-required", "Conn.accessEntryArn"),
    ("now replaces", mutate(f"{R_CONN}/inputProperties/path/willReplaceOnChanges", True), "breaking",
     "now-replaces", "Conn.path"),
    ("now secret", mutate(f"{R_CONN}/inputProperties/baseRoleArn/secret", True), "breaking", "now-secret",
     "Conn.baseRoleArn"),
    ("no longer secret", mutate(f"{R_CONN}/inputProperties/externalId/secret", delete=True), "breaking",
     "no-longer-secret", "Conn.externalId"),
    ("plain changed", mutate(f"{R_CONN}/inputProperties/path/plain", True), "breaking", "plain-changed", "Conn.path"),
    ("enum value removed", mutate(f"types/{COLOR}/enum", [{"value": "red"}]), "breaking", "enum-value-removed",
     "Conn.color"),
    ("package renamed", mutate("name", "xpander2"), "breaking", "name-changed", "name"),
    ("module format changed", mutate("meta/moduleFormat", "(.*)(?:/[^/]*)"), "breaking", "module-format-changed",
     "meta moduleFormat"),
    ("npm package renamed", mutate("language/nodejs/packageName", "@xpander/pulumi"), "breaking", "package-renamed",
     "nodejs packageName"),
    ("python SDK dropped", mutate("language/python", delete=True), "breaking", "sdk-removed", "python"),
    ("resource added", mutate(f"resources/xpander:index:New", {"inputProperties": {}}), "feature", "resource-added",
     "New"),
    ("function added", mutate("functions/xpander:index:other", {"inputs": {}, "outputs": {}}), "feature",
     "function-added", "other()"),
    ("type added", mutate("types/xpander:index:Extra", {"type": "object", "properties": {}}), "feature", "type-added",
     "Extra"),
    ("optional input added", mutate(f"{R_CONN}/inputProperties/clusterName", {"type": "string"}), "feature",
     "input-added", "Conn.clusterName"),
    ("output added", mutate(f"{R_BASE}/properties/roleId", {"type": "string"}), "feature", "output-added",
     "Base.roleId"),
    ("input now optional", mutate(f"{R_CONN}/requiredInputs", remove="baseRoleArn"), "feature", "now-optional",
     "Conn.baseRoleArn"),
    ("no longer replaces", mutate(f"{R_BASE}/inputProperties/roleName/willReplaceOnChanges", delete=True), "feature",
     "no-longer-replaces", "Base.roleName"),
    ("deprecated", mutate(f"{R_CONN}/inputProperties/path/deprecationMessage", "use paths"), "feature", "deprecated",
     "Conn.path"),
    ("enum value added", mutate(f"types/{COLOR}/enum", append={"value": "green"}), "feature", "enum-value-added",
     "Conn.color"),
    ("Go SDK added", mutate("language/go", {"importBasePath": "github.com/x/y"}), "feature", "sdk-added", "go"),
    ("description changed", mutate(f"{R_CONN}/inputProperties/description/description", "why"), "patch",
     "description-changed", "Conn.description"),
    ("package description changed", mutate("description", "another"), "patch", "metadata-changed", "description"),
    ("SDK dependency raised", mutate("language/python/requires", {"pulumi": ">=3.200"}), "feature",
     "dependency-changed", "python requires"),
    ("SDK setting changed", mutate("language/python/inputTypes", "classes-and-dicts"), "patch",
     "sdk-setting-changed", "python inputTypes"),
    ("generator setting changed", mutate("meta/supportPack", True), "patch", "sdk-setting-changed",
     "meta supportPack"),
]


def changed(edit) -> list[sc.Change]:
    new = schema()
    edit(new)
    return sc.compare(schema(), new)


@pytest.mark.parametrize("edit, level, rule, where", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_fires_where_and_at_the_level_semver_says(edit, level, rule, where):
    changes = changed(edit)
    assert any(c.rule == rule and c.where == where and c.level == level for c in changes), changes
    # Nothing else in the schema is reported as more serious than the edit.
    assert sc.highest(changes) == level, changes


def test_an_unchanged_schema_has_no_changes_and_the_version_is_ignored():
    assert sc.compare(schema("0.1.0"), schema("7.0.0")) == []


def test_a_type_is_reported_at_the_property_users_write():
    change = next(c for c in changed(mutate(f"{T_S3}/readOnly/default", False)) if c.rule == "default-changed")
    assert change.location == f'types["{S3}"].properties.readOnly'
    assert change.detail == "default true -> false"


@pytest.mark.parametrize(
    "baseline, level, least",
    [
        ("0.1.0", "breaking", "0.2.0"),
        ("0.1.3", "feature", "0.1.4"),
        ("0.1.3", "patch", "0.1.4"),
        ("1.4.2", "breaking", "2.0.0"),
        ("1.4.2", "feature", "1.5.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("1.4.2", None, "1.4.2"),
    ],
)
def test_least_version_follows_semver(baseline, level, least):
    assert str(sc.least_version(sc.Version.parse(baseline), level)) == least


@pytest.mark.parametrize(
    "version, baseline, level, ok",
    [
        ("0.1.0", "0.1.0", "breaking", False),
        ("0.1.1", "0.1.0", "breaking", False),
        ("0.2.0", "0.1.0", "breaking", True),
        ("0.2.0-rc.1", "0.1.0", "breaking", True),
        ("1.0.0", "0.1.0", "breaking", True),
        ("0.1.0", "0.1.0", "feature", False),
        ("0.1.1", "0.1.0", "feature", True),
        ("1.4.3", "1.4.2", "feature", False),
        ("1.5.0", "1.4.2", "feature", True),
        ("1.9.0", "1.4.2", "breaking", False),
        ("2.0.0", "1.4.2", "breaking", True),
        ("0.1.0", "0.1.0", None, True),
        ("0.0.9", "0.1.0", None, False),
    ],
)
def test_enough(version, baseline, level, ok):
    assert sc.enough(sc.Version.parse(version), sc.Version.parse(baseline), level) is ok


def test_versions_order_as_semver_says():
    order = ["0.1.0", "0.2.0-alpha", "0.2.0-alpha.2", "0.2.0-alpha.10", "0.2.0-beta", "0.2.0", "0.10.0", "1.0.0"]
    parsed = [sc.Version.parse(v) for v in order]
    assert parsed == sorted(parsed)
    with pytest.raises(ValueError):
        sc.Version.parse("0.2")


# --- the command: files on disk -------------------------------------------------


def write_tree(tmp_path: Path, release: dict, current: dict, changelog: str) -> tuple[Path, Path, Path]:
    folder = tmp_path / "releases" / f"v{release['version']}"
    folder.mkdir(parents=True)
    (folder / "schema.json").write_text(json.dumps(release))
    (tmp_path / "schema.json").write_text(json.dumps(current))
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    return tmp_path / "schema.json", tmp_path / "releases", tmp_path / "CHANGELOG.md"


def run_check(paths) -> tuple[bool, str]:
    out = io.StringIO()
    ok = sc.check(*paths, out=out)
    return ok, out.getvalue()


def test_a_breaking_change_fails_at_the_same_version_and_names_path_rule_and_versions(tmp_path):
    new = schema("0.1.0")
    mutate(f"{T_S3}/readOnly/default", False)(new)
    ok, report = run_check(write_tree(tmp_path, schema("0.1.0"), new, "## [0.1.0]\n"))
    assert not ok
    line = next(line for line in report.splitlines() if "Conn.s3.readOnly" in line)
    assert "breaking" in line and "default-changed" in line and "true -> false" in line
    assert "version 0.1.0 does not tell the truth" in report and "need 0.2.0 or later" in report


def test_the_same_change_passes_once_the_minor_moved(tmp_path):
    new = schema("0.2.0")
    mutate(f"{T_S3}/readOnly/default", False)(new)
    ok, report = run_check(write_tree(tmp_path, schema("0.1.0"), new, "## [0.2.0] - Unreleased\n\n## [0.1.0]\n"))
    assert ok, report
    assert "ok: breaking changes need 0.2.0 or later; the version is 0.2.0" in report


def test_a_version_without_a_changelog_section_fails(tmp_path):
    ok, report = run_check(write_tree(tmp_path, schema("0.1.0"), schema("0.1.1"), "## [0.1.0]\n"))
    assert not ok
    assert "CHANGELOG.md has no section for 0.1.1" in report


def test_a_version_older_than_the_release_fails(tmp_path):
    ok, report = run_check(write_tree(tmp_path, schema("0.2.0"), schema("0.1.9"), "## [0.1.9]\n"))
    assert not ok
    assert "older than the last release 0.2.0" in report


def test_the_newest_release_is_the_baseline(tmp_path):
    paths = write_tree(tmp_path, schema("0.2.0"), schema("0.2.0"), "## [0.2.0]\n")
    older = schema("0.1.0")
    mutate(R_BASE, delete=True)(older)
    (paths[1] / "v0.1.0").mkdir()
    (paths[1] / "v0.1.0" / "schema.json").write_text(json.dumps(older))
    ok, report = run_check(paths)
    assert ok, report
    assert "against the last release 0.2.0" in report


def test_a_baseline_whose_folder_and_version_disagree_is_refused(tmp_path):
    paths = write_tree(tmp_path, schema("0.1.0"), schema("0.1.0"), "## [0.1.0]\n")
    (paths[1] / "v0.1.0").rename(paths[1] / "v0.3.0")
    ok, report = run_check(paths)
    assert not ok
    assert "says version 0.1.0, its folder says 0.3.0" in report


def test_the_0_1_0_changes_that_kept_the_version_would_have_been_caught(tmp_path):
    """The round before this check removed eks.region and made S3 and DynamoDB
    read-only by default, and stayed at 0.1.0: rebuilt from the committed
    release schema, that history fails the check."""
    release = json.loads((REPO / "releases" / "v0.1.0" / "schema.json").read_text())
    earlier = copy.deepcopy(release)
    eks = earlier["types"]["xpander:index:Eks"]["properties"]
    eks["region"] = {"type": "string", "description": "Region of the cluster."}
    for token in ("xpander:index:S3", "xpander:index:DynamoDb"):
        del earlier["types"][token]["properties"]["readOnly"]["default"]
    ok, report = run_check(write_tree(tmp_path, earlier, release, "## [0.1.0]\n"))
    assert not ok
    for where, rule in (("XpanderConnectorRole.eks.region", "property-removed"),
                        ("XpanderConnectorRole.s3.readOnly", "default-changed"),
                        ("XpanderConnectorRole.dynamodb.readOnly", "default-changed")):
        assert any(where in line and rule in line and "breaking" in line for line in report.splitlines()), report


def test_the_committed_baseline_is_the_schema_of_release_0_1_0():
    release = json.loads((REPO / "releases" / "v0.1.0" / "schema.json").read_text())
    assert release["version"] == "0.1.0" and release["name"] == "xpander"
