"""Metering around every provider call: hold quota before, record what was consumed after.

The database does the arithmetic (private.reserve_tokens, private.record_usage): prices come
from the price book in force when the call happened, counters and rollups move in the same
transaction, and an idempotency key makes a retried request or webhook count once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import g, request
from psycopg.types.json import Jsonb

from voxflow.db import Conn, transaction
from voxflow.errors import ApiError


def idempotency_key(user_id: str, component: str) -> str:
    """The key this request's usage is recorded under: the client's Idempotency-Key header
    (scoped to the caller, so two users' keys never meet) if it sent one, else the request id.
    A header key whose usage is already recorded is refused before the provider is called:
    reusing one must not buy an unmetered call."""
    header = request.headers.get("Idempotency-Key")
    if not header:
        return f"{g.request_id}:{component}"
    key = f"{user_id}:{header}:{component}"
    if already_recorded(key):
        raise ApiError(
            409, "idempotency_key_reused",
            "This Idempotency-Key was already used: that request was carried out and metered",
            hint="Send a new Idempotency-Key for a new request.",
        )  # fmt: skip
    return key


def estimate_tokens(messages: list[dict[str, str]], max_tokens: int) -> int:
    """What a chat may spend at most: a generous prompt estimate (~3 characters a token,
    rounded up, plus per-message overhead) and the whole completion budget."""
    prompt = sum(-(-len(m["content"]) // 3) + 4 for m in messages) + 3
    return prompt + max_tokens


@dataclass
class Usage:
    """One provider call's consumption, filled in as the call goes."""

    user_id: str
    provider: str
    kind: str
    model: str
    key: str
    agent_id: int | None = None
    conversation_id: str | None = None
    call_id: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    audio_seconds: float = 0.0
    characters: int = 0
    call_seconds: float = 0.0
    latency_ms: int | None = None
    success: bool = True
    error_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_event(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "provider": self.provider,
            "kind": self.kind,
            "model": self.model,
            "idempotency_key": self.key,
            "agent_id": self.agent_id,
            "conversation_id": self.conversation_id,
            "call_id": self.call_id,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "audio_seconds": round(self.audio_seconds, 3),
            "characters": self.characters,
            "call_seconds": round(self.call_seconds, 3),
            "latency_ms": self.latency_ms,
            "success": self.success,
            "error_code": self.error_code,
            "request_id": g.get("request_id"),
            **self.extra,
        }


def already_recorded(key: str) -> bool:
    with transaction() as conn:
        row = conn.execute(
            "select exists (select 1 from private.usage_idempotency where key = %s) as seen",
            (key,),
        ).fetchone()
    return bool(row and row["seen"])


def reserve(conn: Conn, user_id: str, tokens: int) -> int:
    """Hold tokens of this month's quota (429 quota_exceeded when they are not there). The
    caller commits before calling the provider, so concurrent requests see each other's holds."""
    row = conn.execute("select private.reserve_tokens(%s, %s) as id", (user_id, tokens)).fetchone()
    assert row is not None
    return int(row["id"])


def assert_quota(user_id: str) -> int:
    """Refuse when the month's tokens are spent; returns the tokens left."""
    with transaction() as conn:
        row = conn.execute("select private.assert_quota(%s) as left", (user_id,)).fetchone()
    assert row is not None
    return int(row["left"])


def record(usage: Usage, reservation_id: int | None = None, conn: Conn | None = None) -> int | None:
    """Append the event (once per key), settle the reservation, move counters and rollups —
    in the caller's transaction when given one."""
    if conn is None:
        with transaction() as own:
            return record(usage, reservation_id, own)
    row = conn.execute(
        "select private.record_usage(%s, %s) as id", (Jsonb(usage.as_event()), reservation_id)
    ).fetchone()
    return row["id"] if row else None


@contextmanager
def metered(usage: Usage, reservation_id: int | None = None) -> Iterator[Usage]:
    """Record the usage whatever happens inside: a failed call is metered with what it
    consumed (often nothing), and the reservation is always settled."""
    try:
        yield usage
    except BaseException:
        usage.success = False
        usage.error_code = usage.error_code or "provider_error"
        record(usage, reservation_id)
        raise
    record(usage, reservation_id)
