"""The sidecar: what SQL cannot do. `create_app` builds it; gunicorn serves it."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from voxflow import errors
from voxflow.config import Settings, load_settings
from voxflow.db import make_pool
from voxflow.limiter import AuthRequestGate, RateLimiter, enforce


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "error_type", "where")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        return json.dumps(line)


def configure_logging() -> None:
    logger = logging.getLogger("voxflow")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLogFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging()
    app = Flask("voxflow")
    app.config["VOXFLOW"] = settings
    app.extensions["voxflow.pool"] = make_pool(settings.sidecar_db_url)
    app.extensions["voxflow.limiter"] = RateLimiter(settings)

    @app.before_request
    def _start() -> None:
        # nginx sets X-Request-Id; direct calls get a fresh one.
        g.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        g.started = time.perf_counter()

    app.before_request(enforce)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.request_id
        for name, value in g.get("rate_limit_headers", {}).items():
            response.headers.setdefault(name, value)
        logging.getLogger("voxflow.access").info(
            "request",
            extra={
                "request_id": g.request_id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
            },
        )
        return response

    errors.register(app)

    from voxflow.blueprints import account, auth, keys, runtime, twilio

    app.register_blueprint(auth.bp)
    app.register_blueprint(keys.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(runtime.bp)
    app.register_blueprint(twilio.bp)

    from voxflow.blueprints import admin

    app.register_blueprint(admin.bp)
    app.wsgi_app = AuthRequestGate(app)  # type: ignore[method-assign]
    return app
