"""The real `pulumi` CLI, isolated per test: a file backend and PULUMI_HOME in a
temporary folder, passphrase secrets, the toolchain built by tools/pulumi and
the provider binary of this checkout on PATH, AWS pointed at awssim.

Every command's output is kept (`transcript`) so a test can prove a secret
never reached what a user or a CI log sees.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PROVIDER = Path(os.environ.get("XPANDER_PROVIDER_BINARY", REPO / "target" / "debug" / "pulumi-resource-xpander"))
PASSPHRASE = "correct horse battery staple"
COMMAND_TIMEOUT_S = 600
# Commands that act on one stack: the helper names it on each.
STACK_COMMANDS = {"preview", "up", "refresh", "destroy", "config", "import", "state", "cancel"}

_toolchain: Path | None = None


def toolchain() -> Path:
    """The folder holding `pulumi` and the language hosts (tools/pulumi/build.sh
    builds them once per machine and prints the folder last)."""
    global _toolchain
    if _toolchain is None:
        done = subprocess.run(
            ["bash", str(REPO / "tools" / "pulumi" / "build.sh")], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"the Pulumi toolchain could not be built:\n{done.stdout}\n{done.stderr}")
        _toolchain = Path(done.stdout.strip().splitlines()[-1])
    return _toolchain


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self):
        return json.loads(self.stdout)


class CliError(AssertionError):
    pass


@dataclass
class Pulumi:
    """One user's Pulumi installation, working on one project folder."""

    root: Path
    project: Path
    aws_env: dict[str, str]
    home: Path
    stack: str = "dev"
    transcript: list[Result] = field(default_factory=list)
    # False runs Python programs as for a user: nothing of the tests' Python on any
    # path, so a project gets its packages from its own virtualenv, which the
    # language host makes from its requirements.txt.
    test_python: bool = True

    @property
    def backend(self) -> Path:
        return self.root / "backend"

    def env(self) -> dict[str, str]:
        # The Python host runs a program that has no virtualenv with the first
        # python3 on PATH: the tests' own, unless test_python is False.
        tests_bin = str(Path(sys.executable).parent)
        inherited = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p != tests_bin]
        path = [str(toolchain()), *([tests_bin] if self.test_python else []), *inherited]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PULUMI_", "AWS_")) and key not in ("PYTHONPATH",)
        }
        env.update(self.aws_env)
        env.update(
            PATH=os.pathsep.join(path),
            PULUMI_HOME=str(self.home),
            PULUMI_BACKEND_URL=f"file://{self.backend}",
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
            NO_COLOR="1",
        )
        if self.test_python:
            # The SDK generated in this checkout.
            env["PYTHONPATH"] = str(REPO / "sdk" / "python")
        return env

    def __post_init__(self) -> None:
        self.backend.mkdir(parents=True, exist_ok=True)

    def run(self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT_S, stdin: str | None = None) -> Result:
        argv = ["pulumi", *args, *self._common(args)]
        done = subprocess.run(
            argv, cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=timeout, input=stdin
        )
        result = Result(argv, done.returncode, done.stdout, done.stderr)
        self.transcript.append(result)
        if check and done.returncode != 0:
            raise CliError(f"{' '.join(argv)} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
        return result

    def _common(self, args: tuple[str, ...]) -> list[str]:
        flags = ["--non-interactive", "--color", "never"]
        if args[0] in STACK_COMMANDS or args[:2] in (("stack", "export"), ("stack", "output"), ("stack", "import")):
            flags += ["--stack", self.stack]
        return flags

    def fails(self, *args: str, timeout: float = COMMAND_TIMEOUT_S) -> Result:
        result = self.run(*args, check=False, timeout=timeout)
        if result.returncode == 0:
            raise CliError(f"{' '.join(result.args)} succeeded, expected a failure\n{result.output}")
        return result

    def start(self, *args: str) -> subprocess.Popen:
        """A command left running, for a test that interrupts it."""
        argv = ["pulumi", *args, *self._common(args)]
        return subprocess.Popen(
            argv, cwd=self.project, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    # --- the commands a user types ------------------------------------------------

    def init(self, config: dict[str, str], secrets: dict[str, str] | None = None) -> None:
        self.run("stack", "init", self.stack, "--secrets-provider", "passphrase")
        for key, value in config.items():
            self.config_set(key, value)
        for key, value in (secrets or {}).items():
            self.config_set(key, value, secret=True)

    def config_set(self, key: str, value: str, secret: bool = False, path: bool = False) -> None:
        # The value travels on stdin, so a secret is on no command line.
        flags = (["--secret"] if secret else ["--plaintext"]) + (["--path"] if path else [])
        self.run("config", "set", key, *flags, stdin=value)

    def up(self, *flags: str) -> Result:
        return self.run("up", "--yes", "--skip-preview", *flags)

    def preview(self, *flags: str) -> Result:
        return self.run("preview", *flags)

    def refresh(self, *flags: str) -> Result:
        return self.run("refresh", "--yes", "--skip-preview", *flags)

    def destroy(self, *flags: str) -> Result:
        return self.run("destroy", "--yes", "--skip-preview", *flags)

    def export(self) -> dict:
        return self.run("stack", "export").json()

    def outputs(self, show_secrets: bool = False) -> dict:
        flags = ["--show-secrets"] if show_secrets else []
        return self.run("stack", "output", "--json", *flags).json()

    def plan(self, *flags: str) -> dict[str, dict]:
        """`pulumi preview --json`: each resource's step (op, detailedDiff,
        diffReasons), by logical name; the stack itself is left out."""
        doc = self.run("preview", "--json", *flags).json()
        steps = {s["urn"].rsplit("::", 1)[-1]: s for s in doc.get("steps", [])}
        return {name: step for name, step in steps.items() if "pulumi:pulumi:Stack" not in step["urn"]}

    def resources(self) -> dict[str, dict]:
        """The stack's resources from the checkpoint, by logical name."""
        deployment = self.export()["deployment"]
        return {r["urn"].rsplit("::", 1)[-1]: r for r in deployment.get("resources", [])}

    def everything_written(self) -> str:
        """All CLI output so far and every file under the backend and PULUMI_HOME."""
        parts = [r.output for r in self.transcript]
        for folder in (self.backend, self.home / "workspaces"):
            for path in folder.rglob("*"):
                if path.is_file():
                    parts.append(path.read_bytes().decode("utf-8", "replace"))
        return "\n".join(parts)


def tsc(project: Path, *flags: str) -> None:
    """Compiles (or, with --noEmit, type-checks) a TypeScript project with the compiler in its node_modules."""
    done = subprocess.run(["node_modules/.bin/tsc", *flags], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def mypy(program: Path) -> None:
    """Type-checks a Python program against the SDK of this checkout."""
    done = subprocess.run(
        # No cache: nothing written into the repository. The SDK's own bodies are
        # Pulumi's generator's and do not pass --check-untyped-defs: its types are
        # used, its errors silenced (as for any installed package).
        [sys.executable, "-m", "mypy", "--cache-dir", os.devnull, "--check-untyped-defs", "--follow-imports=silent",
         str(program)],
        env={**os.environ, "MYPYPATH": str(REPO / "sdk" / "python")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def install_provider(home: Path) -> None:
    """What `make install` does for a user: the provider binary of this
    checkout becomes plugin resource-xpander in PULUMI_HOME."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    subprocess.run(
        [str(toolchain() / "pulumi"), "plugin", "install", "resource", "xpander", provider_version(),
         "--file", str(PROVIDER), "--reinstall", "--non-interactive"],
        env=env, check=True, capture_output=True, text=True,
    )


def provider_version() -> str:
    for line in (REPO / "provider" / "Cargo.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise RuntimeError("provider/Cargo.toml has no version")


def interrupt(proc: subprocess.Popen, when: str, budget_s: float = 300) -> str:
    """Reads a running command's output until `when` appears, then sends SIGINT
    (Ctrl-C) and returns everything it printed until it exited."""
    seen: list[str] = []
    deadline = time.monotonic() + budget_s
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if when in line:
            proc.send_signal(signal.SIGINT)
            break
        if time.monotonic() > deadline:
            proc.kill()
            raise CliError(f"{when!r} never appeared:\n{''.join(seen)}")
    else:
        raise CliError(f"the command ended before {when!r} appeared:\n{''.join(seen)}")
    rest, _ = proc.communicate(timeout=budget_s)
    return "".join(seen) + rest


def copy_project(source: Path, target: Path, own_virtualenv: bool = False) -> Path:
    """A user's copy of an example project: its sources, without stack files or
    build output; node_modules is linked, not copied. The virtualenv a Python
    project names is the tests' own (it holds the SDK's dependencies, and the
    SDK is on PYTHONPATH), so that no test waits for pip, unless the copy is to
    have its own (`own_virtualenv`), which the language host then makes."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name == "node_modules":
            (target / entry.name).symlink_to(entry)
        elif entry.name in ("venv", "bin", "__pycache__") or entry.name.startswith("Pulumi.") and entry.name != "Pulumi.yaml":
            continue
        elif entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy(entry, target / entry.name)
    virtualenv = python_virtualenv(target)
    if virtualenv and not own_virtualenv:
        (target / virtualenv).symlink_to(sys.prefix)
    return target


def python_virtualenv(project: Path) -> str | None:
    """The `runtime.options.virtualenv` of a project's Pulumi.yaml, if any."""
    file = project / "Pulumi.yaml"
    runtime = yaml.safe_load(file.read_text()).get("runtime") if file.is_file() else None
    return runtime.get("options", {}).get("virtualenv") if isinstance(runtime, dict) else None
