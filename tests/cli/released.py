"""The provider as released before this change: v0.1.0, the state of main at
3843f20 (CHANGELOG.md), built from that commit's tree with cargo into a cache
outside the clone, once per machine; later runs find the binary there.

A fresh machine pays one debug build (without debug info: nothing debugs it).
Its duration is kept beside the binary, for the report that asks how much a
fresh CI machine pays."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

from cli.workspace import REPO

COMMIT = "3843f207c34973f31f47e4f1faaeea91700e2306"
VERSION = "0.1.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pulumi-xpander" / "providers" / COMMIT[:7]


def binary() -> Path:
    """pulumi-resource-xpander of v0.1.0, built if the cache lacks it."""
    built = CACHE / "pulumi-resource-xpander"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        # One build at a time on the machine (two test sessions, or a rerun).
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.is_file():
            _build(built)
    return built


def _build(target: Path) -> None:
    known = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{COMMIT}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        raise RuntimeError(f"the upgrade test builds v{VERSION} from commit {COMMIT[:7]}, which this clone lacks "
                           "(a shallow clone?): fetch the full history")
    source, work = CACHE / "src", CACHE / "target"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir()
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", COMMIT], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(source)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {COMMIT[:7]} failed")
    env = {**os.environ, "CARGO_PROFILE_DEV_DEBUG": "0", "CARGO_INCREMENTAL": "0"}
    started = time.monotonic()
    done = subprocess.run(
        ["cargo", "build", "--locked", "-p", "pulumi-resource-xpander", "--manifest-path", str(source / "Cargo.toml"),
         "--target-dir", str(work)],
        env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building v{VERSION} failed:\n{done.stderr[-4000:]}")
    seconds = time.monotonic() - started
    staged = target.with_suffix(".new")
    shutil.copy2(work / "debug" / "pulumi-resource-xpander", staged)
    staged.rename(target)
    (CACHE / "build-seconds").write_text(f"{seconds:.0f}\n")
    # The binary is all later runs need.
    shutil.rmtree(source, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
