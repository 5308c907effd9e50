"""The Node SDK and sdk-examples/typescript: `tsc --noEmit` on both, then the
example's unit tests (node's test runner, Pulumi's mock runtime) with their
mocks sending every registration to this provider's Check.

npm dependencies come from `make test-sdks` (`npm ci` against the committed
lock files); these tests only use them.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk" / "nodejs"
EXAMPLE = REPO / "sdk-examples" / "typescript"


def tsc(project: Path, *args: str) -> subprocess.CompletedProcess:
    compiler = EXAMPLE / "node_modules" / "typescript" / "bin" / "tsc"
    if not compiler.exists():
        pytest.fail(f"{compiler} is missing: run `make test-sdks` (it runs npm ci)")
    return subprocess.run(["node", str(compiler), "-p", str(project), *args], capture_output=True, text=True)


def test_sdk_type_checks():
    result = tsc(SDK, "--noEmit")
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_type_checks():
    result = tsc(EXAMPLE, "--noEmit")
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_installs_the_built_sdk():
    """`make sdk-nodejs` built sdk/nodejs/bin from the generated sources (the
    package as npm publishes it), and `npm ci` copied it (install-links): the
    example runs exactly that build."""
    built = {p.relative_to(SDK / "bin"): p for p in (SDK / "bin").rglob("*") if p.is_file()}
    assert Path("index.js") in built and Path("types/input.d.ts") in built, sorted(map(str, built))
    assert (SDK / "bin" / "package.json").read_bytes() == (SDK / "package.json").read_bytes()
    installed = EXAMPLE / "node_modules" / "@xpander-ai" / "pulumi-xpander"
    assert not installed.is_symlink()
    copied = {p.relative_to(installed): p for p in installed.rglob("*") if p.is_file()}
    assert copied.keys() == built.keys(), "stale copy of the SDK: run `make test-sdks`"
    for rel, path in built.items():
        assert copied[rel].read_bytes() == path.read_bytes(), f"stale copy of {rel}: run `make test-sdks`"
    assert not (installed / "node_modules").exists(), "the SDK must share the example's @pulumi/pulumi"


def test_example_unit_tests_pass_with_the_provider_check(provider, engine):
    build = tsc(EXAMPLE)
    assert build.returncode == 0, build.stdout + build.stderr
    tests = sorted(str(p.relative_to(EXAMPLE)) for p in (EXAMPLE / "bin" / "test").glob("*.test.js"))
    assert tests, "no compiled test files"
    result = subprocess.run(
        ["node", "--test", *tests],
        cwd=EXAMPLE,
        env={**os.environ, "XPANDER_PROVIDER_ADDRESS": f"127.0.0.1:{provider.port}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = dict(re.findall(r"^# (pass|fail|skipped|cancelled|todo) (\d+)$", result.stdout, re.M))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert int(summary["pass"]) >= 10 and summary["fail"] == summary["skipped"] == summary["cancelled"] == "0", summary
