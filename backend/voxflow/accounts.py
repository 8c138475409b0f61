"""Accounts as GoTrue keeps them: users in auth.users (bcrypt passwords), sessions with
rotating refresh tokens, single-use hashed links for verification and recovery."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
from psycopg.types.json import Jsonb

from voxflow import tokens
from voxflow.config import Settings
from voxflow.db import Conn
from voxflow.errors import ApiError

BCRYPT_COST = 10  # GoTrue's cost, so hashes move to hosted Supabase unchanged
LINK_LIFETIME = {"signup": timedelta(hours=24), "recovery": timedelta(hours=1)}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# A hash to check against when the email is unknown, so both answers take as long.
_DUMMY_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt(BCRYPT_COST))

USER_COLUMNS = (
    "id, aud, role, email, encrypted_password, email_confirmed_at, confirmation_sent_at, "
    "recovery_sent_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, "
    "updated_at, banned_until"
)


def normalize_email(value: object) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()) or len(value) > 255:
        raise ApiError(
            400, "validation_failed", "Enter a valid email address, like name@example.com"
        )
    return value.strip().lower()


def check_password_strength(password: object, email: str) -> str:
    if not isinstance(password, str) or password == "":
        raise ApiError(400, "validation_failed", "Enter a password")
    problems = []
    if len(password) < 8:
        problems.append("at least 8 characters")
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")
    )
    if classes < 2:
        problems.append("a mix of letters, digits or symbols")
    if password.lower() in (email, email.split("@")[0]):
        problems.append("not your email address")
    if problems:
        raise ApiError(
            422,
            "weak_password",
            "Password is too weak: use " + ", ".join(problems),
            extra={"weak_password": {"reasons": problems}},
        )
    if len(password.encode()) > 72:
        raise ApiError(422, "weak_password", "Password is too long: use at most 72 bytes")
    return password


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()


def password_matches(user: dict[str, Any] | None, password: str) -> bool:
    stored = (user or {}).get("encrypted_password") or ""
    candidate = password.encode()[:72]
    if not stored:
        bcrypt.checkpw(candidate, _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(candidate, stored.encode())
    except ValueError:
        return False


def find_by_email(conn: Conn, email: str, *, lock: bool = False) -> dict[str, Any] | None:
    query = f"select {USER_COLUMNS} from auth.users where lower(email) = %s"
    return conn.execute(query + (" for update" if lock else ""), (email,)).fetchone()


def find_by_id(conn: Conn, user_id: object) -> dict[str, Any] | None:
    return conn.execute(
        f"select {USER_COLUMNS} from auth.users where id = %s", (user_id,)
    ).fetchone()


def profile_of(conn: Conn, user_id: object) -> dict[str, Any]:
    row = conn.execute(
        "select role, status, organization_name, plan_id from public.profiles where id = %s",
        (user_id,),
    ).fetchone()
    if row is None:
        raise ApiError(401, "user_not_found", "This account no longer exists")
    return row


def create_user(
    conn: Conn,
    email: str,
    password: str,
    metadata: dict[str, Any],
    *,
    confirmed: bool = False,
) -> dict[str, Any]:
    """Insert into auth.users; the database's trigger creates the profile."""
    if find_by_email(conn, email):
        raise ApiError(
            422,
            "user_already_exists",
            "An account with this email already exists — sign in or reset your password",
        )
    now = datetime.now(UTC)
    row = conn.execute(
        f"""
        insert into auth.users (
            instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
            raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous
        )
        values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated',
                %s, %s, %s, %s, %s, %s, %s, false)
        on conflict do nothing
        returning {USER_COLUMNS}
        """,
        (
            uuid.uuid4(),
            email,
            hash_password(password),
            now if confirmed else None,
            Jsonb({"provider": "email", "providers": ["email"]}),
            Jsonb(metadata),
            now,
            now,
        ),
    ).fetchone()
    if row is None:  # a concurrent sign-up with the same email won the race
        raise ApiError(
            422,
            "user_already_exists",
            "An account with this email already exists — sign in or reset your password",
        )
    return row


def new_link_token(conn: Conn, user_id: object, token_type: str) -> str:
    """A fresh single-use token; earlier unused ones of the same type stop working."""
    token = tokens.new_opaque_token()
    conn.execute(
        "update private.one_time_tokens set used_at = now() "
        "where user_id = %s and token_type = %s and used_at is null",
        (user_id, token_type),
    )
    conn.execute(
        "insert into private.one_time_tokens (user_id, token_type, token_hash, expires_at) "
        "values (%s, %s, %s, now() + %s)",
        (user_id, token_type, tokens.digest(token), LINK_LIFETIME[token_type]),
    )
    column = "confirmation_sent_at" if token_type == "signup" else "recovery_sent_at"
    conn.execute(f"update auth.users set {column} = now() where id = %s", (user_id,))
    return token


def redeem_link_token(conn: Conn, token: str, token_type: str) -> dict[str, Any]:
    """Spend a verification or recovery token; returns the user it belongs to."""
    row = conn.execute(
        "update private.one_time_tokens set used_at = now() "
        "where token_hash = %s and token_type = %s and used_at is null and expires_at > now() "
        "returning user_id",
        (tokens.digest(token), token_type),
    ).fetchone()
    if row is None:
        raise ApiError(
            403,
            "otp_expired",
            "This link is invalid, already used or expired — ask for a new one",
        )
    user = find_by_id(conn, row["user_id"])
    assert user is not None  # the token row cascades with its user
    return user


def confirm_email(conn: Conn, user_id: object) -> None:
    conn.execute(
        "update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()), "
        "updated_at = now() where id = %s",
        (user_id,),
    )


def ensure_may_sign_in(conn: Conn, user: dict[str, Any]) -> dict[str, Any]:
    """The profile, once we know this user may hold a session."""
    profile = profile_of(conn, user["id"])
    banned = user.get("banned_until") and user["banned_until"] > datetime.now(UTC)
    if profile["status"] == "suspended" or banned:
        raise ApiError(
            400, "user_banned", "This account is suspended; contact support to reactivate it"
        )
    return profile


def user_json(user: dict[str, Any], role: str) -> dict[str, Any]:
    """The user object in GoTrue's shape."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(user["id"]),
        "aud": user["aud"] or "authenticated",
        "role": user["role"] or "authenticated",
        "email": user["email"],
        "email_confirmed_at": iso(user["email_confirmed_at"]),
        "confirmed_at": iso(user["email_confirmed_at"]),
        "confirmation_sent_at": iso(user["confirmation_sent_at"]),
        "recovery_sent_at": iso(user["recovery_sent_at"]),
        "last_sign_in_at": iso(user["last_sign_in_at"]),
        "phone": "",
        "app_metadata": {**(user["raw_app_meta_data"] or {}), "role": role},
        "user_metadata": user["raw_user_meta_data"] or {},
        "identities": [],
        "created_at": iso(user["created_at"]),
        "updated_at": iso(user["updated_at"]),
        "is_anonymous": False,
    }


def start_session(
    conn: Conn,
    settings: Settings,
    user: dict[str, Any],
    profile: dict[str, Any],
    user_agent: str,
    ip: str,
) -> dict[str, Any]:
    session = conn.execute(
        "insert into private.sessions (user_id, user_agent, ip) values (%s, %s, %s) returning id",
        (user["id"], user_agent[:500], ip if ip != "unknown" else None),
    ).fetchone()
    assert session is not None
    conn.execute(
        "update auth.users set last_sign_in_at = now() where id = %s returning last_sign_in_at",
        (user["id"],),
    )
    return _session_response(conn, settings, user, profile, str(session["id"]))


def _session_response(
    conn: Conn, settings: Settings, user: dict[str, Any], profile: dict[str, Any], session_id: str
) -> dict[str, Any]:
    refresh = tokens.new_opaque_token()
    conn.execute(
        "insert into private.refresh_tokens (token_hash, session_id, user_id) values (%s, %s, %s)",
        (tokens.digest(refresh), session_id, user["id"]),
    )
    fresh = find_by_id(conn, user["id"]) or user
    access, expires_at = issue_access_token(conn, settings, fresh, profile, session_id)
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": tokens.ACCESS_TOKEN_SECONDS,
        "expires_at": expires_at,
        "refresh_token": refresh,
        "user": user_json(fresh, profile["role"]),
    }


def issue_access_token(
    conn: Conn, settings: Settings, user: dict[str, Any], profile: dict[str, Any], session_id: str
) -> tuple[str, int]:
    """As GoTrue does it: the default claims through the custom access token hook (which names
    an active admin's role), then signed. Returns the token and its expiry."""
    claims = tokens.access_claims(settings, user, profile, session_id)
    row = conn.execute(
        "select private.custom_access_token_hook(%s) -> 'claims' as claims",
        (Jsonb({"user_id": claims["sub"], "claims": claims}),),
    ).fetchone()
    assert row is not None
    return tokens.sign(settings, row["claims"]), int(claims["exp"])


def refresh_session(
    conn: Conn, settings: Settings, refresh_token: str
) -> dict[str, Any] | ApiError:
    """Rotate a refresh token. Presenting a spent one revokes the whole session (the token was
    stolen or replayed); that error is returned, not raised, so the revocation commits."""
    row = conn.execute(
        "select t.id, t.used_at, t.session_id, t.user_id, s.revoked_at "
        "from private.refresh_tokens t join private.sessions s on s.id = t.session_id "
        "where t.token_hash = %s for update of t, s",
        (tokens.digest(refresh_token),),
    ).fetchone()
    if row is None:
        raise ApiError(
            400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
        )
    if row["revoked_at"] is not None:
        raise ApiError(400, "session_not_found", "This session has ended; sign in again")
    if row["used_at"] is not None:
        conn.execute(
            "update private.sessions set revoked_at = now() where id = %s", (row["session_id"],)
        )
        return ApiError(
            400,
            "refresh_token_already_used",
            "Invalid Refresh Token: Already Used — the session was ended for safety; sign in again",
            extra={"revoked": True},
        )
    user = find_by_id(conn, row["user_id"])
    assert user is not None
    profile = ensure_may_sign_in(conn, user)
    conn.execute("update private.refresh_tokens set used_at = now() where id = %s", (row["id"],))
    conn.execute(
        "update private.sessions set refreshed_at = now() where id = %s", (row["session_id"],)
    )
    return _session_response(conn, settings, user, profile, str(row["session_id"]))


def revoke_sessions(conn: Conn, user_id: object, session_id: str | None, scope: str) -> None:
    if scope == "local":
        conn.execute(
            "update private.sessions set revoked_at = now() where id = %s and revoked_at is null",
            (session_id,),
        )
    elif scope == "others":
        conn.execute(
            "update private.sessions set revoked_at = now() "
            "where user_id = %s and id is distinct from %s and revoked_at is null",
            (user_id, session_id),
        )
    else:
        conn.execute(
            "update private.sessions set revoked_at = now() "
            "where user_id = %s and revoked_at is null",
            (user_id,),
        )


def ensure_admin(conn: Conn, email: str, password: str) -> tuple[str, bool]:
    """A confirmed, active admin with this email; creates it if missing (the password of an
    existing account is left alone). Returns (user id, created)."""
    email = normalize_email(email)
    existing = find_by_email(conn, email, lock=True)
    if existing is None:
        check_password_strength(password, email)
        user = create_user(conn, email, password, {"organization_name": "VoxFlow"}, confirmed=True)
    else:
        user = existing
        confirm_email(conn, user["id"])
    # An account from before the accounts migration (a Supabase Auth user, or one a return to
    # v0 kept) has no profile: the migration makes them only for new users.
    conn.execute(
        "insert into public.profiles (id, email, organization_name, status, role) "
        "values (%s, %s, 'VoxFlow', 'active', 'admin') "
        "on conflict (id) do update set role = 'admin', status = 'active'",
        (user["id"], email),
    )
    conn.execute(
        "update auth.users set raw_app_meta_data = coalesce(raw_app_meta_data, '{}') || "
        '\'{"role": "admin"}\' where id = %s',
        (user["id"],),
    )
    conn.execute(
        "select private.audit('admin.bootstrapped', 'user', %s, null, %s, null)",
        (str(user["id"]), Jsonb({"email": email, "created": existing is None})),
    )
    return str(user["id"]), existing is None
