"""Who is calling: the verified JWT, checked against the database on every request, so a
suspended user, an ended session or a demoted admin loses access at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import g, has_request_context

from voxflow import tokens
from voxflow.db import Conn, as_user
from voxflow.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    claims: dict[str, Any]

    @property
    def role(self) -> str:
        return str(self.claims["role"])

    @property
    def user_id(self) -> str | None:
        return self.claims.get("sub") if self.is_user else None

    @property
    def is_user(self) -> bool:
        """A signed-in person (user or admin), not an API key."""
        return self.role in tokens.USER_ROLES

    @property
    def session_id(self) -> str | None:
        return self.claims.get("session_id")


def caller() -> Caller:
    found: Caller = g.caller
    return found


@contextmanager
def user_transaction() -> Iterator[Conn]:
    """A transaction acting as the calling user under RLS, after the per-request check."""
    with as_user(caller().claims) as conn:
        conn.execute("select private.check_request()")
        yield conn


def require_user(fn: F) -> F:
    """A signed-in user with a live session and an active account."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.caller = Caller(tokens.decode(tokens.bearer_token()))
        if not caller().is_user:
            raise ApiError(401, "no_authorization", "Sign in first: this needs a user's token")
        with user_transaction():
            pass  # raises 401 for suspended users and ended sessions
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_admin(fn: F) -> F:
    """An active admin (checked in the database now) or the service-role key."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        claims = tokens.decode(tokens.bearer_token())
        g.caller = Caller(claims)
        if claims["role"] == "anon":
            raise ApiError(401, "no_authorization", "Sign in with an admin account first")
        if caller().is_user:
            with user_transaction() as conn:
                row = conn.execute("select private.is_admin() as admin").fetchone()
            if not row or not row["admin"]:
                raise ApiError(403, "not_admin", "User not allowed: this needs an admin account")
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def audit(
    conn: Conn,
    action: str,
    target_type: str | None,
    target_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_id: object = None,
) -> None:
    """Append an audit entry in the caller's transaction (secrets must already be redacted)."""
    from psycopg.types.json import Jsonb

    tag_request(conn)
    conn.execute(
        "select private.audit(%s, %s, %s, %s, %s, %s)",
        (
            action,
            target_type,
            None if target_id is None else str(target_id),
            Jsonb(before) if before is not None else None,
            Jsonb(after) if after is not None else None,
            actor_id if actor_id is not None else caller_id_or_none(),
        ),
    )


def tag_request(conn: Conn) -> None:
    """Name this request and the client's IP in the transaction, for every audit entry SQL
    writes in it (the IP is what the anomaly detector groups bursts by)."""
    from voxflow.ratelimit import client_ip

    conn.execute(
        "select set_config('voxflow.request_id', %s, true), "
        "set_config('voxflow.client_ip', %s, true)",
        (g.get("request_id", ""), client_ip() if has_request_context() else ""),
    )


def caller_id_or_none() -> str | None:
    found = g.get("caller")
    return found.user_id if found else None
