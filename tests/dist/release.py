"""The release in dist/ (`make dist`) by the names it is given, and its user:
someone who installs it the way README's "Installing a release" says and
never cloned this repository.

The user lives in a folder of the system's temporary directory, outside the
checkout, with a HOME and a PULUMI_HOME of their own; the release's files are
copied to ~/Downloads as if downloaded. Every command runs with an
environment built from nothing: PATH holds the Pulumi CLI, Node.js, Python
and the system's folders, none inside the checkout, no PYTHONPATH, no
variable of the test's own process except the certificate and proxy settings
that let pip and npm reach their registries. pip and npm keep their usual
download caches (outside the checkout) so a second run downloads nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cli.workspace import toolchain

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "dist"
PASSPHRASE = "correct horse battery staple"
COMMAND_TIMEOUT_S = 600
# What pip and npm need from the machine to reach their registries.
PASSED_THROUGH = (
    "LANG", "LC_ALL", "TZ",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
    "PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_DEFAULT_TIMEOUT",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)


def crate_version() -> str:
    for line in (REPO / "provider" / "Cargo.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise RuntimeError("provider/Cargo.toml has no version")


def platform() -> str:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    return f"{sys.platform}-{machine}"


@dataclass(frozen=True)
class Release:
    """The files of one release, by the names `make dist` gives them."""

    version: str

    @property
    def plugin(self) -> str:
        return f"pulumi-resource-xpander-v{self.version}-{platform()}.tar.gz"

    @property
    def wheel(self) -> str:
        return f"pulumi_xpander-{self.version}-py3-none-any.whl"

    @property
    def sdist(self) -> str:
        return f"pulumi_xpander-{self.version}.tar.gz"

    @property
    def npm(self) -> str:
        return f"xpander-ai-pulumi-xpander-{self.version}.tgz"

    @property
    def files(self) -> list[str]:
        return [self.plugin, self.wheel, self.sdist, self.npm, "SHA256SUMS"]


def pypi_pin(name: str) -> str:
    """`name==version` as tests/requirements.txt pins it."""
    for line in (REPO / "tests" / "requirements.txt").read_text().splitlines():
        if line.split("==")[0].split("[")[0].strip() == name:
            return f"{name}=={line.split('==')[1].strip()}"
    raise RuntimeError(f"tests/requirements.txt does not pin {name}")


def npm_pins(*names: str) -> str:
    """`name@version` for each, as the example TypeScript project's lock file pins it."""
    lock = json.loads((REPO / "sdk-examples" / "typescript" / "package-lock.json").read_text())["packages"]
    return " ".join(f"{name}@{lock[f'node_modules/{name}']['version']}" for name in names)


def install_commands(release: Release) -> dict[str, list[str]]:
    """README's "Installing a release", by where each command runs: the
    downloads folder, a Python project, a TypeScript project. The registry
    packages beside the release are pinned as this repository pins them."""
    d = "~/Downloads"
    return {
        "downloads": [
            f"cd {d} && sha256sum --check SHA256SUMS",
            f"pulumi plugin install resource xpander {release.version} --file {d}/{release.plugin}",
        ],
        "python": [
            "python3 -m venv venv",
            f"venv/bin/pip install {d}/{release.wheel} {pypi_pin('pulumi')}",
        ],
        "typescript": [
            f"npm install {d}/{release.npm} {npm_pins('@pulumi/pulumi', 'typescript', '@types/node')}",
        ],
    }


@dataclass
class User:
    """Someone with the Pulumi CLI, Node.js and Python, and a release downloaded."""

    root: Path
    aws_env: dict[str, str] = field(default_factory=dict)
    transcript: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def downloads(self) -> Path:
        return self.home / "Downloads"

    @property
    def pulumi_home(self) -> Path:
        return self.home / ".pulumi"

    def env(self, backend: Path | None = None) -> dict[str, str]:
        python = Path(os.path.realpath(sys._base_executable)).parent
        node = Path(shutil.which("node") or "/usr/bin/node").parent
        path = [toolchain(), python, node, Path("/usr/local/bin"), Path("/usr/bin"), Path("/bin")]
        env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        env.update(
            PATH=os.pathsep.join(dict.fromkeys(str(p) for p in path)),
            HOME=str(self.home),
            PULUMI_HOME=str(self.pulumi_home),
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK="true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
            # The provider must come from PULUMI_HOME, where the archive put it, never from PATH.
            PULUMI_IGNORE_AMBIENT_PLUGINS="true",
            NO_COLOR="1",
            npm_config_cache=str(Path("~/.npm").expanduser()),
            npm_config_update_notifier="false",
            npm_config_fund="false",
            npm_config_audit="false",
            PIP_CACHE_DIR=str(Path("~/.cache/pip").expanduser()),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            **self.aws_env,
        )
        if backend is not None:
            env["PULUMI_BACKEND_URL"] = f"file://{backend}"
        inside = {key: value for key, value in env.items() if str(REPO) in value}
        assert not inside, f"the user's environment points into the checkout: {inside}"
        return env

    def sh(self, command: str, cwd: Path, backend: Path | None = None, stdin: str | None = None,
           check: bool = True) -> subprocess.CompletedProcess:
        """One command line, as typed in a shell (so ~ expands)."""
        done = subprocess.run(
            ["bash", "-c", command], cwd=cwd, env=self.env(backend), input=stdin, capture_output=True, text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
        self.transcript.append(f"$ {command}\n{done.stdout}{done.stderr}")
        if check and done.returncode != 0:
            raise AssertionError(f"`{command}` in {cwd} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done

    def pulumi(self, project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """A `pulumi` command on the project's stack; each project has its own file backend."""
        argv = " ".join(["pulumi", *args, "--non-interactive", "--color", "never"])
        backend = project.parent / f"{project.name}-state"
        backend.mkdir(exist_ok=True)
        return self.sh(argv, project, backend=backend, stdin=stdin)
