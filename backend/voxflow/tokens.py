"""JWTs and opaque tokens. Access tokens are HS256 JWTs shaped like GoTrue's, so PostgREST
and the supabase clients accept them; opaque tokens are stored only as sha256 digests."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from typing import Any

import jwt
from flask import current_app, request

from voxflow.config import Settings
from voxflow.errors import ApiError

ACCESS_TOKEN_SECONDS = int(os.environ.get("VOXFLOW_JWT_EXPIRY", "3600"))
# The Postgres roles a signed-in person's token may name: users' `authenticated`, and
# `voxflow_admin`, which private.custom_access_token_hook gives active admins.
USER_ROLES = ("authenticated", "voxflow_admin")


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_claims(
    settings: Settings, user: dict[str, Any], profile: dict[str, Any], session_id: str
) -> dict[str, Any]:
    """GoTrue's claims for `user` (an auth.users row), before the access token hook runs.
    app_metadata mirrors the profile's role and plan for the frontend and the rate limiter;
    the database stays authoritative."""
    now = int(time.time())
    return {
        "iss": f"{settings.api_url}/auth/v1",
        "sub": str(user["id"]),
        "aud": "authenticated",
        "exp": now + ACCESS_TOKEN_SECONDS,
        "iat": now,
        "email": user["email"],
        "phone": "",
        "role": "authenticated",  # the hook names admins' role
        "app_metadata": {
            **(user["raw_app_meta_data"] or {}),
            "role": profile["role"],
            "plan": profile["plan_id"],
        },
        "user_metadata": user["raw_user_meta_data"] or {},
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": session_id,
        "is_anonymous": False,
    }


def sign(settings: Settings, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, settings.secrets.jwt_secret, algorithm="HS256")


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "no_authorization",
            "This endpoint requires a Bearer token: send Authorization: Bearer <access token>",
        )
    return token.strip()


class UnknownRole(jwt.InvalidTokenError):
    """A correctly signed token for a role we do not serve."""


def verified_claims(secret: str, token: str, leeway: float = 0) -> dict[str, Any]:
    """The claims of one of our JWTs (user access token or an API key), checked; raises
    jwt.PyJWTError. `leeway` allows seconds past `exp` (PostgREST allows 30)."""
    header = jwt.get_unverified_header(token)
    if header.get("alg") != "HS256":
        raise jwt.InvalidAlgorithmError("only HS256 tokens are accepted")
    claims: dict[str, Any] = jwt.decode(
        token, secret, algorithms=["HS256"], leeway=leeway,
        options={"require": ["exp", "role"], "verify_aud": False},
    )  # fmt: skip
    role = claims.get("role")
    if role in USER_ROLES:
        if claims.get("aud") != "authenticated" or not claims.get("sub"):
            raise jwt.InvalidTokenError("a user token needs aud and sub")
    elif role not in ("anon", "service_role"):
        raise UnknownRole(str(role))
    return claims


def decode(token: str) -> dict[str, Any]:
    """Verified claims of any of our JWTs, or 401 bad_jwt."""
    settings: Settings = current_app.config["VOXFLOW"]
    try:
        return verified_claims(settings.secrets.jwt_secret, token)
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(
            401, "bad_jwt", "The access token has expired; refresh it or sign in again"
        ) from exc
    except UnknownRole as exc:
        raise ApiError(401, "bad_jwt", "The access token names an unknown role") from exc
    except jwt.PyJWTError as exc:
        raise ApiError(401, "bad_jwt", "The access token is invalid; sign in again") from exc
