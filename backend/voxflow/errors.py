"""One error type for the domain and the JSON handlers that render it.

Under /auth/v1 errors take GoTrue's shape ({code, error_code, msg}) so the official supabase
clients understand them; everywhere else PostgREST's ({code, message, details, hint}). Nothing
unexpected reaches a client or a log as a stack trace: a 500 names the request id only.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass, field
from typing import Any

import psycopg
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("voxflow")


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    details: str | None = None
    hint: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def from_database(err: psycopg.Error) -> ApiError | None:
    """The client-facing error a database exception stands for, if it is one a person can
    cause. `private.raise_error` raises sqlstate PGRST with the status and body as JSON."""
    if err.sqlstate == "PGRST":
        try:
            body = json.loads(err.diag.message_primary or "{}")
            status = int(json.loads(err.diag.message_detail or "{}").get("status", 400))
        except (ValueError, TypeError):
            return None
        return ApiError(
            status, body.get("code", "error"), body.get("message", ""),
            body.get("details"), body.get("hint"),
        )  # fmt: skip
    if err.sqlstate == "42501":
        return ApiError(403, "forbidden", "You do not have permission to do that")
    return None


def _gotrue_shape(err: ApiError) -> dict[str, Any]:
    return {"code": err.status, "error_code": err.code, "msg": err.message, **err.extra}


def _postgrest_shape(err: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": err.code,
        "message": err.message,
        "details": err.details,
        "hint": err.hint,
        **err.extra,
    }
    return body


def render(err: ApiError) -> Response:
    shape = _gotrue_shape if request.path.startswith("/auth/v1") else _postgrest_shape
    body = shape(err)
    body["request_id"] = getattr(g, "request_id", None)
    response = jsonify(body)
    response.status_code = err.status
    for name, value in err.headers.items():
        response.headers[name] = value
    return response


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def log_unexpected(err: BaseException) -> None:
    """Log where it happened, never the traceback text (it can carry SQL or secrets)."""
    ours = [f for f in traceback.extract_tb(err.__traceback__) if "/voxflow/" in f.filename]
    frame = ours[-1] if ours else None
    where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "?"
    log.error("unhandled error", extra={"error_type": type(err).__name__, "where": where})


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _domain(err: ApiError) -> Response:
        return render(err)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        message = {
            404: "No such route; see the README for the API paths",
            405: f"{request.method} is not allowed on this route",
        }.get(status, err.description or "Request failed")
        return render(ApiError(status, _HTTP_CODES.get(status, "http_error"), message))

    @app.errorhandler(psycopg.Error)
    def _database(err: psycopg.Error) -> Response:
        known = from_database(err)
        return render(known) if known else _unexpected(err)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log_unexpected(err)
        return render(
            ApiError(
                500,
                "internal_error",
                "Something went wrong on our side; it has been logged. Quote the request id "
                "if you contact support.",
            )
        )
