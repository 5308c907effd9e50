"""mypy on the Python example against the SDK it uses; and proof that the
check catches what a user could get wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def mypy(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        # No cache: nothing written into the repository, and CI starts cold anyway.
        # The SDK's own bodies are Pulumi's generator's (they do not pass
        # --check-untyped-defs, as no generated SDK does): its types are used,
        # its errors silenced, as mypy treats any installed package.
        [sys.executable, "-m", "mypy", "--cache-dir", os.devnull, "--check-untyped-defs", "--follow-imports=silent",
         *map(str, paths)],
        env={**os.environ, "MYPYPATH": str(REPO / "sdk" / "python")},
        capture_output=True,
        text=True,
    )


def test_python_example_type_checks():
    result = mypy(REPO / "sdk-examples" / "python" / "__main__.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mistakes_in_a_program_are_type_errors(tmp_path):
    program = tmp_path / "program.py"
    program.write_text("""\
import pulumi_xpander as xpander
xpander.XpanderConnectorRole("a", redshift=xpander.RedshiftArgs(cluster_id="c", database_name="d"))
xpander.XpanderConnectorRole("b", s3={"bucket": ["data"]})
xpander.XpanderBaseRole("c", pod_identity={"cluster_name": 3})
xpander.XpanderBaseRole("d").pod_identity_association_id.apply(lambda i: i.upper())
xpander.render_connector_policies(redshift=xpander.RedshiftArgs(cluster_identifier="c", database_name="d"))
""")
    result = mypy(program)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    # Line 6: a function takes the plain classes (xpander.Redshift), not the resource Args.
    assert [line.split(":")[1] for line in errors] == ["2", "3", "4", "5", "6"], result.stdout
