"""Twilio's Programmable Voice REST API (accounts, calls) and the webhooks Twilio sends back.

Creating a call only records it. A test then drives the call the way Twilio would, each step a
real HTTP request to the app with a real X-Twilio-Signature computed from the account's token:
answer_call (POST to the call's Url), gather (POST SpeechResult to the last <Gather>'s action)
and complete_call (POST CallStatus=completed with CallDuration to the StatusCallback). Nothing
is sent on its own, so tests decide the order and never race the fake.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit
from xml.etree import ElementTree

import requests

from voxflow.fakes.config import FakeConfig
from voxflow.fakes.wire import FakeRequest, FakeResponse, json_response
from voxflow.providers.twilio import SIGNATURE_HEADER, sign

API_VERSION = "2010-04-01"
WEBHOOK_TIMEOUT = 15.0  # how long Twilio waits for a webhook answer
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
_ROUTE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+?)"
    r"(?:(?P<account_json>\.json)|(?P<calls>/Calls\.json)|/Calls/(?P<call>[^/]+?)\.json)$"
)
_PHONE = re.compile(r"^(\+[1-9]\d{1,14}|client:[\w.-]+|sip:\S+)$")


def _now_rfc2822() -> str:
    return format_datetime(datetime.now(UTC))


def error(status: int, code: int, message: str) -> FakeResponse:
    return json_response(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def failure(status: int) -> FakeResponse:
    """A queued failure, shaped the way Twilio shapes that status."""
    if status == 401:
        return _authenticate()
    if status == 429:
        return error(429, 20429, "Too Many Requests")
    return error(status, 20500 if status >= 500 else 20000 + status, HTTPStatus(status).phrase)


def _authenticate() -> FakeResponse:
    response = error(401, 20003, "Authenticate")
    response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def credential(request: FakeRequest) -> tuple[str | None, str | None]:
    """(auth token, account SID) from the basic auth header."""
    auth = request.basic_auth()
    return (auth[1], auth[0]) if auth else (None, None)


@dataclass
class FakeCall:
    sid: str
    account_sid: str
    auth_token: str = field(repr=False)  # the token the call was created with; signs webhooks
    from_: str
    to: str
    url: str | None
    method: str
    status_callback: str | None
    status_callback_method: str
    status: str = "queued"
    date_created: str = field(default_factory=_now_rfc2822)
    start_time: str | None = None
    end_time: str | None = None
    duration: int | None = None
    gather_url: str | None = None  # where the next SpeechResult goes, from the last <Gather>
    gather_method: str = "POST"

    def resource(self) -> dict[str, Any]:
        """The Call resource as Twilio's REST API renders it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": self.date_created,
            "date_updated": self.end_time or self.start_time or self.date_created,
            "direction": "outbound-api",
            "duration": None if self.duration is None else str(self.duration),
            "end_time": self.end_time,
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": self.start_time,
            "status": self.status,
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "events": f"{uri}/Events.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }

    def summary(self) -> dict[str, Any]:
        """What the control API shows: everything but the token."""
        fields = asdict(self)
        del fields["auth_token"]
        fields["from"] = fields.pop("from_")
        return fields


@dataclass(frozen=True)
class WebhookResult:
    """One webhook the fake sent as Twilio, and the app's answer."""

    url: str
    method: str
    params: dict[str, str]
    signature: str
    status: int
    body: str
    content_type: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TwilioFake:
    def __init__(self) -> None:
        self._calls: dict[str, FakeCall] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def calls(self) -> list[FakeCall]:
        with self._lock:
            return list(self._calls.values())

    def call(self, sid: str) -> FakeCall:
        with self._lock:
            call = self._calls.get(sid)
        if call is None:
            raise KeyError(f"the fake Twilio has no call {sid}")
        return call

    # --- REST API -------------------------------------------------------------------------

    def handle(self, request: FakeRequest, config: FakeConfig) -> FakeResponse:
        route = _ROUTE.match(request.path)
        auth = request.basic_auth()
        if auth is None or config.is_rejected(auth[1]):
            return _authenticate()
        account_sid, token = auth
        pinned = config.twilio_auth_tokens.get(account_sid)
        if pinned is not None and pinned != token:
            return _authenticate()
        if route is None:
            return error(404, 20404, "The requested resource was not found")
        if route["account"] != account_sid:
            # Credentials for one account can't act on another.
            return _authenticate()
        if route["account_json"] and request.method == "GET":
            return json_response(200, _account(account_sid))
        if route["calls"] and request.method == "POST":
            return self._create(account_sid, token, request.form())
        if route["call"] and request.method in ("GET", "POST"):
            return self._fetch_or_update(account_sid, route["call"], request)
        return error(405, 20004, "Method not allowed")

    def _create(self, account_sid: str, token: str, form: dict[str, str]) -> FakeResponse:
        to, from_ = form.get("To", ""), form.get("From", "")
        if not to:
            return error(400, 21201, "No 'To' number is specified")
        if not _PHONE.match(to):
            return error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_:
            return error(400, 21213, "No 'From' number is specified")
        if not _PHONE.match(from_):
            return error(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        url = form.get("Url")
        if not url and not form.get("Twiml"):
            return error(400, 21205, "Url parameter is required")
        if url and urlsplit(url).scheme not in ("http", "https"):
            return error(400, 21205, f"Url is not a valid URL: {url}")
        call = FakeCall(
            sid="CA" + secrets.token_hex(16),
            account_sid=account_sid,
            auth_token=token,
            from_=from_,
            to=to,
            url=url,
            method=form.get("Method", "POST").upper(),
            status_callback=form.get("StatusCallback") or None,
            status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
        )
        with self._lock:
            self._calls[call.sid] = call
        return json_response(201, call.resource())

    def _fetch_or_update(self, account_sid: str, sid: str, request: FakeRequest) -> FakeResponse:
        with self._lock:
            call = self._calls.get(sid)
            if call is None or call.account_sid != account_sid:
                return error(404, 20404, "The requested resource was not found")
            if request.method == "POST":
                # Hanging up through the API ends the call; the test sends the status callback.
                status = request.form().get("Status")
                if status in ("completed", "canceled"):
                    call.status = status
                    call.end_time = _now_rfc2822()
                elif status:
                    return error(400, 21220, f"Invalid call state: {status}")
            return json_response(200, call.resource())

    # --- Webhooks, sent as Twilio would ----------------------------------------------------

    def answer_call(self, sid: str, timeout: float = WEBHOOK_TIMEOUT) -> WebhookResult:
        """The callee picks up: Twilio fetches TwiML from the call's Url."""
        call = self.call(sid)
        if call.url is None:
            raise ValueError(f"call {sid} was created with inline TwiML; there is no Url to fetch")
        with self._lock:
            call.status = "in-progress"
            call.start_time = _now_rfc2822()
        result = _send(call.url, call.method, _call_params(call), call.auth_token, timeout)
        self._follow_twiml(call, result, call.url)
        return result

    def gather(
        self, sid: str, speech: str, confidence: float = 0.92, timeout: float = WEBHOOK_TIMEOUT
    ) -> WebhookResult:
        """The caller says `speech` in the last <Gather>; its action gets the SpeechResult."""
        call = self.call(sid)
        if call.gather_url is None:
            raise ValueError(f"call {sid} is not waiting in a <Gather>; answer it first")
        params = _call_params(call)
        params.update(SpeechResult=speech, Confidence=f"{confidence:.8f}")
        document_url = call.gather_url
        result = _send(document_url, call.gather_method, params, call.auth_token, timeout)
        self._follow_twiml(call, result, document_url)
        return result

    def complete_call(
        self,
        sid: str,
        duration_seconds: int,
        status: str = "completed",
        timeout: float = WEBHOOK_TIMEOUT,
    ) -> WebhookResult | None:
        """The call ends: Twilio posts the final status to StatusCallback, if one was given."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"{status!r} is not a final call status ({', '.join(FINAL_STATUSES)})")
        call = self.call(sid)
        with self._lock:
            call.status = status
            call.duration = duration_seconds if status == "completed" else 0
            call.end_time = _now_rfc2822()
            call.gather_url = None
        if call.status_callback is None:
            return None
        params = _call_params(call)
        params.update(
            CallDuration=str(call.duration),
            Timestamp=call.end_time,
            CallbackSource="call-progress-events",
            SequenceNumber="0",
        )
        return _send(
            call.status_callback, call.status_callback_method, params, call.auth_token, timeout
        )

    def _follow_twiml(self, call: FakeCall, result: WebhookResult, document_url: str) -> None:
        target = _gather_target(result.body, document_url) if result.status == 200 else None
        with self._lock:
            call.gather_url, call.gather_method = target or (None, "POST")


def _account(sid: str) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{sid}"
    created = "Mon, 06 Jan 2025 10:00:00 +0000"
    return {
        "sid": sid,
        "owner_account_sid": sid,
        "friendly_name": "Fake account",
        "status": "active",
        "type": "Full",
        "date_created": created,
        "date_updated": created,
        "uri": f"{uri}.json",
        "subresource_uris": {"calls": f"{uri}/Calls.json"},
    }


def _call_params(call: FakeCall) -> dict[str, str]:
    """The parameters Twilio sends with every voice webhook for an outbound API call."""
    return {
        "AccountSid": call.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call.sid,
        "CallStatus": call.status,
        "Called": call.to,
        "Caller": call.from_,
        "Direction": "outbound-api",
        "From": call.from_,
        "To": call.to,
    }


def _send(
    url: str, method: str, params: dict[str, str], auth_token: str, timeout: float
) -> WebhookResult:
    headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
    if method == "GET":
        # GET webhooks carry the parameters in the query; the signature covers the full URL.
        separator = "&" if urlsplit(url).query else "?"
        url = f"{url}{separator}{urlencode(params)}"
        signature = sign(auth_token, url, {})
        headers[SIGNATURE_HEADER] = signature
        response = requests.get(url, headers=headers, timeout=(5.0, timeout))
    else:
        signature = sign(auth_token, url, params)
        headers[SIGNATURE_HEADER] = signature
        response = requests.post(url, data=params, headers=headers, timeout=(5.0, timeout))
    return WebhookResult(
        url=url,
        method=method,
        params=params,
        signature=signature,
        status=response.status_code,
        body=response.text,
        content_type=response.headers.get("Content-Type", ""),
    )


def _gather_target(twiml: str, current_url: str) -> tuple[str, str] | None:
    """(url, method) the next SpeechResult goes to, if the TwiML waits in a <Gather>.

    Without an action, Twilio posts back to the document's own URL."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return None
    gather = next(root.iter("Gather"), None)
    if gather is None:
        return None
    action = gather.get("action")
    url = urljoin(current_url, action) if action else current_url
    return url, (gather.get("method") or "POST").upper()
