"""The Go SDK (sdk/go) and sdk-examples/go: both modules build and pass `go
vet` from their committed go.mod and go.sum alone, and the compiler catches
what a user could get wrong. tests/cli/test_go.py deploys the example."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk" / "go"
EXAMPLE = REPO / "sdk-examples" / "go"


def go(folder: Path, *args: str) -> subprocess.CompletedProcess:
    # -mod=readonly: a go.mod or go.sum that needs an update is an error, not a fix.
    return subprocess.run(["go", *args[:1], "-mod=readonly", *args[1:]], cwd=folder, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("folder", [SDK, EXAMPLE], ids=["sdk", "example"])
def test_module_builds_and_vets(folder):
    for command in ("build", "vet"):
        result = go(folder, command, "./...")
        assert result.returncode == 0, f"go {command} in {folder.relative_to(REPO)}:\n{result.stdout}{result.stderr}"


def test_mistakes_in_a_program_are_compile_errors(tmp_path):
    program = shutil.copytree(EXAMPLE, tmp_path / "example", ignore=shutil.ignore_patterns("automation"))
    (program / "go.mod").write_text((program / "go.mod").read_text().replace("=> ../../sdk/go", f"=> {SDK}"))
    (program / "iam" / "mistakes.go").write_text("""\
package iam

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/xpander-ai/pulumi-xpander/sdk/go/xpander"
)

func mistakes(ctx *pulumi.Context) {
	xpander.NewXpanderConnectorRole(ctx, "a", &xpander.XpanderConnectorRoleArgs{Redshift: &xpander.RedshiftArgs{ClusterId: pulumi.String("c")}})
	xpander.NewXpanderConnectorRole(ctx, "b", &xpander.XpanderConnectorRoleArgs{S3: &xpander.S3Args{Buckets: pulumi.String("data")}})
	xpander.NewXpanderBaseRole(ctx, "c", &xpander.XpanderBaseRoleArgs{PodIdentity: &xpander.PodIdentityArgs{ClusterName: pulumi.Int(3)}})
}
""")
    result = go(program, "build", "-gcflags=-e", "./iam")  # -e: every error, not the first ten
    lines = sorted({int(line.split(":")[1]) for line in result.stderr.splitlines() if line.startswith("iam/mistakes.go:")})
    assert result.returncode != 0 and lines == [10, 11, 12], result.stderr
