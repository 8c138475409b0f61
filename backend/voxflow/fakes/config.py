"""What a test can change about the fakes at run time, in process or over POST /__fake/config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROVIDERS = ("groq", "deepgram", "twilio")

# A queued failure is an HTTP status (answered in the provider's error shape) or one of these.
FAILURE_MODES = {
    "drop": "close the connection without answering",
    "timeout": "hold the request for hang_seconds (or until reset/stop), then drop it",
    "garbage": "answer 200 with an HTML page instead of the provider's format",
}
Failure = int | str

DEFAULT_TRANSCRIPT = "I would like to book an appointment for tomorrow morning."
DEFAULT_GROQ_MODELS = (
    "llama-3.3-70b-versatile",
    "llama-3.1-8b-instant",
    "openai/gpt-oss-20b",
    "openai/gpt-oss-120b",
)


def _check_failure(provider: str, failure: object) -> Failure:
    if isinstance(failure, bool) or not isinstance(failure, int | str):
        raise ValueError(f"fail_next.{provider}: {failure!r} is not a status or failure mode")
    if isinstance(failure, int) and not 100 <= failure <= 599:
        raise ValueError(f"fail_next.{provider}: {failure} is not an HTTP status")
    if isinstance(failure, str) and failure not in FAILURE_MODES:
        modes = ", ".join(FAILURE_MODES)
        raise ValueError(f"fail_next.{provider}: {failure!r} is not a failure mode ({modes})")
    return failure


def _check_provider(name: object, setting: str) -> str:
    if name not in PROVIDERS:
        raise ValueError(f"{setting}: {name!r} is not a provider ({', '.join(PROVIDERS)})")
    return str(name)


def _strings(value: object, setting: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f"{setting} must be a list of strings")
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"{setting} must be a list of strings")
    return [str(item) for item in value]


@dataclass
class FakeConfig:
    # Delay before answering, per provider.
    latency_ms: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PROVIDERS, 0))
    # Failures consumed one per request, in order, per provider.
    fail_next: dict[str, list[Failure]] = field(
        default_factory=lambda: {provider: [] for provider in PROVIDERS}
    )
    # Keys (Groq/Deepgram API keys, Twilio auth tokens) answered with 401.
    rejected_keys: set[str] = field(default_factory=set)
    rejected_key_prefixes: list[str] = field(default_factory=lambda: ["rejected"])
    # Groq's answer; None echoes the last user message.
    reply: str | None = None
    transcript: str = DEFAULT_TRANSCRIPT
    # Twilio accounts with a known token: any other token for them is rejected. Accounts not
    # listed accept any token that isn't rejected (and webhooks are signed with that token).
    twilio_auth_tokens: dict[str, str] = field(default_factory=dict)
    groq_models: list[str] = field(default_factory=lambda: list(DEFAULT_GROQ_MODELS))
    hang_seconds: float = 30.0

    def is_rejected(self, key: str | None) -> bool:
        if not key:
            return True
        return key in self.rejected_keys or key.startswith(tuple(self.rejected_key_prefixes))

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": dict(self.latency_ms),
            "fail_next": {provider: list(queue) for provider, queue in self.fail_next.items()},
            "rejected_keys": sorted(self.rejected_keys),
            "rejected_key_prefixes": list(self.rejected_key_prefixes),
            "reply": self.reply,
            "transcript": self.transcript,
            # Only which accounts are pinned: tokens are secrets even in a fake's status output.
            "twilio_accounts": sorted(self.twilio_auth_tokens),
            "groq_models": list(self.groq_models),
            "hang_seconds": self.hang_seconds,
        }

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial change; raises ValueError (naming the setting) and changes nothing
        if any part is invalid."""
        staged = FakeConfig(
            latency_ms=dict(self.latency_ms),
            fail_next={provider: list(queue) for provider, queue in self.fail_next.items()},
            rejected_keys=set(self.rejected_keys),
            rejected_key_prefixes=list(self.rejected_key_prefixes),
            reply=self.reply,
            transcript=self.transcript,
            twilio_auth_tokens=dict(self.twilio_auth_tokens),
            groq_models=list(self.groq_models),
            hang_seconds=self.hang_seconds,
        )
        for name, value in changes.items():
            staged._set(name, value)
        self.__dict__.update(staged.__dict__)

    def _set(self, name: str, value: Any) -> None:
        if name == "latency_ms":
            if isinstance(value, int) and not isinstance(value, bool):
                value = dict.fromkeys(PROVIDERS, value)
            if not isinstance(value, Mapping):
                raise ValueError("latency_ms must be milliseconds, or milliseconds by provider")
            for provider, ms in value.items():
                _check_provider(provider, "latency_ms")
                if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
                    raise ValueError(f"latency_ms.{provider} must be a non-negative integer")
                self.latency_ms[provider] = ms
        elif name == "fail_next":
            if not isinstance(value, Mapping):
                raise ValueError("fail_next must map a provider to a failure or list of them")
            for provider, failures in value.items():
                _check_provider(provider, "fail_next")
                queue = failures if isinstance(failures, list | tuple) else [failures]
                self.fail_next[provider] = [_check_failure(provider, f) for f in queue]
        elif name == "rejected_keys":
            self.rejected_keys = set(_strings(value, name))
        elif name == "rejected_key_prefixes":
            self.rejected_key_prefixes = [p for p in _strings(value, name) if p]
        elif name == "reply":
            if value is not None and not isinstance(value, str):
                raise ValueError("reply must be a string or null")
            self.reply = value
        elif name == "transcript":
            if not isinstance(value, str):
                raise ValueError("transcript must be a string")
            self.transcript = value
        elif name == "twilio_auth_tokens":
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ValueError("twilio_auth_tokens must map account SIDs to auth tokens")
            self.twilio_auth_tokens.update(value)
        elif name == "groq_models":
            self.groq_models = _strings(value, name)
        elif name == "hang_seconds":
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError("hang_seconds must be a non-negative number")
            self.hang_seconds = float(value)
        else:
            raise ValueError(f"{name!r} is not a fake setting")
