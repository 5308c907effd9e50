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

    @property
    def backend(self) -> Path:
        return self.root / "backend"

    def env(self) -> dict[str, str]:
        bins = [str(toolchain()), str(Path(sys.executable).parent)]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PULUMI_", "AWS_")) and key not in ("PYTHONPATH",)
        }
        env.update(self.aws_env)
        env.update(
            PATH=os.pathsep.join(bins + [os.environ.get("PATH", "")]),
            PULUMI_HOME=str(self.home),
            PULUMI_BACKEND_URL=f"file://{self.backend}",
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
            # The Python host runs programs with this interpreter; the SDK is
            # the one generated in this checkout.
            PULUMI_PYTHON_CMD=sys.executable,
            PYTHONPATH=str(REPO / "sdk" / "python"),
            NO_COLOR="1",
        )
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


def copy_project(source: Path, target: Path) -> Path:
    """A user's copy of an example project: its sources, without stack files or
    build output; node_modules is linked, not copied."""
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
    return target
