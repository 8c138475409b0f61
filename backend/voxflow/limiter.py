"""Per-user request rates (per plan) and per-IP rates for anonymous traffic, on the sidecar's
routes and, through nginx's auth_request, on PostgREST's. Counts live in Redis when
VOXFLOW_REDIS_URL names one, else in Postgres, so every replica sees the same numbers."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from threading import Lock
from typing import Any

import jwt
import redis
from flask import Flask, current_app, g, request

from voxflow import tokens
from voxflow.config import Settings
from voxflow.db import transaction
from voxflow.errors import ApiError, log_unexpected
from voxflow.ratelimit import client_ip

log = logging.getLogger("voxflow.limiter")
WINDOW_SECONDS = 60
ADMIN = "(admin)"  # not a plan name: admins get the highest plan's rate
ANON_PER_MINUTE = int(os.environ.get("VOXFLOW_ANON_REQUESTS_PER_MINUTE", "300"))
# How long a sidecar process trusts what it read of a user's plan (and the plans' rates): a plan
# change reaches the limiter within this, whatever the user's token says.
PLAN_CACHE_SECONDS = float(os.environ.get("VOXFLOW_PLAN_CACHE_SECONDS", "5"))
USER_PLAN_CACHE_SIZE = 10_000
# Sidecar routes that carry their own protection (Twilio's signatures).
EXEMPT_PREFIXES = ("/functions/v1/twilio/",)
SUBJECT_CACHE_SIZE = 10_000
JWT_LEEWAY_SECONDS = 30  # PostgREST's allowance for clock skew: it serves a token this long
INCR_WITH_EXPIRY = """
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return hits
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        found = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            found["Retry-After"] = str(self.retry_after)
        return found


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.namespace = (
            "voxflow:" + hashlib.sha256(str(settings.state_dir).encode()).hexdigest()[:8]
        )
        self.redis = (
            redis.Redis.from_url(settings.redis_url, socket_timeout=0.5)
            if settings.redis_url
            else None
        )
        # One round trip, atomic: a crash between INCR and EXPIRE cannot leave a key forever.
        self._incr = self.redis.register_script(INCR_WITH_EXPIRY) if self.redis else None
        self.jwt_secret = settings.secrets.jwt_secret
        # token -> (subject, expiry): the same token is checked on every request of its
        # session, and verifying it costs more than counting. Bounded; a pure memo, not state.
        self._subjects: dict[str, tuple[str, float]] = {}
        # user id -> (plan or ADMIN, read at): the database's current plan, not the token's
        # claim, so an upgrade or a downgrade applies to the tokens already issued.
        self._user_plans: dict[str, tuple[str, float]] = {}
        self._plans: dict[str, int] = {}
        self._plans_loaded = 0.0
        self._lock = Lock()

    def per_minute(self, plan: str) -> int:
        """The plan's rate; plans are configuration, cached briefly per process."""
        with self._lock:
            if time.monotonic() - self._plans_loaded > PLAN_CACHE_SECONDS:
                with transaction() as conn:
                    rows = conn.execute("select id, requests_per_minute from public.plans")
                    self._plans = {r["id"]: r["requests_per_minute"] for r in rows.fetchall()}
                self._plans_loaded = time.monotonic()
            if plan == ADMIN:
                return max(self._plans.values(), default=60)
            return self._plans.get(plan, self._plans.get("free", 60))

    def plan_of(self, user_id: str) -> str:
        """The user's plan as the database has it now (ADMIN for an active admin)."""
        known = self._user_plans.get(user_id)
        if known is not None and time.monotonic() - known[1] <= PLAN_CACHE_SECONDS:
            return known[0]
        with transaction() as conn:
            row = conn.execute(
                "select role, plan_id from public.profiles where id = %s", (user_id,)
            ).fetchone()
        # Admins run the platform's dashboards: they get the most generous plan's rate.
        plan = "free" if row is None else ADMIN if row["role"] == "admin" else row["plan_id"]
        with self._lock:
            if len(self._user_plans) >= USER_PLAN_CACHE_SIZE:
                self._user_plans.clear()
            self._user_plans[user_id] = (plan, time.monotonic())
        return plan

    def _count(self, bucket: str) -> int:
        window = int(time.time()) // WINDOW_SECONDS
        if self._incr is not None:
            key = f"{self.namespace}:{bucket}:{window}"
            try:
                return int(self._incr(keys=[key], args=[WINDOW_SECONDS * 2]))
            except redis.RedisError as exc:
                log.error("redis unavailable; counting in Postgres",
                          extra={"error_type": type(exc).__name__})  # fmt: skip
        with transaction() as conn:
            # A counter may lose its last increments in a crash; it need not wait for the disk.
            conn.execute("set local synchronous_commit = off")
            row = conn.execute(
                "select private.rate_limit_count(%s, %s) as hits", (bucket, WINDOW_SECONDS)
            ).fetchone()
        return int(row["hits"]) if row else 0

    def check(self, bucket: str, limit: int) -> Verdict:
        hits = self._count(bucket)
        retry = WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS
        return Verdict(hits <= limit, limit, max(limit - hits, 0), max(retry, 1))

    def subject(self, authorization: str, ip: str) -> str:
        """'user:<id>' for a valid user token, 'service' for the service key, else
        'ip:<address>'. Tokens are only read for the subject here; PostgREST and the sidecar
        still verify them fully."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return f"ip:{ip}"
        known = self._subjects.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        try:
            claims = tokens.verified_claims(self.jwt_secret, token, JWT_LEEWAY_SECONDS)
        except jwt.PyJWTError:
            return f"ip:{ip}"
        if claims.get("role") == "service_role":
            found = "service"
        elif claims["role"] in tokens.USER_ROLES:
            found = f"user:{claims['sub']}"
        else:
            return f"ip:{ip}"
        if len(self._subjects) >= SUBJECT_CACHE_SIZE:
            self._subjects.clear()
        self._subjects[token] = (found, float(claims["exp"]) + JWT_LEEWAY_SECONDS)
        return found

    def verdict(self, authorization: str, ip: str) -> Verdict | None:
        who = self.subject(authorization, ip)
        if who == "service":
            return None  # the service-role key is the platform's own
        if who.startswith("user:"):
            limit = self.per_minute(self.plan_of(who.removeprefix("user:")))
        else:
            limit = ANON_PER_MINUTE
        return self.check(who, limit)


GATE_PATH = "/internal/ratelimit"


class AuthRequestGate:
    """nginx's auth_request for /rest/v1, in front of Flask: 204 lets the request through, 403
    (which nginx turns into 429) stops it. It runs once for every PostgREST request, so it
    skips Flask's routing, hooks and access log (nginx logs the request itself); this halves
    the sidecar's CPU per tenant read. Never exposed through the gateway."""

    def __init__(self, app: Flask) -> None:
        self.app, self.inner = app, app.wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != GATE_PATH:
            return self.inner(environ, start_response)
        try:
            with self.app.app_context():  # the plan cache's reload uses the app's pool
                limiter: RateLimiter = self.app.extensions["voxflow.limiter"]
                found = limiter.verdict(environ.get("HTTP_AUTHORIZATION", ""), client_ip(environ))
        except Exception as err:
            log_unexpected(err)  # nginx answers 500 for the request
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return [b""]
        if found is None:
            start_response("204 No Content", [])
        else:
            status = "204 No Content" if found.allowed else "403 Forbidden"
            start_response(status, list(found.headers().items()))
        return [b""]


def enforce() -> None:
    """before_request for the sidecar's own routes."""
    if not request.path.startswith("/functions/v1/") or request.path.startswith(EXEMPT_PREFIXES):
        return
    limiter: RateLimiter = current_app.extensions["voxflow.limiter"]
    found = limiter.verdict(request.headers.get("Authorization", ""), client_ip())
    if found is None:
        return
    g.rate_limit_headers = found.headers()
    if not found.allowed:
        raise ApiError(
            429, "rate_limited", f"Too many requests: your plan allows {found.limit} a minute",
            hint=f"Retry after {found.retry_after} seconds, or upgrade your plan.",
            headers=found.headers(),
        )  # fmt: skip
