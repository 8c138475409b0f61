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
    by_group: dict[str, int]


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
    by_group: dict[str, int] = {}
    for pid in ours:
        group = classify(table[pid][2])
        by_group[group] = by_group.get(group, 0) + table[pid][1]
    return Snapshot(time.monotonic(), machine_busy_ticks(), by_group)


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Percent of one core per group between two snapshots (200 = both cores of two); a
    process that started or ended in between counts from zero. `other` is the rest."""
    seconds = max(after.at - before.at, 1e-6)
    out: dict[str, float] = {}
    for group in sorted(set(before.by_group) | set(after.by_group)):
        delta = after.by_group.get(group, 0) - before.by_group.get(group, 0)
        out[group] = round(100 * max(delta, 0) / TICKS / seconds, 1)
    machine = 100 * (after.machine_busy - before.machine_busy) / TICKS / seconds
    out["other"] = round(max(machine - sum(out.values()), 0.0), 1)
    out["machine"] = round(machine, 1)
    return out


def postmaster_of(backend_pid: int) -> int | None:
    """The postmaster is the parent of any backend (ask the database for pg_backend_pid())."""
    found = _stat(str(backend_pid))
    return found[0] if found else None
