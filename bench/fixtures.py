"""Bench-only objects, created in the bench stack's database and nowhere else: the
RLS-free copies the RLS ratio is measured against, the users table pgbench picks callers
from, plan rates raised so the load is not throttled, and pg_stat_statements."""

from __future__ import annotations

import json
import time

import jwt
import psycopg
import requests

from bench.tenants import Roster

SETUP = (
    "create extension if not exists pg_stat_statements",
    # Every plan allows far more than ~1 request a second per user: the bench measures
    # latency, not the limiter's 429s (the limiter still counts every request).
    "update public.plans set requests_per_minute = 1000000",
    "create schema if not exists bench",
    """
    create table bench.users (
        n integer primary key,
        user_id uuid not null,
        claims text not null,
        headers text not null
    )
    """,
    # The same rows as public.agents, without RLS: PostgREST serves it to `authenticated`,
    # and the bench filters by user_id itself (?user_id=eq.<id>).
    "create table public.bench_agents_norls as table public.agents",
    "create index on public.bench_agents_norls (user_id, created_at)",
    "grant select on public.bench_agents_norls to authenticated",
    "comment on table public.bench_agents_norls is 'Bench only: public.agents without RLS'",
    "create table public.bench_notifications_norls as table public.notifications",
    "create index on public.bench_notifications_norls (user_id, created_at desc)",
    "grant select on public.bench_notifications_norls to authenticated",
    "analyze public.bench_agents_norls, public.bench_notifications_norls",
)


def prepare(db_url: str, roster: Roster, jwt_secret: str, api_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for statement in SETUP:
            conn.execute(statement)
        with conn.cursor().copy("copy bench.users (n, user_id, claims, headers) from stdin") as cp:
            for n, tenant in enumerate(roster.tenants, start=1):
                claims = jwt.decode(
                    tenant.token, jwt_secret, algorithms=["HS256"], options={"verify_aud": False}
                )
                headers = {"authorization": f"Bearer {tenant.token}", "host": "127.0.0.1"}
                cp.write_row((n, tenant.user_id, json.dumps(claims), json.dumps(headers)))
        conn.execute("analyze bench.users")
        conn.execute("notify pgrst, 'reload schema'")
    # PostgREST reloads its schema cache asynchronously: wait until it serves the copy.
    probe = roster.tenants[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = requests.get(
            f"{api_url}/rest/v1/bench_agents_norls?limit=1",
            headers={"Authorization": f"Bearer {probe.token}"},
            timeout=5,
        )
        if answer.status_code == 200:
            return
        time.sleep(0.2)  # polling PostgREST's schema reload
    raise RuntimeError("PostgREST did not pick up the bench tables (schema reload)")


def refresh_copies(db_url: str) -> None:
    """Before a ratio: the copies get the tables' current rows, and both sides are vacuumed,
    so the write scenarios' dead rows in public.agents do not tilt the comparison."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        for table in ("agents", "notifications"):
            copy = f"public.bench_{table}_norls"
            with conn.transaction():
                conn.execute(f"truncate {copy}")
                conn.execute(f"insert into {copy} select * from public.{table}")
            conn.execute(f"vacuum analyze public.{table}, {copy}")


def reset_statements(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("select pg_stat_statements_reset()")


def top_statements(db_url: str, limit: int = 12) -> list[dict[str, object]]:
    """The statements that took the most database time since the last reset."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            """
            select calls, round(total_exec_time::numeric, 1) as total_ms,
                round(mean_exec_time::numeric, 3) as mean_ms, rows,
                regexp_replace(left(query, 240), '\\s+', ' ', 'g') as query
            from pg_stat_statements
            where query not ilike '%%pg_stat_statements%%'
            order by total_exec_time desc limit %s
            """,
            (limit,),
        ).fetchall()
    return [
        {
            "calls": r[0],
            "total_ms": float(r[1]),
            "mean_ms": float(r[2]),
            "rows": r[3],
            "query": r[4],
        }
        for r in rows
    ]
