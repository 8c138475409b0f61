"""`make bench`: start a stack of our own, fill it, put it under load, write the results.

    python -m bench.run --size S          # ~4 minutes: the one `make bench` runs
    python -m bench.run --size M          # ~12 minutes
    python -m bench.run --size L          # ~22 minutes, 5 of them seeding

Writes bench/results/<date>-<size>.json (git-ignored), .md and .png. The stack runs with
--fake-providers (zero latency) in /tmp/voxflow-bench on free ports and is torn down at the end,
also on failure or Ctrl-C (--keep leaves it running to look around).

Scenarios run open loop: each active user sends a Poisson stream of about one request a
second (bench/loadgen.py). Ratios are measured side by side, alternating A and B in short
phases (ABBA...) so that whatever else the machine does hits both sides alike.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import numpy as np
import psycopg
import requests

from bench import fixtures, pgbench, procstat, report, seed, tenants
from bench.harness import BenchStack
from voxflow.config import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results"
P95_CAPACITY_MS = 500.0  # the product promise: p95 under 500 ms


@dataclass(frozen=True)
class Plan:
    """How long and how hard each size is measured."""

    warmup: float  # seconds of load before measuring (spawning included)
    measure: float  # seconds measured per scenario
    phase: float  # seconds per A/B phase
    rounds: int  # ABBA rounds per ratio
    pgbench: float  # seconds per pgbench run
    step: float  # seconds measured per mixed-traffic step
    steps: tuple[int, ...]  # active users per mixed step (stops once p95 > 500 ms)


PLANS = {
    "S": Plan(3, 6, 3, 2, 3, 6, (100, 250, 500, 1000, 1500, 2000, 3000)),
    "M": Plan(5, 20, 6, 3, 6, 15, (100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000)),
    "L": Plan(8, 30, 8, 4, 8, 20, (100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000)),
}
READ_USERS = WRITE_USERS = 1000  # the targets are stated at 1,000 active users
PROVIDER_USERS = 100
ADMIN_USERS = 10
RATIO_OPEN_USERS = 100  # fixed-rate side-by-side comparisons (latency)
RATIO_CLOSED_USERS = 16  # closed-loop comparisons (throughput)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


class Bench:
    def __init__(self, size: str, stack: BenchStack, work: Path) -> None:
        self.size, self.plan, self.stack, self.work = size, PLANS[size], stack, work
        self.roster_path = work / "roster.json"
        self.roots: list[int] = []
        self.tenant_count = 0

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def db_url(self) -> str:
        return str(self.stack.info["db_url"])

    def loadgen(self, label: str, scenario: str, users: int, **options: Any) -> dict[str, Any]:
        out = self.work / f"{label}.json"
        warmup = options.pop("warmup", max(self.plan.warmup, users / 500 + 2))
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--roster",
            str(self.roster_path),
            "--scenario",
            scenario,
            "--users",
            str(users),
            "--warmup",
            str(warmup),
            "--roots",
            ",".join(map(str, self.roots)),
            "--out",
            str(out),
        ]
        for name, value in options.items():
            flag = "--" + name.replace("_", "-")
            command += [flag] if value is True else [flag, str(value)]
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, cwd=PROJECT_ROOT
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"loadgen {label} failed: {done.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        self.reset_fakes()
        result["drain_seconds"] = self.wait_until_idle()
        turns = result.pop("chat_turns", [])
        if turns:
            result["overhead"] = self.provider_overhead(turns)
        return result

    def provider_overhead(self, turns: list[list[Any]]) -> dict[str, Any]:
        """Per chat turn: end-to-end latency minus the provider call's own latency, which the
        sidecar metered under the same request id (usage_events.latency_ms)."""
        with psycopg.connect(self.db_url) as conn:
            rows = conn.execute(
                "select request_id, latency_ms from public.usage_events "
                "where period_start = date_trunc('month', now() at time zone 'UTC')::date "
                "and occurred_at > now() - interval '10 minutes' and kind = 'llm' "
                "and request_id = any(%s)",
                ([t[0] for t in turns],),
            ).fetchall()
        provider = {r[0]: r[1] for r in rows if r[1] is not None}
        pairs = [(ms, provider[rid]) for rid, ms in turns if rid in provider]
        if not pairs:
            return {}
        overhead = [total - inner for total, inner in pairs]
        return {
            "count": len(pairs),
            **{f"p{q}": round(float(np.percentile(overhead, q)), 2) for q in (50, 95, 99)},
            "mean": round(float(np.mean(overhead)), 2),
            "provider_p50": round(float(np.percentile([p for _, p in pairs], 50)), 2),
            "provider_p95": round(float(np.percentile([p for _, p in pairs], 95)), 2),
        }

    def pgbench(self, script: str, **options: Any) -> dict[str, Any]:
        before = procstat.snapshot(self.roots)
        result = pgbench.run(self.db_url, script, self.tenant_count, **options)
        result["cpu"] = procstat.usage(before, procstat.snapshot(self.roots))
        return result

    def wait_until_idle(self, limit: float = 180.0) -> float:
        """After overload, PostgREST and the sidecar still work through queued requests the
        load generator gave up on: wait for them, so the next measurement starts clean."""
        started = time.monotonic()
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while time.monotonic() - started < limit:
                row = conn.execute(
                    "select count(*) from pg_stat_activity where state = 'active' "
                    "and usename in ('authenticator', 'voxflow_sidecar') "
                    "and query not like '%%run_analytics_jobs%%'"
                ).fetchone()
                if row and row[0] == 0:
                    break
                time.sleep(0.5)  # polling for the backlog to drain
        return round(time.monotonic() - started, 1)

    def reset_fakes(self) -> None:
        """The fakes keep every request in memory for tests: forget them between runs."""
        requests.post(f"{self.stack.info['fake_providers_url']}/__fake/reset", timeout=10)

    # --- setup ----------------------------------------------------------------------------------

    def setup(self) -> dict[str, Any]:
        size = seed.SIZES[self.size]
        log(f"seeding {size.users} users and {size.events:,} usage events")
        secrets = self.stack.secrets
        target = seed.Target(self.db_url, base64.b64decode(secrets["master_key"]), 1)
        seeded = seed.seed(target, size.users, size.events, log=log)
        info = self.stack.info
        roster = tenants.build(
            self.db_url,
            secrets["jwt_secret"],
            info["api_url"],
            info["rest_url"],
            info["fake_providers_url"],
        )
        roster.save(self.roster_path)
        self.tenant_count = len(roster.tenants)
        fixtures.prepare(self.db_url, roster, secrets["jwt_secret"], info["api_url"])
        with psycopg.connect(self.db_url) as conn:
            row = conn.execute("select pg_backend_pid()").fetchone()
            assert row is not None
            postmaster = procstat.postmaster_of(int(row[0]))
        self.roots = [int(info["pid"]), os.getpid(), *([postmaster] if postmaster else [])]
        self.sanity_check(roster)
        return {
            "seed": seeded.as_dict(),
            "tenants": len(roster.tenants),
            "admins": len(roster.admins),
        }

    def sanity_check(self, roster: tenants.Roster) -> None:
        """One request of each kind must succeed before any load is worth measuring."""
        api, me, admin = roster.api_url, roster.tenants[0], roster.admins[0]
        user = {"Authorization": f"Bearer {me.token}"}
        checks = [
            ("get", f"{api}/rest/v1/agents?select=id", user, None),
            (
                "get",
                f"{api}/rest/v1/bench_agents_norls?select=id&user_id=eq.{me.user_id}",
                user,
                None,
            ),
            ("get", f"{roster.rest_url}/agents?select=id", user, None),
            (
                "get",
                f"{api}/rest/v1/platform_totals",
                {"Authorization": f"Bearer {admin.token}", "Accept-Profile": "admin"},
                None,
            ),
            (
                "post",
                f"{api}/functions/v1/agent-chat",
                user,
                {"agent_id": me.agent_ids[0], "message": "Hello"},
            ),
        ]
        for method, url, headers, body in checks:
            answer = requests.request(method, url, headers=headers, json=body, timeout=30)
            if answer.status_code >= 300:
                raise RuntimeError(f"{method.upper()} {url}: {answer.status_code} {answer.text}")

    # --- scenarios ------------------------------------------------------------------------------

    def scenarios(self) -> dict[str, Any]:
        p = self.plan
        out: dict[str, Any] = {}
        for name, scenario, users, extra in (
            ("reads", "reads", READ_USERS, {}),
            ("reads_100", "reads", 100, {}),
            ("writes", "writes", WRITE_USERS, {}),
            ("writes_100", "writes", 100, {}),
            ("provider", "provider", PROVIDER_USERS, {}),
            ("analytics", "analytics", ADMIN_USERS, {"admin_rate": 1.0}),
        ):
            log(f"scenario {name}: {users} users at ~1 request/s each for {p.measure:.0f}s")
            out[name] = self.loadgen(name, scenario, users, duration=p.measure, **extra)
            log("  " + report.one_line(out[name]["all"]))
        return out

    def mixed(self) -> dict[str, Any]:
        """Step the active users up until p95 crosses 500 ms (1,000 is always measured), then
        narrow the crossing down with two more steps."""
        steps: list[dict[str, Any]] = []
        crossed = False
        for users in self.plan.steps:
            if crossed and users > 1000:
                break
            steps.append(self.mixed_step(users))
            crossed = crossed or not within_promise(steps[-1])
        for _ in range(2):
            passing = [s["users"] for s in steps if within_promise(s)]
            failing = [s["users"] for s in steps if not within_promise(s)]
            low = max(passing, default=0)
            high = min((u for u in failing if u > low), default=0)
            if not high or high - low <= max(25, low // 5):
                break
            steps.append(self.mixed_step(max(25, round((low + high) / 2 / 25) * 25)))
        steps.sort(key=lambda s: s["users"])
        passing = [s["users"] for s in steps if within_promise(s)]
        return {"steps": steps, "capacity_users": max(passing) if passing else 0}

    def mixed_step(self, users: int) -> dict[str, Any]:
        log(f"mixed traffic: {users} active users")
        if users == 1000:
            fixtures.reset_statements(self.db_url)
        result = self.loadgen(f"mixed-{users}", "mixed", users, duration=self.plan.step)
        if users == 1000:
            result["top_statements"] = fixtures.top_statements(self.db_url)
        log("  " + report.one_line(result["all"]))
        return result

    # --- ratios ---------------------------------------------------------------------------------

    def alternating(
        self, label: str, phases: tuple[str, ...], users: int, closed: bool
    ) -> dict[str, Any]:
        """ABBA... phases in one load-generator process."""
        order: list[str] = []
        for r in range(self.plan.rounds):
            order += list(phases) if r % 2 == 0 else list(reversed(phases))
        return self.loadgen(
            label,
            "phases",
            users,
            phases=",".join(order),
            phase_seconds=self.plan.phase,
            **({"closed": True} if closed else {}),
        )

    def alternating_pgbench(self, scripts: tuple[str, ...], **options: Any) -> dict[str, Any]:
        runs: dict[str, list[dict[str, Any]]] = {s: [] for s in scripts}
        for r in range(self.plan.rounds):
            for script in scripts if r % 2 == 0 else tuple(reversed(scripts)):
                runs[script].append(self.pgbench(script, seconds=self.plan.pgbench, **options))
        return {s: pool(rounds) for s, rounds in runs.items()}

    def ratios(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fixtures.refresh_copies(self.db_url)
        log("ratio: RLS vs an RLS-free copy, through the gateway (closed loop)")
        out["rls_gateway"] = self.alternating(
            "rls-gateway", ("rls", "norls", "rls_filtered"), RATIO_CLOSED_USERS, closed=True
        )
        log("ratio: RLS vs an RLS-free copy, SQL only (pgbench)")
        out["rls_sql"] = self.alternating_pgbench(
            (
                "agents_rls",
                "agents_norls",
                "agents_rls_filtered",
                "notifications_rls",
                "notifications_norls",
            )
        )
        log("ratio: gateway + PostgREST vs pgbench running the same SQL (fixed rate)")
        out["overhead_http"] = self.alternating(
            "overhead", ("gateway", "postgrest"), RATIO_OPEN_USERS, closed=False
        )
        out["overhead_sql"] = self.alternating_pgbench(("agents_rls",), rate=RATIO_OPEN_USERS)
        log("ratio: sidecar provider path vs calling the fake provider directly (fixed rate)")
        out["provider"] = self.alternating(
            "provider-ratio", ("sidecar", "direct"), RATIO_OPEN_USERS // 2, closed=False
        )
        log("ratio: agent insert with and without the limit trigger (pgbench)")
        out["trigger"] = self.trigger_ratio()
        return out

    def trigger_ratio(self) -> dict[str, Any]:
        runs: dict[str, list[dict[str, Any]]] = {"with_trigger": [], "without_trigger": []}
        toggle = "alter table public.agents {} trigger before_write_2_enforce_limit"
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            try:
                for r in range(self.plan.rounds):
                    order = ("with_trigger", "without_trigger")
                    for side in order if r % 2 == 0 else tuple(reversed(order)):
                        conn.execute(
                            toggle.format("enable" if side == "with_trigger" else "disable")
                        )
                        runs[side].append(self.pgbench("insert_agent", seconds=self.plan.pgbench))
            finally:
                conn.execute(toggle.format("enable"))
        return {side: pool(rounds) for side, rounds in runs.items()}

    # --- evidence -------------------------------------------------------------------------------

    def explain(self) -> dict[str, str]:
        """Plans of the tenant and admin reads, as the heaviest tenant and as an admin."""
        roster = tenants.Roster.load(self.roster_path)
        heavy = max(roster.tenants, key=lambda t: len(t.agent_ids))
        queries = {
            "agents (RLS only)": (heavy, "select * from public.agents order by created_at desc"),
            "agents (RLS + user_id filter)": (
                heavy,
                "select * from public.agents where user_id = "
                f"'{heavy.user_id}' order by created_at desc",
            ),
            "notifications (RLS only)": (
                heavy,
                "select * from public.notifications order by created_at desc limit 20",
            ),
            "usage_summary": (heavy, "select * from public.usage_summary"),
            "admin.platform_totals": (roster.admins[0], "select * from admin.platform_totals"),
            "admin.users_overview search": (
                roster.admins[0],
                "select * from admin.users_overview where search ilike "
                "'%dental%' order by cost_usd desc limit 50",
            ),
        }
        plans: dict[str, str] = {}
        with psycopg.connect(self.db_url) as conn:
            with conn.transaction(force_rollback=True):
                row = conn.execute(
                    "insert into public.agents (user_id, name) values (%s, 'probe') returning id",
                    (heavy.user_id,),
                ).fetchone()
                assert row is not None
                rows = conn.execute(
                    "explain (analyze, costs off) delete from public.agents where id = %s",
                    (row[0],),
                ).fetchall()
            plans["delete an agent (foreign keys, triggers)"] = "\n".join(r[0] for r in rows)
            for name, (who, sql) in queries.items():
                claims = jwt.decode(who.token, options={"verify_signature": False})
                with conn.transaction(force_rollback=True):
                    # The token's own role, as PostgREST would: an admin reads as voxflow_admin.
                    conn.execute(
                        "select set_config('role', %s, true), "
                        "set_config('request.jwt.claims', %s, true)",
                        (claims["role"], json.dumps(claims)),
                    )
                    rows = conn.execute(f"explain (analyze, buffers, costs off) {sql}").fetchall()
                plans[name] = "\n".join(r[0] for r in rows)
        return plans


def within_promise(step: dict[str, Any]) -> bool:
    """p95 under 500 ms with under 1 % errors."""
    stats = step["all"]
    return stats["p95"] <= P95_CAPACITY_MS and stats["errors"] <= 0.01 * max(stats["count"], 1)


def pool(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """pgbench rounds of one side combined: throughput per round, latencies averaged."""
    keys = ("p50", "p95", "p99", "mean")
    return {
        "rps": round(sum(r["rps"] for r in rounds) / len(rounds), 1),
        "rounds_rps": [round(r["rps"], 1) for r in rounds],
        "count": sum(r["count"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        **{k: round(sum(r[k] for r in rounds) / len(rounds), 2) for k in keys},
        "max": max(r["max"] for r in rounds),
        "cpu": rounds[-1]["cpu"],
    }


def idle_cpu(seconds: float = 3.0) -> dict[str, float]:
    """What the machine does without us: anything here also slows the measurements."""
    before = procstat.snapshot([])
    time.sleep(seconds)  # a measurement window, not a readiness wait
    return procstat.usage(before, procstat.snapshot([]))


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(meminfo.split("MemTotal:")[1].split()[0])
    cpu = Path("/proc/cpuinfo").read_text()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpu.splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(total_kb / 1024**2, 1),
        "kernel": platform.release(),
    }


def versions() -> dict[str, str]:
    from voxflow.stack import NGINX_BIN, PG_BIN, POSTGREST_BIN

    def first_line(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    from importlib.metadata import version

    commit = first_line("git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD")
    dirty = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "postgres": first_line(str(PG_BIN / "postgres"), "--version"),
        "postgrest": first_line(str(POSTGREST_BIN), "--version"),
        "nginx": first_line(str(NGINX_BIN), "-v"),
        "python": platform.python_version(),
        "gunicorn": version("gunicorn"),
        "locust": version("locust"),  # never imported here: it monkey-patches
        "pgbench": first_line(pgbench.PGBENCH, "--version"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(PLANS), default="S")
    parser.add_argument("--state-dir", type=Path, default=Path("/tmp/voxflow-bench"))
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--baseline", type=Path, help="an S result JSON for the growth ratios (default: the newest)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args(argv)

    # SIGTERM (a CI timeout, `kill`) must still tear the stack down: make it an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    stamp = datetime.now(UTC)
    results: dict[str, Any] = {
        "meta": {
            "date": stamp.isoformat(timespec="seconds"),
            "size": args.size,
            "data": asdict(seed.SIZES[args.size]),
            "plan": asdict(PLANS[args.size]),
            "machine": machine(),
            "versions": versions(),
            "sidecar_workers": int(os.environ.get("VOXFLOW_SIDECAR_WORKERS", "2")),
        }
    }
    results["meta"]["idle_cpu_before"] = idle_cpu()
    if results["meta"]["idle_cpu_before"].get("machine", 0) > 20:
        log(f"warning: the machine is busy before we start: {results['meta']['idle_cpu_before']}")
    stack = BenchStack.prepare(args.state_dir)
    results["meta"]["pg_settings"] = stack.env["VOXFLOW_PG_SETTINGS"]
    try:
        with tempfile.TemporaryDirectory(prefix="voxflow-bench-run-") as tmp:
            log(f"starting the bench stack in {args.state_dir}")
            stack.start()
            results["meta"]["rate_limit_store"] = stack.info.get("rate_limit_store", "postgres")
            bench = Bench(args.size, stack, Path(tmp))
            results["meta"]["setup"] = bench.setup()
            results["scenarios"] = bench.scenarios()
            results["mixed"] = bench.mixed()
            results["ratios"] = bench.ratios()
            results["explain"] = bench.explain()
    finally:
        if args.keep:
            log(f"stack left running: VOXFLOW_STATE_DIR={args.state_dir} voxflow status")
        else:
            log("stopping the bench stack")
            stack.stop()
            stack.remove()
    results["meta"]["seconds"] = round(time.monotonic() - started)
    baseline = report.find_baseline(args.out_dir, args.size, args.baseline)
    paths = report.write(results, args.out_dir, baseline)
    log("wrote " + ", ".join(str(p) for p in paths))
    print(report.summary_text(results, baseline))


if __name__ == "__main__":
    main()
