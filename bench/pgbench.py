"""SQL-only baselines with pgbench: the statements PostgREST sends for a request, in the same
transaction shape (claims and role set with set_config, the pre-request check, the query with
PostgREST's JSON wrapping), without HTTP, nginx, the rate-limit check or PostgREST itself."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"

# PostgREST 12's own preamble and its wrapping of a read (captured with pg_stat_statements).
PREAMBLE = """\\set n random(1, :nusers)
BEGIN;
select set_config('search_path', '"public", "public", "extensions"', true) as s1,
    set_config('role', 'authenticated', true) as s2,
    set_config('request.jwt.claims', u.claims, true) as s3,
    set_config('request.method', 'GET', true) as s4,
    set_config('request.path', '/{path}', true) as s5,
    set_config('request.headers', u.headers, true) as s6,
    set_config('request.cookies', '{{}}', true) as s7,
    u.user_id as uid
from bench.users as u where u.n = :n \\gset b_
select "private"."check_request"();
"""
READ = """WITH pgrst_source AS ( SELECT "public"."{table}".* FROM "public"."{table}" {where} \
ORDER BY "public"."{table}"."created_at" DESC {limit} ) SELECT null::bigint AS total_result_set, \
pg_catalog.count(_postgrest_t) AS page_total, coalesce(json_agg(_postgrest_t), '[]') AS body, \
nullif(current_setting('response.headers', true), '') AS response_headers, \
nullif(current_setting('response.status', true), '') AS response_status, \
'' AS response_inserted FROM ( SELECT * FROM pgrst_source ) _postgrest_t;
COMMIT;
"""
INSERT_AGENT = """\\set n random(1, :nusers)
BEGIN;
select set_config('role', 'authenticated', true) as s1,
    set_config('request.jwt.claims', u.claims, true) as s2
from bench.users as u where u.n = :n \\gset b_
insert into public.agents (name, system_prompt, llm_model)
values ('Bench agent', 'You answer the phone for a bench test.', 'llama-3.1-8b-instant')
returning id;
ROLLBACK;
"""

CREATE_DELETE_AGENT = """\\set n random(1, :nusers)
BEGIN;
select set_config('role', 'authenticated', true) as s1,
    set_config('request.jwt.claims', u.claims, true) as s2
from bench.users as u where u.n = :n \\gset b_
insert into public.agents (name, system_prompt, llm_model)
values ('Bench agent', 'You answer the phone for a bench test.', 'llama-3.1-8b-instant')
returning id as agent_id \\gset
delete from public.agents where id = :agent_id;
ROLLBACK;
"""


def read_script(table: str, filtered: bool, limit: int | None = None) -> str:
    """A tenant's list read: RLS alone picks the rows, or an explicit user_id filter too."""
    where = f'WHERE "public"."{table}"."user_id" = :b_uid' if filtered else ""
    return PREAMBLE.format(path=table) + READ.format(
        table=table, where=where, limit=f"LIMIT {limit}" if limit else ""
    )


SCRIPTS = {
    "agents_rls": read_script("agents", filtered=False),
    "agents_rls_filtered": read_script("agents", filtered=True),
    "agents_norls": read_script("bench_agents_norls", filtered=True),
    "notifications_rls": read_script("notifications", filtered=False, limit=20),
    "notifications_norls": read_script("bench_notifications_norls", filtered=True, limit=20),
    "insert_agent": INSERT_AGENT,
    "create_delete_agent": CREATE_DELETE_AGENT,
}


def run(
    db_url: str,
    script: str,
    users: int,
    seconds: float,
    clients: int = 8,
    threads: int = 2,
    rate: float | None = None,
) -> dict[str, Any]:
    """Run one script; exact latency percentiles from pgbench's per-transaction log."""
    with tempfile.TemporaryDirectory(prefix="voxflow-bench-pgbench-") as tmp:
        folder = Path(tmp)
        (folder / "script.sql").write_text(SCRIPTS[script])
        command = [
            PGBENCH,
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(threads),
            "-T",
            str(max(int(round(seconds)), 1)),
            "-D",
            f"nusers={users}",
            "-f",
            str(folder / "script.sql"),
            "-l",
            f"--log-prefix={folder / 'tx'}",
            *(["-R", str(rate)] if rate else []),
            db_url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder)
        latencies: list[float] = []
        for log in folder.glob("tx.*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 6 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000.0)
    output = done.stdout + done.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    aborted = len(re.findall(r"client \d+ aborted", output))
    if done.returncode != 0 and not latencies:
        tail = " / ".join(output.strip().splitlines()[-3:])
        raise RuntimeError(f"pgbench {script} failed: {tail}")
    values = np.array(latencies) if latencies else np.zeros(1)
    return {
        "script": script,
        "clients": clients,
        "rate": rate,
        "count": len(latencies),
        "rps": float(tps.group(1)) if tps else round(len(latencies) / seconds, 1),
        "errors": (int(failed.group(1)) if failed else 0) + aborted,
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "mean": round(float(values.mean()), 2),
        "max": round(float(values.max()), 2),
    }
