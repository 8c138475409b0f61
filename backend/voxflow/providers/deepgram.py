"""Deepgram text-to-speech (POST /v1/speak) and prerecorded speech-to-text (POST /v1/listen).

Spoken with `requests` against Deepgram's documented wire format rather than the SDK: these are
two plain POSTs, and this way the base URL, the (connect, read) timeouts, the pooled session and
the error mapping are explicit and identical to the other providers. `base_url` is the API root,
https://api.deepgram.com; the paths /v1/... are appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import AuthBase

from voxflow.providers import _http
from voxflow.providers.errors import ProviderError, malformed

PROVIDER = "deepgram"
DEFAULT_BASE_URL = "https://api.deepgram.com"
DEFAULT_TTS_MODEL = "aura-2-thalia-en"
DEFAULT_STT_MODEL = "nova-3"


@dataclass(frozen=True)
class SpeakResult:
    audio: bytes
    content_type: str
    characters: int  # billed characters of input text
    latency_ms: int


@dataclass(frozen=True)
class TranscribeResult:
    transcript: str
    duration_seconds: float  # billed audio duration, as Deepgram measured it
    latency_ms: int


class _TokenAuth(AuthBase):
    """`Authorization: Token <key>`. An auth object (not a bare header) so requests never
    substitutes credentials from a ~/.netrc entry for the host."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Token {self.api_key}"
        return request


def _error_message(response: requests.Response) -> str | None:
    # Deepgram errors look like {"err_code": ..., "err_msg": ..., "request_id": ...}.
    body = response.json()
    if isinstance(body, dict):
        for field in ("err_msg", "message", "reason"):
            if isinstance(body.get(field), str):
                return str(body[field])
    return None


def speak(api_key: str, base_url: str, model: str, text: str, timeout: float) -> SpeakResult:
    """Synthesize `text` with the voice `model` (e.g. aura-2-thalia-en); MP3 unless the model
    default changes. Raises ProviderError on any failure."""
    answer = _http.send(
        PROVIDER,
        "POST",
        _http.join(base_url, "/v1/speak"),
        params={"model": model},
        json={"text": text},
        auth=_TokenAuth(api_key),
        timeout=timeout,
        secrets=[api_key],
        error_message=_error_message,
    )
    response = answer.response
    content_type = response.headers.get("Content-Type", "")
    if not content_type.startswith("audio/") or not response.content:
        raise malformed(PROVIDER, "the speech response carried no audio", response.status_code)
    # Deepgram bills per input character and reports its count: Aura-2 voices in
    # x-dg-characters, Aura-1 in dg-char-count. Without either, count ourselves.
    reported = response.headers.get("x-dg-characters") or response.headers.get("dg-char-count", "")
    characters = int(reported) if reported.isdigit() else len(text)
    return SpeakResult(response.content, content_type, characters, answer.latency_ms)


def transcribe(
    api_key: str,
    base_url: str,
    model: str,
    language: str,
    audio: bytes,
    content_type: str,
    timeout: float,
) -> TranscribeResult:
    """Transcribe one recording. Raises ProviderError on any failure."""
    answer = _http.send(
        PROVIDER,
        "POST",
        _http.join(base_url, "/v1/listen"),
        params={"model": model, "language": language},
        data=audio,
        headers={"Content-Type": content_type},
        auth=_TokenAuth(api_key),
        timeout=timeout,
        secrets=[api_key],
        error_message=_error_message,
    )
    body = _http.json_object(PROVIDER, answer.response)
    return TranscribeResult(_transcript(body), _duration(body), answer.latency_ms)


def _transcript(body: dict[str, Any]) -> str:
    try:
        transcript = body["results"]["channels"][0]["alternatives"][0]["transcript"]
    except (KeyError, IndexError, TypeError):
        raise malformed(PROVIDER, "no results.channels[0].alternatives[0].transcript") from None
    if not isinstance(transcript, str):
        raise malformed(PROVIDER, "the transcript is not text")
    return transcript


def _duration(body: dict[str, Any]) -> float:
    metadata = body.get("metadata")
    duration = metadata.get("duration") if isinstance(metadata, dict) else None
    # bool is an int subclass; a true/false duration is as wrong as a missing one.
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0:
        raise malformed(PROVIDER, "no metadata.duration in the transcription")
    return float(duration)


def verify_key(api_key: str, base_url: str, timeout: float) -> bool:
    """True if Deepgram accepts the key (GET /v1/projects), False if it rejects it.

    Raises ProviderError when Deepgram can't give an answer (timeout, outage, rate limit).
    """
    try:
        _http.send(
            PROVIDER,
            "GET",
            _http.join(base_url, "/v1/projects"),
            auth=_TokenAuth(api_key),
            timeout=timeout,
            secrets=[api_key],
            error_message=_error_message,
        )
    except ProviderError as err:
        if err.kind == "unauthorized":
            return False
        raise
    return True
