"""Database access for the sidecar: one psycopg 3 pool per process, bound parameters only,
one transaction per unit of work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from flask import current_app
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from voxflow.tokens import USER_ROLES

Conn = psycopg.Connection[DictRow]


def make_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> ConnectionPool[Conn]:
    return ConnectionPool(
        url,
        connection_class=Conn,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": False},
        open=True,
        name="voxflow",
    )


def pool() -> ConnectionPool[Conn]:
    pool: ConnectionPool[Conn] = current_app.extensions["voxflow.pool"]
    return pool


@contextmanager
def transaction() -> Iterator[Conn]:
    """A connection inside a transaction, as the sidecar's own role; commits on success."""
    with pool().connection() as conn:
        with conn.transaction():
            yield conn


@contextmanager
def as_user(claims: dict[str, Any]) -> Iterator[Conn]:
    """A transaction that runs as PostgREST would for this (verified) user JWT: its role,
    `authenticated` or an admin's `voxflow_admin`, with the claims in request.jwt.claims, so
    every RLS policy applies."""
    if claims.get("role") not in USER_ROLES:
        raise ValueError("as_user takes a user's token, not an API key")
    with transaction() as conn:
        # One round trip, as PostgREST does it: set_config('role', ..., true) is SET LOCAL ROLE.
        conn.execute(
            "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
            (claims["role"], json.dumps(claims)),
        )
        yield conn
