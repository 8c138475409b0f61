"""The background worker: sends queued mail and prunes expired counters and call audio.
Several workers may run at once (rows are claimed with SKIP LOCKED); it wakes on NOTIFY and
polls as a fallback."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import psycopg
from psycopg.rows import dict_row

from voxflow import analytics
from voxflow.app import configure_logging
from voxflow.blueprints.twilio import AUDIO_MINUTES
from voxflow.config import load_settings
from voxflow.mail import SmtpSender, drain

log = logging.getLogger("voxflow.worker")
POLL_SECONDS = 5.0


def prune(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        # Throttle buckets keep two windows of their rule; the limiter's per-user and per-IP
        # buckets (one-minute windows, no rule row) two minutes.
        conn.execute(
            "delete from private.rate_limit_hits h where h.window_start < now() - make_interval("
            "secs => 2 * coalesce((select r.window_seconds from private.rate_limit_rules r "
            "where h.bucket like r.rule || ':%%'), 60))"
        )
        # Agent speech for phone calls is served for a few minutes only; then it is dead weight.
        conn.execute(
            "delete from private.call_audio where created_at < now() - make_interval(mins => %s)",
            (AUDIO_MINUTES,),
        )


def record_site_url(conn: psycopg.Connection[Any], url: str) -> None:
    """Mail that SQL writes (alert mail) links to the console: tell the database where it is."""
    try:
        conn.execute("select private.record_site_url(%s)", (url,))
    except psycopg.errors.UndefinedFunction:
        # A database rolled back below the alert-delivery migration: its mail has no links.
        log.warning("the database cannot record the site URL; run `voxflow db push`")


def run(stop: threading.Event) -> None:
    settings = load_settings()
    sender = SmtpSender(settings.smtp_url, settings.mail_from)
    url = settings.sidecar_db_url
    with (
        psycopg.connect(url, autocommit=True) as listener,
        psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn,
    ):
        listener.execute("listen voxflow_outbox")
        record_site_url(conn, settings.site_url)
        log.info("worker started")
        while not stop.is_set():
            try:
                while drain(conn, sender):
                    pass
                prune(conn)
                analytics.tick(conn, settings)  # access log, rollups, anomalies (admin)
            except psycopg.OperationalError as exc:
                log.error("database unavailable", extra={"error_type": type(exc).__name__})
            # Wake on the next NOTIFY from an enqueue, or poll for retries that came due.
            for _ in listener.notifies(timeout=POLL_SECONDS, stop_after=1):
                pass


def main() -> None:
    configure_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)


if __name__ == "__main__":
    main()
