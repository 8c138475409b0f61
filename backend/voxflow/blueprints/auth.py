"""GoTrue-compatible auth endpoints under /auth/v1: the subset the official supabase clients
use for email sign-up, sign-in, refresh, sign-out, recovery and the current user."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from psycopg.types.json import Jsonb

from voxflow import accounts, mail, ratelimit
from voxflow.config import Settings
from voxflow.db import Conn, transaction
from voxflow.errors import ApiError
from voxflow.guard import audit, caller, require_admin, require_user

bp = Blueprint("auth", __name__, url_prefix="/auth/v1")


def settings() -> Settings:
    found: Settings = current_app.config["VOXFLOW"]
    return found


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "validation_failed", "Send a JSON object as the request body")
    return data


def allowed_redirect(target: str | None) -> str | None:
    """redirect_to, if it starts with an allow-listed URL; otherwise None."""
    if not target:
        return None
    for allowed in settings().redirect_allow_list:
        if target == allowed or target.startswith(allowed.rstrip("/") + "/"):
            return target
    return None


def link(token: str, token_type: str, redirect_to: str | None) -> str:
    params = {"token": token, "type": token_type}
    if redirect_to:
        params["redirect_to"] = redirect_to
    return f"{settings().api_url}/auth/v1/verify?{urlencode(params)}"


def send_link(conn: Conn, user: dict[str, Any], token_type: str, redirect_to: str | None) -> None:
    token = accounts.new_link_token(conn, user["id"], token_type)
    url = link(token, token_type, redirect_to)
    message = mail.verification_mail(url) if token_type == "signup" else mail.recovery_mail(url)
    mail.enqueue(conn, user["id"], user["email"], message)


@bp.get("/health")
def health() -> ResponseReturnValue:
    with transaction() as conn:
        conn.execute("select 1")
    return jsonify(
        name="GoTrue", version="voxflow-0.1.0", description="VoxFlow's GoTrue-compatible auth"
    )


@bp.get("/settings")
def auth_settings() -> ResponseReturnValue:
    return jsonify(
        external={"email": True, "phone": False},
        disable_signup=False,
        mailer_autoconfirm=False,
        phone_autoconfirm=False,
        sms_provider="",
        saml_enabled=False,
    )


@bp.post("/signup")
def signup() -> ResponseReturnValue:
    data = body()
    email = accounts.normalize_email(data.get("email"))
    password = accounts.check_password_strength(data.get("password"), email)
    raw_metadata = data.get("data")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    organization = metadata.get("organization_name")
    if not isinstance(organization, str) or not organization.strip():
        raise ApiError(
            400,
            "validation_failed",
            "Enter your organization's name (sign-up data: organization_name)",
        )
    if len(organization.strip()) > 200:
        raise ApiError(400, "validation_failed", "Organization name must be at most 200 characters")
    metadata = {**metadata, "organization_name": organization.strip()}
    redirect_to = allowed_redirect(data.get("redirect_to") or request.args.get("redirect_to"))
    with transaction() as conn:
        ratelimit.hit(conn, "signup_per_ip", ratelimit.client_ip(), "sign-ups from your network")
    with transaction() as conn:
        user = accounts.create_user(conn, email, password, metadata)
        send_link(conn, user, "signup", redirect_to)
        audit(conn, "user.signed_up", "user", user["id"], actor_id=user["id"])
        user = accounts.find_by_id(conn, user["id"]) or user
    return jsonify(accounts.user_json(user, "user"))


@bp.post("/resend")
def resend() -> ResponseReturnValue:
    data = body()
    kind = data.get("type", "signup")
    if kind != "signup":
        raise ApiError(400, "validation_failed", "Only type 'signup' can be resent")
    email = accounts.normalize_email(data.get("email"))
    # supabase-js sends emailRedirectTo as the redirect_to query parameter, as GoTrue reads it.
    raw_options = data.get("options")
    options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
    redirect_to = allowed_redirect(
        request.args.get("redirect_to")
        or data.get("redirect_to")
        or options.get("email_redirect_to")
    )
    with transaction() as conn:
        ratelimit.hit(conn, "resend_per_ip", ratelimit.client_ip(), "emails requested")
    with transaction() as conn:
        user = accounts.find_by_email(conn, email, lock=True)
        # The same answer whether or not the account exists, so emails cannot be probed.
        if user and user["email_confirmed_at"] is None:
            send_link(conn, user, "signup", redirect_to)
    return jsonify({})


@bp.post("/recover")
def recover() -> ResponseReturnValue:
    data = body()
    email = accounts.normalize_email(data.get("email"))
    redirect_to = allowed_redirect(data.get("redirect_to") or request.args.get("redirect_to"))
    with transaction() as conn:
        ratelimit.hit(conn, "resend_per_ip", ratelimit.client_ip(), "emails requested")
    with transaction() as conn:
        user = accounts.find_by_email(conn, email, lock=True)
        if user:
            send_link(conn, user, "recovery", redirect_to)
    return jsonify({})


def _confirmation_page(title: str, text: str, status: int = 200) -> Response:
    page = (
        "<!doctype html><meta charset=utf-8><title>VoxFlow</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    )
    return Response(page, status=status, mimetype="text/html")


def _redeem(token: str, token_type: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Spend a link; signup confirms the email, recovery opens a session."""
    if token_type not in ("signup", "email", "recovery"):
        raise ApiError(400, "validation_failed", "type must be signup or recovery")
    kind = "recovery" if token_type == "recovery" else "signup"
    with transaction() as conn:
        user = accounts.redeem_link_token(conn, token, kind)
        accounts.confirm_email(conn, user["id"])
        audit(conn, f"user.{'recovery_link_used' if kind == 'recovery' else 'verified'}",
              "user", user["id"], actor_id=user["id"])  # fmt: skip
        user = accounts.find_by_id(conn, user["id"]) or user
        profile = accounts.ensure_may_sign_in(conn, user)
        session = accounts.start_session(
            conn, settings(), user, profile,
            request.headers.get("User-Agent", ""), ratelimit.client_ip(),
        )  # fmt: skip
    return user, session


@bp.get("/verify")
def verify_link() -> ResponseReturnValue:
    """The link in the email. Confirms, then redirects (allow-listed target) or shows a page."""
    token = request.args.get("token", "")
    token_type = request.args.get("type", "signup")
    target = allowed_redirect(request.args.get("redirect_to"))
    try:
        _user, session = _redeem(token, token_type)
    except ApiError as err:
        if target:
            query = urlencode(
                {"error": "access_denied", "error_code": err.code, "error_description": err.message}
            )
            return redirect(f"{target}#{query}", code=303)
        return _confirmation_page("This link cannot be used", err.message, err.status)
    if target and session:
        fragment = urlencode(
            {
                "access_token": session["access_token"],
                "refresh_token": session["refresh_token"],
                "expires_in": session["expires_in"],
                "expires_at": session["expires_at"],
                "token_type": "bearer",
                "type": token_type,
            }
        )
        return redirect(f"{target}#{fragment}", code=303)
    if token_type == "recovery":
        return _confirmation_page(
            "Link accepted", "Return to the app to choose a new password.", 200
        )
    return _confirmation_page(
        "Email confirmed", "Your VoxFlow account is active. You can sign in now."
    )


@bp.post("/verify")
def verify_otp() -> ResponseReturnValue:
    """What supabase clients call with a token hash from a link: returns a session."""
    data = body()
    token = data.get("token_hash") or data.get("token")
    if not isinstance(token, str) or not token:
        raise ApiError(400, "validation_failed", "Send token_hash (from the link) and type")
    _user, session = _redeem(token, str(data.get("type", "signup")))
    return jsonify(session)


@bp.post("/token")
def token() -> ResponseReturnValue:
    grant = request.args.get("grant_type")
    if grant == "password":
        return jsonify(_password_grant(body()))
    if grant == "refresh_token":
        refresh = body().get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            raise ApiError(400, "validation_failed", "Send the refresh_token to exchange")
        with transaction() as conn:
            outcome = accounts.refresh_session(conn, settings(), refresh)
        if isinstance(outcome, ApiError):
            raise outcome
        return jsonify(outcome)
    raise ApiError(400, "unsupported_grant_type", "grant_type must be password or refresh_token")


def _password_grant(data: dict[str, Any]) -> dict[str, Any]:
    raw_email, password = data.get("email"), data.get("password")
    if not isinstance(raw_email, str) or not isinstance(password, str) or not password:
        raise ApiError(400, "validation_failed", "Send email and password to sign in")
    email = raw_email.strip().lower()
    ip = ratelimit.client_ip()
    with transaction() as conn:
        wait = max(
            ratelimit.retry_after(conn, "login_failures_per_email", email),
            ratelimit.retry_after(conn, "login_failures_per_ip", ip),
        )
        if wait:
            raise ratelimit.too_many(wait, "failed sign-ins")
        user = accounts.find_by_email(conn, email)
        password_ok = accounts.password_matches(user, password)
        if not password_ok:  # counted and audited in this transaction, which commits
            conn.execute("select private.rate_limit_hit('login_failures_per_email', %s)", (email,))
            conn.execute("select private.rate_limit_hit('login_failures_per_ip', %s)", (ip,))
            audit(conn, "login.failed", "email", email, actor_id=user["id"] if user else None)
    if not password_ok or user is None:
        raise ApiError(400, "invalid_credentials", "Invalid login credentials")
    if user["email_confirmed_at"] is None:
        raise ApiError(
            400,
            "email_not_confirmed",
            "Email not confirmed — open the link we sent you, or ask for a new one "
            "(POST /auth/v1/resend)",
        )
    with transaction() as conn:
        profile = accounts.ensure_may_sign_in(conn, user)
        session = accounts.start_session(
            conn, settings(), user, profile,
            request.headers.get("User-Agent", ""), ip,
        )  # fmt: skip
        audit(conn, "login.succeeded", "user", user["id"], actor_id=user["id"])
    return session


@bp.get("/user")
@require_user
def get_user() -> ResponseReturnValue:
    with transaction() as conn:
        user = accounts.find_by_id(conn, caller().user_id)
        if user is None:
            raise ApiError(401, "user_not_found", "This account no longer exists")
        return jsonify(accounts.user_json(user, accounts.profile_of(conn, user["id"])["role"]))


@bp.put("/user")
@require_user
def update_user() -> ResponseReturnValue:
    data = body()
    if "email" in data or "phone" in data:
        raise ApiError(
            422, "email_change_not_supported", "Changing the email address is not supported yet"
        )
    user_id = caller().user_id
    with transaction() as conn:
        user = accounts.find_by_id(conn, user_id)
        if user is None:
            raise ApiError(401, "user_not_found", "This account no longer exists")
        if "password" in data:
            password = accounts.check_password_strength(data["password"], user["email"])
            if accounts.password_matches(user, password):
                raise ApiError(
                    422, "same_password", "The new password must differ from the current one"
                )
            conn.execute(
                "update auth.users set encrypted_password = %s, updated_at = now() where id = %s",
                (accounts.hash_password(password), user_id),
            )
            audit(conn, "user.password_changed", "user", user_id)
        if isinstance(data.get("data"), dict):
            conn.execute(
                "update auth.users set raw_user_meta_data = "
                "coalesce(raw_user_meta_data, '{}') || %s, updated_at = now() where id = %s",
                (Jsonb(data["data"]), user_id),
            )
        user = accounts.find_by_id(conn, user_id) or user
        return jsonify(accounts.user_json(user, accounts.profile_of(conn, user_id)["role"]))


@bp.post("/logout")
@require_user
def logout() -> ResponseReturnValue:
    scope = request.args.get("scope", "global")
    if scope not in ("global", "local", "others"):
        raise ApiError(400, "validation_failed", "scope must be global, local or others")
    with transaction() as conn:
        accounts.revoke_sessions(conn, caller().user_id, caller().session_id, scope)
        audit(conn, "user.signed_out", "user", caller().user_id, after={"scope": scope})
    return Response(status=204)


# --- Admin: GoTrue's /admin/users subset, for admins and the service-role key ---------------


@bp.get("/admin/users")
@require_admin
def admin_list_users() -> ResponseReturnValue:
    try:
        page = max(1, int(request.args.get("page", "1")))
        per_page = min(1000, max(1, int(request.args.get("per_page", "50"))))
    except ValueError as exc:
        raise ApiError(400, "validation_failed", "page and per_page must be numbers") from exc
    with transaction() as conn:
        rows = conn.execute(
            f"select {accounts.USER_COLUMNS}, (select p.role from public.profiles p "
            "where p.id = u.id) as profile_role from auth.users u "
            "order by u.created_at, u.id limit %s offset %s",
            (per_page, (page - 1) * per_page),
        ).fetchall()
        audit(conn, "admin.users_listed", None, None, after={"page": page})
    return jsonify(
        users=[accounts.user_json(r, r["profile_role"]) for r in rows], aud="authenticated"
    )


@bp.get("/admin/users/<uuid:user_id>")
@require_admin
def admin_get_user(user_id: Any) -> ResponseReturnValue:
    with transaction() as conn:
        user = accounts.find_by_id(conn, user_id)
        if user is None:
            raise ApiError(404, "user_not_found", "No user with this id")
        audit(conn, "admin.user_viewed", "user", user_id)
        return jsonify(accounts.user_json(user, accounts.profile_of(conn, user_id)["role"]))


@bp.put("/admin/users/<uuid:user_id>")
@require_admin
def admin_update_user(user_id: Any) -> ResponseReturnValue:
    """Ban or unban (ban_duration "none" or "<hours>h"), as GoTrue's admin API does."""
    data = body()
    duration = data.get("ban_duration")
    if not isinstance(duration, str) or not (
        duration == "none" or (duration.endswith("h") and duration[:-1].isdigit())
    ):
        raise ApiError(400, "validation_failed", 'ban_duration must be "none" or like "24h"')
    with transaction() as conn:
        user = accounts.find_by_id(conn, user_id)
        if user is None:
            raise ApiError(404, "user_not_found", "No user with this id")
        before = {
            "banned_until": user["banned_until"].isoformat() if user["banned_until"] else None
        }
        conn.execute(
            "update auth.users set banned_until = case when %s = 'none' then null "
            "else now() + make_interval(hours => %s) end, updated_at = now() where id = %s",
            (duration, int(duration[:-1]) if duration != "none" else 0, user_id),
        )
        user = accounts.find_by_id(conn, user_id) or user
        after = {"banned_until": user["banned_until"].isoformat() if user["banned_until"] else None}
        audit(conn, "admin.user_ban_changed", "user", user_id, before, after)
        return jsonify(accounts.user_json(user, accounts.profile_of(conn, user_id)["role"]))
