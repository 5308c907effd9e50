"""Small measuring tools: process statistics from /proc, percentiles, timers,
and a description of the machine."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    # After "pid (comm) ": state is fields[0]; utime and stime are stat fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def own_cpu_seconds() -> float:
    """CPU time of this (benchmark) process: the engine driver's share."""
    t = os.times()
    return t.user + t.system


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def ms(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine(repo: Path, binary: Path) -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    mhz = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("cpu MHz")]
    meminfo = {line.split(":")[0]: line.split(":")[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()}
    free = _run(["free", "-m"]).splitlines()
    commit = _run(["git", "rev-parse", "HEAD"], repo)
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], repo)
    return {
        "cpu": f"{models[0] if models else platform.processor()} × {len(models) or os.cpu_count()}"
               + (f" @ {float(mhz[0]):.0f} MHz" if mhz else ""),
        "memory": f"{int(meminfo['MemTotal'].split()[0]) // 1024} MiB total, "
                  f"{int(meminfo['MemAvailable'].split()[0]) // 1024} MiB available at start",
        "free -m": free[1] if len(free) > 1 else "",
        "kernel": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "rustc": _run(["rustc", "--version"]) or "unknown",
        "provider commit": (commit[:12] + (" (with uncommitted changes)" if dirty else "")) if commit else "unknown",
        "binary": f"{binary} ({binary.stat().st_size / 1e6:.1f} MB)",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
