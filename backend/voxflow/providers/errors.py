"""The one exception every provider client raises, so the app maps failures without knowing HTTP.

The app turns `unauthorized` into a 4xx telling the user their key was rejected, `timeout` into a
504 and everything else into a 502. Messages are shown to users and written to logs, so they never
carry a credential, a request body or a stack trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ProviderErrorKind = Literal[
    "unauthorized", "timeout", "unavailable", "bad_response", "rate_limited"
]

DISPLAY_NAMES = {"groq": "Groq", "deepgram": "Deepgram", "twilio": "Twilio"}
CREDENTIAL_NAMES = {"groq": "API key", "deepgram": "API key", "twilio": "account SID or auth token"}

# Provider messages are quoted to users; cap them so a misbehaving server can't flood a response.
MAX_QUOTED_MESSAGE = 300


@dataclass
class ProviderError(Exception):
    provider: str  # "groq" | "deepgram" | "twilio"
    kind: ProviderErrorKind
    status: int | None  # the provider's HTTP status; None when no response arrived
    message: str

    def __str__(self) -> str:
        return f"{self.provider} {self.kind}: {self.message}"

    def __reduce__(self) -> tuple[type[ProviderError], tuple[str, str, int | None, str]]:
        # Exception pickles from .args, which the dataclass __init__ leaves empty.
        return (type(self), (self.provider, self.kind, self.status, self.message))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced, for quoting provider messages that might echo a key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    if len(text) > MAX_QUOTED_MESSAGE:
        text = text[: MAX_QUOTED_MESSAGE - 1] + "…"
    return text


def for_status(
    provider: str, status: int, provider_message: str | None, secrets: Iterable[str]
) -> ProviderError:
    """The error for a non-2xx answer from a provider."""
    name = DISPLAY_NAMES.get(provider, provider)
    if status in (401, 403):
        credential = CREDENTIAL_NAMES.get(provider, "credentials")
        return ProviderError(
            provider, "unauthorized", status, f"{name} rejected the {credential} (HTTP {status})"
        )
    if status == 429:
        return ProviderError(
            provider, "rate_limited", status, f"{name} is rate limiting requests (HTTP 429)"
        )
    if status >= 500:
        return ProviderError(provider, "unavailable", status, f"{name} failed (HTTP {status})")
    # Any other 4xx: our request was refused (unknown model, invalid number...). The provider's
    # own words are the useful part, so quote them, scrubbed of secrets.
    detail = f": {redact(provider_message, secrets)}" if provider_message else ""
    return ProviderError(
        provider, "bad_response", status, f"{name} refused the request (HTTP {status}){detail}"
    )


def timed_out(provider: str, timeout: float) -> ProviderError:
    name = DISPLAY_NAMES.get(provider, provider)
    return ProviderError(provider, "timeout", None, f"{name} did not answer within {timeout:g} s")


def unreachable(provider: str) -> ProviderError:
    name = DISPLAY_NAMES.get(provider, provider)
    return ProviderError(
        provider, "unavailable", None, f"{name} could not be reached or dropped the connection"
    )


def malformed(provider: str, what: str, status: int | None = None) -> ProviderError:
    name = DISPLAY_NAMES.get(provider, provider)
    return ProviderError(
        provider, "bad_response", status, f"{name} returned an unexpected response: {what}"
    )
