"""The request and response values the fake providers pass around, independent of the server."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str  # as the provider sees it: /openai/v1/chat/completions, not /groq/openai/...
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        """The JSON body, or None when there is none or it doesn't parse."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def bearer(self, scheme: str) -> str | None:
        """The credential after `Authorization: <scheme> `, or None."""
        prefix, _, value = self.header("Authorization").partition(" ")
        return value.strip() if prefix.lower() == scheme.lower() and value.strip() else None

    def basic_auth(self) -> tuple[str, str] | None:
        prefix, _, value = self.header("Authorization").partition(" ")
        if prefix.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(value.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return (user, password) if sep else None


@dataclass
class FakeResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> FakeResponse:
    return FakeResponse(status, json.dumps(body).encode(), "application/json", headers or {})


def dropped() -> FakeResponse:
    return FakeResponse(0, drop=True)
