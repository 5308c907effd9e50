"""One version, from provider/Cargo.toml, everywhere a user can read one.

Lists the version each released thing carries (the binary's --version, the
schema, every SDK's manifest and plugin file, Cargo.lock, CHANGELOG.md) and
exits 1 naming each that disagrees with provider/Cargo.toml. `make dist`
runs it first, so no archive is made from a tree that tells two versions.

    python tools/release/versions.py BINARY      # prints the version on success
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CRATE = "pulumi-resource-xpander"


def pep440(version: str) -> str:
    """The spelling Python packaging gives a semantic version (0.2.0-alpha.1 is 0.2.0a1)."""
    match = re.match(r"^(\d+\.\d+\.\d+)(?:-(alpha|beta|rc)\.?(\d+))?$", version)
    if not match:
        return version
    core, kind, number = match.groups()
    return core + ({"alpha": "a", "beta": "b", "rc": "rc"}[kind] + number if kind else "")


def crate_version() -> str:
    return tomllib.loads((REPO / "provider" / "Cargo.toml").read_text())["package"]["version"]


def found(binary: Path) -> list[tuple[str, str, str]]:
    """(where, version found, version expected there) for everything that carries one."""
    version = crate_version()
    rows: list[tuple[str, str, str]] = []

    def add(where: str, value: str | None, expected: str = version) -> None:
        rows.append((where, value if value is not None else "(none)", expected))

    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    add(f"{binary.name} --version", done.stdout.strip().removeprefix(f"{CRATE} ") if done.returncode == 0 else None)
    lock = tomllib.loads((REPO / "Cargo.lock").read_text())
    add("Cargo.lock", next((p["version"] for p in lock["package"] if p["name"] == CRATE), None))
    add("schema.json", json.loads((REPO / "schema.json").read_text()).get("version"))
    pyproject = REPO / "sdk" / "python" / "pyproject.toml"
    add("sdk/python/pyproject.toml", tomllib.loads(pyproject.read_text())["project"].get("version"), pep440(version))
    package = json.loads((REPO / "sdk" / "nodejs" / "package.json").read_text())
    add("sdk/nodejs/package.json version", package.get("version"))
    add("sdk/nodejs/package.json pulumi.version", package.get("pulumi", {}).get("version"))
    for plugin in sorted((REPO / "sdk").rglob("pulumi-plugin.json")):
        if "node_modules" in plugin.parts:
            continue
        add(str(plugin.relative_to(REPO)), json.loads(plugin.read_text()).get("version"))
    changelog = REPO / "CHANGELOG.md"
    heading = re.compile(rf"^##\s+\[?v?{re.escape(version)}\]?(\s|$)")
    has_section = changelog.exists() and any(heading.match(line) for line in changelog.read_text().splitlines())
    add("CHANGELOG.md section", version if has_section else None)
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = found(Path(argv[0]))
    wrong = [row for row in rows if row[1] != row[2]]
    if wrong:
        print(f"the versions disagree: provider/Cargo.toml says {crate_version()}", file=sys.stderr)
        width = max(len(where) for where, _, _ in rows)
        for where, value, expected in rows:
            mark = "" if value == expected else f"   <- expected {expected}"
            print(f"  {where:<{width}}  {value}{mark}", file=sys.stderr)
        print("run `make build schema sdks` after changing provider/Cargo.toml's version, and add its section "
              "to CHANGELOG.md", file=sys.stderr)
        return 1
    print(crate_version())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
