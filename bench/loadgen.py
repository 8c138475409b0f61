"""The load generator: one headless locust process (FastHttpUser, used as a library), run by
bench.run as a subprocess so gevent's monkey-patching stays out of the orchestrator.

    python -m bench.loadgen --roster roster.json --scenario reads --users 1000 --rate 1 \\
        --warmup 5 --duration 30 --out reads.json

Open loop (--rate): each virtual user sends requests as a Poisson process of `rate` a second
(exponential gaps, random start), so 1,000 users make a Poisson stream of about 1,000 requests a
second, as independent people do; a fixed cadence (locust's constant_throughput) would make
users spawned together fire in lockstep bursts. A user has one request in flight at a time:
when the system falls behind, latency grows and throughput falls short, as the results show.
Closed loop (--closed): every user sends its next request as soon as the last one answers, to
find the maximum throughput. With --phases a,b,... the users switch what they request every
--phase-seconds (A/B alternation inside one process, so both sides see the same machine).

Every request's latency is kept (not locust's rounded histogram): percentiles are exact.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
import numpy as np
from locust import FastHttpUser, constant, task
from locust.env import Environment

from bench import procstat
from bench.seed import UTTERANCES
from bench.tenants import Roster, Tenant

PHASE_GAP = 0.5  # seconds at the start of each phase whose requests are not counted
TURNS_PER_CONVERSATION = 4
MAX_FAILURES = 50  # error responses kept per run, as evidence in the report
ADMIN_PAGES = 10  # of the users overview, 50 accounts each

Action = Callable[[Any], None]  # a TenantUser or an AdminUser action
ROSTER: Roster
TENANTS = itertools.count()
ADMINS = itertools.count()
CLOCK: dict[str, Any] = {
    "phases": [],
    "phase_seconds": 0.0,
    "start": 0.0,
    "rate": 0.0,
    "admin_rate": 0.0,
}


def current_phase() -> str:
    return current_phase_at(time.time())


def current_phase_at(at: float) -> str:
    phases: list[str] = CLOCK["phases"]
    elapsed = max(at - CLOCK["start"], 0.0)
    return phases[min(int(elapsed // CLOCK["phase_seconds"]), len(phases) - 1)]


# --- what a user does ---------------------------------------------------------------------------


def poisson(rate: float) -> Callable[[Any], float]:
    """Exponential gaps with mean 1/rate between a user's request starts (falling behind by
    more than one gap resets the schedule instead of firing a catch-up burst)."""

    def wait(user: Any) -> float:
        now = time.time()
        due = getattr(user, "next_due", now) + random.expovariate(rate)
        user.next_due = max(due, now - 1.0 / rate)
        return max(0.0, user.next_due - now)

    return wait


class Base(FastHttpUser):
    abstract = True
    connection_timeout = 10.0
    network_timeout = 30.0
    me: Tenant

    def stagger(self, rate: float) -> None:
        """Open loop: start at a random point of the first gap, not with everyone else."""
        if rate:
            gevent.sleep(random.uniform(0, 1.0 / rate))
            self.next_due = time.time()

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.me.token}", **extra}

    def get(self, path: str, name: str, **extra: str) -> None:
        self.client.get(path, name=name, headers=self.headers(**extra))


class TenantUser(Base):
    """A signed-in customer: reads, agent edits, chats with an agent."""

    actions: list[tuple[Action, int]] = []

    def on_start(self) -> None:
        self.me = ROSTER.tenants[next(TENANTS) % len(ROSTER.tenants)]
        self.stagger(CLOCK["rate"])
        self.agent_id: int | None = None  # the agent this user is creating/editing/deleting
        self.edited = False
        self.conversation: str | None = None
        self.conversation_agent = 0
        self.turns = 0

    @task
    def act(self) -> None:
        if CLOCK["phases"]:
            PHASE_ACTIONS[current_phase()](self)
            return
        actions, weights = zip(*self.actions, strict=True)
        random.choices(actions, weights)[0](self)


class AdminUser(Base):
    """An admin on the analytics pages."""

    actions: list[tuple[Action, int]] = []

    def on_start(self) -> None:
        self.me = ROSTER.admins[next(ADMINS) % len(ROSTER.admins)]
        self.stagger(CLOCK["admin_rate"])

    @task
    def act(self) -> None:
        actions, weights = zip(*self.actions, strict=True)
        random.choices(actions, weights)[0](self)


def read_agents(u: TenantUser) -> None:
    u.get("/rest/v1/agents?select=*&order=created_at.desc", "GET agents")


def read_agents_filtered(u: TenantUser) -> None:
    u.get(
        f"/rest/v1/agents?select=*&user_id=eq.{u.me.user_id}&order=created_at.desc",
        "GET agents?user_id=eq",
    )


def read_agents_norls(u: TenantUser) -> None:
    u.get(
        f"/rest/v1/bench_agents_norls?select=*&user_id=eq.{u.me.user_id}&order=created_at.desc",
        "GET bench_agents_norls?user_id=eq",
    )


def read_agents_direct(u: TenantUser) -> None:
    """PostgREST itself, without nginx and the rate-limit check."""
    u.client.get(
        f"{ROSTER.rest_url}/agents?select=*&order=created_at.desc",
        name="GET agents (PostgREST direct)",
        headers=u.headers(),
    )


def read_usage(u: TenantUser) -> None:
    u.get("/rest/v1/usage_summary", "GET usage_summary")


def read_notifications(u: TenantUser) -> None:
    u.get("/rest/v1/notifications?select=*&order=created_at.desc&limit=20", "GET notifications")


def mark_read(u: TenantUser) -> None:
    if not u.me.notification_ids:
        return read_notifications(u)
    target = random.choice(u.me.notification_ids)
    u.client.patch(
        f"/rest/v1/notifications?id=eq.{target}",
        name="PATCH notifications (read)",
        json={"read_at": datetime.now(UTC).isoformat()},
        headers=u.headers(Prefer="return=minimal"),
    )


def write_step(u: TenantUser) -> None:
    """One step of create -> update -> delete, so every user's agent count stays level."""
    if u.agent_id is None:
        with u.client.post(
            "/rest/v1/agents",
            name="POST agents",
            json={
                "name": "Bench agent",
                "system_prompt": "You answer the phone for a bench test.",
                "llm_model": "llama-3.1-8b-instant",
            },
            headers=u.headers(Prefer="return=representation"),
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                u.agent_id, u.edited = response.json()[0]["id"], False
        return
    if not u.edited:
        u.client.patch(
            f"/rest/v1/agents?id=eq.{u.agent_id}",
            name="PATCH agents",
            json={"temperature": round(random.uniform(0.1, 1.2), 2), "description": "edited"},
            headers=u.headers(Prefer="return=minimal"),
        )
        u.edited = True
        return
    u.client.delete(
        f"/rest/v1/agents?id=eq.{u.agent_id}", name="DELETE agents", headers=u.headers()
    )
    u.agent_id = None


def chat(u: TenantUser) -> None:
    """POST /functions/v1/agent-chat: a few turns per conversation, then a new one."""
    body: dict[str, Any] = {
        "agent_id": random.choice(u.me.agent_ids),
        "message": random.choice(UTTERANCES),
    }
    if u.conversation and u.turns < TURNS_PER_CONVERSATION:
        body["agent_id"] = u.conversation_agent
        body["conversation_id"] = u.conversation
    with u.client.post(
        "/functions/v1/agent-chat",
        name="POST agent-chat",
        json=body,
        headers=u.headers(),
        catch_response=True,
    ) as response:
        if response.status_code == 200:
            if body.get("conversation_id"):
                u.turns += 1
            else:
                u.conversation = response.json()["conversation_id"]
                u.conversation_agent = body["agent_id"]
                u.turns = 1
        else:
            u.conversation = None


def chat_direct(u: TenantUser) -> None:
    """What the sidecar sends the (fake) provider, sent straight to it."""
    u.client.post(
        f"{ROSTER.fakes_url}/groq/openai/v1/chat/completions",
        name="POST groq chat (direct)",
        json={
            "model": "llama-3.1-8b-instant",
            "messages": [
                {"role": "system", "content": "You answer the phone for a bench test."},
                {"role": "user", "content": random.choice(UTTERANCES)},
            ],
            "temperature": 0.7,
            "max_completion_tokens": 256,
        },
        headers={"Authorization": f"Bearer {u.me.groq_key}"},
    )


def admin_totals(u: AdminUser) -> None:
    u.get("/rest/v1/platform_totals", "GET admin.platform_totals", **{"Accept-Profile": "admin"})


def admin_trends(u: AdminUser) -> None:
    since = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    u.get(
        f"/rest/v1/daily_trends?day=gte.{since}&order=day",
        "GET admin.daily_trends",
        **{"Accept-Profile": "admin"},
    )


def admin_search(u: AdminUser) -> None:
    term = random.choice(ROSTER.search_terms)
    u.get(
        f"/rest/v1/users_overview?search=ilike.*{term}*&order=cost_usd.desc&limit=50",
        "GET admin.users_overview?search",
        **{"Accept-Profile": "admin"},
    )


def admin_page(u: AdminUser) -> None:
    # An admin leafs through the first pages of the most recently active accounts; deeper
    # pages are reached by filtering (status, plan, search), and an offset costs its rows.
    offset = 50 * random.randrange(min(max(len(ROSTER.tenants) // 50, 1), ADMIN_PAGES))
    u.get(
        f"/rest/v1/users_overview?order=last_active_at.desc.nullslast&limit=50&offset={offset}",
        "GET admin.users_overview (page)",
        **{"Accept-Profile": "admin"},
    )


READS: list[tuple[Action, int]] = [(read_agents, 1), (read_usage, 1), (read_notifications, 1)]
ANALYTICS: list[tuple[Action, int]] = [
    (admin_totals, 1),
    (admin_trends, 1),
    (admin_search, 1),
    (admin_page, 1),
]
# A voice-agent platform's day: dashboards, some edits, and the agents talking.
MIXED: list[tuple[Action, int]] = [
    (read_agents, 20),
    (read_usage, 25),
    (read_notifications, 20),
    (mark_read, 5),
    (write_step, 5),
    (chat, 25),
]
SCENARIOS: dict[str, list[tuple[Action, int]]] = {
    "reads": READS,
    "writes": [(write_step, 1)],
    "provider": [(chat, 1)],
    "provider_direct": [(chat_direct, 1)],
    "mixed": MIXED,
}
PHASE_ACTIONS: dict[str, Action] = {
    "rls": read_agents,
    "rls_filtered": read_agents_filtered,
    "norls": read_agents_norls,
    "gateway": read_agents,
    "postgrest": read_agents_direct,
    "sidecar": chat,
    "direct": chat_direct,
}


# --- measuring ----------------------------------------------------------------------------------


def summarize(
    latencies: list[float], statuses: list[int], seconds: float, expected: set[int]
) -> dict[str, Any]:
    values = np.array(latencies) if latencies else np.zeros(1)
    codes: dict[str, int] = {}
    for status in statuses:
        codes[str(status)] = codes.get(str(status), 0) + 1
    errors = sum(1 for s in statuses if not 200 <= s < 400 and s not in expected)
    return {
        "count": len(latencies),
        "rps": round(len(latencies) / seconds, 1),
        "errors": errors,
        "statuses": codes,
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "p99": round(float(np.percentile(values, 99)), 2),
        "mean": round(float(values.mean()), 2),
        "max": round(float(values.max()), 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    global ROSTER
    ROSTER = Roster.load(args.roster)
    CLOCK["rate"] = 0.0 if args.closed else args.rate
    CLOCK["admin_rate"] = 0.0 if args.closed else args.admin_rate
    TenantUser.wait_time = constant(0) if args.closed else poisson(args.rate)
    TenantUser.host = ROSTER.api_url
    AdminUser.wait_time = constant(0) if args.closed else poisson(args.admin_rate)
    AdminUser.host = ROSTER.api_url
    classes: list[type[Base]]
    if args.scenario == "analytics":
        AdminUser.actions, classes = ANALYTICS, [AdminUser]
    elif args.scenario == "mixed":
        TenantUser.actions, AdminUser.actions = MIXED, ANALYTICS
        AdminUser.fixed_count = max(1, args.users // 100)
        classes = [TenantUser, AdminUser]
    elif args.scenario == "phases":
        classes = [TenantUser]
    else:
        TenantUser.actions, classes = SCENARIOS[args.scenario], [TenantUser]

    env = Environment(user_classes=classes)  # type: ignore[arg-type]
    expected = {int(s) for s in args.expect.split(",")} if args.expect else set()
    samples: list[tuple[float, str, float, int]] = []
    chats: list[tuple[float, str, float]] = []  # (start, request id, latency) of chat turns
    failures: list[tuple[float, dict[str, Any]]] = []  # what the first errors said, as evidence

    def on_request(
        name: str,
        response_time: float,
        response: Any = None,
        exception: Any = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        status = getattr(response, "status_code", 0) or 0
        if exception is not None and not status:
            status = 0
        samples.append((start_time or time.time(), name, response_time, int(status)))
        if not 200 <= status < 400 and status not in expected and len(failures) < MAX_FAILURES:
            headers = getattr(response, "headers", None) or {}
            said = getattr(response, "text", None) or repr(exception)
            failures.append((start_time or time.time(), {
                "request": name, "status": int(status), "body": str(said)[:300],
                "request_id": headers.get("X-Request-Id"),
            }))  # fmt: skip
        if name == "POST agent-chat" and status == 200:
            request_id = response.headers.get("X-Request-Id") if response.headers else None
            if request_id:
                chats.append((start_time or time.time(), request_id, response_time))

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    roots = [int(r) for r in args.roots.split(",")] if args.roots else []
    phases = args.phases.split(",") if args.phases else []

    started = time.time()
    measure_from = started + args.warmup
    # During the warm-up the users already do the first phase's requests.
    CLOCK.update(phases=phases, phase_seconds=args.phase_seconds, start=measure_from)
    runner.start(args.users, spawn_rate=args.spawn_rate)
    snapshots: list[procstat.Snapshot] = []
    boundaries = (
        [measure_from + i * args.phase_seconds for i in range(len(phases) + 1)]
        if phases
        else [measure_from, measure_from + args.duration]
    )
    for boundary in boundaries:
        gevent.sleep(max(boundary - time.time(), 0))
        snapshots.append(procstat.snapshot(roots))
    runner.quit()
    users_reached = runner.user_count

    window = [s for s in samples if measure_from <= s[0] < boundaries[-1]]
    result: dict[str, Any] = {
        "scenario": args.scenario,
        "users": args.users,
        "users_reached": users_reached,
        "rate": None if args.closed else args.rate,
        "closed": args.closed,
        "warmup": args.warmup,
        "seconds": boundaries[-1] - measure_from,
        "cpu": procstat.usage(snapshots[0], snapshots[-1]),
    }
    seconds = boundaries[-1] - measure_from
    result["error_samples"] = [f for at, f in failures if measure_from <= at < boundaries[-1]]
    # Chat turns by request id: the sidecar records each provider call's own latency under
    # the same id, so bench.run can subtract it and get our overhead per request.
    result["chat_turns"] = [
        [rid, round(ms, 2)]
        for at, rid, ms in chats
        if measure_from <= at < boundaries[-1]
        if not phases or current_phase_at(at) == "sidecar"
    ]
    if not phases:
        by_name: dict[str, list[tuple[float, str, float, int]]] = {}
        for sample in window:
            by_name.setdefault(sample[1], []).append(sample)
        result["requests"] = {
            name: summarize([x[2] for x in rows], [x[3] for x in rows], seconds, expected)
            for name, rows in sorted(by_name.items())
        }
        result["all"] = summarize([x[2] for x in window], [x[3] for x in window], seconds, expected)
        return result
    per_phase: dict[str, dict[str, Any]] = {}
    for i, phase in enumerate(phases):
        begin, end = boundaries[i] + PHASE_GAP, boundaries[i + 1]
        rows = [s for s in window if begin <= s[0] < end]
        entry = per_phase.setdefault(
            phase, {"latencies": [], "statuses": [], "rounds_rps": [], "seconds": 0.0, "cpu": []}
        )
        entry["latencies"] += [x[2] for x in rows]
        entry["statuses"] += [x[3] for x in rows]
        entry["rounds_rps"].append(round(len(rows) / (end - begin), 1))
        entry["seconds"] += end - begin
        entry["cpu"].append(procstat.usage(snapshots[i], snapshots[i + 1]))
    result["phases"] = {
        phase: {
            **summarize(e["latencies"], e["statuses"], e["seconds"], expected),
            "rounds_rps": e["rounds_rps"],
            "cpu": {
                group: round(sum(c.get(group, 0.0) for c in e["cpu"]) / len(e["cpu"]), 1)
                for group in sorted({g for c in e["cpu"] for g in c})
            },
        }
        for phase, e in per_phase.items()
    }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("--roster", type=Path, required=True)
    parser.add_argument("--scenario", required=True, choices=[*SCENARIOS, "analytics", "phases"])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--rate", type=float, default=1.0, help="requests a second per user")
    parser.add_argument("--admin-rate", type=float, default=0.2)
    parser.add_argument("--closed", action="store_true", help="no wait: maximum throughput")
    parser.add_argument("--spawn-rate", type=float, default=500.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--phases", help="comma-separated phase names (A/B alternation)")
    parser.add_argument("--phase-seconds", type=float, default=5.0)
    parser.add_argument("--expect", help="statuses that are not errors, e.g. 402,429")
    parser.add_argument("--roots", help="pids whose process trees are ours (CPU accounting)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
