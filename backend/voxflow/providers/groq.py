"""Groq chat completions through the official SDK (OpenAI-compatible wire format).

`base_url` is the API root the SDK expects, https://api.groq.com; the SDK appends
/openai/v1/chat/completions. A base ending in /openai/v1 (the OpenAI-style spelling) is accepted
too. Retries are off: the voice loop has a latency budget and decides itself whether to retry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import groq
import httpx
from groq.types.chat import ChatCompletion

from voxflow.providers.errors import for_status, malformed, timed_out, unreachable

PROVIDER = "groq"
DEFAULT_BASE_URL = "https://api.groq.com"
MAX_CONNECT_TIMEOUT = 5.0

# Shared by every per-key client so calls reuse pooled TLS connections.
_http_client = groq.DefaultHttpxClient()


@dataclass(frozen=True)
class ChatResult:
    text: str
    input_tokens: int  # billed prompt tokens (usage.prompt_tokens)
    output_tokens: int  # billed completion tokens (usage.completion_tokens)
    model: str  # the model that answered, as Groq reports it
    latency_ms: int


def sdk_base_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base.removesuffix("/openai/v1")


def _client(api_key: str, base_url: str, timeout: float) -> groq.Groq:
    if timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    return groq.Groq(
        api_key=api_key,
        base_url=sdk_base_url(base_url),
        timeout=httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_TIMEOUT)),
        max_retries=0,
        http_client=_http_client,
    )


def _error_message(body: object) -> str | None:
    # Groq errors look like {"error": {"message": ..., "type": ..., "code": ...}}.
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return None


def _translate(err: groq.APIError, api_key: str, timeout: float) -> Exception:
    """The ProviderError for an SDK exception; none of the SDK's text is reused verbatim."""
    if isinstance(err, groq.APITimeoutError):
        return timed_out(PROVIDER, timeout)
    if isinstance(err, groq.APIConnectionError):
        return unreachable(PROVIDER)
    if isinstance(err, groq.APIStatusError):
        return for_status(PROVIDER, err.status_code, _error_message(err.body), [api_key])
    return malformed(PROVIDER, "the body did not match the chat completion format")


def chat(
    api_key: str,
    base_url: str,
    model: str,
    messages: Sequence[Mapping[str, str]],
    temperature: float,
    max_tokens: int,
    timeout: float,
) -> ChatResult:
    """One non-streaming chat completion; raises ProviderError on any failure."""
    client = _client(api_key, base_url, timeout)
    started = time.perf_counter()
    try:
        completion: Any = client.chat.completions.create(
            model=model,
            messages=cast(Any, [dict(m) for m in messages]),
            temperature=temperature,
            max_completion_tokens=max_tokens,
        )
    except groq.APIError as err:
        raise _translate(err, api_key, timeout) from None
    except ValueError:
        # The SDK decodes a JSON content-type with json.loads; a garbled body lands here.
        raise malformed(PROVIDER, "the body is not JSON") from None
    latency_ms = round((time.perf_counter() - started) * 1000)
    return _chat_result(completion, latency_ms)


def _chat_result(completion: Any, latency_ms: int) -> ChatResult:
    # The SDK builds models without validating them, and returns plain text when the answer
    # isn't JSON (an HTML error page from a proxy, say), so check the shape ourselves.
    if not isinstance(completion, ChatCompletion):
        raise malformed(PROVIDER, "the body is not a chat completion")
    try:
        text = completion.choices[0].message.content or ""
        usage = completion.usage
        input_tokens = usage.prompt_tokens if usage else None
        output_tokens = usage.completion_tokens if usage else None
        model = completion.model
    except (AttributeError, IndexError, TypeError):
        raise malformed(PROVIDER, "the chat completion has no choices") from None
    if not isinstance(input_tokens, int) or not isinstance(output_tokens, int):
        raise malformed(PROVIDER, "the chat completion has no usage token counts")
    if not isinstance(text, str) or not isinstance(model, str):
        raise malformed(PROVIDER, "the chat completion message is not text")
    return ChatResult(text, input_tokens, output_tokens, model, latency_ms)


def verify_key(api_key: str, base_url: str, timeout: float) -> bool:
    """True if Groq accepts the key (GET /openai/v1/models), False if it rejects it.

    Raises ProviderError when Groq can't give an answer (timeout, outage, rate limit).
    """
    client = _client(api_key, base_url, timeout)
    try:
        client.models.list()
    except (groq.AuthenticationError, groq.PermissionDeniedError):
        return False
    except groq.APIError as err:
        raise _translate(err, api_key, timeout) from None
    except ValueError:
        raise malformed(PROVIDER, "the body is not JSON") from None
    return True
