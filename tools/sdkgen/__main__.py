"""Generate sdk/python and sdk/nodejs from schema.json.

    python -m tools.sdkgen            write the SDKs into sdk/
    python -m tools.sdkgen --check    fail if the committed SDKs differ from a fresh generation

Both modes generate into a scratch directory and compile the TypeScript there
(with the compiler installed in sdk/nodejs/node_modules by `make sdks`), so
what `--check` compares is exactly what a write would produce, `bin/` included.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import model, nodejs, python

REPO = Path(__file__).resolve().parents[2]
# What else lives in sdk/<language>: npm's install and lock file, and what
# building or importing the Python package leaves behind.
NOT_GENERATED = {"node_modules", "package-lock.json", "build", "dist", "__pycache__"}


def generate(schema: Path, out: Path, node_modules: Path) -> None:
    pkg = model.load(schema)
    for language, files in (("python", python.generate(pkg)), ("nodejs", nodejs.generate(pkg))):
        for rel, text in files.items():
            path = out / language / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    _compile(out / "nodejs", node_modules)


def _compile(sources: Path, node_modules: Path) -> None:
    tsc = node_modules / "typescript" / "bin" / "tsc"
    if not tsc.exists():
        sys.exit(f"sdkgen: {tsc} is missing; run `make sdks` (it installs the SDK's npm dependencies)")
    link = sources / "node_modules"
    link.symlink_to(node_modules.resolve(), target_is_directory=True)
    try:
        subprocess.run(["node", str(tsc), "-p", str(sources)], check=True)
    finally:
        link.unlink()


def _tree(root: Path) -> dict[str, Path]:
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in NOT_GENERATED and not d.endswith(".egg-info"))
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if rel not in NOT_GENERATED:
                files[rel] = path
    return files


def differences(fresh: Path, committed: Path) -> list[str]:
    new, old = _tree(fresh), _tree(committed)
    report = [f"missing: {rel}" for rel in sorted(new.keys() - old.keys())]
    report += [f"not generated: {rel}" for rel in sorted(old.keys() - new.keys())]
    for rel in sorted(new.keys() & old.keys()):
        if not filecmp.cmp(new[rel], old[rel], shallow=False):
            diff = difflib.unified_diff(
                old[rel].read_text().splitlines(), new[rel].read_text().splitlines(), f"committed/{rel}", f"generated/{rel}", lineterm="", n=1
            )
            report.append("\n".join(list(diff)[:40]))
    return report


def sync(fresh: Path, target: Path) -> None:
    """Make `target` hold exactly the generated files, keeping what npm owns."""
    new, old = _tree(fresh), _tree(target) if target.exists() else {}
    for rel in old.keys() - new.keys():
        old[rel].unlink()
    for rel, path in new.items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel not in old or not filecmp.cmp(path, dest, shallow=False):
            shutil.copyfile(path, dest)
    for dirpath, dirnames, filenames in os.walk(target, topdown=False):
        if not dirnames and not filenames and Path(dirpath) != target:
            Path(dirpath).rmdir()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sdkgen", description=__doc__.splitlines()[0])
    parser.add_argument("--schema", type=Path, default=REPO / "schema.json")
    parser.add_argument("--out", type=Path, default=REPO / "sdk")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args()
    node_modules = args.out / "nodejs" / "node_modules"
    with tempfile.TemporaryDirectory(prefix="sdkgen-") as scratch:
        fresh = Path(scratch)
        try:
            generate(args.schema, fresh, node_modules)
        except model.SchemaError as err:
            sys.exit(f"sdkgen: {err}")
        if args.check:
            report = [line for language in ("python", "nodejs") for line in differences(fresh / language, args.out / language)]
            if report:
                print("\n".join(report))
                print("the committed SDKs are stale: run `make sdks` and commit sdk/")
                return 1
            print("sdk/python and sdk/nodejs match schema.json")
            return 0
        for language in ("python", "nodejs"):
            sync(fresh / language, args.out / language)
    print(f"wrote {args.out / 'python'} and {args.out / 'nodejs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
