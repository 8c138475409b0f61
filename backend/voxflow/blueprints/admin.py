"""Admin routes the sidecar serves because SQL alone cannot: streamed CSV exports (each one
audited) and the Prometheus /metrics endpoint. Both take an active admin's token or the
service-role key (guard.require_admin); everything else admin is the `admin` schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from voxflow import exports, health
from voxflow.db import Conn, transaction
from voxflow.guard import audit, caller, require_admin, user_transaction

bp = Blueprint("admin", __name__, url_prefix="/functions/v1")


def _caller_transaction(stack: ExitStack) -> Conn:
    """A transaction as the caller: an admin under RLS, or the service role."""
    if caller().is_user:
        return stack.enter_context(user_transaction())
    conn = stack.enter_context(transaction())
    conn.execute("set local role service_role")
    return conn


def _export_stream(export: exports.Export, pairs: list[tuple[str, str]]) -> Iterator[bytes]:
    with ExitStack() as stack:
        conn = _caller_transaction(stack)
        yield from exports.stream_csv(conn, export, pairs)


@bp.get("/admin/export/<kind>")
@require_admin
def export_csv(kind: str) -> ResponseReturnValue:
    """GET /functions/v1/admin/export/{users|usage|costs|audit}?<PostgREST filters>"""
    export = exports.kind_of(kind)
    chunks = _export_stream(export, list(request.args.items(multi=True)))
    first = next(chunks)  # runs the query: a bad filter is a 400 before anything is sent
    filters = {k: v[0] if len(v) == 1 else v for k, v in request.args.to_dict(flat=False).items()}
    with transaction() as conn:
        audit(conn, "admin.export", "export", kind, after={"kind": kind, "filters": filters})

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="voxflow-{kind}-{stamp}.csv"',
            "X-Accel-Buffering": "no",  # nginx passes chunks on as they come
            "Cache-Control": "no-store",
        },
    )


@bp.get("/metrics")
@require_admin
def metrics() -> ResponseReturnValue:
    """Prometheus text format, read from the database's rollups (any sidecar answers the
    same). Scrape with the service-role key as bearer token."""
    with transaction() as conn:
        rows = conn.execute("select * from private.metrics_snapshot()").fetchall()
    return Response(health.render_metrics(rows), mimetype="text/plain; version=0.0.4")
