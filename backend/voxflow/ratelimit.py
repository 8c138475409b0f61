"""Rate limits shared by every replica, counted in Postgres (private.rate_limit_*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request

from voxflow.db import Conn
from voxflow.errors import ApiError


def client_ip(environ: Mapping[str, Any] | None = None) -> str:
    """The caller's address as the gateway saw it (the sidecar only listens on loopback), from
    the current request or a WSGI environ."""
    found = request.environ if environ is None else environ
    forwarded = found.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[-1].strip() or found.get("REMOTE_ADDR") or "unknown"


def too_many(retry_after: int, what: str) -> ApiError:
    return ApiError(
        429,
        "over_request_rate_limit",
        f"Too many {what}; try again in {retry_after} seconds",
        headers={"Retry-After": str(retry_after)},
    )


def hit(conn: Conn, rule: str, subject: str, what: str) -> None:
    """Count this request; raise 429 once the subject is over the rule's limit."""
    row = conn.execute("select private.rate_limit_hit(%s, %s) as wait", (rule, subject)).fetchone()
    if row and row["wait"] > 0:
        raise too_many(row["wait"], what)


def retry_after(conn: Conn, rule: str, subject: str) -> int:
    row = conn.execute(
        "select private.rate_limit_retry_after(%s, %s) as wait", (rule, subject)
    ).fetchone()
    return int(row["wait"]) if row else 0
