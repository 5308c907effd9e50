"""The release in dist/, installed as README's "Installing a release" says, by
a user outside the checkout: the plugin from its archive into a fresh
PULUMI_HOME, the wheel into a new virtualenv, the npm tarball into a new
project; then a Python and a TypeScript program each deploy a base role and an
S3 connector against awssim with the real `pulumi` CLI, and destroy them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

from awssim.harness import AwsSim
from dist.release import DIST, REPO, Release, User, install_commands

PROGRAMS = Path(__file__).parent / "programs"
ORGANIZATION_ID = "org-dist-4b7e1c"


# --- the files ------------------------------------------------------------------------


def test_sha256sums_lists_exactly_the_release_files(release: Release):
    lines = (DIST / "SHA256SUMS").read_text().splitlines()
    listed = dict(reversed(line.split(maxsplit=1)) for line in lines)
    assert sorted(listed) == sorted(name for name in release.files if name != "SHA256SUMS")
    for name, digest in listed.items():
        assert hashlib.sha256((DIST / name).read_bytes()).hexdigest() == digest, name


def test_the_plugin_archive_holds_the_stripped_binary_readme_and_license(release: Release):
    with tarfile.open(DIST / release.plugin) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == ["LICENSE", "README.md", "pulumi-resource-xpander"]
        binary = members["pulumi-resource-xpander"]
        assert binary.mode == 0o755 and binary.uid == 0 and binary.gid == 0
        elf = tar.extractfile(binary).read()
        assert (REPO / "LICENSE").read_bytes() == tar.extractfile("LICENSE").read()
    assert elf[:4] == b"\x7fELF"
    # A stripped binary has no symbol table section.
    assert b".symtab" not in elf, "the release binary is not stripped"
    assert len({m.mtime for m in members.values()}) == 1


def test_the_python_packages_carry_the_version_and_the_plugin_file(release: Release):
    with zipfile.ZipFile(DIST / release.wheel) as wheel:
        plugin = json.loads(wheel.read("pulumi_xpander/pulumi-plugin.json"))
        metadata = wheel.read(f"pulumi_xpander-{release.version}.dist-info/METADATA").decode()
        licenses = [n for n in wheel.namelist() if n.endswith("/LICENSE")]
    assert plugin == {"resource": True, "name": "xpander", "version": release.version}
    assert f"\nVersion: {release.version}\n" in metadata
    assert licenses, "the wheel ships no LICENSE"
    with tarfile.open(DIST / release.sdist) as sdist:
        names = sdist.getnames()
    assert f"pulumi_xpander-{release.version}/pulumi_xpander/pulumi-plugin.json" in names


def test_the_npm_tarball_is_the_built_sdk_at_the_version(release: Release):
    with tarfile.open(DIST / release.npm) as tgz:
        names = tgz.getnames()
        package = json.loads(tgz.extractfile("package/package.json").read())
    assert package["name"] == "@xpander-ai/pulumi-xpander"
    assert package["version"] == release.version
    assert package["pulumi"] == {"resource": True, "name": "xpander", "version": release.version}
    main = package.get("main", "index.js")
    assert f"package/{main}" in names and f"package/{main.removesuffix('.js')}.d.ts" in names
    assert not [n for n in names if n.endswith(".ts") and not n.endswith(".d.ts")], "TypeScript sources shipped"


def test_readme_gives_exactly_the_commands_this_suite_runs(release: Release):
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- release-install:begin -->(.*?)<!-- release-install:end -->", readme, re.S)
    assert block, "README has no release-install block"
    lines = {line.strip() for line in block.group(1).splitlines()}
    for commands in install_commands(release).values():
        for command in commands:
            assert command in lines, f"README's 'Installing a release' lacks `{command}`"
    # Every version it names is this release's, but the pins of registry packages.
    named = set(re.findall(r"(?<![@=\d.])v?(\d+\.\d+\.\d+)", block.group(1)))
    assert named == {release.version}, named


# --- the plugin ------------------------------------------------------------------------


def test_the_plugin_is_installed_from_its_archive_into_pulumi_home(user: User, release: Release):
    listed = json.loads(user.sh("pulumi plugin ls --json", user.home).stdout)
    mine = [p for p in listed if p["name"] == "xpander"]
    assert [(p["kind"], p["version"]) for p in mine] == [("resource", release.version)]
    folder = user.pulumi_home / "plugins" / f"resource-xpander-v{release.version}"
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "README.md", "pulumi-resource-xpander"]
    version = user.sh(f"{folder / 'pulumi-resource-xpander'} --version", user.home).stdout
    assert version.strip() == f"pulumi-resource-xpander {release.version}"


# --- programs deployed with the installed packages ---------------------------------------


def new_project(user: User, release: Release, language: str) -> Path:
    """A new project folder holding only the program; the install commands add the rest."""
    project = user.root / language
    shutil.copytree(PROGRAMS / language, project)
    for command in install_commands(release)[language]:
        user.sh(command, project)
    return project


def nothing_links_into_the_checkout(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_symlink():
            assert not Path(path.resolve()).is_relative_to(REPO), f"{path} links into the checkout"
        elif path.suffix == ".pth" and path.is_file():
            assert str(REPO) not in path.read_text(), f"{path} puts the checkout on sys.path"


def deploy_and_destroy(user: User, project: Path, aws: AwsSim, suffix: str, version: str) -> None:
    user.pulumi(project, "stack", "init", "dev", "--secrets-provider", "passphrase")
    user.pulumi(project, "config", "set", "--secret", "organizationId", stdin=ORGANIZATION_ID)
    user.pulumi(project, "up", "--yes", "--skip-preview")
    iam = aws.boto3_client("iam")
    base, connector = f"xpander-base-{suffix}", f"xpander-s3-{suffix}"

    outputs = json.loads(user.pulumi(project, "stack", "output", "--json").stdout)
    assert outputs["connectorRoleArn"] == iam.get_role(RoleName=connector)["Role"]["Arn"]
    assert outputs["baseRoleArn"] == iam.get_role(RoleName=base)["Role"]["Arn"]
    trust = iam.get_role(RoleName=connector)["Role"]["AssumeRolePolicyDocument"]
    assert [s["Sid"] for s in trust["Statement"]] == [
        "PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]
    external = next(s for s in trust["Statement"] if s["Sid"] == "CrossAccountWithExternalId")
    assert external["Condition"] == {"StringEquals": {"sts:ExternalId": ORGANIZATION_ID}}
    s3 = iam.get_role_policy(RoleName=connector, PolicyName="S3Access")["PolicyDocument"]
    actions = {a for s in s3["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:GetObject" in actions and "s3:PutObject" not in actions, actions
    assert f"xpander-assume-{connector}" in iam.list_role_policies(RoleName=base)["PolicyNames"]

    # The engine ran the plugin the SDK asked for, by version.
    state = json.loads(user.pulumi(project, "stack", "export").stdout)
    providers = [r for r in state["deployment"]["resources"] if r["type"] == "pulumi:providers:xpander"]
    assert [p["inputs"].get("version") for p in providers] == [version]
    assert ORGANIZATION_ID not in json.dumps(state)

    user.pulumi(project, "destroy", "--yes", "--skip-preview")
    remaining = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"] in (base, connector)]
    assert remaining == []


def test_a_python_program_deploys_with_the_wheel(deployer: User, aws: AwsSim, release: Release):
    project = new_project(deployer, release, "python")
    shown = deployer.sh("venv/bin/python -c 'import pulumi_xpander; print(pulumi_xpander.__file__)'", project)
    assert Path(shown.stdout.strip()).is_relative_to(project / "venv"), shown.stdout
    nothing_links_into_the_checkout(project)
    deploy_and_destroy(deployer, project, aws, "py", release.version)


def test_a_typescript_program_deploys_with_the_npm_tarball(deployer: User, aws: AwsSim, release: Release):
    project = new_project(deployer, release, "typescript")
    installed = json.loads((project / "node_modules" / "@xpander-ai" / "pulumi-xpander" / "package.json").read_text())
    assert installed["version"] == release.version
    # Two copies of @pulumi/pulumi would be two runtimes, each with half the program's resources.
    copies = sorted(str(p.parent.relative_to(project)) for p in (project / "node_modules").rglob("@pulumi/pulumi/package.json"))
    assert copies == ["node_modules/@pulumi/pulumi"], copies
    nothing_links_into_the_checkout(project)
    deploy_and_destroy(deployer, project, aws, "ts", release.version)
