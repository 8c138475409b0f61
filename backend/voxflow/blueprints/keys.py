"""Users' own provider keys: PUT/DELETE /functions/v1/api-keys/{provider}. Listing is the
PostgREST view public.api_keys."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from voxflow import keys
from voxflow.blueprints.auth import body
from voxflow.config import Settings
from voxflow.db import transaction
from voxflow.errors import ApiError
from voxflow.guard import caller, require_user
from voxflow.providers import ProviderError, deepgram, groq, twilio

bp = Blueprint("keys", __name__, url_prefix="/functions/v1/api-keys")


def check_with_provider(settings: Settings, provider: str, value: dict[str, str]) -> None:
    """?verify=true: ask the provider whether it accepts the key before storing it."""
    p = settings.providers
    try:
        if provider == "groq":
            ok = groq.verify_key(value["api_key"], p.groq_base_url, p.timeout_seconds)
        elif provider == "deepgram":
            ok = deepgram.verify_key(value["api_key"], p.deepgram_base_url, p.timeout_seconds)
        else:
            ok = twilio.verify_key(
                value["account_sid"], value["auth_token"], p.twilio_base_url, p.timeout_seconds
            )
    except ProviderError as exc:
        raise ApiError(
            504 if exc.kind == "timeout" else 502,
            "provider_unavailable",
            f"Could not check the key with {keys.DISPLAY[provider]}: {exc.message}",
            hint="Try again, or save without ?verify=true.",
        ) from exc
    if not ok:
        raise ApiError(
            422,
            "provider_key_rejected",
            f"{keys.DISPLAY[provider]} rejected these credentials; nothing was saved",
            details=provider,
            hint="Copy the key again from the provider's console.",
        )


@bp.put("/<provider>")
@require_user
def put_key(provider: str) -> ResponseReturnValue:
    settings: Settings = current_app.config["VOXFLOW"]
    value = keys.validate(provider, body())
    verified = request.args.get("verify", "").lower() in ("1", "true", "yes")
    if verified:
        check_with_provider(settings, provider, value)
    with transaction() as conn:
        saved = keys.save(conn, settings, caller().user_id, provider, value)
    return jsonify({**saved, "verified": verified})


@bp.delete("/<provider>")
@require_user
def delete_key(provider: str) -> ResponseReturnValue:
    with transaction() as conn:
        keys.delete(conn, caller().user_id, provider)
    return Response(status=204)
