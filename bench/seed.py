"""Bench data: users who can sign in, with agents, sealed provider keys, sessions,
notifications, calls and conversations, and a usage ledger with every rollup consistent with
it. Everything is loaded with COPY, so size S takes seconds and L (10,000 users, 10M events)
minutes on two cores.

    python -m bench.seed --users 1000 --events 1000000      # against $VOXFLOW_STATE_DIR's stack
    python -m bench.seed --size M --state-dir /tmp/voxflow-bench

Shape of the data, all from one random seed (so two runs load the same rows):
- activity per user follows a Pareto law (alpha 1.16, the 80/20 rule): a few heavy users make
  most of the calls, have more agents, notifications and conversations;
- plans 60 % free, 30 % pro, 10 % business (heavy users on paid plans); 1 % suspended and
  1 % unconfirmed; three admins;
- usage over the last 60 days (so the current and two earlier monthly partitions), busier in
  working hours: 55 % LLM turns (two conversation messages each), 22 % speech, 20 %
  transcription, 3 % phone calls (one public.calls row each); 1.5 % of calls fail.

Events are COPY'd into public.usage_events with session_replication_role = replica, so the
per-row analytics trigger does not run; every rollup it and private.record_usage would have
kept is then computed in bulk with INSERT ... SELECT ... GROUP BY: usage_counters,
usage_daily, quota_warnings, private.platform_daily, user_activity_days, user_directory's
last activity and platform_activity. The latency histograms of private.health_rollups are
counted here with numpy: private.latency_histogram() costs a subquery per event.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from voxflow import accounts, crypto

EMAIL_DOMAIN = "bench.voxflow.test"
PASSWORD = "Bench-passw0rd"  # every bench user's password (one bcrypt hash for all of them)
ADMINS = 3
NULL = "\\N"  # COPY text format's null
HISTORY_DAYS = 60
CHUNK = 250_000  # rows per COPY batch
BULK_TABLES = (
    "public.usage_events",
    "public.conversation_messages",
    "public.conversations",
    "public.calls",
)

# Share of events by kind, and how each is priced (units per the price book).
KINDS = ("llm", "tts", "stt", "telephony")
KIND_SHARE = (0.55, 0.22, 0.20, 0.03)
PROVIDER_OF = {"llm": "groq", "tts": "deepgram", "stt": "deepgram", "telephony": "twilio"}
COMPONENT_OF = {"llm": "chat", "tts": "tts", "stt": "stt", "telephony": "telephony"}
FAILURE_RATE = 0.015
# Hour-of-day weights (UTC): quiet nights, busy working hours.
HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 8, 9, 9, 9, 8, 9, 9, 9, 8, 7, 5, 4, 3, 2, 2, 1], dtype=float
)

WORDS = (
    "acme harbour nordlicht bright summit cedar pioneer atlas lumen orbit maple granite "
    "silver coastal metro urban prairie alpine redwood beacon vista keystone quantum"
).split()
TRADES = (
    "dental clinic legal bakery realty motors logistics insurance travel fitness salon "
    "vet pharmacy hotel plumbing roofing studio tutoring catering"
).split()
PROMPTS = (
    "You are the front desk of {org}. Greet callers, find out what they need and book them in.",
    "Answer questions about opening hours and prices for {org}; never promise refunds.",
    "Take messages for the team at {org}: name, number, reason, best time to call back.",
)
UTTERANCES = (
    "Hi, I would like to book an appointment for tomorrow morning.",
    "What are your opening hours on Saturday?",
    "Can I move my booking to next week?",
    "Is there parking near your office?",
    "I need to speak to someone about my invoice.",
    "Do you have anything available this afternoon?",
)
REPLIES = (
    "Of course. Could I have your name and a good number to reach you?",
    "We are open from nine to five on Saturdays.",
    "Sure, which day next week suits you best?",
    "Yes, there is a car park right behind the building.",
    "I will pass that on to our billing team; they call back within a day.",
)
NOTIFICATION_KINDS = (
    ("key_changed", "Your Groq key was added", "Your Groq credentials were saved."),
    ("plan_changed", "You are now on the Pro plan", "Your plan changed from free to Pro."),
    ("quota_warning", "You have used 80% of your monthly tokens", "Usage is high this month."),
    ("limits_changed", "Your limits were changed", "An administrator changed your limits."),
)


@dataclass(frozen=True)
class Size:
    users: int
    events: int


SIZES = {
    "S": Size(100, 100_000),
    "M": Size(1_000, 1_000_000),
    "L": Size(10_000, 10_000_000),
}


@dataclass(frozen=True)
class Target:
    """The stack to fill: its superuser URL and the master key the sidecar unseals with."""

    db_url: str
    master_key: bytes
    key_version: int

    @classmethod
    def from_state_dir(cls, state_dir: Path) -> Target:
        running = state_dir / "run" / "stack.json"
        if not running.exists():
            raise SystemExit(f"no running stack in {state_dir} (start one with `voxflow up`)")
        info = json.loads(running.read_text())
        secrets = json.loads((state_dir / "secrets.json").read_text())
        return cls(info["db_url"], base64.b64decode(secrets["master_key"]), 1)


@dataclass
class Users:
    """The generated accounts, as parallel arrays (index = user number)."""

    ids: list[str]
    emails: list[str]
    orgs: list[str]
    weight: np.ndarray  # share of events
    plan: list[str]
    role: list[str]
    status: list[str]
    created: np.ndarray  # datetime64[us]
    last_sign_in: np.ndarray
    agent_first: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    agent_count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Report:
    users: int = 0
    agents: int = 0
    events: int = 0
    calls: int = 0
    conversations: int = 0
    messages: int = 0
    notifications: int = 0
    provider_keys: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


# --- helpers ------------------------------------------------------------------------------------


def new_uuids(rng: np.random.Generator, n: int) -> list[str]:
    """Version-4 UUIDs from the seeded generator, so a rerun makes the same ids."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return [str(uuid.UUID(bytes=row.tobytes())) for row in raw]


def iso(values: np.ndarray) -> np.ndarray:
    """datetime64 values as COPY text (the session runs in UTC)."""
    return np.datetime_as_string(values.astype("datetime64[us]"), unit="us")


def months_of(values: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(values.astype("datetime64[M]").astype("datetime64[D]"), unit="D")


def copy_rows(conn: psycopg.Connection, table: str, columns: str, lines: Iterable[str]) -> int:
    """COPY text lines (tab-separated, newline-terminated) in batches; returns the row count."""
    count = 0
    with conn.cursor().copy(f"copy {table} ({columns}) from stdin") as copy:
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            count += 1
            if count % CHUNK == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


@contextmanager
def indexes_built_after(
    conn: psycopg.Connection, tables: Iterable[str], timer: Timer
) -> Iterator[None]:
    """Drop the tables' plain secondary indexes, yield for the bulk load, then build them
    again from their own definitions (one sort beats millions of random index inserts).
    Inside the caller's transaction: a failure leaves every index as it was."""
    found = conn.execute(
        """
        select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        from pg_index as i
        where i.indrelid = any(%s::regclass[]) and not i.indisunique
            and not exists (select 1 from pg_constraint as k where k.conindid = i.indexrelid)
        """,
        (list(tables),),
    ).fetchall()
    for name, _ in found:
        conn.execute(f"drop index {name}")
    yield
    with timer.step("build indexes"):
        for _, definition in found:
            # A partitioned table's index is described ON ONLY the parent: build it everywhere.
            conn.execute(definition.replace(" ON ONLY ", " ON "))


def reserve_ids(conn: psycopg.Connection, sequence: str, n: int) -> int:
    """The first of n consecutive ids taken from a sequence (we are its only user now)."""
    row = conn.execute("select nextval(%s::regclass)", (sequence,)).fetchone()
    assert row is not None
    first = int(row[0])
    conn.execute("select setval(%s::regclass, %s)", (sequence, first + max(n, 1) - 1))
    return first


class Timer:
    def __init__(self, report: Report, log: Callable[[str], None]) -> None:
        self.report, self.log = report, log

    def step(self, name: str) -> _Step:
        return _Step(self, name)


class _Step:
    def __init__(self, timer: Timer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        took = time.perf_counter() - self.started
        self.timer.report.seconds[self.name] = round(took, 2)
        self.timer.log(f"  {self.name:<28} {took:7.1f}s")


# --- users --------------------------------------------------------------------------------------


def make_users(rng: np.random.Generator, n: int, now: np.datetime64) -> Users:
    weight = rng.pareto(1.16, n) + 1.0
    weight = np.minimum(weight / weight.sum(), 0.1)  # nobody above 10 % of all traffic
    weight /= weight.sum()
    heavy = weight >= np.quantile(weight, 0.95)
    plan = rng.choice(["free", "pro", "business"], size=n, p=[0.6, 0.3, 0.1])
    plan[heavy] = rng.choice(["pro", "business"], size=int(heavy.sum()), p=[0.4, 0.6])
    status = np.full(n, "active", dtype=object)
    odd = rng.random(n)
    status[(odd < 0.01) & ~heavy] = "suspended"
    status[(odd >= 0.01) & (odd < 0.02) & ~heavy] = "pending_verification"
    weight[status == "pending_verification"] = 0.0  # never confirmed, never called anything
    weight /= weight.sum()
    age_days = rng.uniform(HISTORY_DAYS + 1, 400, n)
    age_days[heavy] = rng.uniform(200, 400, int(heavy.sum()))
    created = now - (age_days * 86_400e6).astype("timedelta64[us]")
    since_sign_in = np.minimum(rng.exponential(3.0, n), age_days - 1)
    last_sign_in = now - (since_sign_in * 86_400e6).astype("timedelta64[us]")
    orgs = [
        f"{WORDS[a].title()} {TRADES[b].title()} {i}"
        for i, (a, b) in enumerate(
            zip(
                rng.integers(0, len(WORDS), n).tolist(),
                rng.integers(0, len(TRADES), n).tolist(),
                strict=True,
            )
        )
    ]
    users = Users(
        ids=new_uuids(rng, n),
        emails=[f"user{i:06d}@{EMAIL_DOMAIN}" for i in range(n)],
        orgs=orgs,
        weight=weight,
        plan=[str(p) for p in plan],
        role=["user"] * n,
        status=[str(s) for s in status],
        created=created,
        last_sign_in=last_sign_in,
    )
    for i in range(ADMINS):  # admins: bench analytics callers, no usage of their own
        users.ids.append(str(uuid.UUID(bytes=rng.bytes(16), version=4)))
        users.emails.append(f"admin{i}@{EMAIL_DOMAIN}")
        users.orgs.append("VoxFlow Operations")
        users.plan.append("business")
        users.role.append("admin")
        users.status.append("active")
    users.weight = np.concatenate([weight, np.zeros(ADMINS)])
    users.created = np.concatenate([created, np.full(ADMINS, now - np.timedelta64(400, "D"))])
    users.last_sign_in = np.concatenate([last_sign_in, np.full(ADMINS, now)])
    return users


def load_users(conn: psycopg.Connection, users: Users, password_hash: str) -> None:
    """auth.users by COPY with its triggers on: they create each profile, subscription and
    directory row exactly as a sign-up would. Then plan, role, status and limits."""
    created, signed_in = iso(users.created), iso(users.last_sign_in)

    def lines() -> Iterator[str]:
        for i in range(len(users)):
            pending = users.status[i] == "pending_verification"
            confirmed = NULL if pending else created[i]
            app = json.dumps(
                {"provider": "email", "providers": ["email"], "role": users.role[i]},
                separators=(",", ":"),
            )
            meta = json.dumps({"organization_name": users.orgs[i]}, separators=(",", ":"))
            yield (
                f"00000000-0000-0000-0000-000000000000\t{users.ids[i]}\tauthenticated\t"
                f"authenticated\t{users.emails[i]}\t{password_hash}\t{confirmed}\t"
                f"{NULL if pending else signed_in[i]}\t{app}\t{meta}\t"
                f"{created[i]}\t{created[i]}\tf\n"
            )

    copy_rows(
        conn,
        "auth.users",
        "instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, "
        "last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, "
        "is_anonymous",
        lines(),
    )
    conn.execute(
        "create temp table bench_seeded (user_id uuid primary key, plan_id text, role text, "
        "status text, created_at timestamptz, last_sign_in_at timestamptz)"
    )

    def facts() -> Iterator[str]:
        for i in range(len(users)):
            pending = users.status[i] == "pending_verification"
            yield (
                f"{users.ids[i]}\t{users.plan[i]}\t{users.role[i]}\t{users.status[i]}\t"
                f"{created[i]}\t{NULL if pending else signed_in[i]}\n"
            )

    copy_rows(
        conn,
        "bench_seeded",
        "user_id, plan_id, role, status, created_at, last_sign_in_at",
        facts(),
    )
    # Bench users get room to work: token quota far above the load, agent slots to spare.
    conn.execute(
        """
        update public.profiles as p
        set plan_id = s.plan_id, role = s.role, status = s.status, created_at = s.created_at,
            last_sign_in_at = s.last_sign_in_at, monthly_token_limit_override = 1000000000000
        from bench_seeded as s where s.user_id = p.id
        """
    )
    conn.execute(
        """
        update public.subscriptions as sub
        set plan_id = s.plan_id, changed_at = s.created_at
        from bench_seeded as s where s.user_id = sub.user_id and sub.status = 'active'
        """
    )


def load_sessions(conn: psycopg.Connection, rng: np.random.Generator, users: Users) -> list[str]:
    """One live session per user (its id goes into their JWT), and some ended ones."""
    live = new_uuids(rng, len(users))
    old_count = rng.poisson(1.0, len(users))
    old = new_uuids(rng, int(old_count.sum()))
    signed_in = iso(users.last_sign_in)

    def lines() -> Iterator[str]:
        k = 0
        for i in range(len(users)):
            yield f"{live[i]}\t{users.ids[i]}\t{signed_in[i]}\t\\N\tbench\t127.0.0.1\n"
            for _ in range(int(old_count[i])):
                yield f"{old[k]}\t{users.ids[i]}\t{signed_in[i]}\t{signed_in[i]}\tbench\t\\N\n"
                k += 1

    copy_rows(
        conn, "private.sessions", "id, user_id, created_at, revoked_at, user_agent, ip", lines()
    )
    return live


# --- agents, keys, notifications ------------------------------------------------------------


@dataclass
class Catalog:
    llm: list[str]
    stt: list[str]
    tts: list[str]


def load_agents(
    conn: psycopg.Connection, rng: np.random.Generator, users: Users, catalog: Catalog
) -> dict[str, np.ndarray]:
    """Agents per user grow with activity (1 to 40); explicit ids so events can point at them."""
    n = len(users)
    relative = users.weight / max(users.weight[users.weight > 0].mean(), 1e-12)
    counts = 1 + rng.poisson(1.5, n) + np.floor(np.sqrt(relative)).astype(np.int64)
    counts = np.minimum(counts, 40)
    counts[[r == "admin" for r in users.role]] = 0
    total = int(counts.sum())
    first_id = reserve_ids(conn, "public.agents_id_seq", total)
    users.agent_count = counts
    users.agent_first = first_id + np.concatenate([[0], np.cumsum(counts)[:-1]])
    owner = np.repeat(np.arange(n), counts)
    llm = rng.integers(0, len(catalog.llm), total)
    stt = rng.integers(0, len(catalog.stt), total)
    tts = rng.integers(0, len(catalog.tts), total)
    age = users.created[owner] + (rng.random(total) * 30 * 86_400e6).astype("timedelta64[us]")
    created = iso(age)
    phone = rng.random(total) < 0.3
    active = rng.random(total) > 0.05

    number_in_account = np.arange(total) - (users.agent_first[owner] - first_id) + 1
    rows = zip(
        owner.tolist(),
        number_in_account.tolist(),
        llm.tolist(),
        stt.tolist(),
        tts.tolist(),
        phone.tolist(),
        active.tolist(),
        created.tolist(),
        strict=True,
    )

    def lines() -> Iterator[str]:
        for k, (u, number, m, s, v, has_phone, on, at) in enumerate(rows):
            org = users.orgs[u]
            prompt = PROMPTS[k % len(PROMPTS)].format(org=org)
            phone_number = f"+1555{first_id + k:07d}" if has_phone else NULL
            yield (
                f"{first_id + k}\t{users.ids[u]}\tAgent {number}\tHandles calls for {org}\t"
                f"{prompt}\tHello, {org}!\t{catalog.llm[m]}\t0.7\t256\t{catalog.stt[s]}\t"
                f"{catalog.tts[v]}\ten\t{phone_number}\t{{}}\t{'t' if on else 'f'}\tactive\t"
                f"{at}\t{at}\n"
            )

    copy_rows(
        conn,
        "public.agents",
        "id, user_id, name, description, system_prompt, first_message, llm_model, temperature, "
        "max_tokens, stt_model, tts_voice, language, phone_number, config, is_active, status, "
        "created_at, updated_at",
        lines(),
    )
    conn.execute(
        """
        update public.profiles as p
        set agent_count = a.n, agent_limit_override = a.n + 1000
        from (
            select user_id, count(*)::integer as n from public.agents
            where user_id in (select user_id from bench_seeded) group by user_id
        ) as a
        where a.user_id = p.id
        """
    )
    conn.execute(
        "update public.profiles set agent_limit_override = 1000 where agent_limit_override is "
        "null and id in (select user_id from bench_seeded)"
    )
    return {"first_id": np.array([first_id]), "llm": llm, "stt": stt, "tts": tts}


def provider_secret(provider: str, i: int) -> dict[str, str]:
    """User number i's (fake-provider-compatible) credentials."""
    if provider == "groq":
        return {"api_key": f"gsk_bench{i:08d}abcdefghijklmnop"}
    if provider == "deepgram":
        return {"api_key": f"dgbench{i:08d}abcdefghijklmnop"}
    return {
        "account_sid": f"AC{i:032x}",
        "auth_token": f"{i:032x}",
        "phone_number": f"+1666{i:07d}",
    }


def load_provider_keys(
    conn: psycopg.Connection, rng: np.random.Generator, users: Users, target: Target
) -> int:
    """Real sealed keys (AES-256-GCM under the stack's master key): the sidecar opens them."""
    has = {
        "groq": np.ones(len(users), dtype=bool),
        "deepgram": rng.random(len(users)) < 0.8,
        "twilio": rng.random(len(users)) < 0.4,
    }

    created = iso(users.created)

    def lines() -> Iterator[str]:
        for i in range(len(users)):
            if users.role[i] == "admin":
                continue
            for provider, flags in has.items():
                if not flags[i]:
                    continue
                value = provider_secret(provider, i)
                sealed = crypto.seal(
                    target.master_key, target.key_version, users.ids[i], provider, value
                )
                hint = crypto.hint(value["auth_token" if provider == "twilio" else "api_key"])
                yield (
                    f"{users.ids[i]}\t{provider}\t\\\\x{sealed.ciphertext.hex()}\t"
                    f"\\\\x{sealed.nonce.hex()}\t{sealed.key_version}\t{hint}\t{created[i]}\t"
                    f"{created[i]}\n"
                )

    return copy_rows(
        conn,
        "private.provider_keys",
        "user_id, provider, ciphertext, nonce, key_version, hint, created_at, updated_at",
        lines(),
    )


def load_notifications(
    conn: psycopg.Connection, rng: np.random.Generator, users: Users, now: np.datetime64
) -> int:
    relative = users.weight / max(users.weight[users.weight > 0].mean(), 1e-12)
    counts = 3 + rng.poisson(10, len(users)) + np.floor(4 * np.sqrt(relative)).astype(np.int64)
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(users)), counts)
    span = (now - users.created[owner]).astype(np.int64)
    at = users.created[owner] + (rng.random(total) * span).astype("timedelta64[us]")
    created = iso(at)
    read = rng.random(total) < 0.7
    kind = rng.integers(0, len(NOTIFICATION_KINDS), total)

    def lines() -> Iterator[str]:
        for k in range(total):
            name, title, body = NOTIFICATION_KINDS[kind[k]]
            yield (
                f"{users.ids[owner[k]]}\t{name}\t{title}\t{body}\t{{}}\t{created[k]}\t"
                f"{created[k] if read[k] else NULL}\n"
            )

    return copy_rows(
        conn,
        "public.notifications",
        "user_id, kind, title, body, data, created_at, read_at",
        lines(),
    )


# --- usage --------------------------------------------------------------------------------------


@dataclass
class Prices:
    """Price book rows by (provider, model, unit): (id, usd per unit)."""

    rows: dict[tuple[str, str, str], tuple[int, float]]

    def of(self, provider: str, model: str, unit: str) -> tuple[int, float]:
        return self.rows.get((provider, model, unit)) or self.rows[(provider, "*", unit)]


def event_times(rng: np.random.Generator, n: int, now: np.datetime64) -> np.ndarray:
    """n sorted instants in the last HISTORY_DAYS days, busier in working hours."""
    today = now.astype("datetime64[D]")
    day = rng.integers(0, HISTORY_DAYS + 1, n)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    within = (rng.random(n) * 3600e6).astype(np.int64)
    at = (today - day.astype("timedelta64[D]")).astype("datetime64[us]") + (
        hour.astype(np.int64) * 3600_000_000 + within
    ).astype("timedelta64[us]")
    at = at[at < now]
    while len(at) < n:  # times after `now` were dropped: draw replacements from the past
        extra = now - (rng.random(n - len(at)) * HISTORY_DAYS * 86_400e6).astype("timedelta64[us]")
        at = np.concatenate([at, extra])
    return np.sort(at[:n])


@dataclass
class HealthCounts:
    """Provider rows of private.health_rollups and private.health_totals, counted here."""

    bounds: np.ndarray
    # (granularity or "total", bucket start as text or "", "provider/kind") ->
    # [requests, failures, latency total, histogram]
    rows: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)

    def add(
        self,
        grain: str,
        bucket: np.ndarray,
        unit: str,
        kind: np.ndarray,
        latency: np.ndarray,
        failed: np.ndarray,
    ) -> None:
        """Count events into (bucket, kind) groups; bucket is datetime64 ints in `unit`."""
        width = len(self.bounds) + 1
        slot = np.searchsorted(self.bounds, latency, side="left")
        group = bucket.astype(np.int64) * len(KINDS) + kind
        unique, inverse = np.unique(group, return_inverse=True)
        hist = np.bincount(inverse * width + slot, minlength=len(unique) * width)
        hist = hist.reshape(len(unique), width)
        requests = np.bincount(inverse, minlength=len(unique))
        errors = np.bincount(inverse, weights=failed, minlength=len(unique))
        total = np.bincount(inverse, weights=latency, minlength=len(unique))
        for j, key in enumerate(unique.tolist()):
            start, k = divmod(key, len(KINDS))
            text = (
                ""
                if unit == ""
                else str(np.array(start, dtype=f"datetime64[{unit}]").astype("datetime64[s]"))
            )
            name = f"{PROVIDER_OF[KINDS[k]]}/{KINDS[k]}"
            self.rows[(grain, text, name)] = [
                int(requests[j]),
                int(errors[j]),
                int(total[j]),
                hist[j].astype(np.int64),
            ]


@dataclass
class Events:
    """The generated ledger, as parallel arrays (index = event number, in time order)."""

    at: np.ndarray
    who: np.ndarray
    kind: np.ndarray
    agent_id: np.ndarray
    failed: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    characters: np.ndarray
    audio: np.ndarray
    call_seconds: np.ndarray
    latency: np.ndarray
    model: np.ndarray
    cost: np.ndarray
    version: np.ndarray


def make_events(
    rng: np.random.Generator,
    users: Users,
    agents: dict[str, np.ndarray],
    catalog: Catalog,
    prices: Prices,
    n: int,
    now: np.datetime64,
) -> Events:
    at = event_times(rng, n, now)
    who = rng.choice(len(users), size=n, p=users.weight)
    kind = rng.choice(len(KINDS), size=n, p=KIND_SHARE)
    first_id = int(agents["first_id"][0])
    agent_index = (
        users.agent_first[who]
        - first_id
        + (rng.random(n) * users.agent_count[who]).astype(np.int64)
    )
    failed = rng.random(n) < FAILURE_RATE
    ok = ~failed

    def amount(k: int, median: float, sigma: float, low: float, high: float) -> np.ndarray:
        drawn = np.clip(rng.lognormal(np.log(median), sigma, n), low, high)
        return np.where((kind == k) & ok, drawn, 0)

    input_tokens = amount(0, 600, 0.8, 20, 20_000).astype(np.int64)
    output_tokens = amount(0, 80, 0.7, 1, 256).astype(np.int64)
    characters = amount(1, 120, 0.6, 5, 2000).astype(np.int64)
    audio = np.round(amount(2, 6, 0.7, 0.5, 600), 3)
    call_seconds = np.round(amount(3, 90, 1.0, 5, 3600), 0)
    typical = np.array([350.0, 250.0, 400.0, 600.0])[kind]
    latency = np.clip(rng.lognormal(np.log(typical), 0.5), 20, 30_000).astype(np.int64)
    # Each event's model is its agent's LLM, voice or transcriber; a call's is its direction.
    names = [
        np.array(catalog.llm, dtype=object),
        np.array(catalog.tts, dtype=object),
        np.array(catalog.stt, dtype=object),
    ]
    choice = [agents["llm"], agents["tts"], agents["stt"]]
    model = np.where(rng.random(n) < 0.4, "outbound", "inbound").astype(object)
    for k in range(3):
        mask = kind == k
        model[mask] = names[k][choice[k][agent_index[mask]]]
    cost = np.zeros(n)
    version = np.empty(n, dtype=object)
    for name in catalog.llm:
        mask = (kind == 0) & (model == name)
        a, b = prices.of("groq", name, "input_token"), prices.of("groq", name, "output_token")
        cost[mask] = input_tokens[mask] * a[1] + output_tokens[mask] * b[1]
        version[mask] = f"{a[0]},{b[0]}"
    for k, unit, units in ((1, "character", characters), (2, "audio_second", audio)):
        for name in catalog.tts if k == 1 else catalog.stt:
            mask = (kind == k) & (model == name)
            price = prices.of("deepgram", name, unit)
            cost[mask], version[mask] = units[mask] * price[1], str(price[0])
    for name in ("inbound", "outbound"):
        mask = (kind == 3) & (model == name)
        price = prices.of("twilio", name, "minute")
        cost[mask], version[mask] = call_seconds[mask] / 60.0 * price[1], str(price[0])
    return Events(
        at=at,
        who=who,
        kind=kind,
        agent_id=first_id + agent_index,
        failed=failed,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        characters=characters,
        audio=audio,
        call_seconds=call_seconds,
        latency=latency,
        model=model,
        cost=np.round(cost, 8),
        version=version,
    )


def slices(indices: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(indices), CHUNK):
        yield indices[start : start + CHUNK]


@dataclass
class Ledger:
    """The generated events with their conversations and calls; columns become COPY text a
    slice at a time (10M rows of Python strings at once would take gigabytes)."""

    ev: Events
    owners: list[str]
    conv_ids: list[str]
    conversation: np.ndarray  # index into conv_ids, -1 for none
    call_id: np.ndarray  # -1 for none

    def text(self, idx: np.ndarray) -> dict[str, list[Any]]:
        ev = self.ev
        return {
            "i": idx.tolist(),
            "at": iso(ev.at[idx]).tolist(),
            "period": months_of(ev.at[idx]).tolist(),
            "owner": [self.owners[u] for u in ev.who[idx].tolist()],
            "agent": ev.agent_id[idx].tolist(),
            "conv": [self.conv_ids[c] if c >= 0 else NULL for c in self.conversation[idx].tolist()],
            "call": [str(c) if c >= 0 else NULL for c in self.call_id[idx].tolist()],
            "kind": [KINDS[k] for k in ev.kind[idx].tolist()],
            "model": ev.model[idx].tolist(),
            "failed": ev.failed[idx].tolist(),
        }

    def calls(self, idx: np.ndarray) -> Iterator[str]:
        for part in slices(idx):
            c = self.text(part)
            seconds = self.ev.call_seconds[part].astype(np.int64)
            ended = iso(self.ev.at[part] + seconds.astype("timedelta64[s]")).tolist()
            for j, duration in enumerate(seconds.tolist()):
                status = "failed" if c["failed"][j] else "completed"
                yield (
                    f"{c['call'][j]}\t{c['agent'][j]}\t{c['owner'][j]}\t"
                    f"CA{int(c['call'][j]):032x}\t{c['model'][j]}\t+14155550100\t+14155550199\t"
                    f"{status}\t{c['at'][j]}\t{ended[j]}\t{duration}\t[]\t{c['at'][j]}\n"
                )

    def conversations(self, first_turn: np.ndarray) -> Iterator[str]:
        for part in slices(first_turn):
            c = self.text(part)
            for conv, owner, agent, at in zip(
                c["conv"], c["owner"], c["agent"], c["at"], strict=True
            ):
                yield f"{conv}\t{owner}\t{agent}\t{at}\n"

    def messages(self, idx: np.ndarray) -> Iterator[str]:
        for part in slices(idx):
            c = self.text(part)
            for i, conv, owner, at in zip(c["i"], c["conv"], c["owner"], c["at"], strict=True):
                said, answer = UTTERANCES[i % len(UTTERANCES)], REPLIES[i % len(REPLIES)]
                yield (
                    f"{conv}\t{owner}\tuser\t{said}\t{at}\n"
                    f"{conv}\t{owner}\tassistant\t{answer}\t{at}\n"
                )

    def events(self) -> Iterator[str]:
        ev = self.ev
        for part in slices(np.arange(len(ev.at))):
            c = self.text(part)
            rows = zip(
                c["i"],
                c["owner"],
                c["agent"],
                c["conv"],
                c["call"],
                c["kind"],
                c["model"],
                ev.input_tokens[part].tolist(),
                ev.output_tokens[part].tolist(),
                ev.audio[part].tolist(),
                ev.characters[part].tolist(),
                ev.call_seconds[part].tolist(),
                ev.latency[part].tolist(),
                c["failed"],
                ev.cost[part].tolist(),
                ev.version[part].tolist(),
                c["at"],
                c["period"],
                strict=True,
            )
            for i, u, a, cv, cl, k, m, it, ot, au, ch, cs, lat, bad, usd, ver, t, p in rows:
                error = "provider_error" if bad else NULL
                yield (
                    f"{u}\t{a}\t{cv}\t{cl}\t{PROVIDER_OF[k]}\t{k}\t{m}\t{it}\t{ot}\t{au:.3f}\t"
                    f"{ch}\t{cs:.3f}\t{lat}\t{'f' if bad else 't'}\t{error}\t{usd:.8f}\t{ver}\t"
                    f"bench-{i}:{COMPONENT_OF[k]}\t{i:032x}\t{p}\t{t}\n"
                )

    def idempotency_keys(self) -> Iterator[str]:
        for part in slices(np.arange(len(self.ev.at))):
            c = self.text(part)
            for i, k, p, t in zip(c["i"], c["kind"], c["period"], c["at"], strict=True):
                yield f"bench-{i}:{COMPONENT_OF[k]}\t{p}\t{t}\n"


def load_usage(
    conn: psycopg.Connection,
    rng: np.random.Generator,
    users: Users,
    agents: dict[str, np.ndarray],
    catalog: Catalog,
    prices: Prices,
    n: int,
    now: np.datetime64,
    report: Report,
    timer: Timer,
) -> HealthCounts:
    """Events (with their idempotency keys, calls, conversations and messages) by COPY."""
    with timer.step("generate events"):
        ev = make_events(rng, users, agents, catalog, prices, n, now)
        # Conversations: an agent's LLM turns of one day are one conversation.
        is_llm = ev.kind == 0
        day = ev.at.astype("datetime64[D]").astype(np.int64)
        keys, conv_index = np.unique(
            ev.agent_id[is_llm] * 100_000 + day[is_llm], return_inverse=True
        )
        conversation = np.full(n, -1, dtype=np.int64)
        conversation[is_llm] = conv_index
        first_turn = np.full(len(keys), n, dtype=np.int64)
        np.minimum.at(first_turn, conv_index, np.flatnonzero(is_llm))
        # Phone calls: one public.calls row per telephony event.
        is_call = ev.kind == 3
        call_first = reserve_ids(conn, "public.calls_id_seq", int(is_call.sum()))
        call_id = np.full(n, -1, dtype=np.int64)
        call_id[is_call] = call_first + np.arange(int(is_call.sum()))
        ledger = Ledger(ev, users.ids, new_uuids(rng, len(keys)), conversation, call_id)

    months = np.unique(ev.at.astype("datetime64[M]")).astype("datetime64[D]")
    for month in np.datetime_as_string(months, unit="D").tolist():
        conn.execute("select private.ensure_usage_partition(%s::date)", (month,))

    with timer.step("copy calls"):
        report.calls = copy_rows(
            conn,
            "public.calls",
            "id, agent_id, user_id, twilio_call_sid, direction, from_number, to_number, status, "
            "started_at, ended_at, duration_seconds, transcript, created_at",
            ledger.calls(np.flatnonzero(is_call)),
        )
    with timer.step("copy conversations"):
        report.conversations = copy_rows(
            conn,
            "public.conversations",
            "id, user_id, agent_id, created_at",
            ledger.conversations(first_turn),
        )
    with timer.step("copy messages"):
        report.messages = 2 * copy_rows(
            conn,
            "public.conversation_messages",
            "conversation_id, user_id, role, content, created_at",
            ledger.messages(np.flatnonzero(is_llm & ~ev.failed)),
        )
    with timer.step("copy events"):
        report.events = copy_rows(
            conn,
            "public.usage_events",
            "user_id, agent_id, conversation_id, call_id, provider, kind, model, input_tokens, "
            "output_tokens, audio_seconds, characters, call_seconds, latency_ms, success, "
            "error_code, cost_usd, price_version, idempotency_key, request_id, period_start, "
            "occurred_at",
            ledger.events(),
        )
    with timer.step("copy idempotency keys"):
        copy_rows(
            conn,
            "private.usage_idempotency",
            "key, period_start, created_at",
            ledger.idempotency_keys(),
        )

    with timer.step("count health histograms"):
        row = conn.execute("select private.latency_bounds_ms()").fetchone()
        assert row is not None
        health = HealthCounts(np.array(row[0], dtype=np.int64))
        failures = ev.failed.astype(np.int64)
        for grain, keep, unit in (("minute", 24, "m"), ("hour", 24 * 30, "h")):
            recent = ev.at >= now - np.timedelta64(keep, "h")
            bucket = ev.at[recent].astype(f"datetime64[{unit}]").astype(np.int64)
            health.add(grain, bucket, unit, ev.kind[recent], ev.latency[recent], failures[recent])
        health.add("total", np.zeros(n, dtype=np.int64), "", ev.kind, ev.latency, failures)
    return health


ROLLUPS = (
    # What private.record_usage keeps per user and month ...
    """
    insert into public.usage_counters (
        user_id, period_start, tokens_used, input_tokens, output_tokens, audio_seconds,
        characters, call_seconds, cost_usd, events, updated_at
    )
    select
        e.user_id, e.period_start, sum(e.input_tokens + e.output_tokens), sum(e.input_tokens),
        sum(e.output_tokens), sum(e.audio_seconds), sum(e.characters), sum(e.call_seconds),
        sum(e.cost_usd), count(*), max(e.occurred_at)
    from public.usage_events as e
    join bench_seeded as s on s.user_id = e.user_id
    group by e.user_id, e.period_start
    """,
    # ... and per user, day, provider, kind and model.
    """
    insert into public.usage_daily (
        user_id, day, period_start, provider, kind, model, events, failures, input_tokens,
        output_tokens, audio_seconds, characters, call_seconds, cost_usd, latency_ms_total
    )
    select
        e.user_id, (e.occurred_at at time zone 'UTC')::date, e.period_start, e.provider, e.kind,
        e.model, count(*), count(*) filter (where not e.success), sum(e.input_tokens),
        sum(e.output_tokens), sum(e.audio_seconds), sum(e.characters), sum(e.call_seconds),
        sum(e.cost_usd), coalesce(sum(e.latency_ms), 0)
    from public.usage_events as e
    join bench_seeded as s on s.user_id = e.user_id
    group by 1, 2, 3, 4, 5, 6
    """,
    # Warnings a user would already have been sent this month (cost against the plan's ceiling).
    """
    insert into public.quota_warnings (user_id, period_start, metric, threshold, sent_at)
    select c.user_id, c.period_start, 'cost', t.threshold, c.updated_at
    from public.usage_counters as c
    join bench_seeded as s on s.user_id = c.user_id
    join public.profiles as p on p.id = c.user_id
    join public.plans as pl on pl.id = p.plan_id
    cross join (values (80), (95), (100)) as t (threshold)
    where pl.monthly_cost_limit_usd > 0
        and c.cost_usd * 100 >= pl.monthly_cost_limit_usd * t.threshold
    on conflict do nothing
    """,
    # The admin rollups the analytics trigger and private.refresh_analytics would have kept.
    """
    insert into private.platform_daily as d (
        day, provider, kind, model, plan_id, events, failures, input_tokens, output_tokens,
        audio_seconds, characters, call_seconds, cost_usd, latency_ms_total, unpriced_events
    )
    select
        u.day, u.provider, u.kind, u.model, p.plan_id, sum(u.events), sum(u.failures),
        sum(u.input_tokens), sum(u.output_tokens), sum(u.audio_seconds), sum(u.characters),
        sum(u.call_seconds), sum(u.cost_usd), sum(u.latency_ms_total),
        coalesce(sum(u.events) filter (
            where u.cost_usd = 0 and (
                u.input_tokens + u.output_tokens > 0 or u.audio_seconds > 0
                or u.characters > 0 or u.call_seconds > 0
            )
        ), 0)
    from public.usage_daily as u
    join bench_seeded as s on s.user_id = u.user_id
    join public.profiles as p on p.id = u.user_id
    group by 1, 2, 3, 4, 5
    on conflict (day, provider, kind, model, plan_id) do update
    set events = d.events + excluded.events,
        failures = d.failures + excluded.failures,
        input_tokens = d.input_tokens + excluded.input_tokens,
        output_tokens = d.output_tokens + excluded.output_tokens,
        audio_seconds = d.audio_seconds + excluded.audio_seconds,
        characters = d.characters + excluded.characters,
        call_seconds = d.call_seconds + excluded.call_seconds,
        cost_usd = d.cost_usd + excluded.cost_usd,
        latency_ms_total = d.latency_ms_total + excluded.latency_ms_total,
        unpriced_events = d.unpriced_events + excluded.unpriced_events
    """,
    """
    insert into private.user_activity_days (user_id, day)
    select distinct u.user_id, u.day
    from public.usage_daily as u
    join bench_seeded as s on s.user_id = u.user_id
    on conflict do nothing
    """,
    """
    update private.user_directory as d
    set last_active_at = greatest(d.last_active_at, c.last_at)
    from (
        select c.user_id, max(c.updated_at) as last_at
        from public.usage_counters as c
        join bench_seeded as s on s.user_id = c.user_id
        group by c.user_id
    ) as c
    where c.user_id = d.user_id
    """,
    """
    select private.refresh_activity(array(
        select (p.created_at at time zone 'UTC')::date
        from public.profiles as p join bench_seeded as s on s.user_id = p.id
        union
        select distinct u.day from private.user_activity_days as u
        where u.day >= (now() at time zone 'UTC')::date - 400
    ))
    """,
    """
    update private.job_runs set last_run_at = now(),
        last_result = jsonb_build_object('seeded_by', 'bench.seed')
    where job = 'refresh_analytics'
    """,
)


def load_health(conn: psycopg.Connection, health: HealthCounts) -> None:
    for (grain, bucket, name), (requests, errors, total, hist) in health.rows.items():
        if grain == "total":
            conn.execute(
                """
                insert into private.health_totals as t (
                    source, name, requests, server_errors, latency_ms_total, latency_hist
                )
                values ('provider', %s, %s, %s, %s, %s)
                on conflict (source, name) do update
                set requests = t.requests + excluded.requests,
                    server_errors = t.server_errors + excluded.server_errors,
                    latency_ms_total = t.latency_ms_total + excluded.latency_ms_total,
                    latency_hist = private.hist_add(t.latency_hist, excluded.latency_hist)
                """,
                (name, requests, errors, total, hist.tolist()),
            )
            continue
        conn.execute(
            """
            insert into private.health_rollups as h (
                granularity, bucket_start, source, name, requests, client_errors, server_errors,
                latency_ms_total, latency_hist
            )
            values (%s, %s::timestamp at time zone 'UTC', 'provider', %s, %s, 0, %s, %s, %s)
            on conflict (granularity, bucket_start, source, name) do update
            set requests = h.requests + excluded.requests,
                server_errors = h.server_errors + excluded.server_errors,
                latency_ms_total = h.latency_ms_total + excluded.latency_ms_total,
                latency_hist = private.hist_add(h.latency_hist, excluded.latency_hist)
            """,
            (grain, bucket, name, requests, errors, total, hist.tolist()),
        )


# --- the whole thing ----------------------------------------------------------------------------


def seed(
    target: Target,
    users: int,
    events: int,
    random_seed: int = 8,
    log: Callable[[str], None] = print,
) -> Report:
    """Fill the target database. Refuses a database that already has bench users."""
    report = Report()
    timer = Timer(report, log)
    rng = np.random.default_rng(random_seed)
    now = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "us")
    started = time.perf_counter()
    with psycopg.connect(target.db_url, autocommit=True) as conn:
        found = conn.execute(
            "select count(*) from auth.users where email like %s", (f"%@{EMAIL_DOMAIN}",)
        ).fetchone()
        if found and found[0]:
            raise SystemExit("this database already has bench users; seed a fresh stack")
        conn.execute("set timezone = 'UTC'")
        conn.execute("set synchronous_commit = off")
        conn.execute("set maintenance_work_mem = '512MB'")
        conn.execute("set work_mem = '256MB'")
        catalog = Catalog(
            *(
                [
                    r[0]
                    for r in conn.execute(
                        "select id from public.model_catalog where kind = %s order by id", (kind,)
                    )
                ]
                for kind in ("llm", "stt", "tts")
            )
        )
        prices = Prices(
            {
                (r[0], r[1], r[2]): (int(r[3]), float(r[4]))
                for r in conn.execute(
                    "select provider, model, unit, id, usd_per_unit from public.price_book "
                    "where effective_to is null"
                )
            }
        )
        with timer.step("users (triggers on)"), conn.transaction():
            people = make_users(rng, users, now)
            load_users(conn, people, accounts.hash_password(PASSWORD))
            report.users = len(people)
            load_sessions(conn, rng, people)
        # From here on COPY skips triggers: what they would do is done in bulk below.
        conn.execute("set session_replication_role = replica")
        with conn.transaction():
            with timer.step("agents"):
                agents = load_agents(conn, rng, people, catalog)
                report.agents = int(people.agent_count.sum())
            with timer.step("provider keys (sealed)"):
                report.provider_keys = load_provider_keys(conn, rng, people, target)
            with timer.step("notifications"):
                report.notifications = load_notifications(conn, rng, people, now)
            with indexes_built_after(conn, BULK_TABLES, timer):
                health = load_usage(
                    conn, rng, people, agents, catalog, prices, events, now, report, timer
                )
        conn.execute("set session_replication_role = origin")
        with timer.step("rollups"), conn.transaction():
            for statement in ROLLUPS:
                conn.execute(statement)
            load_health(conn, health)
        with timer.step("vacuum analyze"):
            conn.execute("vacuum analyze")
    report.seconds["total"] = round(time.perf_counter() - started, 1)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", choices=sorted(SIZES), help="S, M or L (sets both counts)")
    parser.add_argument("--users", type=int, help="tenant accounts (admins come on top)")
    parser.add_argument("--events", type=int, help="usage events")
    parser.add_argument("--seed", type=int, default=8, help="random seed (same seed, same data)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the running stack's VOXFLOW_STATE_DIR (default: the environment's)",
    )
    args = parser.parse_args(argv)
    size = SIZES[args.size] if args.size else Size(args.users or 100, args.events or 100_000)
    users = args.users or size.users
    events = args.events if args.events is not None else size.events
    state_dir = args.state_dir or Path(os.environ.get("VOXFLOW_STATE_DIR", ".voxflow"))
    target = Target.from_state_dir(state_dir.resolve())
    print(f"seeding {users} users and {events} usage events", flush=True)
    report = seed(target, users, events, args.seed, log=lambda m: print(m, flush=True))
    json.dump(report.as_dict(), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
