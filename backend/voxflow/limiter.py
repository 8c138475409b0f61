"""Per-user request rates (per plan) and per-IP rates for anonymous traffic, on the sidecar's
routes and, through nginx's auth_request, on PostgREST's. Counts live in Redis when
VOXFLOW_REDIS_URL names one, else in Postgres, so every replica sees the same numbers."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from threading import Lock
from typing import Any

import jwt
import redis
from flask import Blueprint, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from voxflow.config import Settings
from voxflow.db import transaction
from voxflow.errors import ApiError
from voxflow.ratelimit import client_ip

log = logging.getLogger("voxflow.limiter")
WINDOW_SECONDS = 60
ADMIN = "(admin)"  # not a plan name: admins get the highest plan's rate
ANON_PER_MINUTE = int(os.environ.get("VOXFLOW_ANON_REQUESTS_PER_MINUTE", "300"))
PLAN_CACHE_SECONDS = float(os.environ.get("VOXFLOW_PLAN_CACHE_SECONDS", "30"))
# Routes that carry their own protection (signatures, login throttles) or none is wanted.
EXEMPT_PREFIXES = ("/functions/v1/twilio/", "/auth/v1/", "/internal/")


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

    def _count(self, bucket: str) -> int:
        window = int(time.time()) // WINDOW_SECONDS
        if self.redis is not None:
            key = f"{self.namespace}:{bucket}:{window}"
            try:
                pipe = self.redis.pipeline()
                pipe.incr(key)
                pipe.expire(key, WINDOW_SECONDS * 2)
                return int(pipe.execute()[0])
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


def subject() -> tuple[str, str | None]:
    """('user:<id>', plan) for a valid user token, else ('ip:<address>', None). Tokens are
    only read for the subject here; PostgREST and the sidecar still verify them fully."""
    settings: Settings = current_app.config["VOXFLOW"]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, settings.secrets.jwt_secret, algorithms=["HS256"],
                options={"verify_aud": False},
            )  # fmt: skip
        except jwt.PyJWTError:
            claims = {}
        if claims.get("role") == "service_role":
            return "service", None
        if claims.get("role") == "authenticated" and claims.get("sub"):
            metadata = claims.get("app_metadata") or {}
            # Admins run the platform's dashboards: they get the most generous plan's rate.
            plan = ADMIN if metadata.get("role") == "admin" else metadata.get("plan", "free")
            return f"user:{claims['sub']}", str(plan)
    return f"ip:{client_ip()}", None


def verdict() -> Verdict | None:
    limiter: RateLimiter = current_app.extensions["voxflow.limiter"]
    who, plan = subject()
    if who == "service":
        return None  # the service-role key is the platform's own
    limit = limiter.per_minute(plan) if plan is not None else ANON_PER_MINUTE
    return limiter.check(who, limit)


bp = Blueprint("limiter", __name__)


@bp.get("/internal/ratelimit")
def gate() -> ResponseReturnValue:
    """nginx's auth_request for /rest/v1: 204 to let the request through, 403 (which nginx
    turns into 429) when over the limit. Never exposed through the gateway."""
    found = verdict()
    if found is None:
        return Response(status=204)
    return Response(status=204 if found.allowed else 403, headers=found.headers())


def enforce() -> None:
    """before_request for the sidecar's own routes."""
    if not request.path.startswith("/functions/v1/") or request.path.startswith(EXEMPT_PREFIXES):
        return
    found = verdict()
    if found is None:
        return
    g.rate_limit_headers = found.headers()
    if not found.allowed:
        raise ApiError(
            429, "rate_limited", f"Too many requests: your plan allows {found.limit} a minute",
            hint=f"Retry after {found.retry_after} seconds, or upgrade your plan.",
            headers=found.headers(),
        )  # fmt: skip
