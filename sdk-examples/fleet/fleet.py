#!/usr/bin/env python3
"""Roll the xpander IAM stack out to a fleet of EKS clusters.

One Pulumi stack per cluster (project `xpander-iam-fleet`), the seed's
architecture in each: a base role on EKS Pod Identity and one connector role
per data source. The stacks run in parallel through the Pulumi Automation
API; each `up` is its own `pulumi` process, so a stack that fails stops
nothing else. This script only reads the fleet file, sets each stack's config
and reports: Pulumi does the work, keeps the state and takes the locks.

    export PULUMI_CONFIG_PASSPHRASE=...   # for a file:// or cloud-storage backend
    export XPANDER_ORG_ID=...             # read by the fleet file, never printed
    python fleet.py fleet.yaml --backend file://$HOME/.pulumi-fleet --parallel-stacks 4
    python fleet.py fleet.yaml --preview
    python fleet.py fleet.yaml --destroy

Exit status: 0 when every stack succeeded, 1 when any failed, 2 when the
fleet file or the options are invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
import pulumi_xpander as xpander
from pulumi import automation as auto

PROJECT = "xpander-iam-fleet"
# Role names: "<prefix>-<suffix>"; the prefix defaults to "xpander-<cluster>",
# so a deployer policy limited to roles named `xpander-*` still covers them.
BASE_SUFFIX = "base-role"
CONNECTORS = {"redshift": "redshift-access", "eks": "eks-connector", "s3": "s3-connector"}
CONNECTOR_FIELDS = {
    "redshift": {"clusterIdentifier", "databaseName", "dbUsers", "region"},
    "eks": {"clusterName", "accessPolicyArn", "scopedPolicy"},
    "s3": {"buckets", "prefixes", "readOnly"},
}
CLUSTER_KEYS = {"name", "stack", "region", "profile", "organizationId", "connectors", "namePrefix"}
ROLE_NAME_MAX = 64
# The longest suffix plus its dash must leave room in a 64-character role name.
PREFIX_MAX = ROLE_NAME_MAX - 1 - max(len(s) for s in [BASE_SUFFIX, *CONNECTORS.values()])
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
ROLE_PREFIX = re.compile(r"^xpander-[\w+=,.@-]+$")
RESOURCE_OPS = ("create", "update", "replace", "delete", "same")


class FleetError(Exception):
    """The fleet file or the options are wrong: nothing was deployed."""


# --- the program every stack runs ---------------------------------------------------------


def program() -> None:
    """The seed's stack for one cluster, from that stack's config."""
    config = pulumi.Config()
    cluster = config.require("clusterName")
    prefix = config.require("namePrefix")
    # The ExternalId of the xpander platform's cross-account access: secret
    # from the stack config to the state.
    organization_id = config.require_secret("organizationId")
    connectors: dict[str, dict] = config.require_object("connectors")

    base = xpander.XpanderBaseRole(
        "base",
        role_name=f"{prefix}-{BASE_SUFFIX}",
        pod_identity=xpander.PodIdentityArgs(cluster_name=cluster),
    )
    pulumi.export("baseRoleArn", base.arn)

    for kind, settings in connectors.items():
        args: dict[str, Any] = {}
        if kind == "redshift":
            args["redshift"] = xpander.RedshiftArgs(
                cluster_identifier=settings["clusterIdentifier"],
                database_name=settings["databaseName"],
                db_users=settings.get("dbUsers"),
                region=settings.get("region"),
            )
        elif kind == "eks":
            args["eks"] = xpander.EksArgs(
                cluster_name=settings.get("clusterName", cluster),
                access_policy_arn=settings.get("accessPolicyArn"),
                scoped_policy=settings.get("scopedPolicy"),
            )
        elif kind == "s3":
            args["s3"] = xpander.S3Args(
                buckets=settings["buckets"], prefixes=settings.get("prefixes"), read_only=settings.get("readOnly")
            )
        role = xpander.XpanderConnectorRole(
            kind,
            role_name=f"{prefix}-{CONNECTORS[kind]}",
            base_role_arn=base.arn,
            base_role_id=base.role_id,
            external_id=organization_id,
            **args,
        )
        pulumi.export(f"{kind}RoleArn", role.arn)


# --- the fleet file -----------------------------------------------------------------------


@dataclass
class Cluster:
    name: str
    stack: str
    region: str
    profile: Optional[str]
    name_prefix: str
    connectors: dict[str, dict]
    organization_id: str = field(repr=False)

    def config(self) -> dict[str, auto.ConfigValue]:
        values = {
            "xpander:region": auto.ConfigValue(self.region),
            "clusterName": auto.ConfigValue(self.name),
            "namePrefix": auto.ConfigValue(self.name_prefix),
            "connectors": auto.ConfigValue(json.dumps(self.connectors, sort_keys=True)),
            "organizationId": auto.ConfigValue(self.organization_id, secret=True),
        }
        if self.profile:
            values["xpander:profile"] = auto.ConfigValue(self.profile)
        return values


def load_fleet(path: Path) -> list[Cluster]:
    try:
        text = path.read_text()
    except OSError as err:
        raise FleetError(f"cannot read the fleet file: {err}") from None
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise FleetError("a YAML fleet file needs PyYAML (pip install pyyaml), or write it as JSON") from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise FleetError(f"{path}: {err}") from None
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise FleetError(f"{path}: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("clusters"), list) or not doc["clusters"]:
        raise FleetError(f"{path}: expected a mapping with a non-empty `clusters` list")
    unknown = set(doc) - {"defaults", "clusters"}
    if unknown:
        raise FleetError(f"{path}: unknown top-level keys {sorted(unknown)}")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise FleetError(f"{path}: `defaults` must be a mapping")
    clusters = [_cluster(path, index, defaults, entry) for index, entry in enumerate(doc["clusters"])]
    for attr, what in (("stack", "stack name"), ("name_prefix", "role name prefix")):
        seen: set[str] = set()
        for cluster in clusters:
            key = getattr(cluster, attr).lower()
            if key in seen:
                raise FleetError(f"{path}: {what} {getattr(cluster, attr)!r} is used twice")
            seen.add(key)
    return clusters


def _cluster(path: Path, index: int, defaults: dict, entry: Any) -> Cluster:
    where = f"{path}: clusters[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise FleetError(f"{where}: each cluster needs a `name` (the EKS cluster name)")
    where = f"{path}: cluster {entry['name']!r}"
    for source, what in ((entry, "cluster"), (defaults, "defaults")):
        unknown = set(source) - CLUSTER_KEYS - ({"name", "stack"} if what == "defaults" else set())
        if unknown:
            raise FleetError(f"{where}: unknown keys {sorted(unknown)} in {what}")
    if "name" in defaults or "stack" in defaults or "namePrefix" in defaults:
        raise FleetError(f"{path}: `name`, `stack` and `namePrefix` belong to each cluster, not to `defaults`")
    merged = {**defaults, **entry}
    name = merged["name"]
    stack = str(merged.get("stack") or name)
    if not STACK_NAME.match(stack):
        raise FleetError(f"{where}: stack name {stack!r} may only hold letters, digits, '-', '_' and '.'")
    prefix = str(merged.get("namePrefix") or f"xpander-{name}")
    if not ROLE_PREFIX.match(prefix) or len(prefix) > PREFIX_MAX:
        raise FleetError(
            f"{where}: role name prefix {prefix!r} must start with 'xpander-' (deployer policies match `xpander-*`), "
            f"hold only IAM name characters and be at most {PREFIX_MAX} characters; set `namePrefix`"
        )
    region = merged.get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise FleetError(f"{where}: no region (set `region` in the cluster or in `defaults`, or AWS_REGION)")
    connectors = merged.get("connectors")
    if connectors is None:
        connectors = {}
    if not isinstance(connectors, dict):
        raise FleetError(f"{where}: `connectors` must be a mapping of redshift / eks / s3")
    checked: dict[str, dict] = {}
    for kind, settings in connectors.items():
        if kind not in CONNECTORS:
            raise FleetError(f"{where}: unknown connector {kind!r} (known: {', '.join(CONNECTORS)})")
        if settings is None or settings is True:
            settings = {}
        if settings is False:
            continue
        if not isinstance(settings, dict):
            raise FleetError(f"{where}: connector {kind!r} must be a mapping")
        unknown = set(settings) - CONNECTOR_FIELDS[kind]
        if unknown:
            raise FleetError(f"{where}: connector {kind!r} has unknown keys {sorted(unknown)}")
        missing = {"redshift": ["clusterIdentifier", "databaseName"], "s3": ["buckets"]}.get(kind, [])
        missing = [key for key in missing if not settings.get(key)]
        if missing:
            raise FleetError(f"{where}: connector {kind!r} needs {', '.join(missing)}")
        checked[kind] = settings
    return Cluster(
        name=name,
        stack=stack,
        region=str(region),
        profile=merged.get("profile"),
        name_prefix=prefix,
        connectors=checked,
        organization_id=_secret(path, where, merged.get("organizationId")),
    )


def _secret(path: Path, where: str, source: Any) -> str:
    """The organization id, from an environment variable or a file; a literal
    value in the fleet file is refused so it never lands in version control."""
    if not isinstance(source, dict) or len(source) != 1 or not ({"env", "file"} & set(source)):
        raise FleetError(f"{where}: organizationId must be {{env: VARIABLE}} or {{file: path}}, never the value itself")
    if "env" in source:
        value = os.environ.get(str(source["env"]), "")
        if not value.strip():
            raise FleetError(f"{where}: environment variable {source['env']} (organizationId) is not set")
    else:
        secret_file = (path.parent / str(source["file"])).resolve()
        try:
            value = secret_file.read_text()
        except OSError as err:
            raise FleetError(f"{where}: cannot read the organizationId file {secret_file}: {err.strerror}") from None
        if not value.strip():
            raise FleetError(f"{where}: the organizationId file {secret_file} is empty")
    return value.strip()


# --- one stack ----------------------------------------------------------------------------


@dataclass
class StackRun:
    """What the table shows for one stack; updated from the engine's events."""

    cluster: Cluster
    state: str = "queued"
    started: Optional[float] = None
    ended: Optional[float] = None
    done: dict[str, int] = field(default_factory=dict)
    running: set[str] = field(default_factory=set)
    failed_urns: set[str] = field(default_factory=set)
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    result: str = ""

    @property
    def failed(self) -> int:
        return len(self.failed_urns)

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def ops(self) -> str:
        signs = (("+", "create"), ("~", "update"), ("+-", "replace"), ("-", "delete"), ("=", "same"))
        counts = " ".join(f"{sign}{self.done.get(op, 0)}" for sign, op in signs)
        busy = f"  ({len(self.running)} in flight)" if self.running else ""
        return f"{counts} !{self.failed}{busy}"


def _op(value: Any) -> str:
    op = getattr(value, "value", value)
    # Replacements are reported in three steps; count the resource once.
    return {"create-replacement": "replace", "delete-replaced": "", "discard": "delete"}.get(op, op)


def _is_ours(kind: str) -> bool:
    """A resource of the program, not the stack itself or a provider."""
    return not (kind == "pulumi:pulumi:Stack" or kind.startswith("pulumi:providers:"))


class Fleet:
    def __init__(self, clusters: list[Cluster], mode: str, options: auto.LocalWorkspaceOptions,
                 log_dir: Optional[Path], progress: "Progress", parallel: Optional[int] = None):
        self.runs = [StackRun(c) for c in clusters]
        self.mode = mode
        # Resource operations at once inside one stack (`pulumi up --parallel`).
        self.parallel = parallel
        self.options = options
        self.log_dir = log_dir
        self.progress = progress
        self.lock = threading.Lock()

    def set_state(self, run: StackRun, state: str) -> None:
        with self.lock:
            run.state = state
        self.progress.changed(run)

    def on_event(self, run: StackRun) -> Callable[[auto.EngineEvent], None]:
        def handle(event: auto.EngineEvent) -> None:
            with self.lock:
                if event.resource_pre_event and _is_ours(event.resource_pre_event.metadata.type):
                    run.running.add(event.resource_pre_event.metadata.urn)
                elif event.res_outputs_event and _is_ours(event.res_outputs_event.metadata.type):
                    meta = event.res_outputs_event.metadata
                    run.running.discard(meta.urn)
                    op = _op(meta.op)
                    if op:
                        run.done[op] = run.done.get(op, 0) + 1
                elif event.res_op_failed_event:
                    meta = event.res_op_failed_event.metadata
                    run.running.discard(meta.urn)
                    if _is_ours(meta.type):
                        run.failed_urns.add(meta.urn)
                elif event.diagnostic_event and event.diagnostic_event.severity == "error":
                    diag = event.diagnostic_event
                    message = diag.message.strip()
                    name = diag.urn.rsplit("::", 1)[-1] if diag.urn else ""
                    if diag.urn and "::pulumi:pulumi:Stack::" not in diag.urn:
                        run.failed_urns.add(diag.urn)
                        message = f"{name}: {message}"
                    elif message == "update failed":
                        # The stack's own summary of its resources' errors.
                        message = ""
                    if message and message not in run.errors:
                        run.errors.append(message)
                elif event.summary_event:
                    run.changes = {_op(op) or op: n for op, n in event.summary_event.resource_changes.items()}
            self.progress.changed(run)

        return handle

    def run_one(self, run: StackRun) -> None:
        cluster = run.cluster
        run.started = time.monotonic()
        log: list[str] = []
        work_dir = tempfile.mkdtemp(prefix=f"xpander-fleet-{cluster.stack}-")
        try:
            options = auto.LocalWorkspaceOptions(**{**self.options.__dict__, "work_dir": work_dir})
            self.set_state(run, "selecting")
            if self.mode == "destroy":
                try:
                    stack = auto.select_stack(stack_name=cluster.stack, project_name=PROJECT, program=program, opts=options)
                except auto.StackNotFoundError:
                    run.result = "absent"
                    return
            else:
                stack = auto.create_or_select_stack(stack_name=cluster.stack, project_name=PROJECT, program=program, opts=options)
            stack.set_all_config(cluster.config())
            events = self.on_event(run)
            if self.mode == "preview":
                self.set_state(run, "previewing")
                preview = stack.preview(on_event=events, on_output=log.append, color="never", parallel=self.parallel)
                run.changes = {_op(op) or op: n for op, n in preview.change_summary.items()}
                run.result = "previewed"
            elif self.mode == "destroy":
                self.set_state(run, "destroying")
                destroyed = stack.destroy(on_event=events, on_output=log.append, color="never", parallel=self.parallel)
                run.changes = {_op(op) or op: n for op, n in (destroyed.summary.resource_changes or {}).items()}
                run.result = "destroyed"
            else:
                self.set_state(run, "updating")
                updated = stack.up(on_event=events, on_output=log.append, color="never", parallel=self.parallel)
                run.changes = {_op(op) or op: n for op, n in (updated.summary.resource_changes or {}).items()}
                run.outputs = {k: ("[secret]" if v.secret else str(v.value)) for k, v in updated.outputs.items()}
                changed = any(run.changes.get(op) for op in ("create", "update", "replace", "delete"))
                run.result = "changed" if changed else "unchanged"
        except auto.CommandError as err:
            run.result = "failed"
            if not run.errors:
                run.errors.append(_last_error(str(err)))
        except Exception as err:  # noqa: BLE001 - one stack's failure is reported, the others go on
            run.result = "failed"
            run.errors.append(f"{type(err).__name__}: {err}")
        finally:
            run.ended = time.monotonic()
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                (self.log_dir / f"{cluster.stack}.log").write_text("\n".join(log) + "\n")
            shutil.rmtree(work_dir, ignore_errors=True)
            self.set_state(run, run.result or "failed")

    def run(self, parallel_stacks: int) -> None:
        self.progress.start(self.runs)
        pool = ThreadPoolExecutor(max_workers=parallel_stacks, thread_name_prefix="stack")
        try:
            futures = [pool.submit(self.run_one, run) for run in self.runs]
            for future in futures:
                future.result()
        except KeyboardInterrupt:
            # The `pulumi` processes got the same Ctrl-C and cancel their updates;
            # stacks that had not started are left alone.
            pool.shutdown(wait=True, cancel_futures=True)
            for run in self.runs:
                if run.state == "queued":
                    run.result, run.state = "skipped", "skipped"
            raise
        finally:
            pool.shutdown(wait=True)
            self.progress.stop()


def _last_error(text: str) -> str:
    """The CLI's own error line out of a CommandError's full output."""
    for line in reversed(text.splitlines()):
        line = line.strip().removeprefix("stderr:").strip()
        if line.startswith("error:"):
            return line
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "the pulumi command failed"


# --- progress and summary -----------------------------------------------------------------


class Progress:
    """`table`: the table redrawn in place (a terminal); `lines`: one line per
    state change (a CI log); `none`: only the summary."""

    def __init__(self, style: str, out=sys.stdout):
        self.style = style
        self.out = out
        self.lock = threading.Lock()
        self.runs: list[StackRun] = []
        self.drawn = 0
        self.last_state: dict[str, str] = {}
        self.began = time.monotonic()
        self.stop_drawing = threading.Event()
        self.drawer: Optional[threading.Thread] = None

    def start(self, runs: list[StackRun]) -> None:
        self.runs = runs
        self.began = time.monotonic()
        self.width = max(len("STACK"), *(len(r.cluster.stack) for r in runs))
        if self.style == "table":
            self.drawer = threading.Thread(target=self._redraw_loop, daemon=True)
            self.drawer.start()

    def stop(self) -> None:
        if self.drawer is not None:
            self.stop_drawing.set()
            self.drawer.join()
            self._draw()

    def changed(self, run: StackRun) -> None:
        if self.style != "lines":
            return
        with self.lock:
            if self.last_state.get(run.cluster.stack) == run.state:
                return
            self.last_state[run.cluster.stack] = run.state
            clock = time.monotonic() - self.began
            print(f"{clock:7.1f}s  {run.cluster.stack:<{self.width}}  {run.state:<10}  {run.ops()}", file=self.out, flush=True)

    def _redraw_loop(self) -> None:
        while not self.stop_drawing.wait(0.25):
            self._draw()

    def _draw(self) -> None:
        with self.lock:
            lines = [f"{'STACK':<{self.width}}  {'STATE':<10}  {'TIME':>6}  OPS (+create ~update +-replace -delete =same !failed)"]
            for run in self.runs:
                lines.append(f"{run.cluster.stack:<{self.width}}  {run.state:<10}  {run.elapsed:5.1f}s  {run.ops()}")
            if self.drawn:
                self.out.write(f"\x1b[{self.drawn}F")
            self.out.write("".join(f"\x1b[2K{line}\n" for line in lines))
            self.out.flush()
            self.drawn = len(lines)


def summary(runs: list[StackRun], mode: str) -> str:
    width = max(len("STACK"), *(len(r.cluster.stack) for r in runs))
    head = ("created", "updated", "replaced", "deleted", "unchanged", "failed")
    lines = [f"{'STACK':<{width}}  {'RESULT':<10}  " + "  ".join(f"{h:>9}" for h in head) + "    TIME"]
    for run in runs:
        counts = [run.changes.get(op, 0) for op in RESOURCE_OPS] + [run.failed]
        lines.append(
            f"{run.cluster.stack:<{width}}  {run.result:<10}  " + "  ".join(f"{n:>9}" for n in counts) + f"  {run.elapsed:5.1f}s"
        )
    tally: dict[str, int] = {}
    for run in runs:
        tally[run.result] = tally.get(run.result, 0) + 1
    lines.append("")
    lines.append(f"{len(runs)} stacks: " + ", ".join(f"{n} {result}" for result, n in sorted(tally.items())))
    with_outputs = [run for run in runs if run.outputs]
    if with_outputs:
        lines += ["", "Connector role ARNs (paste each into the xpander UI, connector settings, \"IAM Role ARN\"):"]
        for run in with_outputs:
            for key in sorted(run.outputs):
                lines.append(f"  {run.cluster.stack:<{width}}  {key:<16} {run.outputs[key]}")
    failed = [run for run in runs if run.result == "failed"]
    if failed:
        lines += ["", "Failed stacks:"]
        for run in failed:
            lines.append(f"  {run.cluster.stack}:")
            for error in run.errors or ["(no error reported)"]:
                lines += [f"    {line}" for line in error.splitlines()]
    return "\n".join(lines)


def summary_json(runs: list[StackRun], mode: str) -> dict:
    return {
        "project": PROJECT,
        "mode": mode,
        "stacks": [
            {
                "stack": run.cluster.stack,
                "cluster": run.cluster.name,
                "result": run.result,
                "resourceChanges": run.changes,
                "failedResources": sorted(urn.rsplit("::", 1)[-1] for urn in run.failed_urns),
                "outputs": run.outputs,
                "errors": run.errors,
                "seconds": round(run.elapsed, 1),
            }
            for run in runs
        ],
    }


# --- command line -------------------------------------------------------------------------


def pulumi_command(bin_dir: Optional[str]) -> auto.PulumiCommand:
    """The CLI in `bin_dir` (the folder holding `pulumi`, e.g. the last line of
    `make pulumi`), else the one on PATH."""
    if not bin_dir:
        if shutil.which("pulumi") is None:
            raise FleetError("no `pulumi` on PATH: pass --pulumi-bin or set XPANDER_PULUMI_BIN")
        return auto.PulumiCommand()
    folder = Path(bin_dir).resolve()
    if (folder / "pulumi").is_file() and folder.name == "bin":
        return auto.PulumiCommand(root=str(folder.parent))
    if (folder / "bin" / "pulumi").is_file():
        return auto.PulumiCommand(root=str(folder))
    raise FleetError(f"no pulumi CLI in {folder} (expected {folder}/pulumi in a folder named bin, or {folder}/bin/pulumi)")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fleet.py", description="Deploy the xpander IAM stack to every cluster of a fleet file, in parallel."
    )
    parser.add_argument("fleet", type=Path, help="fleet file (.yaml, .yml or .json)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true", help="preview every stack, change nothing")
    mode.add_argument("--destroy", action="store_true", help="delete every stack's resources (the stacks stay, empty)")
    parser.add_argument("--parallel-stacks", type=int, default=4, metavar="N",
                        help="stacks deployed at once, each by its own pulumi process (default 4)")
    parser.add_argument("--parallel", type=int, metavar="P",
                        help="resource operations at once within each stack, as `pulumi up --parallel` (default: pulumi's)")
    parser.add_argument("--backend", default=os.environ.get("PULUMI_BACKEND_URL"),
                        help="state backend URL, e.g. file://~/.pulumi-fleet or s3://bucket (default: $PULUMI_BACKEND_URL, "
                             "else the backend `pulumi login` chose)")
    parser.add_argument("--secrets-provider", help="secrets provider of new stacks (default: passphrase on a self-managed "
                                                   "backend, the service on Pulumi Cloud)")
    parser.add_argument("--pulumi-bin", default=os.environ.get("XPANDER_PULUMI_BIN"),
                        help="folder holding the pulumi CLI (default: $XPANDER_PULUMI_BIN, else PATH)")
    parser.add_argument("--pulumi-home", default=os.environ.get("PULUMI_HOME"),
                        help="Pulumi home with the xpander plugin installed (default: $PULUMI_HOME, else ~/.pulumi)")
    parser.add_argument("--log-dir", type=Path, help="write each stack's pulumi output to <dir>/<stack>.log")
    parser.add_argument("--progress", choices=("auto", "table", "lines", "none"), default="auto",
                        help="live progress: a table redrawn in place (terminal), a line per state change (logs) or none")
    parser.add_argument("--summary-json", type=Path, metavar="FILE",
                        help="also write the summary as JSON (per stack: result, resource changes, outputs, errors)")
    parser.add_argument("--only", action="append", metavar="STACK", help="run only this stack (repeatable)")
    args = parser.parse_args(argv)
    if args.parallel_stacks < 1:
        parser.error("--parallel-stacks must be at least 1")
    if args.parallel is not None and args.parallel < 1:
        parser.error("--parallel must be at least 1")
    return args


def quiet_abandoned_programs() -> None:
    """When an update fails, the engine stops serving the inline program while
    it still runs; the Python SDK then leaves its `run_in_stack` coroutine
    unfinished and the garbage collector prints "Exception ignored in:
    <coroutine object run_in_stack> ... no running event loop". The stack's real
    error is already in the summary: drop that one message, keep all others."""
    default = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if getattr(unraisable.object, "__qualname__", None) == "run_in_stack" and isinstance(
            unraisable.exc_value, RuntimeError
        ):
            return
        default(unraisable)

    sys.unraisablehook = hook


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    quiet_abandoned_programs()
    mode = "preview" if args.preview else "destroy" if args.destroy else "up"
    try:
        clusters = load_fleet(args.fleet)
        if args.only:
            unknown = set(args.only) - {c.stack for c in clusters}
            if unknown:
                raise FleetError(f"--only names stacks the fleet file does not have: {sorted(unknown)}")
            clusters = [c for c in clusters if c.stack in args.only]
        backend = args.backend
        self_managed = bool(backend) and not backend.startswith(("http://", "https://"))
        if self_managed and args.secrets_provider in (None, "passphrase") and not (
            os.environ.get("PULUMI_CONFIG_PASSPHRASE") or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
        ):
            raise FleetError("a self-managed backend with passphrase secrets needs PULUMI_CONFIG_PASSPHRASE "
                             "or PULUMI_CONFIG_PASSPHRASE_FILE")
        if backend and backend.startswith("file://"):
            # Each stack's pulumi runs in a folder of its own: a relative path
            # is made absolute here, and the folder must exist.
            folder = Path(os.path.expanduser(backend[len("file://"):])).resolve()
            folder.mkdir(parents=True, exist_ok=True)
            backend = f"file://{folder}"
        command = pulumi_command(args.pulumi_bin)
    except FleetError as err:
        print(f"fleet.py: {err}", file=sys.stderr)
        return 2

    env_vars = {"PULUMI_SKIP_UPDATE_CHECK": "true"}
    if backend:
        env_vars["PULUMI_BACKEND_URL"] = backend
    options = auto.LocalWorkspaceOptions(
        pulumi_home=str(Path(args.pulumi_home).expanduser().resolve()) if args.pulumi_home else None,
        env_vars=env_vars,
        secrets_provider=args.secrets_provider,
        pulumi_command=command,
    )
    style = args.progress
    if style == "auto":
        style = "table" if sys.stdout.isatty() else "lines"
    progress = Progress(style)
    fleet = Fleet(clusters, mode, options, args.log_dir, progress, args.parallel)
    parallel = min(args.parallel_stacks, len(clusters))
    print(f"{mode} of {len(clusters)} stacks of project {PROJECT}, {parallel} at a time", flush=True)
    interrupted = False
    try:
        fleet.run(parallel)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: pulumi cancelled the running updates; stacks not started were skipped", file=sys.stderr)
    print()
    print(summary(fleet.runs, mode), flush=True)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary_json(fleet.runs, mode), indent=2) + "\n")
    if interrupted:
        return 130
    return 1 if any(run.result == "failed" for run in fleet.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
