"""Deepgram's REST API: text to speech (/v1/speak), prerecorded transcription (/v1/listen) and
the project list (/v1/projects, what key checks call), with Deepgram's error shape."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from voxflow.fakes import audio
from voxflow.fakes.config import FakeConfig
from voxflow.fakes.wire import FakeRequest, FakeResponse, json_response

MAX_SPEAK_CHARACTERS = 2000  # Deepgram's limit per /v1/speak request
DEFAULT_TTS_MODEL = "aura-asteria-en"  # what Deepgram uses when the query names none
DEFAULT_STT_MODEL = "base"
FAKE_PROJECT_ID = "5a1b2c3d-0000-4000-8000-00000000fa6e"


def error(status: int, err_code: str, err_msg: str) -> FakeResponse:
    return json_response(
        status, {"err_code": err_code, "err_msg": err_msg, "request_id": str(uuid.uuid4())}
    )


def failure(status: int) -> FakeResponse:
    """A queued failure, shaped the way Deepgram shapes that status."""
    if status == 401:
        return _invalid_auth()
    if status == 429:
        return error(429, "TOO_MANY_REQUESTS", "Too many requests. Please try again later")
    return error(status, HTTPStatus(status).phrase.upper().replace(" ", "_"), "Fake failure")


def _invalid_auth() -> FakeResponse:
    return error(401, "INVALID_AUTH", "Invalid credentials.")


def credential(request: FakeRequest) -> tuple[str | None, str | None]:
    # API keys come as "Token <key>"; temporary JWTs as "Bearer <jwt>".
    return request.bearer("Token") or request.bearer("Bearer"), None


def handle(request: FakeRequest, config: FakeConfig) -> FakeResponse:
    key, _ = credential(request)
    if config.is_rejected(key):
        return _invalid_auth()
    if request.method == "POST" and request.path == "/v1/speak":
        return _speak(request)
    if request.method == "POST" and request.path == "/v1/listen":
        return _listen(request, config)
    if request.method == "GET" and request.path == "/v1/projects":
        return json_response(
            200, {"projects": [{"project_id": FAKE_PROJECT_ID, "name": "Fake project"}]}
        )
    return error(404, "NOT_FOUND", f"No route for {request.method} {request.path}")


def _speak(request: FakeRequest) -> FakeResponse:
    body = request.json()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return error(400, "INVALID_QUERY", "The request body must be JSON with a non-empty text")
    if len(text) > MAX_SPEAK_CHARACTERS:
        return error(
            413, "PAYLOAD_TOO_LARGE", f"Text exceeds the {MAX_SPEAK_CHARACTERS} character limit"
        )
    model = request.query.get("model", DEFAULT_TTS_MODEL)
    seconds = audio.speech_seconds(text)
    if request.query.get("encoding") == "linear16":
        rate_text = request.query.get("sample_rate", str(audio.DEFAULT_WAV_SAMPLE_RATE))
        if not rate_text.isdigit() or not 8000 <= int(rate_text) <= 48000:
            return error(400, "INVALID_QUERY", "sample_rate must be from 8000 to 48000")
        rate = int(rate_text)
        content, content_type = audio.silent_wav(seconds, rate), "audio/wav"
    else:
        content, content_type = audio.silent_mp3(seconds), "audio/mpeg"
    request_id = str(uuid.uuid4())
    # Aura-2 voices report usage in x-dg-* headers; Aura-1 voices in dg-* headers.
    if model.startswith("aura-2-"):
        headers = {
            "x-dg-request-id": request_id,
            "x-dg-model-name": model,
            "x-dg-characters": str(len(text)),
        }
    else:
        headers = {
            "dg-request-id": request_id,
            "dg-model-name": model,
            "dg-char-count": str(len(text)),
        }
    return FakeResponse(200, content, content_type, headers)


def _listen(request: FakeRequest, config: FakeConfig) -> FakeResponse:
    if request.header("Content-Type").startswith("application/json"):
        return error(400, "INVALID_QUERY", "The fake transcribes uploaded audio, not URLs")
    if not request.body:
        return error(400, "Bad Request", "Bad Request: failed to process audio: empty body")
    duration = audio.duration_seconds(request.body)
    model = request.query.get("model", DEFAULT_STT_MODEL)
    model_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"deepgram:{model}"))
    transcript = config.transcript
    return json_response(
        200,
        {
            "metadata": {
                "transaction_key": "deprecated",
                "request_id": str(uuid.uuid4()),
                "sha256": hashlib.sha256(request.body).hexdigest(),
                "created": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "duration": duration,
                "channels": 1,
                "models": [model_uuid],
                "model_info": {
                    model_uuid: {"name": f"general-{model}", "version": "fake", "arch": model}
                },
            },
            "results": {
                "channels": [
                    {
                        "alternatives": [
                            {
                                "transcript": transcript,
                                "confidence": 0.98 if transcript else 0.0,
                                "words": _words(transcript, duration),
                            }
                        ]
                    }
                ]
            },
        },
    )


def _words(transcript: str, duration: float) -> list[dict[str, Any]]:
    """Word timings spread evenly over the audio, as a plausible stand-in."""
    words = transcript.split()
    if not words:
        return []
    step = duration / len(words)
    return [
        {
            "word": word.strip(".,!?").lower(),
            "start": round(i * step, 3),
            "end": round((i + 1) * step, 3),
            "confidence": 0.98,
            "punctuated_word": word,
        }
        for i, word in enumerate(words)
    ]
