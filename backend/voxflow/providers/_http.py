"""Shared plumbing for the clients that speak HTTP through `requests` (Deepgram, Twilio).

One pooled session per process: the voice loop calls providers several times a turn and a fresh
TLS handshake each time would cost ~100 ms. Every call passes (connect, read) timeouts; transport
failures and non-2xx answers become ProviderError here, so clients only handle the happy path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from voxflow.providers.errors import for_status, malformed, timed_out, unreachable

# Reaching a provider should take well under a second; a long connect wait means it's down.
MAX_CONNECT_TIMEOUT = 5.0

_session = requests.Session()
# Tenants share the pool, so they must not share cookies a provider sets on one of them.
_session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))


def timeouts(timeout: float) -> tuple[float, float]:
    """(connect, read) timeouts for `requests` from one budget in seconds."""
    if timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")
    return (min(timeout, MAX_CONNECT_TIMEOUT), timeout)


def join(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


@dataclass(frozen=True)
class Answer:
    response: requests.Response
    latency_ms: int


def send(
    provider: str,
    method: str,
    url: str,
    *,
    timeout: float,
    secrets: Iterable[str],
    error_message: Callable[[requests.Response], str | None],
    **kwargs: Any,
) -> Answer:
    """Make one request; a 2xx comes back, anything else raises ProviderError.

    `secrets` are scrubbed from any provider message we quote; `error_message` pulls the human
    text out of the provider's error body.
    """
    started = time.perf_counter()
    try:
        response = _session.request(method, url, timeout=timeouts(timeout), **kwargs)
    except requests.Timeout:
        raise timed_out(provider, timeout) from None
    except requests.ConnectionError as err:
        # A read timeout while the body is arriving surfaces as a ConnectionError wrapping it.
        if err.args and isinstance(err.args[0], ReadTimeoutError):
            raise timed_out(provider, timeout) from None
        raise unreachable(provider) from None
    except requests.RequestException:
        # Refused, reset, dropped mid-answer, DNS: the provider isn't there for us right now.
        # `from None`: the chained exception's text can include the URL and headers.
        raise unreachable(provider) from None
    latency_ms = round((time.perf_counter() - started) * 1000)
    if not 200 <= response.status_code < 300:
        try:
            message = error_message(response)
        except ValueError:
            message = None
        raise for_status(provider, response.status_code, message, list(secrets))
    return Answer(response, latency_ms)


def json_object(provider: str, response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise malformed(provider, "the body is not JSON", response.status_code) from None
    if not isinstance(body, dict):
        raise malformed(provider, "the body is not a JSON object", response.status_code)
    return body
