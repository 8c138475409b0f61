"""Admin routes the sidecar serves because SQL alone cannot: streamed CSV exports (each one
audited), price files imported from the browser (as `voxflow prices import` loads them) and
the Prometheus /metrics endpoint. Each takes an active admin's token or the service-role key
(guard.require_admin); everything else admin is the `admin` schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

from flask import Blueprint, Response, request, stream_with_context
from flask.typing import ResponseReturnValue

from voxflow import exports, health, prices
from voxflow.db import Conn, transaction
from voxflow.errors import ApiError
from voxflow.guard import audit, caller, require_admin, tag_request, user_transaction

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


def _file_name(raw: str | None) -> str:
    """The uploaded file's own name, as the price book's `source` records it (import:<name>)."""
    base = re.split(r"[/\\]", raw or "")[-1]
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:100] or "upload.json"


@bp.post("/admin/prices/import")
@require_admin
def import_prices() -> ResponseReturnValue:
    """POST /functions/v1/admin/prices/import?filename=<name>, the file itself as the body: our
    JSON list of {provider, model, unit, usd_per_unit} or LiteLLM's
    model_prices_and_context_window.json. Loaded by the code `voxflow prices import` runs, in one
    transaction as the caller: each changed price starts now and is audited (price.changed,
    source import:<name>). Answers {file, read, changed}; a file it cannot use is a 400."""
    name = _file_name(request.args.get("filename"))
    if (request.mimetype or "").startswith("multipart/"):
        raise ApiError(
            400, "invalid_price_file", "Send the price file itself as the request body, not a form",
            "body", "POST the JSON file with Content-Type: application/json.",
        )  # fmt: skip
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(
            400, "invalid_price_file", "The request has no price file: send it as the body",
            "body", "A JSON list of {provider, model, unit, usd_per_unit}, or LiteLLM's "
            "model_prices_and_context_window.json.",
        )  # fmt: skip
    with ExitStack() as stack:
        conn = _caller_transaction(stack)
        tag_request(conn)
        try:
            result = prices.load_bytes(
                conn, data, source=f"import:{name}", actor_id=caller().user_id
            )
        except prices.PriceFileError as exc:
            raise ApiError(400, "invalid_price_file", f"{name}: {exc}", "body") from exc
    return {"file": name, "read": result.read, "changed": result.changed}


@bp.get("/metrics")
@require_admin
def metrics() -> ResponseReturnValue:
    """Prometheus text format, read from the database's rollups (any sidecar answers the
    same). Scrape with the service-role key as bearer token."""
    with transaction() as conn:
        rows = conn.execute("select * from private.metrics_snapshot()").fetchall()
    return Response(health.render_metrics(rows), mimetype="text/plain; version=0.0.4")
