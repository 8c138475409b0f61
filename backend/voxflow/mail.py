"""Outgoing mail: enqueued in private.outbox inside the caller's transaction, sent by the
worker, so an SMTP outage delays mail instead of losing it or failing the request."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlparse

from voxflow.db import Conn


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    kind: str


def enqueue(conn: Conn, user_id: object, to: str, mail: Mail) -> None:
    conn.execute(
        "insert into private.outbox (user_id, to_email, subject, body_text, kind) "
        "values (%s, %s, %s, %s, %s)",
        (user_id, to, mail.subject, mail.body, mail.kind),
    )
    conn.execute("select pg_notify('voxflow_outbox', '')")


def verification_mail(link: str) -> Mail:
    return Mail(
        "Confirm your VoxFlow account",
        "Welcome to VoxFlow!\n\n"
        "Confirm your email address to activate your account:\n\n"
        f"{link}\n\n"
        "The link works once and expires in 24 hours. If you did not sign up, ignore this mail.\n",
        "signup",
    )


def recovery_mail(link: str) -> Mail:
    return Mail(
        "Reset your VoxFlow password",
        "Someone (hopefully you) asked to reset the password of this VoxFlow account.\n\n"
        f"Open this link to choose a new password:\n\n{link}\n\n"
        "The link works once and expires in 1 hour. If it was not you, ignore this mail.\n",
        "recovery",
    )


class SmtpSender:
    """Sends through the server in SMTP_URL: smtp://[user:pass@]host:port (STARTTLS when the
    server offers it) or smtps://... (implicit TLS)."""

    def __init__(self, smtp_url: str, mail_from: str, timeout: float = 10.0) -> None:
        parsed = urlparse(smtp_url)
        if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587")
        self.parsed = parsed
        self.mail_from = mail_from
        self.timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="voxflow.local")
        message.set_content(body, cte="8bit")  # links stay readable, no quoted-printable
        p = self.parsed
        port = p.port or (465 if p.scheme == "smtps" else 25)
        smtp: smtplib.SMTP
        if p.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(p.hostname or "", port, timeout=self.timeout)
        else:
            smtp = smtplib.SMTP(p.hostname or "", port, timeout=self.timeout)
        with smtp:
            if p.scheme == "smtp" and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if p.username:
                smtp.login(unquote(p.username), unquote(p.password or ""))
            smtp.send_message(message)


def drain(conn: Conn, sender: SmtpSender, batch: int = 20) -> int:
    """Send up to `batch` due messages; failures are retried with exponential backoff.
    Safe with several workers: rows are claimed with SKIP LOCKED."""
    sent = 0
    with conn.transaction():
        rows = conn.execute(
            "select id, to_email, subject, body_text, attempts from private.outbox "
            "where sent_at is null and next_attempt_at <= now() "
            "order by next_attempt_at limit %s for update skip locked",
            (batch,),
        ).fetchall()
        for row in rows:
            try:
                sender.send(row["to_email"], row["subject"], row["body_text"] or "")
            except (OSError, smtplib.SMTPException) as exc:
                conn.execute(
                    "update private.outbox set attempts = attempts + 1, "
                    "next_attempt_at = now() + least(interval '1 hour', "
                    "interval '5 seconds' * power(2, attempts)), last_error = %s where id = %s",
                    (type(exc).__name__ + ": " + str(exc)[:200], row["id"]),
                )
                continue
            # The body may carry a one-time link: keep it no longer than needed.
            conn.execute(
                "update private.outbox set sent_at = now(), attempts = attempts + 1, "
                "body_text = null, last_error = null where id = %s",
                (row["id"],),
            )
            sent += 1
    return sent
