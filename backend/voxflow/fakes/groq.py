"""Groq's OpenAI-compatible API: chat completions and the model list, with Groq's error shape.

Token counts are deterministic so tests can predict them: a text costs ceil(len/4) tokens, each
message 4 more for its framing, and the prompt 3 more for priming the reply.
"""

from __future__ import annotations

import math
import time
import uuid
from http import HTTPStatus
from typing import Any

from voxflow.fakes.config import FakeConfig
from voxflow.fakes.wire import FakeRequest, FakeResponse, json_response

DEFAULT_MAX_COMPLETION_TOKENS = 8192
TOKENS_PER_MESSAGE = 4
TOKENS_TO_PRIME_REPLY = 3


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def message_text(message: object) -> str:
    """A message's text, whether content is a string or a list of {"type": "text"} parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def prompt_tokens(messages: list[Any]) -> int:
    per_message = (TOKENS_PER_MESSAGE + count_tokens(message_text(m)) for m in messages)
    return TOKENS_TO_PRIME_REPLY + sum(per_message)


def error(
    status: int, message: str | None = None, type_: str | None = None, code: str = ""
) -> FakeResponse:
    if type_ is None:
        type_ = "internal_server_error" if status >= 500 else "invalid_request_error"
    body: dict[str, Any] = {"message": message or HTTPStatus(status).phrase, "type": type_}
    if code:
        body["code"] = code
    headers = {"retry-after": "2"} if status == 429 else {}
    return json_response(status, {"error": body}, headers)


def failure(status: int) -> FakeResponse:
    """A queued failure, shaped the way Groq shapes that status."""
    if status == 401:
        return _invalid_key()
    if status == 429:
        return error(
            429,
            "Rate limit reached for model. Please try again in 2s.",
            "tokens",
            "rate_limit_exceeded",
        )
    return error(status)


def _invalid_key() -> FakeResponse:
    return error(401, "Invalid API Key", "invalid_request_error", "invalid_api_key")


def credential(request: FakeRequest) -> tuple[str | None, str | None]:
    return request.bearer("Bearer"), None


def handle(request: FakeRequest, config: FakeConfig) -> FakeResponse:
    if config.is_rejected(request.bearer("Bearer")):
        return _invalid_key()
    if request.method == "GET" and request.path == "/openai/v1/models":
        return json_response(
            200, {"object": "list", "data": [_model(m) for m in config.groq_models]}
        )
    if request.method == "GET" and request.path.startswith("/openai/v1/models/"):
        name = request.path.removeprefix("/openai/v1/models/")
        if name in config.groq_models:
            return json_response(200, _model(name))
        return _model_not_found(name)
    if request.method == "POST" and request.path == "/openai/v1/chat/completions":
        return _chat(request, config)
    return error(
        404,
        f"Unknown request URL: {request.method} {request.path}. Please check the URL for typos.",
        code="unknown_url",
    )


def _model(name: str) -> dict[str, Any]:
    return {
        "id": name,
        "object": "model",
        "created": 1733447754,
        "owned_by": "Fake",
        "active": True,
        "context_window": 131072,
        "max_completion_tokens": DEFAULT_MAX_COMPLETION_TOKENS,
    }


def _model_not_found(name: str) -> FakeResponse:
    return error(
        404,
        f"The model `{name}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def _chat(request: FakeRequest, config: FakeConfig) -> FakeResponse:
    body = request.json()
    if not isinstance(body, dict):
        return error(400, "The request body must be a JSON object.")
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        return error(400, "'model' : property 'model' is missing")
    if model not in config.groq_models:
        return _model_not_found(model)
    if not isinstance(messages, list) or not messages:
        return error(400, "'messages' : minimum number of items is 1")
    if body.get("stream"):
        return error(400, "The fake Groq server does not stream; send stream=false.")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if limit is None:
        limit = DEFAULT_MAX_COMPLETION_TOKENS
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        return error(400, "'max_completion_tokens' must be a positive integer")

    reply = config.reply if config.reply is not None else _echo(messages)
    finish_reason = "stop"
    if count_tokens(reply) > limit:
        reply, finish_reason = reply[: limit * 4], "length"
    prompt, completion = prompt_tokens(messages), count_tokens(reply)
    return json_response(
        200,
        {
            "id": f"chatcmpl-{uuid.uuid4()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "queue_time": 0.01,
                "prompt_tokens": prompt,
                "prompt_time": round(prompt / 20000, 6),
                "completion_tokens": completion,
                "completion_time": round(completion / 250, 6),
                "total_tokens": prompt + completion,
                "total_time": round(0.01 + prompt / 20000 + completion / 250, 6),
            },
            "system_fingerprint": "fp_fake",
            "x_groq": {"id": f"req_{uuid.uuid4().hex[:26]}"},
        },
    )


def _echo(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return f"You said: {message_text(message)}"
    return "Hello! How can I help you today?"
