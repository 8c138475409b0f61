"""Candidate fixes for what the bench found, tried in the BENCH database only and measured
before and after with pgbench (rounds alternate, so machine noise hits both sides). Nothing
here touches migrations: the product owner decides what to change.

    python -m bench.run --size M --keep            # leaves the filled stack running
    python -m bench.whatif --state-dir /tmp/voxflow-bench
    VOXFLOW_STATE_DIR=/tmp/voxflow-bench .venv/bin/voxflow down && rm -rf /tmp/voxflow-bench

1. Tenant list reads: read policies written `user_id = (select auth.uid()) or (select
   private.is_admin())` keep the planner from using the user_id index (the OR with a run-time
   value), so every list read scans the whole table. Tried: the owner-only policy a tenant
   needs, against whatever the product's policy is now (restored afterwards).
2. Deleting an agent: usage_events.agent_id references agents ON DELETE SET NULL; without an
   index each delete scans every usage partition. Tried: an index on (agent_id), unless the
   product has one already.
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
    "agents": "owners read their agents",
    "notifications": "owners read their notifications",
}
OWNER_ONLY = "user_id = (select auth.uid())"


def current_policies(conn: psycopg.Connection) -> dict[str, str]:
    """The read policies' expressions as the product defines them now (restored afterwards)."""
    found = {}
    for table, name in POLICIES.items():
        row = conn.execute(
            "select qual from pg_policies where schemaname = 'public' and tablename = %s "
            "and policyname = %s",
            (table, name),
        ).fetchone()
        if row:
            found[table] = str(row[0])
    return found


def owner_only(conn: psycopg.Connection, on: bool, product: dict[str, str]) -> None:
    for table, name in POLICIES.items():
        if table in product:
            expression = OWNER_ONLY if on else product[table]
            conn.execute(f'alter policy "{name}" on public.{table} using ({expression})')


def has_agent_index(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select exists (select 1 from pg_index as i join pg_attribute as a "
        "on a.attrelid = i.indrelid and a.attnum = i.indkey[0] "
        "where i.indrelid = 'public.usage_events'::regclass and a.attname = 'agent_id')"
    ).fetchone()
    return bool(row and row[0])


def agent_index(conn: psycopg.Connection, on: bool, product: dict[str, str]) -> None:
    if on:
        conn.execute(
            "create index if not exists bench_usage_events_agent_id_idx "
            "on public.usage_events (agent_id)"
        )
    else:
        conn.execute("drop index if exists public.bench_usage_events_agent_id_idx")


Toggle = Callable[[psycopg.Connection, bool, dict[str, str]], None]
EXPERIMENTS: list[tuple[str, Toggle, tuple[str, ...]]] = [
    ("owner-only read policy on agents and notifications", owner_only,
     ("agents_rls", "notifications_rls")),
    ("index on usage_events (agent_id)", agent_index, ("create_delete_agent",)),
]  # fmt: skip


def measure(db_url: str, users: int, seconds: float, rounds: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        product = current_policies(conn)
        for title, toggle, scripts in EXPERIMENTS:
            if toggle is agent_index and has_agent_index(conn):
                found.append({"fix": title, "already": True})
                continue
            runs: dict[tuple[str, bool], list[dict[str, Any]]] = {}
            try:
                for r in range(rounds):
                    for fixed in (False, True) if r % 2 == 0 else (True, False):
                        toggle(conn, fixed, product)
                        conn.execute("analyze public.agents, public.notifications")
                        for script in scripts:
                            result = pgbench.run(db_url, script, users, seconds)
                            result["cpu"] = {}
                            runs.setdefault((script, fixed), []).append(result)
            finally:
                toggle(conn, False, product)
            for script in scripts:
                before, after = pool(runs[(script, False)]), pool(runs[(script, True)])
                found.append({"fix": title, "script": script, "before": before, "after": after})
        found.append({"policies": product})
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
        if f.get("already"):
            lines.append(f"| {f['fix']} | already in the product | | | | |")
        elif "script" in f:
            b, a = f["before"], f["after"]
            lines.append(
                f"| {f['fix']} | {f['script']} | {b['rps']:.0f} | {a['rps']:.0f} | "
                f"{b['mean']:.2f} / {b['p95']:.2f} | {a['mean']:.2f} / {a['p95']:.2f} |"
            )
    policies: dict[str, str] = next((f["policies"] for f in found if "policies" in f), {})
    lines += ["", "Before = the product's read policies at the time:", ""]
    lines += [f"- {table}: `{qual}`" for table, qual in policies.items()]
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
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d-%H%M}-whatif-{users}-tenants.md"
    out.write_text(text)
    print(text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
