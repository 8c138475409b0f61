"""Twilio: place outbound calls and sign/validate webhook signatures.

Calls are created with `requests` against the documented REST endpoint rather than the SDK's
REST client: that client has no base-URL setting (only edge/region rewriting of *.twilio.com)
and accepts one float timeout, not separate connect and read timeouts. Signatures use the SDK's
RequestValidator, so they match Twilio's own algorithm exactly. `base_url` is the API root,
https://api.twilio.com; /2010-04-01/... is appended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import requests
from twilio.request_validator import RequestValidator

from voxflow.providers import _http
from voxflow.providers.errors import ProviderError, malformed

PROVIDER = "twilio"
DEFAULT_BASE_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class CallResult:
    sid: str  # "CA" + 32 hex
    status: str  # "queued" on creation
    latency_ms: int


def _account_path(account_sid: str, rest: str = "") -> str:
    # The SID comes from user input; quoting keeps it one path segment whatever it contains.
    return f"/2010-04-01/Accounts/{quote(account_sid, safe='')}{rest}"


def _error_message(response: requests.Response) -> str | None:
    # Twilio errors look like {"code": 21211, "message": ..., "more_info": ..., "status": 400}.
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body.get("code")
        return f"{body['message']} (Twilio error {code})" if code else str(body["message"])
    return None


def create_call(
    account_sid: str,
    auth_token: str,
    base_url: str,
    from_: str,
    to: str,
    url: str,
    status_callback: str | None,
    timeout: float,
) -> CallResult:
    """Ask Twilio to dial `to` from `from_`; when answered it fetches TwiML from `url`.

    Twilio POSTs the status callback once the call completes (CallStatus=completed, CallDuration).
    Raises ProviderError on any failure.
    """
    form = {"To": to, "From": from_, "Url": url, "Method": "POST"}
    if status_callback:
        form.update(StatusCallback=status_callback, StatusCallbackMethod="POST")
    answer = _http.send(
        PROVIDER,
        "POST",
        _http.join(base_url, _account_path(account_sid, "/Calls.json")),
        data=form,
        auth=(account_sid, auth_token),
        timeout=timeout,
        secrets=[auth_token],
        error_message=_error_message,
    )
    body = _http.json_object(PROVIDER, answer.response)
    sid, status = body.get("sid"), body.get("status")
    if not isinstance(sid, str) or not sid.startswith("CA") or not isinstance(status, str):
        raise malformed(PROVIDER, "the call resource has no sid or status")
    return CallResult(sid, status, answer.latency_ms)


def verify_key(account_sid: str, auth_token: str, base_url: str, timeout: float) -> bool:
    """True if Twilio accepts the SID and token (GET the account), False if it rejects them.

    Raises ProviderError when Twilio can't give an answer (timeout, outage, rate limit).
    """
    try:
        _http.send(
            PROVIDER,
            "GET",
            _http.join(base_url, _account_path(account_sid, ".json")),
            auth=(account_sid, auth_token),
            timeout=timeout,
            secrets=[auth_token],
            error_message=_error_message,
        )
    except ProviderError as err:
        if err.kind == "unauthorized":
            return False
        raise
    return True


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature Twilio would send for a form POST of `params` to `url`."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def validate_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """True if `signature` is what Twilio computes for this URL and form, under `auth_token`.

    `url` must be the full URL Twilio requested, query string included, as the public sees it
    (scheme and host of the public endpoint, not of a proxy hop).
    """
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))
