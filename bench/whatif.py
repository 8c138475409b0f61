"""Candidate fixes for what the bench found, tried in the BENCH database only and measured
before and after with pgbench (rounds alternate, so machine noise hits both sides). Nothing
here touches migrations: the product owner decides what to change.

    python -m bench.run --size M --keep            # leaves the filled stack running
    python -m bench.whatif --state-dir /tmp/voxflow-bench
    VOXFLOW_STATE_DIR=/tmp/voxflow-bench .venv/bin/voxflow down && rm -rf /tmp/voxflow-bench

1. Tenant list reads: the read policies of public.agents and public.notifications are
   `user_id = (select auth.uid()) or (select private.is_admin())`. The OR with a parameter
   keeps the planner from using the user_id index, so every list read scans the whole table.
   Tried: the owner-only policy a tenant needs (admins would read through another role).
2. Deleting an agent: usage_events.agent_id references agents ON DELETE SET NULL without an
   index, so each delete scans every usage partition. Tried: an index on (agent_id).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import pgbench
from bench.run import RESULTS, pool

POLICIES = {
    "agents": "owners and admins read agents",
    "notifications": "owners and admins read notifications",
}


def owner_only(conn: psycopg.Connection, on: bool) -> None:
    for table, name in POLICIES.items():
        if on:
            conn.execute(f'alter policy "{name}" on public.{table} '
                         "using (user_id = (select auth.uid()))")  # fmt: skip
        else:
            conn.execute(
                f'alter policy "{name}" on public.{table} '
                "using (user_id = (select auth.uid()) or (select private.is_admin()))"
            )


def agent_index(conn: psycopg.Connection, on: bool) -> None:
    if on:
        conn.execute("create index if not exists bench_usage_events_agent_id_idx "
                     "on public.usage_events (agent_id)")  # fmt: skip
    else:
        conn.execute("drop index if exists public.bench_usage_events_agent_id_idx")


EXPERIMENTS: list[tuple[str, Callable[[psycopg.Connection, bool], None], tuple[str, ...]]] = [
    ("owner-only read policy on agents and notifications", owner_only,
     ("agents_rls", "notifications_rls")),
    ("index on usage_events (agent_id)", agent_index, ("create_delete_agent",)),
]  # fmt: skip


def measure(db_url: str, users: int, seconds: float, rounds: int) -> list[dict[str, Any]]:
    found = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        for title, toggle, scripts in EXPERIMENTS:
            runs: dict[tuple[str, bool], list[dict[str, Any]]] = {}
            try:
                for r in range(rounds):
                    for fixed in (False, True) if r % 2 == 0 else (True, False):
                        toggle(conn, fixed)
                        conn.execute("analyze public.agents, public.notifications")
                        for script in scripts:
                            result = pgbench.run(db_url, script, users, seconds)
                            result["cpu"] = {}
                            runs.setdefault((script, fixed), []).append(result)
            finally:
                toggle(conn, False)
            for script in scripts:
                before, after = pool(runs[(script, False)]), pool(runs[(script, True)])
                found.append({"fix": title, "script": script, "before": before, "after": after})
    return found


def markdown(found: list[dict[str, Any]], users: int) -> str:
    lines = [
        f"# What-if: candidate fixes in the bench database ({users:,} tenants)",
        "",
        "| fix | pgbench script | before tx/s | after tx/s | before mean / p95 ms "
        "| after mean / p95 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for f in found:
        b, a = f["before"], f["after"]
        lines.append(
            f"| {f['fix']} | {f['script']} | {b['rps']:.0f} | {a['rps']:.0f} | "
            f"{b['mean']:.2f} / {b['p95']:.2f} | {a['mean']:.2f} / {a['p95']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif")
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/voxflow-bench"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    info = json.loads((args.state_dir / "run" / "stack.json").read_text())
    with psycopg.connect(info["db_url"]) as conn:
        row = conn.execute("select count(*) from bench.users").fetchone()
    users = int(row[0]) if row else 0
    found = measure(info["db_url"], users, args.seconds, args.rounds)
    text = markdown(found, users)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-whatif-{users}-tenants.md"
    out.write_text(text)
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
