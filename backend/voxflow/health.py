"""System health: the gateway's access log shipped into per-minute and per-hour rollups, and
the Prometheus text the sidecar serves from them.

nginx writes one JSON object per request (time, method, uri, status, request_time,
request_id). The worker reads the file from the byte offset stored in private.log_cursors,
claimed FOR UPDATE, and writes the rollups and the new offset in one transaction: several
workers, restarts and crashes never count a line twice or skip one. A file with a new inode
(rotated) or shorter than the offset (truncated) is read from the start.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from voxflow.config import Settings

log = logging.getLogger("voxflow.health")

READ_BYTES = 4 * 1024 * 1024  # one shipment at most; the rest goes in the next one
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_ID = re.compile(
    r"^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[A-Za-z0-9_-]{20,})$"
)
MAX_SEGMENTS = 4


def access_log_path(settings: Settings) -> Path:
    """Where the stack's nginx writes its JSON access log."""
    return settings.state_dir / "run" / "nginx" / "access.log"


def route_template(uri: str, status: int, relations: frozenset[str] = frozenset()) -> str:
    """The route a request URI belongs to, with ids collapsed, so the rollups stay small:
    /rest/v1/agents, /rest/v1/rpc/change_plan, /auth/v1/admin/users/:id,
    /functions/v1/api-keys/groq. Unknown PostgREST names and unmatched sidecar paths share
    one template each, so a scan of random URLs cannot grow the tables."""
    parts = [p for p in uri.split("?", 1)[0].split("/") if p]
    if parts[:2] == ["rest", "v1"]:
        rest = parts[2:]
        if not rest:
            return "/rest/v1/"
        if rest[0] == "rpc" and len(rest) > 1:
            name = rest[1]
            known = _IDENTIFIER.match(name) and (not relations or f"rpc/{name}" in relations)
            return f"/rest/v1/rpc/{name if known else ':unknown'}"
        name = rest[0]
        known = _IDENTIFIER.match(name) and (not relations or name in relations)
        return f"/rest/v1/{name if known else ':unknown'}"
    if parts[:2] in (["auth", "v1"], ["functions", "v1"]):
        prefix = f"/{parts[0]}/v1"
        if status == 404:
            return f"{prefix}/:unmatched"
        segments = [
            ":id" if _ID.match(p) else (p if _SEGMENT.match(p) else ":x")
            for p in parts[2 : 2 + MAX_SEGMENTS]
        ]
        return "/".join([prefix, *segments]) + ("/..." if len(parts) > 2 + MAX_SEGMENTS else "")
    return "/:static"


@dataclass
class Bucket:
    """One minute of one route."""

    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0
    latency_ms_total: int = 0
    latency_hist: list[int] = field(default_factory=list)


@dataclass
class Shipment:
    lines: int = 0
    skipped: int = 0
    byte_offset: int = 0
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def as_rows(self) -> list[dict[str, Any]]:
        return [
            {"minute": minute, "route": route, **b.__dict__}
            for (minute, route), b in sorted(self.buckets.items())
        ]


def aggregate(lines: Iterable[bytes], bounds: list[int], relations: frozenset[str]) -> Shipment:
    """Per-minute, per-route counts and latency histograms of access-log lines."""
    shipment = Shipment()
    for raw in lines:
        try:
            entry = json.loads(raw)
            at = datetime.fromisoformat(entry["time"]).astimezone(UTC)
            status = int(entry["status"])
            latency_ms = float(entry["request_time"]) * 1000
            uri = str(entry["uri"])
        except (ValueError, KeyError, TypeError):
            shipment.skipped += 1
            continue
        minute = at.replace(second=0, microsecond=0).isoformat()
        route = route_template(uri, status, relations)
        bucket = shipment.buckets.setdefault(
            (minute, route), Bucket(latency_hist=[0] * (len(bounds) + 1))
        )
        bucket.requests += 1
        bucket.client_errors += 400 <= status < 500
        bucket.server_errors += status >= 500
        bucket.latency_ms_total += round(latency_ms)
        bucket.latency_hist[bisect.bisect_left(bounds, latency_ms)] += 1
        shipment.lines += 1
    return shipment


def exposed_relations(cur: psycopg.Cursor[tuple[Any, ...]]) -> frozenset[str]:
    """Names PostgREST serves (tables, views, rpc/functions in public and admin)."""
    cur.execute(
        "select c.relname from pg_catalog.pg_class c "
        "join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('public', 'admin') and c.relkind in ('r', 'v', 'm', 'p') "
        "union select 'rpc/' || p.proname from pg_catalog.pg_proc p "
        "join pg_catalog.pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname in ('public', 'admin')"
    )
    return frozenset(name for (name,) in cur.fetchall())


def ship_access_log(conn: psycopg.Connection[Any], path: Path) -> Shipment:
    """Read what is new in the access log into the rollups, once. Returns what was shipped."""
    key = str(path)
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "insert into private.log_cursors (path) values (%s) on conflict do nothing", (key,)
        )
        cur.execute(
            "select inode, byte_offset from private.log_cursors where path = %s for update",
            (key,),
        )
        inode, offset = cur.fetchone() or (None, 0)
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            return Shipment(byte_offset=offset)
        with handle:
            stat = os.fstat(handle.fileno())
            same_file = inode == stat.st_ino and stat.st_size >= offset
            if not same_file:
                offset = 0  # rotated or truncated: the new file from its start
            handle.seek(offset)
            chunk = handle.read(READ_BYTES)
        end = chunk.rfind(b"\n") + 1  # whole lines only; a partial one waits for the next run
        if end == 0 and same_file:
            return Shipment(byte_offset=offset)  # nothing new: no lookups, no cursor write
        cur.execute("select private.latency_bounds_ms()")
        (bounds,) = cur.fetchone() or ([],)
        shipment = aggregate(chunk[:end].splitlines(), list(bounds), exposed_relations(cur))
        shipment.byte_offset = offset + end
        if shipment.buckets:
            cur.execute("select private.record_http_stats(%s)", (Jsonb(shipment.as_rows()),))
        cur.execute(
            "update private.log_cursors set inode = %s, byte_offset = %s, "
            "lines = lines + %s, updated_at = now() where path = %s",
            (stat.st_ino, shipment.byte_offset, shipment.lines, key),
        )
    return shipment


# --- Prometheus ----------------------------------------------------------------------------

FAMILIES: dict[str, tuple[str, str]] = {
    "voxflow_http_requests_total": ("counter", "Requests through the gateway, by route."),
    "voxflow_http_client_errors_total": ("counter", "4xx responses, by route."),
    "voxflow_http_server_errors_total": ("counter", "5xx responses, by route."),
    "voxflow_http_duration_seconds": ("histogram", "Gateway response time, by route."),
    "voxflow_provider_requests_total": ("counter", "Metered provider calls, by provider/kind."),
    "voxflow_provider_server_errors_total": ("counter", "Failed provider calls."),
    "voxflow_provider_duration_seconds": ("histogram", "Provider call latency."),
    "voxflow_users": ("gauge", "Accounts, by status."),
    "voxflow_agents": ("gauge", "Agents, by status."),
    "voxflow_outbox_backlog": ("gauge", "Mails waiting to be sent."),
    "voxflow_alerts": ("gauge", "Anomaly alerts not yet resolved, by status."),
    "voxflow_usage_rollup_backlog": ("gauge", "Usage events not yet folded into analytics."),
    "voxflow_analytics_age_seconds": ("gauge", "Seconds since the analytics were last folded."),
}


def _family(metric: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if metric.endswith(suffix) and metric[: -len(suffix)] in FAMILIES:
            return metric[: -len(suffix)]
    return metric


def _labels(labels: dict[str, Any]) -> str:
    if not labels:
        return ""
    escaped = (
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + ",".join(escaped) + "}"


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def render_metrics(rows: Iterable[dict[str, Any]]) -> str:
    """Prometheus text exposition (format 0.0.4) of private.metrics_snapshot() rows."""
    by_family: dict[str, list[str]] = {}
    for row in rows:
        family = _family(row["metric"])
        by_family.setdefault(family, []).append(
            f"{row['metric']}{_labels(row['labels'])} {_number(row['value'])}"
        )
    out: list[str] = []
    for family, (kind, text) in FAMILIES.items():
        out += [f"# HELP {family} {text}", f"# TYPE {family} {kind}", *by_family.get(family, [])]
    return "\n".join(out) + "\n"
