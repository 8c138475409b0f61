"""Where the CPU went during a measurement, from /proc: per component of our stack (Postgres,
PostgREST, sidecar, nginx, fakes, worker), the load generator, and everything else on the
machine ("other": someone else's test run shows up here, so a noisy result can be spotted)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = (
    ("voxflow.fakes", "fakes"),
    ("voxflow.worker", "worker"),
    ("voxflow.mailcatcher", "worker"),
    ("voxflow.cli", "supervisor"),
    ("gunicorn", "sidecar"),
    ("postgrest", "postgrest"),
    ("nginx", "nginx"),
    ("bench.loadgen", "loadgen"),
    ("pgbench", "pgbench"),
    ("postgres", "postgres"),
)


def _stat(pid: str) -> tuple[int, int, str] | None:
    """(parent pid, CPU ticks so far, command line) of a process, if it still exists."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # After the command: state, ppid, ... utime is field 14 and stime 15 (1-based, in man proc).
    return int(fields[1]), int(fields[11]) + int(fields[12]), cmdline or raw[: raw.rindex(")")]


def classify(cmdline: str) -> str:
    for needle, group in GROUPS:
        if needle in cmdline:
            return group
    return "bench"


@dataclass(frozen=True)
class Snapshot:
    at: float
    machine_busy: int  # ticks, all cores
    by_pid: dict[int, tuple[str, int]]  # pid -> (group, CPU ticks so far)


def machine_busy_ticks() -> int:
    parts = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(v) for v in parts]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle


def snapshot(roots: list[int]) -> Snapshot:
    """CPU ticks of every descendant of `roots` (our stack, our load), grouped."""
    table: dict[int, tuple[int, int, str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(entry)
            if found:
                table[int(entry)] = found
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    ours: set[int] = set()
    todo = [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        if pid not in ours:
            ours.add(pid)
            todo.extend(children.get(pid, []))
    by_pid = {pid: (classify(table[pid][2]), table[pid][1]) for pid in ours}
    return Snapshot(time.monotonic(), machine_busy_ticks(), by_pid)


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Percent of one core per group between two snapshots (200 = both cores of two). Counted
    per process: one that started in between counts from zero; one that ended in between is
    lost (its time shows as `other`) rather than taking its whole past off its group, as a
    per-group sum did when a long-lived Postgres backend exited. `other` is the rest."""
    seconds = max(after.at - before.at, 1e-6)
    ticks: dict[str, int] = {}
    for pid, (group, now) in after.by_pid.items():
        earlier = before.by_pid.get(pid, (group, 0))[1]
        if earlier > now:  # its pid was reused by a new process
            earlier = 0
        ticks[group] = ticks.get(group, 0) + now - earlier
    out: dict[str, float] = {}
    for group in sorted(ticks):
        out[group] = round(100 * max(ticks[group], 0) / TICKS / seconds, 1)
    machine = 100 * (after.machine_busy - before.machine_busy) / TICKS / seconds
    out["other"] = round(max(machine - sum(out.values()), 0.0), 1)
    out["machine"] = round(machine, 1)
    return out


def postmaster_of(backend_pid: int) -> int | None:
    """The postmaster is the parent of any backend (ask the database for pg_backend_pid())."""
    found = _stat(str(backend_pid))
    return found[0] if found else None
