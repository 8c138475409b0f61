"""The project's anon and service-role API keys: long-lived JWTs signed with the JWT secret,
shaped like Supabase's so the official clients accept them."""

from __future__ import annotations

import jwt

# Fixed timestamps keep the keys stable for a given secret, so a restart does not change them.
_ISSUED_AT = 1_767_225_600  # 2026-01-01
_EXPIRES_AT = 4_102_444_800  # 2100-01-01


def api_key(role: str, jwt_secret: str) -> str:
    if role not in ("anon", "service_role"):
        raise ValueError(f"no API key for role {role!r}")
    claims = {"iss": "voxflow", "ref": "local", "role": role, "iat": _ISSUED_AT, "exp": _EXPIRES_AT}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")
