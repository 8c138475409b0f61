"""Users' provider credentials: validated, sealed with AES-256-GCM, audited; unsealed only in
the sidecar, only for the owner's own request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from voxflow import crypto
from voxflow.config import Settings
from voxflow.db import Conn
from voxflow.errors import ApiError

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class Field:
    name: str
    pattern: str
    explain: str
    secret: bool = True


# Shapes, not secrets: enough to catch a pasted wrong value before it is stored.
PROVIDERS: dict[str, tuple[Field, ...]] = {
    "groq": (Field("api_key", r"^gsk_[A-Za-z0-9_-]{16,200}$", "a Groq API key starts with gsk_"),),
    "deepgram": (
        Field("api_key", r"^[A-Za-z0-9_-]{20,200}$", "a Deepgram API key is 20+ letters/digits"),
    ),
    "twilio": (
        Field("account_sid", r"^AC[0-9a-fA-F]{32}$", "AC followed by 32 hex digits", False),
        Field("auth_token", r"^[0-9a-fA-F]{32}$", "32 hex digits"),
        Field("phone_number", E164.pattern, "E.164, like +14155550123", False),
    ),
}
DISPLAY = {"groq": "Groq", "deepgram": "Deepgram", "twilio": "Twilio"}


def fields_of(provider: str) -> tuple[Field, ...]:
    if provider not in PROVIDERS:
        raise ApiError(
            404, "unknown_provider", f"No provider {provider!r}; use groq, deepgram or twilio"
        )
    return PROVIDERS[provider]


def validate(provider: str, body: Any) -> dict[str, str]:
    fields = fields_of(provider)
    if not isinstance(body, dict):
        raise ApiError(400, "validation_failed", "Send a JSON object with the key's fields")
    value: dict[str, str] = {}
    for field in fields:
        raw = body.get(field.name)
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(
                400, "validation_failed", f"{field.name} is required", details=field.name,
                hint=f"{DISPLAY[provider]} needs " + ", ".join(f.name for f in fields),
            )  # fmt: skip
        if not re.match(field.pattern, raw.strip()):
            raise ApiError(
                400, "validation_failed",
                f"{field.name} does not look right: {field.explain}", details=field.name,
            )  # fmt: skip
        value[field.name] = raw.strip()
    return value


def main_secret(provider: str, value: dict[str, str]) -> str:
    return value["auth_token" if provider == "twilio" else "api_key"]


def current_hint(conn: Conn, user_id: object, provider: str) -> str | None:
    row = conn.execute(
        "select hint from private.provider_keys where user_id = %s and provider = %s",
        (user_id, provider),
    ).fetchone()
    return row["hint"] if row else None


def save(
    conn: Conn, settings: Settings, user_id: object, provider: str, value: dict[str, str]
) -> dict[str, Any]:
    """Seal and upsert; audit and notify with hints only."""
    previous = current_hint(conn, user_id, provider)
    sealed = crypto.seal(
        settings.secrets.master_key, settings.secrets.master_key_version, user_id, provider, value
    )
    hint = crypto.hint(main_secret(provider, value))
    row = conn.execute(
        """
        insert into private.provider_keys (user_id, provider, ciphertext, nonce, key_version, hint)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (user_id, provider) do update
        set ciphertext = excluded.ciphertext, nonce = excluded.nonce,
            key_version = excluded.key_version, hint = excluded.hint, updated_at = now()
        returning provider, hint, updated_at, last_used_at
        """,
        (user_id, provider, sealed.ciphertext, sealed.nonce, sealed.key_version, hint),
    ).fetchone()
    assert row is not None
    action = "key.updated" if previous else "key.created"
    conn.execute(
        "select private.audit(%s, 'provider_key', %s, %s, %s, %s)",
        (action, provider, Jsonb({"hint": previous}), Jsonb({"hint": hint}), user_id),
    )
    conn.execute(
        "select private.notify(%s, 'key_changed', %s, %s, %s)",
        (
            user_id,
            f"Your {DISPLAY[provider]} key was {'updated' if previous else 'added'}",
            f"Your {DISPLAY[provider]} credentials were saved (ending {hint}). "
            "If this was not you, change your password and replace the key.",
            Jsonb({"provider": provider, "hint": hint}),
        ),
    )
    return {**row, "configured": True}


def delete(conn: Conn, user_id: object, provider: str) -> None:
    fields_of(provider)
    row = conn.execute(
        "delete from private.provider_keys where user_id = %s and provider = %s returning hint",
        (user_id, provider),
    ).fetchone()
    if row is None:
        raise ApiError(404, "provider_key_missing", f"No {DISPLAY[provider]} key is set")
    conn.execute(
        "select private.audit('key.deleted', 'provider_key', %s, %s, null, %s)",
        (provider, Jsonb({"hint": row["hint"]}), user_id),
    )
    conn.execute(
        "select private.notify(%s, 'key_changed', %s, %s, %s)",
        (
            user_id,
            f"Your {DISPLAY[provider]} key was removed",
            f"Your {DISPLAY[provider]} credentials (ending {row['hint']}) were deleted.",
            Jsonb({"provider": provider, "hint": None}),
        ),
    )


def missing(provider: str) -> ApiError:
    names = ", ".join(f.name for f in PROVIDERS[provider])
    return ApiError(
        400,
        "provider_key_missing",
        f"No {DISPLAY[provider]} key is set for your account",
        details=provider,
        hint=f"Save it with PUT /functions/v1/api-keys/{provider} and a JSON body with {names}.",
    )


def load(conn: Conn, settings: Settings, user_id: object, provider: str) -> dict[str, str]:
    """The owner's decrypted credentials for one request; marks the key as used."""
    row = conn.execute(
        "update private.provider_keys set last_used_at = now() "
        "where user_id = %s and provider = %s "
        "returning ciphertext, nonce, key_version",
        (user_id, provider),
    ).fetchone()
    if row is None:
        raise missing(provider)
    try:
        return crypto.unseal(
            settings.secrets.master_keys(), row["key_version"], user_id, provider,
            row["ciphertext"], row["nonce"],
        )  # fmt: skip
    except crypto.DecryptionError as exc:
        raise ApiError(
            500,
            "provider_key_unreadable",
            f"Your stored {DISPLAY[provider]} key cannot be read; save it again",
            hint=f"PUT /functions/v1/api-keys/{provider}",
        ) from exc


def rotate(conn: Conn, settings: Settings, batch: int = 500) -> int:
    """Re-seal every key under the current master key version, a batch per transaction, so
    requests keep working throughout: each row names the version that opens it."""
    current = settings.secrets.master_key_version
    done = 0
    while True:
        with conn.transaction():
            rows = conn.execute(
                "select id, user_id, provider, ciphertext, nonce, key_version "
                "from private.provider_keys where key_version <> %s "
                "order by id limit %s for update skip locked",
                (current, batch),
            ).fetchall()
            for row in rows:
                value = crypto.unseal(
                    settings.secrets.master_keys(), row["key_version"], row["user_id"],
                    row["provider"], row["ciphertext"], row["nonce"],
                )  # fmt: skip
                sealed = crypto.seal(
                    settings.secrets.master_key, current, row["user_id"], row["provider"], value
                )
                conn.execute(
                    "update private.provider_keys set ciphertext = %s, nonce = %s, "
                    "key_version = %s where id = %s",
                    (sealed.ciphertext, sealed.nonce, current, row["id"]),
                )
                conn.execute(
                    "select private.audit('key.rotated', 'provider_key', %s, %s, %s, null)",
                    (
                        row["provider"],
                        Jsonb({"key_version": row["key_version"], "user_id": str(row["user_id"])}),
                        Jsonb({"key_version": current}),
                    ),
                )
        done += len(rows)
        if len(rows) < batch:
            return done
