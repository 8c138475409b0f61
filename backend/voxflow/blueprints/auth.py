"""GoTrue-compatible auth endpoints under /auth/v1."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from voxflow.db import transaction

bp = Blueprint("auth", __name__, url_prefix="/auth/v1")


@bp.get("/health")
def health() -> ResponseReturnValue:
    with transaction() as conn:
        conn.execute("select 1")
    return jsonify(
        name="GoTrue", version="voxflow-0.1.0", description="VoxFlow's GoTrue-compatible auth"
    )
