"""CSV exports of the admin views, streamed: a server-side cursor feeds rows in batches and
the response is written as it goes, so memory stays flat however large the export.

Filters use PostgREST's syntax on the view's own columns (`?status=eq.suspended`,
`?search=ilike.*acme*`, `?occurred_at=gte.2026-11-01`, `?plan_id=in.(pro,business)`,
`?redacted_at=is.null`), plus `select=a,b`, `order=a.desc,b` and `limit=N`, so the admin UI
passes the query string it already used to show the list. The query runs as the caller, so
RLS decides as for any other read.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from voxflow.db import Conn
from voxflow.errors import ApiError


@dataclass(frozen=True)
class Export:
    view: str  # in the admin schema
    order: tuple[str, ...]  # default order: stable across runs
    omit: tuple[str, ...] = ()  # columns left out unless selected


EXPORTS = {
    "users": Export("users_overview", ("created_at", "user_id"), omit=("search",)),
    "usage": Export("user_usage", ("user_id", "period_start", "provider", "kind", "model")),
    "costs": Export("cost_breakdown", ("period_start", "provider", "kind", "model", "plan_id")),
    "audit": Export("audit_log", ("id",)),
}

OPERATORS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
PATTERNS = {"like": "like", "ilike": "ilike"}
IS_VALUES = {"null": "null", "true": "true", "false": "false", "unknown": "unknown"}
RESERVED = {"select", "order", "limit"}
BATCH_ROWS = 2000
FLUSH_BYTES = 64 * 1024
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def kind_of(name: str) -> Export:
    export = EXPORTS.get(name)
    if export is None:
        raise ApiError(
            404, "unknown_export", f"There is no export named {name!r}",
            hint="Exports: " + ", ".join(sorted(EXPORTS)),
        )  # fmt: skip
    return export


def _invalid(message: str, field: str | None = None) -> ApiError:
    hint = "Use PostgREST's syntax, e.g. ?status=eq.active&order=created_at.desc"
    return ApiError(400, "invalid_filter", message, field, hint)


def _split_list(raw: str) -> list[str]:
    """PostgREST's in.(a,b,"c,d") list."""
    if not (raw.startswith("(") and raw.endswith(")")):
        raise _invalid("in. takes a list in parentheses, e.g. in.(pro,business)")
    reader = csv.reader([raw[1:-1]], skipinitialspace=True)
    return next(reader, [])


def build_query(
    export: Export, columns: list[str], pairs: Sequence[tuple[str, str]]
) -> tuple[sql.Composed, list[Any], list[str]]:
    """The SELECT for these query parameters (in order, repeats kept: `a=gte.1&a=lt.9` is a
    range), its bound values, and the CSV header."""
    args = dict(pairs)  # select, order and limit take one value
    known = set(columns)
    chosen = [c for c in columns if c not in export.omit]
    if args.get("select"):
        chosen = [c.strip() for c in args["select"].split(",") if c.strip()]
        for name in chosen:
            if name not in known:
                raise _invalid(f"No column {name!r} to select", "select")
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    for name, raw in pairs:
        if name in RESERVED:
            continue
        if name not in known:
            raise _invalid(f"No column {name!r} to filter on", name)
        op, _, value = raw.partition(".")
        column = sql.Identifier(name)
        if op in OPERATORS:
            clauses.append(sql.SQL("{} {} %s").format(column, sql.SQL(OPERATORS[op])))
            params.append(value)
        elif op in PATTERNS:
            clauses.append(sql.SQL("{}::text {} %s").format(column, sql.SQL(PATTERNS[op])))
            params.append(value.replace("*", "%"))
        elif op == "is" and value in IS_VALUES:
            clauses.append(sql.SQL("{} is {}").format(column, sql.SQL(IS_VALUES[value])))
        elif op == "in":
            items = _split_list(value)
            if not items:
                clauses.append(sql.SQL("false"))
            else:
                placeholders = sql.SQL(", ").join(sql.Placeholder() * len(items))
                clauses.append(sql.SQL("{} in ({})").format(column, placeholders))
                params.extend(items)
        else:
            raise _invalid(f"Unknown operator in {name}={raw}", name)
    order: list[sql.Composable] = []
    for term in (args.get("order") or ",".join(export.order)).split(","):
        name, _, direction = term.strip().partition(".")
        if name not in known or direction not in ("", "asc", "desc"):
            raise _invalid(f"Cannot order by {term!r}", "order")
        order.append(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(direction or "asc")))
    query = sql.SQL("select {} from admin.{} where {} order by {}").format(
        sql.SQL(", ").join(map(sql.Identifier, chosen)),
        sql.Identifier(export.view),
        sql.SQL(" and ").join(clauses) if clauses else sql.SQL("true"),
        sql.SQL(", ").join(order),
    )
    if args.get("limit"):
        if not args["limit"].isdigit():
            raise _invalid("limit must be a whole number", "limit")
        query += sql.SQL(" limit %s")
        params.append(int(args["limit"]))
    return query, params, chosen


def view_columns(conn: Conn, view: str) -> list[str]:
    rows = conn.execute(
        "select a.attname from pg_catalog.pg_attribute a "
        "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        (f"admin.{view}",),
    ).fetchall()
    return [r["attname"] for r in rows]


def cell(value: Any) -> Any:
    """One CSV cell. Text that a spreadsheet would run as a formula is prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if _FORMULA.match(text) else text


def stream_csv(conn: Conn, export: Export, pairs: Sequence[tuple[str, str]]) -> Iterator[bytes]:
    """CSV chunks of the export, read through a server-side cursor in `conn`'s transaction.
    The first chunk (header and first batch) comes only after the query ran, so a bad filter
    value fails before anything is sent."""
    query, params, header = build_query(export, view_columns(conn, export.view), pairs)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    with conn.cursor(name="voxflow_export", row_factory=tuple_row) as cur:
        cur.itersize = BATCH_ROWS
        try:
            cur.execute(query, params)
            batch = cur.fetchmany(BATCH_ROWS)
        except (psycopg.errors.DataError, psycopg.errors.UndefinedFunction) as exc:
            raise _invalid(f"A filter does not fit its column: {exc.diag.message_primary}") from exc
        while batch:
            for row in batch:
                writer.writerow([cell(v) for v in row])
            if buffer.tell() >= FLUSH_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
            batch = cur.fetchmany(BATCH_ROWS)
    yield buffer.getvalue().encode()
