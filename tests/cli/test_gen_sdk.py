"""`pulumi package gen-sdk` through the real CLI writes exactly the SDK sources
this repository commits (`make sdks` writes them with Pulumi's generators
directly; this proves the result is what a user of the CLI would get).

Go is left out: gen-sdk asks the language host of the language, and the
toolchain has no Go host (README, "The Pulumi toolchain")."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.workspace import REPO, Pulumi

# What an SDK folder holds besides the generated sources: the Node.js SDK's
# lock file, its build (and what it is built with), Python's byte code.
NOT_GENERATED = {"package-lock.json", "node_modules", "bin", "__pycache__"}


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and not NOT_GENERATED & set(path.relative_to(folder).parts)
    }


@pytest.mark.parametrize("language", ["nodejs", "python"])
def test_gen_sdk_writes_the_committed_sdk(language, tmp_path, pulumi_home):
    pulumi = Pulumi(root=tmp_path / "user", project=tmp_path, aws_env={}, home=pulumi_home)
    out = tmp_path / "out"
    pulumi.run("package", "gen-sdk", str(REPO / "schema.json"), "--language", language, "--out", str(out))
    written, expected = files(out / language), files(REPO / "sdk" / language)
    assert sorted(written) == sorted(expected)
    assert [name for name in written if written[name] != expected[name]] == []
