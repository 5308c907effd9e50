"""Our provider and a Pulumi dynamic provider in Python (boto3), side by side
through the real `pulumi` CLI, against one awssim.

    (a) tests/bench/xpander_program  pulumi_xpander + pulumi-resource-xpander
    (b) tests/bench/dynamic          pulumi.dynamic + boto3, the seed's steps
                                     the way a team would write them

For each implementation, on the same simulator and the same propagation delay:

  seed stack        base + Redshift + EKS connectors, delay 2 s: preview, up
  add a connector   one S3 connector added to that deployed stack after the
                    delay was raised to 15 s (the seed's "Adding a New
                    Connector" when IAM is slow): preview, up
  50 connectors     base + 50 S3 connectors, delay 2 s: preview, up
  seed stack, 15 s  a fresh install at 15 s delay: up (and, if it failed,
                    the `pulumi up` a user runs next)

Each command: wall time, peak RSS (VmHWM) of the plugin processes the CLI
started, AWS calls from the simulator's request log, and what failed (the
error line of each failed resource). After each `up`, every connector is
tried with the AI Gateway's credential chain.

Then the provider's share of a `pulumi preview` of 200 connectors (a new
stack): see METHOD.

    PYTHONPATH=tests .venv/bin/python tests/bench/side_by_side.py [--binary PATH] [--json PATH] [--quick] [--keep]

tests/bench/run.py (`make bench`) runs it as its `sidebyside` section and puts
its tables in BENCHMARKS.md. About 5 minutes on 2 cores; every command is
bounded by COMMAND_TIMEOUT_S and every wait by the propagation delay.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from awssim.harness import AwsSim, AwsSimError  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from cli.workspace import Pulumi, copy_project, provider_version, toolchain  # noqa: E402
from e2e.seed import chain  # noqa: E402

from bench import measure  # noqa: E402

CLUSTER = "xpander-cluster"
ORG_ID = "org-bench-5d1e07"
ACCOUNT = "123456789012"
DELAY_S = 2.0
SLOW_DELAY_S = 15.0
FLEET = 50
SHARE_CONNECTORS = 200
SHARE_REPEATS = 3
COMMAND_TIMEOUT_S = 300
POLL_S = 0.05

OURS = "ours"
DYNAMIC = "dynamic"
PROJECTS = {OURS: Path(__file__).parent / "xpander_program", DYNAMIC: Path(__file__).parent / "dynamic"}
LABELS = {OURS: "xpander provider", DYNAMIC: "dynamic provider (Python, boto3)"}
# How each implementation's plugin process shows in /proc/<pid>/cmdline.
PLUGIN_MARKERS = {OURS: "pulumi-resource-xpander", DYNAMIC: "pulumi.dynamic"}


class ToolchainMissing(RuntimeError):
    """The Pulumi CLI could not be built (tools/pulumi/build.sh needs Go)."""


# -- one CLI command, measured ------------------------------------------------------------------


class PluginMonitor(threading.Thread):
    """Polls the process tree under the `pulumi` process: for every plugin
    process (by its command line), the last VmHWM and CPU time seen."""

    def __init__(self, root: int, markers: dict[str, str]):
        super().__init__(daemon=True)
        self.root, self.markers = root, markers
        self.stop_event = threading.Event()
        self.processes: dict[int, dict] = {}  # pid -> {kind, hwm_kib, cpu_s}

    def _children(self, pid: int) -> list[int]:
        found = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    found += [int(c) for c in f.read().split()]
        except OSError:
            pass
        return found

    def _sample(self) -> None:
        todo, tree = [self.root], []
        while todo:
            pid = todo.pop()
            for child in self._children(pid):
                tree.append(child)
                todo.append(child)
        for pid in tree:
            entry = self.processes.get(pid)
            if entry is None:
                # Read again each time: a shim (sh) execs the plugin in the same process.
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                kind = next((k for k, marker in self.markers.items() if marker in cmdline), None)
                if kind is None:
                    continue
                entry = self.processes[pid] = {"kind": kind, "hwm_kib": 0, "cpu_s": 0.0}
            try:
                entry["hwm_kib"] = max(entry["hwm_kib"], measure.proc_status_kib(pid, "VmHWM"))
                entry["cpu_s"] = max(entry["cpu_s"], measure.cpu_seconds(pid))
            except (OSError, KeyError, ValueError, IndexError):
                pass

    def run(self) -> None:
        while not self.stop_event.is_set():
            self._sample()
            self.stop_event.wait(POLL_S)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()

    def peak_kib(self, kind: str) -> int:
        return max((p["hwm_kib"] for p in self.processes.values() if p["kind"] == kind), default=0)

    def cpu_s(self, kind: str) -> float:
        return sum(p["cpu_s"] for p in self.processes.values() if p["kind"] == kind)

    def count(self, kind: str) -> int:
        return sum(1 for p in self.processes.values() if p["kind"] == kind)


@dataclass
class Command:
    args: list[str]
    wall: float
    returncode: int
    stdout: str
    stderr: str
    plugin_peak_kib: int
    plugin_cpu_s: float
    plugin_processes: int
    calls: dict
    errors: list[str]
    summary: dict

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def call_counts(entries: list[dict]) -> dict:
    answered = [e for e in entries if e["fault"] is None]
    ok = [e for e in answered if (e["status"] or 0) < 400]
    return {
        "all": len(entries),
        "mutating": sum(1 for e in ok if e["mutating"]),
        "reads": sum(1 for e in ok if not e["mutating"] and e["service"] != "sts"),
        "sts": sum(1 for e in ok if e["service"] == "sts"),
        "faulted": len(entries) - len(answered),
        "refused": len(answered) - len(ok),
        "by_action": _by_action(entries),
    }


def _by_action(entries: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for e in entries:
        key = f"{e['service']}:{e['action']}" + (f" ({e['status']})" if (e["status"] or 0) >= 400 else "")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


_AWS_ERROR = re.compile(r"An error occurred \((\w+)\) when calling the (\w+) operation(?: \(reached max retries: \d+\))?: (.*)")
_DIAG_HEADER = re.compile(r"^  (\S+) \((.+)\):$")
_GENERIC = ("update failed", "preview failed", "Resource monitor has terminated")
_PYTHON_ERROR = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception)): (.+)$")


def error_lines(output: str) -> list[str]:
    """One line per failed resource: `name: Operation → Code: message` for an
    AWS error (a Python traceback's last line), else the first error line."""
    found: list[str] = []
    lines = output.splitlines()
    in_diagnostics, resource, block = False, None, []

    def flush():
        if resource is None or not block:
            return
        text = "\n".join(block)
        aws = _AWS_ERROR.search(text)
        if aws:
            found.append(f"{resource}: {aws.group(2)} → {aws.group(1)}: {aws.group(3).strip()[:160]}")
            return
        raised = [m for m in (_PYTHON_ERROR.match(line) for line in block) if m]
        if raised:  # a Python traceback: its last line says what was raised
            found.append(f"{resource}: {raised[-1].group(1)}: {raised[-1].group(2).strip()[:160]}")
            return
        for line in block:
            stripped = line.strip()
            if stripped.startswith("error:") and not any(g in stripped for g in _GENERIC):
                found.append(f"{resource}: {stripped[len('error:'):].strip()[:200]}")
                return

    for line in lines:
        if line.startswith("Diagnostics:"):
            in_diagnostics = True
            continue
        if not in_diagnostics:
            continue
        if line and not line.startswith(" "):  # the next section (Outputs:, Resources:)
            flush()
            in_diagnostics, resource, block = False, None, []
            continue
        header = _DIAG_HEADER.match(line)
        if header:
            flush()
            resource, block = header.group(2), []
            continue
        block.append(line)
    flush()
    return found


_SUMMARY = re.compile(r"^\s+[+~\-]?\s*(\d+) (created|updated|deleted|replaced|errored|failed|unchanged|to create|to update|to delete|to replace)\b")


def summary(output: str) -> dict:
    counts: dict[str, int] = {}
    for line in output.splitlines():
        m = _SUMMARY.match(line)
        if m:
            counts[m.group(2)] = int(m.group(1))
    return counts


def run_command(pulumi: Pulumi, sim: AwsSim, kind: str, *args: str) -> Command:
    argv = ["pulumi", *args, *pulumi._common(args)]
    since = seq_now(sim)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=pulumi.project, env=pulumi.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    monitor = PluginMonitor(proc.pid, {kind: PLUGIN_MARKERS[kind]})
    monitor.start()
    try:
        stdout, stderr = proc.communicate(timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this command started
        stdout, stderr = proc.communicate()
        stderr += f"\n(killed after {COMMAND_TIMEOUT_S} s)"
    wall = time.perf_counter() - started
    monitor.stop()
    calls = call_counts(sim.requests(since))
    output = stdout + stderr
    errors = error_lines(stdout)
    if proc.returncode != 0 and not errors:
        tail = [line.strip() for line in output.splitlines() if "error" in line.lower()]
        errors = [tail[0][:200] if tail else f"exit {proc.returncode}"]
    return Command(argv, wall, proc.returncode, stdout, stderr, monitor.peak_kib(kind), monitor.cpu_s(kind),
                   monitor.count(kind), calls, errors, summary(stdout))


def seq_now(sim: AwsSim) -> int:
    entries = sim.requests()
    return entries[-1]["seq"] if entries else 0


def default_parallel() -> str:
    """`pulumi up`'s default --parallel, as its help states it (it depends on the CPU count)."""
    done = subprocess.run([str(toolchain() / "pulumi"), "up", "--help"], capture_output=True, text=True,
                          env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}, timeout=60)
    found = re.search(r"--parallel int32 .*\(default (\d+)\)", done.stdout)
    return found.group(1) if found else "?"


# -- the cases ----------------------------------------------------------------------------------


@dataclass
class Case:
    kind: str
    stack: str
    delay: float
    preview: Command | None = None
    up: Command | None = None
    rerun: Command | None = None
    working: tuple[int, int] | None = None
    broken: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, binary: Path, sim: AwsSim, workdir: Path, log=print, fleet_size: int = FLEET,
                 share_size: int = SHARE_CONNECTORS):
        self.binary, self.sim, self.workdir, self.log = binary, sim, workdir, log
        self.fleet_size, self.share_size = fleet_size, share_size
        self.home = workdir / "pulumi-home"
        self.cases: list[Case] = []
        self.share: dict = {}
        self.counter = 0
        self.parallel = default_parallel()

    # set-up

    def install(self) -> None:
        """The release binary becomes plugin resource-xpander in this bench's PULUMI_HOME."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PULUMI_HOME": str(self.home), "PULUMI_SKIP_UPDATE_CHECK": "true"}
        subprocess.run([str(toolchain() / "pulumi"), "plugin", "install", "resource", "xpander", provider_version(),
                        "--file", str(self.binary), "--reinstall", "--non-interactive"],
                       env=env, check=True, capture_output=True, text=True)

    def fresh_sim(self, delay: float) -> None:
        self.sim.reset()
        self.sim.set_config(propagation_delay=delay)
        self.sim.boto3_client("eks").create_cluster(
            name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={},
            accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})

    def new_stack(self, kind: str, config: dict[str, str]) -> Pulumi:
        self.counter += 1
        root = self.workdir / f"{self.counter:02d}-{kind}"
        aws_env = {**self.sim.provider_env(), "AWS_DEFAULT_REGION": "us-east-1"}  # boto3 reads this one
        pulumi = Pulumi(root=root / "user", project=copy_project(PROJECTS[kind], root / "project"), aws_env=aws_env,
                        home=self.home)
        pulumi.init({"clusterName": CLUSTER, **config}, {"organizationId": ORG_ID})
        return pulumi

    # checks

    def working_connectors(self, role_names: list[str], delay: float) -> tuple[int, list[str]]:
        """Connectors whose chain works (pod → base → connector → connector);
        each gets until the propagation delay + 3 s."""
        pending = list(role_names)
        deadline = time.monotonic() + delay + 3
        last: dict[str, str] = {}
        while pending:
            still = []
            for name in pending:
                try:
                    chain(self.sim, f"arn:aws:iam::{ACCOUNT}:role/{name}", cluster=CLUSTER)
                except ClientError as err:
                    last[name] = f"{err.response['Error']['Code']}"
                    still.append(name)
                except AwsSimError as err:
                    last[name] = err.code
                    still.append(name)
            pending = still
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        if pending:
            granted, iam = self.granted_arns(), self.sim.boto3_client("iam")
            diagnosed = []
            for n in pending:
                try:
                    iam.get_role(RoleName=n)
                    why = "" if f"arn:aws:iam::{ACCOUNT}:role/{n}" in granted else ", no grant on the base role"
                except iam.exceptions.NoSuchEntityException:
                    why = ", never created"
                diagnosed.append(f"{n} ({last.get(n, '?')}{why})")
            return len(role_names) - len(pending), diagnosed
        return len(role_names), []

    def granted_arns(self) -> set[str]:
        """Every role ARN an inline policy of a base role allows to assume."""
        iam = self.sim.boto3_client("iam")
        found: set[str] = set()
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                if not role["RoleName"].startswith("xpander-base-role"):
                    continue
                for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
                    document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
                    document = json.loads(document) if isinstance(document, str) else document
                    statements = document["Statement"]
                    for statement in statements if isinstance(statements, list) else [statements]:
                        resources = statement.get("Resource", [])
                        found.update([resources] if isinstance(resources, str) else resources)
        return found

    def step(self, case: Case, pulumi: Pulumi, what: str, *args: str) -> Command:
        command = run_command(pulumi, self.sim, case.kind, *args)
        setattr(case, what, command)
        status = "ok" if command.ok else "FAILED"
        self.log(f"    {what:8} {status} {measure.ms(command.wall):>9}  plugin peak "
                 f"{measure.mib(command.plugin_peak_kib)}  AWS {command.calls['all']} calls "
                 f"({command.calls['mutating']} mutating)" + (f"  {command.errors[:2]}" if command.errors else ""))
        return command

    def finish(self, case: Case, roles: list[str]) -> None:
        working, broken = self.working_connectors(roles, case.delay)
        case.working, case.broken = (working, len(roles)), broken
        self.log(f"    working connectors {working}/{len(roles)}" + (f"  broken: {broken[:3]}" if broken else ""))
        self.cases.append(case)

    # the scenarios

    def seed_then_add(self, kind: str) -> None:
        self.fresh_sim(DELAY_S)
        seed = Case(kind, "seed: base + Redshift + EKS", DELAY_S)
        self.log(f"  {LABELS[kind]}: {seed.stack}, delay {DELAY_S:g} s")
        pulumi = self.new_stack(kind, {"connectors": "0"})
        self.step(seed, pulumi, "preview", "preview")
        self.step(seed, pulumi, "up", "up", "--yes", "--skip-preview")
        seed_roles = ["xpander-redshift-access", "xpander-eks-connector"]
        self.finish(seed, seed_roles)

        added = Case(kind, "seed + 1 S3 connector added", SLOW_DELAY_S)
        self.log(f"  {LABELS[kind]}: {added.stack}, delay {SLOW_DELAY_S:g} s")
        self.sim.set_config(propagation_delay=SLOW_DELAY_S)
        pulumi.config_set("addS3Connector", "true")
        self.step(added, pulumi, "preview", "preview")
        up = self.step(added, pulumi, "up", "up", "--yes", "--skip-preview")
        if not up.ok:
            self.step(added, pulumi, "rerun", "up", "--yes", "--skip-preview")
        self.finish(added, seed_roles + ["xpander-s3-connector"])

    def fleet(self, kind: str) -> None:
        self.fresh_sim(DELAY_S)
        case = Case(kind, f"base + {self.fleet_size} S3 connectors", DELAY_S)
        self.log(f"  {LABELS[kind]}: {case.stack}, delay {DELAY_S:g} s")
        pulumi = self.new_stack(kind, {"connectors": str(self.fleet_size)})
        self.step(case, pulumi, "preview", "preview")
        up = self.step(case, pulumi, "up", "up", "--yes", "--skip-preview")
        if not up.ok:
            self.step(case, pulumi, "rerun", "up", "--yes", "--skip-preview")
        self.finish(case, [f"xpander-s3-{i}" for i in range(self.fleet_size)])

    def slow_install(self, kind: str) -> None:
        self.fresh_sim(SLOW_DELAY_S)
        case = Case(kind, "seed: base + Redshift + EKS, new install", SLOW_DELAY_S)
        self.log(f"  {LABELS[kind]}: {case.stack}, delay {SLOW_DELAY_S:g} s")
        pulumi = self.new_stack(kind, {"connectors": "0"})
        up = self.step(case, pulumi, "up", "up", "--yes", "--skip-preview")
        if not up.ok:
            self.step(case, pulumi, "rerun", "up", "--yes", "--skip-preview")
        self.finish(case, ["xpander-redshift-access", "xpander-eks-connector"])

    def preview_share(self) -> None:
        """`pulumi preview` of a new stack of 200 connectors: see METHOD."""
        self.fresh_sim(DELAY_S)
        n = self.share_size
        self.log(f"  preview of {n} connectors: the provider's share")
        stacks = {
            "ours": (OURS, self.new_stack(OURS, {"connectors": str(n)})),
            "components": (OURS, self.new_stack(OURS, {"connectors": str(n), "components": "true"})),
            "dynamic": (DYNAMIC, self.new_stack(DYNAMIC, {"connectors": str(n)})),
        }
        runs: dict[str, list[Command]] = {name: [] for name in stacks}
        for _ in range(SHARE_REPEATS):  # interleaved, so a slow moment of the machine hits all three
            for name, (kind, pulumi) in stacks.items():
                if not runs[name] or runs[name][0].ok:  # a preview that fails is not repeated
                    runs[name].append(run_command(pulumi, self.sim, kind, "preview"))
        for name, (kind, pulumi) in stacks.items():
            if runs[name][0].ok:
                runs[f"{name}_logged"] = [run_command(pulumi, self.sim, kind, "preview", "-v=7", "--logtostderr")]
        share: dict = {"connectors": n, "repeats": SHARE_REPEATS}
        for name, commands in runs.items():
            failed = [c for c in commands if not c.ok]
            share[name] = {"ok": not failed, "errors": failed[0].errors if failed else [],
                           "wall_s": measure.median([c.wall for c in commands]), "walls_s": [c.wall for c in commands],
                           "plugin_cpu_s": measure.median([c.plugin_cpu_s for c in commands]),
                           "plugin_peak_kib": max(c.plugin_peak_kib for c in commands),
                           "aws_calls": sum(c.calls["all"] for c in commands), "summary": commands[0].summary}
        for name, package in (("ours", "xpander"), ("components", "xpander"), ("dynamic", "pulumi-python")):
            if f"{name}_logged" in runs:
                log = runs[f"{name}_logged"][0].stderr
                (self.workdir / f"preview-{name}-v7.log").write_text(log)
                share[f"{name}_rpcs"] = provider_time(log, package)
        self.share = share
        for name in ("ours", "components", "dynamic"):
            entry, rpcs = share[name], share.get(f"{name}_rpcs")
            text = (f"wall {measure.ms(entry['wall_s'])}, plugin CPU {measure.ms(entry['plugin_cpu_s'])}"
                    if entry["ok"] else f"FAILED {entry['summary']} {entry['errors'][:1]}")
            if rpcs:
                text += (f"; logged run: {rpcs['rpcs']} RPCs, provider busy {measure.ms(rpcs['busy_s'])} of "
                         f"{measure.ms(share[name + '_logged']['wall_s'])}")
            self.log(f"    {name}: {text}")


# -- the engine's log: when a provider RPC was in flight ---------------------------------------

_RPC = re.compile(r"^Provider\[(\w+)\]\.(\w+)\((.*?)\)(?::)? (executing|success|failed)")
# An older plugin (the Python dynamic provider) does not implement Handshake: the engine says so.
_HANDSHAKE = re.compile(r"^Handshake: (?:success \[(.+)\]|not supported by '(.+)')")
_REGISTRY_CHECK = re.compile(r"^ProviderRegistry\.Check\(urn:[^)]*::pulumi:providers:([\w-]+)::")


def _time(stamp: str) -> float:
    # 2026-11-30T15:14:56.677285438Z: nanoseconds, which fromisoformat does not take
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).timestamp() + float("0." + (frac or "0"))


def provider_time(log: str, package: str) -> dict:
    """From `pulumi preview -v=7 --logtostderr`: each provider RPC's interval
    as the engine saw it (from `executing` to `success`/`failed`), the plugin
    launch (the provider registry's Check of the default provider to the
    plugin's handshake), and the time at least one of them was in flight."""
    events = []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        events.append((_time(entry["time"]), entry.get("msg", "")))
    if not events:
        return {"rpcs": 0, "busy_s": 0.0, "sum_s": 0.0, "launch_s": 0.0, "by_method": {}, "log_span_s": 0.0}
    open_calls: dict[tuple, list[float]] = {}
    intervals: list[tuple[float, float]] = []
    by_method: dict[str, dict] = {}
    launch_started = None
    launches: list[tuple[float, float]] = []
    # The engine names an instance by address; keep the instances of this package's plugin.
    ours: set[str] = set()
    pending_handshake = None
    for at, msg in events:
        check = _REGISTRY_CHECK.match(msg)
        if check and check.group(1) == package and launch_started is None:
            launch_started = at
        hand = _HANDSHAKE.match(msg)
        if hand and f"pulumi-resource-{package}" in (hand.group(1) or hand.group(2)):
            pending_handshake = at
            if launch_started is not None:
                launches.append((launch_started, at))
                launch_started = None
            continue
        rpc = _RPC.match(msg)
        if not rpc:
            continue
        address, method, arg, phase = rpc.groups()
        if pending_handshake is not None and phase == "executing":
            ours.add(address)  # the first RPC after this package's handshake
            pending_handshake = None
        if address not in ours:
            continue
        key = (address, method, arg)
        if phase == "executing":
            open_calls.setdefault(key, []).append(at)
        elif open_calls.get(key):
            begun = open_calls[key].pop(0)
            intervals.append((begun, at))
            stats = by_method.setdefault(method, {"n": 0, "sum_s": 0.0})
            stats["n"] += 1
            stats["sum_s"] += at - begun
    everything = sorted(intervals + launches)
    busy, current = 0.0, None
    for begun, ended in everything:
        if current is None or begun > current[1]:
            if current is not None:
                busy += current[1] - current[0]
            current = [begun, ended]
        else:
            current[1] = max(current[1], ended)
    if current is not None:
        busy += current[1] - current[0]
    # The program's pace: when its registrations reached the engine, and how long
    # the engine took to finish after the last one arrived.
    received = [at for at, msg in events if msg.startswith("ResourceMonitor.RegisterResource received")]
    registered = [at for at, msg in events if msg.startswith("resource registration successful")]
    return {
        "registrations": len(received),
        "registrations_span_s": (received[-1] - received[0]) if received else 0.0,
        "tail_s": (max(registered) - received[-1]) if received and registered else 0.0,
        "rpcs": len(intervals),
        "unanswered": sum(len(v) for v in open_calls.values()),
        "sum_s": sum(e - b for b, e in intervals),
        "launch_s": sum(e - b for b, e in launches),
        "busy_s": busy,
        "by_method": by_method,
        "log_span_s": events[-1][0] - events[0][0],
    }


# -- output -------------------------------------------------------------------------------------


def _calls(command: Command | None) -> str:
    if command is None:
        return "—"
    c = command.calls
    return f"{c['all']} / {c['mutating']} / {c['refused']}"


def _rss(case: Case) -> str:
    parts = [measure.mib(c.plugin_peak_kib) if c is not None and c.plugin_peak_kib else "—"
             for c in (case.preview, case.up)]
    return " / ".join(parts)


def _failures(case: Case) -> str:
    parts = []
    if case.up is not None and not case.up.ok:
        parts.append("up: " + "; ".join(case.up.errors[:3]))
    if case.rerun is not None:
        parts.append(("next `pulumi up` converges" if case.rerun.ok else "next `pulumi up`: "
                      + "; ".join(case.rerun.errors[:3])))
    if case.preview is not None and not case.preview.ok:
        parts.insert(0, "preview: " + "; ".join(case.preview.errors[:2]))
    if case.broken:
        ungranted = sum(1 for b in case.broken if "no grant" in b)
        text = f"chain refused for {len(case.broken)}: {', '.join(case.broken[:2])}" + (" …" if len(case.broken) > 2 else "")
        if ungranted and case.up is not None and case.up.ok:
            text += (f" — `up` reported success, but {ungranted} ARN{'s are' if ungranted > 1 else ' is'} missing from "
                     "the base role's grants")
        parts.append(text)
    return "; ".join(parts) if parts else "none"


def _up(case: Case) -> str:
    if case.up is None:
        return "—"
    text = measure.ms(case.up.wall) + ("" if case.up.ok else " (failed)")
    if case.rerun is not None:
        text += f"; again: {measure.ms(case.rerun.wall)}" + ("" if case.rerun.ok else " (failed)")
    return text


def table(cases: list[Case]) -> str:
    lines = ["| implementation | stack | delay | preview wall | up wall | plugin peak RSS (preview / up) "
             "| AWS calls in up (all / writes that succeeded / refused) | connectors working after up | what failed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case in cases:
        cells = [LABELS[case.kind], case.stack, f"{case.delay:g} s",
                 measure.ms(case.preview.wall) + ("" if case.preview.ok else " (failed)") if case.preview else "—",
                 _up(case), _rss(case), _calls(case.up),
                 f"{case.working[0]}/{case.working[1]}" if case.working else "—", _failures(case)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def share_table(share: dict) -> str:
    if not share:
        return ""
    n = share["connectors"]
    base = share["components"]

    def column(name: str) -> list[str]:
        entry, rpcs, logged = share[name], share.get(f"{name}_rpcs"), share.get(f"{name}_logged")
        if not entry["ok"]:
            counts = ", ".join(f"{v} {k}" for k, v in entry["summary"].items())
            return [f"**fails** ({counts}): {'; '.join(entry['errors'][:1])}"] + ["—"] * 10
        wall = entry["wall_s"]
        cells = [measure.ms(wall)]
        if name == "components":
            cells += ["—", "no plugin", "—", "—", "—", "—", "—"]
        else:
            extra = wall - base["wall_s"] if base["ok"] else None
            cells.append(f"{measure.ms(extra)} ({extra / wall:.0%} of wall)" if extra is not None else "—")
            cells += [f"{measure.ms(entry['plugin_cpu_s'])} ({entry['plugin_cpu_s'] / wall:.0%} of wall)",
                      measure.mib(entry["plugin_peak_kib"])]
            if rpcs and logged:
                methods = ", ".join(f"{m} ×{s['n']}" for m, s in sorted(rpcs["by_method"].items()))
                cells += [f"{rpcs['rpcs']}: {methods}", measure.ms(rpcs["launch_s"]),
                          f"**{rpcs['busy_s'] / logged['wall_s']:.1%}** ({measure.ms(rpcs['busy_s'])} of "
                          f"{measure.ms(logged['wall_s'])})", measure.ms(rpcs["sum_s"])]
            else:
                cells += ["—"] * 4
        if rpcs:
            cells += [f"{rpcs['registrations']} over {measure.ms(rpcs['registrations_span_s'])}",
                      measure.ms(rpcs["tail_s"])]
        else:
            cells += ["—", "—"]
        cells.append(f"{entry['aws_calls'] / len(entry['walls_s']):g}")
        return cells

    labels = [f"wall (median of {share['repeats']})", "wall added over the component resources",
              "plugin CPU (utime + stime)", "plugin peak RSS",
              "provider RPCs the engine made (logged run)", "plugin launch to handshake (logged run)",
              "time ≥ 1 provider RPC or the launch was in flight ÷ wall (logged run)",
              "sum of RPC durations (they overlap; logged run)",
              "the program's RegisterResource calls reach the engine (first to last; logged run)",
              "after the last one arrived, the engine was done in (logged run)", "AWS calls per preview"]
    bases = -(-n // 50)
    lines = [f"| `pulumi preview` of a new stack, {n} connectors + {bases} base role{'s' if bases > 1 else ''} "
             "| xpander provider | the same tree as component resources (no provider) | dynamic provider |",
             "|---|---|---|---|"]
    cleaned = lambda text: text.replace("|", chr(92) + "|")  # noqa: E731
    for label, a, b, c in zip(labels, column("ours"), column("components"), column("dynamic")):
        lines.append(f"| {label} | {cleaned(a)} | {cleaned(b)} | {cleaned(c)} |")
    return "\n".join(lines)


METHOD = f"""\
- **Programs**: `tests/bench/xpander_program` (pulumi_xpander) and
  `tests/bench/dynamic` (`pulumi.dynamic.ResourceProvider` + boto3) deploy the
  same roles under the same names with the same permissions, each in a new
  stack (file backend, passphrase secrets, PULUMI_HOME with the release
  binary installed as plugin `resource-xpander`). The dynamic provider runs in
  `pulumi-resource-pulumi-python` (`python -u -m pulumi.dynamic`), started by
  the CLI like any plugin. One awssim serves every run; it is reset (and the
  EKS cluster recreated) before each stack, and the propagation delay is the
  same for both implementations in each row.
- **The dynamic provider** is what a team following the seed writes: the base
  role is CreateRole + CreatePodIdentityAssociation; a connector is CreateRole
  with the statements that name no role, PutRolePolicy for each permission
  policy and SelfAssumeAndTagSession, UpdateAssumeRolePolicy with the
  four-statement trust, then its ARN added to the base role's
  `AssumeConnectorRoles` (read, add, write: the seed's single policy), and
  for EKS the access entry. The seed's "wait 10 s" became a retry loop: on
  `MalformedPolicyDocument` "Invalid principal" or EKS "role … does not
  exist", sleep 2 s and retry, at most 5 times (10 s). boto3's own retries
  are its defaults. `diff`, `update`, `read` and `delete` are implemented;
  nothing adopts a role that already exists. The `pulumi.dynamic` server
  answers at most 4 RPCs at a time (its thread pool), so at most 4
  connectors are created at once, whatever `--parallel` says. Stacks of more
  than 50 connectors have one base role per 50 in both programs.
- **Wall**: from starting `pulumi preview` / `pulumi up --yes --skip-preview`
  to its exit, CLI start-up and the Python program included (the same for both).
- **Plugin peak RSS**: a thread polls the process tree under the `pulumi`
  process every {POLL_S * 1000:.0f} ms (`/proc/<pid>/task/*/children`) and keeps
  the largest `VmHWM` of the plugin process, found by its command line
  (`pulumi-resource-xpander`, `-m pulumi.dynamic`). Language host and program
  processes are not counted (the same Python program runs in both).
- **AWS calls**: the simulator's request log during the command: all
  requests (STS included) / the mutating ones that succeeded / the ones
  refused (4xx: a propagation retry, a name taken).
- **Connectors working**: after each `up`, the AI Gateway's chain (Pod
  Identity credentials → base role → connector with session tags → the
  connector again) for every connector the stack should have, retried until
  the propagation delay + 3 s has passed; outside the counted calls. A
  refused connector is then looked up: never created, or missing from every
  inline policy of the base roles ("no grant").
- **What failed**: for each failed resource, its error line (for the dynamic
  provider, the AWS error or Python exception that ended its traceback).
  After a failed `up`, the `pulumi up` a user runs next is measured too
  ("again").
- **Provider share of a {SHARE_CONNECTORS}-connector preview** (a new stack, 4 base
  roles as in the rows above; the engine calls Check for each resource, and
  Create(preview) for ours, which supports previews). Plain previews run {SHARE_REPEATS}
  times, interleaved, and the median is shown. Three views:
  (1) *CPU*: the plugin's utime + stime over the preview, a lower bound of the
  time it spent working. (2) *In flight*: the engine's own log
  (`pulumi preview -v=7 --logtostderr`, JSON lines with nanosecond times)
  names every provider RPC when it starts (`Provider[…].Check(urn)
  executing`) and when it returns (`… success`); the union of those intervals
  and of the plugin launch (the registry's Check of the default provider to
  the plugin's handshake), divided by that run's wall, is an upper bound: it
  includes gRPC and the engine's goroutines, and the log writing slows that
  run. The same log gives the program's pace (first to last
  `RegisterResource` reaching the engine) and how long the engine needed
  after the last registration arrived: the only time a provider can add to
  the end of the preview when answers keep up with arrivals. (3) *Baseline*:
  the same tree registered as component resources (`components: true`: no
  provider loaded, no Check): the difference is everything a custom resource
  costs (the SDK's work for it in the program, the engine's steps, the
  provider), not the provider alone.
"""


def findings(bench: Bench) -> list[str]:
    """What the rows show, in words, from this run's numbers."""
    notes = []
    lost = [(c, sum(1 for b in c.broken if "no grant" in b)) for c in bench.cases
            if c.kind == DYNAMIC and c.up is not None and c.up.ok]
    lost = [(c, n) for c, n in lost if n]
    if lost:
        worst = max(lost, key=lambda x: x[1])
        notes.append(
            f"The dynamic provider's `up` succeeds while connectors stay broken ({worst[1]} of "
            f"{worst[0].working[1] if worst[0].working else '?'} in \"{worst[0].stack}\"): each connector adds its ARN "
            "to the base role's single `AssumeConnectorRoles` policy by read-modify-write, and `pulumi up` creates "
            "connectors concurrently, so two writers that read the same version lose one grant. Nothing reports "
            "it; the AI Gateway gets AccessDenied. Ours writes one `xpander-assume-<role>` policy per connector.")
    slow = [c for c in bench.cases if c.kind == DYNAMIC and c.delay >= SLOW_DELAY_S and c.up is not None and not c.up.ok]
    if slow:
        notes.append(
            f"At {SLOW_DELAY_S:g} s propagation the dynamic provider's 10 s of retries run out "
            + "; ".join(f"(\"{c.stack}\": {c.up.errors[0] if c.up.errors else 'failed'})" for c in slow)
            + ". The role it created stays behind, unknown to the stack, so the next `pulumi up` fails with "
              "EntityAlreadyExists until someone deletes the role by hand.")
    dyn = bench.share.get("dynamic") if bench.share else None
    if dyn is not None and not dyn["ok"]:
        counts = ", ".join(f"{v} {k}" for k, v in dyn["summary"].items())
        notes.append(
            f"The dynamic program of {bench.share['connectors']} connectors cannot even preview ({counts}: "
            f"{'; '.join(dyn['errors'][:1])}). In the pinned `pulumi` Python SDK, `serialize_provider` (run once per "
            "dynamic resource) wraps `pickle._Pickler._batch_setitems` in a sorting wrapper and never restores "
            "it, so every registration adds one more level of wrapping until pickling overflows the recursion "
            "limit.")
    ours_slow = next((c for c in bench.cases if c.kind == OURS and c.delay >= SLOW_DELAY_S and c.up is not None
                      and c.stack.startswith("seed + 1")), None)
    dyn_slow = next((c for c in bench.cases if c.kind == DYNAMIC and c.delay >= SLOW_DELAY_S and c.up is not None
                     and c.stack.startswith("seed + 1")), None)
    if ours_slow is not None and ours_slow.up.calls["refused"]:
        refused = ours_slow.up.calls["refused"]
        theirs = f" (the dynamic provider's loop: {dyn_slow.up.calls['refused']} before it gave up)" if dyn_slow else ""
        notes.append(
            f"While IAM propagates, ours retries about every {SLOW_DELAY_S / refused:.1f} s: {refused} refused "
            f"calls for one connector at {SLOW_DELAY_S:g} s{theirs}. Each is a request against IAM's rate limit; "
            "with many connectors waiting at once that adds up (the throttled rows above measure ours under a "
            "10 requests/s bucket).")
    fleet = next((c for c in bench.cases if c.kind == OURS and c.stack.startswith("base + ") and c.up is not None), None)
    if fleet is not None:
        reads = fleet.up.calls["by_action"].get("iam:GetRolePolicy", 0)
        n = fleet.working[1] if fleet.working else 0
        if n and reads > 2 * n:
            notes.append(
                f"Ours read {reads} inline policies (GetRolePolicy) to create {n} connectors: about "
                f"{reads / n:.0f} per connector, growing with the grants already on the base role (quadratic in "
                "connectors per base role). The connector's create looks the base role up with the call that "
                "also fetches every inline policy of the role (`check_base_role` → `get_role`), where "
                "existence is all it needs. Reported to the lead.")
    return notes


def markdown(bench: Bench) -> str:
    notes = findings(bench)
    return (f"Measured in the same run: {LABELS[OURS]} (a) and a {LABELS[DYNAMIC]} (b) through the real "
            f"`pulumi` CLI against one awssim; `pulumi up` with the CLI's default `--parallel` ({bench.parallel} "
            f"on this machine).\n\n{table(bench.cases)}\n\n"
            + (f"{share_table(bench.share)}\n\n" if bench.share else "")
            + ("".join(f"- {n}\n" for n in notes) + "\n" if notes else "")
            + "How these are measured:\n\n" + METHOD)


def run(binary: Path, log=print, keep: bool = False, quick: bool = False) -> Bench:
    """Every case and the preview share; `quick`: 10 connectors instead of 50, 40 instead of 200."""
    workdir = Path(tempfile.mkdtemp(prefix="xpander-side-by-side-"))
    if keep:
        log(f"  projects, backends and logs kept in {workdir}")
    try:
        try:
            toolchain()
        except RuntimeError as err:
            raise ToolchainMissing(str(err).splitlines()[0]) from None
        with AwsSim(propagation_delay=DELAY_S) as sim:
            bench = Bench(binary, sim, workdir, log, fleet_size=10 if quick else FLEET,
                          share_size=40 if quick else SHARE_CONNECTORS)
            bench.install()
            for kind in (OURS, DYNAMIC):
                bench.seed_then_add(kind)
            for kind in (OURS, DYNAMIC):
                bench.fleet(kind)
            for kind in (OURS, DYNAMIC):
                bench.slow_install(kind)
            bench.preview_share()
        return bench
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def raw(bench: Bench) -> dict:
    def command(c: Command | None):
        if c is None:
            return None
        return {"args": c.args, "wall_s": c.wall, "returncode": c.returncode, "plugin_peak_kib": c.plugin_peak_kib,
                "plugin_cpu_s": c.plugin_cpu_s, "plugin_processes": c.plugin_processes, "calls": c.calls,
                "errors": c.errors, "summary": c.summary}
    return {"cases": [{"implementation": c.kind, "stack": c.stack, "delay_s": c.delay, "preview": command(c.preview),
                       "up": command(c.up), "rerun": command(c.rerun), "working": c.working, "broken": c.broken}
                      for c in bench.cases], "preview_share": bench.share, "parallel_default": bench.parallel}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path, default=REPO / "target" / "release" / "pulumi-resource-xpander")
    parser.add_argument("--json", type=Path, help="also write every count and error here")
    parser.add_argument("--keep", action="store_true", help="keep the projects, backends, logs and PULUMI_HOME")
    parser.add_argument("--quick", action="store_true", help="10 connectors instead of 50, 40 instead of 200")
    args = parser.parse_args(argv)
    binary = args.binary.resolve()
    if not binary.is_file():
        print(f"no provider binary at {binary}: run `make release`", file=sys.stderr)
        return 2
    started = time.perf_counter()
    bench = run(binary, keep=args.keep, quick=args.quick)
    print()
    print(markdown(bench).split("How these are measured")[0])
    print(f"side by side in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(raw(bench), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
