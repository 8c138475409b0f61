"""DELETE /functions/v1/account: a user removes their account and everything in it."""

from __future__ import annotations

from flask import Blueprint, Response
from flask.typing import ResponseReturnValue

from voxflow import accounts
from voxflow.blueprints.auth import body
from voxflow.db import transaction
from voxflow.errors import ApiError
from voxflow.guard import caller, require_user

bp = Blueprint("account", __name__, url_prefix="/functions/v1/account")


@bp.delete("")
@require_user
def delete_account() -> ResponseReturnValue:
    """Re-authenticated with the password; one transaction removes the user, their agents,
    calls, keys, usage, notifications and subscriptions."""
    password = body().get("password")
    if not isinstance(password, str) or not password:
        raise ApiError(400, "validation_failed", "Confirm with your password to delete the account")
    with transaction() as conn:
        user = accounts.find_by_id(conn, caller().user_id)
        if not accounts.password_matches(user, password):
            raise ApiError(400, "invalid_credentials", "That password is not right")
        conn.execute("select private.delete_account(%s, false)", (caller().user_id,))
    return Response(status=204)
