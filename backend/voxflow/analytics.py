"""The admin surface's periodic jobs, run by the worker on every wake-up: ship the gateway's
access log into the health rollups, then `private.run_analytics_jobs()`, which folds metered
usage into the platform rollups, detects anomalies about once a minute and prunes hourly
(each job claimed in the database, so any number of workers — and pg_cron — share them)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from voxflow import health
from voxflow.config import Settings

log = logging.getLogger("voxflow.analytics")
MAX_SHIPMENTS = 8


def tick(conn: psycopg.Connection[Any], settings: Settings) -> None:
    """One round of the periodic jobs; a failure is logged and retried on the next round."""
    try:
        for _ in range(MAX_SHIPMENTS):  # a backlog is shipped a few reads per round
            if not health.ship_access_log(conn, health.access_log_path(settings)).lines:
                break
    except (psycopg.Error, OSError) as exc:
        log.error("access log shipping failed", extra={"error_type": type(exc).__name__})
    try:
        with conn.transaction():
            conn.execute("select private.run_analytics_jobs()")
    except psycopg.Error as exc:
        log.error("analytics jobs failed", extra={"error_type": type(exc).__name__})
