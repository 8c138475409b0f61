"""Encryption of users' provider credentials: AES-256-GCM in the sidecar, so neither the
master key nor a plaintext key ever reaches the database, its logs or its statistics.

Each value gets a fresh random 96-bit nonce (the database's unique constraint on the nonce
makes a repeat impossible) and binds its owner, provider and key version as associated data:
a ciphertext copied to another user's row, or relabelled, fails to decrypt.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext does not belong to this owner/provider, or the key version is unknown."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    nonce: bytes
    key_version: int


def _aad(user_id: object, provider: str, key_version: int) -> bytes:
    return f"voxflow:provider_key:{user_id}:{provider}:v{key_version}".encode()


def seal(
    master_key: bytes, key_version: int, user_id: object, provider: str, secret: dict[str, Any]
) -> Sealed:
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(secret, sort_keys=True).encode()
    ciphertext = AESGCM(master_key).encrypt(nonce, plaintext, _aad(user_id, provider, key_version))
    return Sealed(ciphertext, nonce, key_version)


def unseal(
    master_keys: dict[int, bytes],
    key_version: int,
    user_id: object,
    provider: str,
    ciphertext: bytes,
    nonce: bytes,
) -> dict[str, Any]:
    key = master_keys.get(key_version)
    if key is None:
        raise DecryptionError(
            f"master key version {key_version} is not configured "
            f"(set VOXFLOW_MASTER_KEY_V{key_version})"
        )
    try:
        plaintext = AESGCM(key).decrypt(
            bytes(nonce), bytes(ciphertext), _aad(user_id, provider, key_version)
        )
    except InvalidTag as exc:
        raise DecryptionError("stored key does not decrypt for this owner and provider") from exc
    value: dict[str, Any] = json.loads(plaintext)
    return value


def hint(secret: str) -> str:
    """The last four characters, enough to recognise a key and useless to an attacker."""
    return "…" + secret[-4:] if len(secret) >= 8 else "…"
