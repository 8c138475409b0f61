"""The Twilio client and webhook signatures against the fake Twilio, over real HTTP.

A small local server plays the app: it validates each webhook's X-Twilio-Signature with the
account's token and answers TwiML, so the fake's webhooks are checked end to end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from voxflow.fakes import FakeProviders
from voxflow.providers import ProviderError, twilio

ACCOUNT = "AC" + "1" * 32
TOKEN = "twilio-auth-token-tenant-one"
FROM, TO = "+15005550006", "+14155550100"


@dataclass
class Webhook:
    path: str
    params: dict[str, str]
    signature_valid: bool


@dataclass
class FakeApp:
    """Webhook receiver standing in for the VoxFlow sidecar."""

    url: str
    received: list[Webhook] = field(default_factory=list)


@pytest.fixture
def app() -> Iterator[FakeApp]:
    received: list[Webhook] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            params = dict(parse_qsl(body.decode()))
            url = f"http://{self.headers['Host']}{self.path}"  # as the app would rebuild it
            valid = twilio.validate_signature(
                TOKEN, url, params, self.headers.get(twilio.SIGNATURE_HEADER)
            )
            received.append(Webhook(self.path, params, valid))
            if self.path.startswith("/voice"):
                twiml = '<Response><Gather input="speech" action="/turn?n=1"/></Response>'
            elif self.path.startswith("/turn"):
                twiml = "<Response><Say>Booked.</Say><Hangup/></Response>"
            else:
                twiml = ""
            reply = twiml.encode()
            self.send_response(200 if valid else 403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FakeApp(f"http://127.0.0.1:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()


def create_call(fakes: FakeProviders, app_url: str, token: str = TOKEN) -> twilio.CallResult:
    return twilio.create_call(
        ACCOUNT,
        token,
        fakes.base_urls["twilio"],
        FROM,
        TO,
        f"{app_url}/voice?agent=42",
        f"{app_url}/status",
        5.0,
    )


def test_create_call_returns_a_queued_call_sid(fakes: FakeProviders) -> None:
    result = create_call(fakes, "https://app.example")

    assert result.sid.startswith("CA") and len(result.sid) == 34
    int(result.sid[2:], 16)  # 32 hex digits
    assert result.status == "queued"


def test_create_call_posts_the_form_twilio_expects_with_the_tenants_credentials(
    fakes: FakeProviders,
) -> None:
    create_call(fakes, "https://app.example")

    [seen] = fakes.requests("twilio")
    assert (seen.method, seen.path) == ("POST", f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json")
    assert (seen.account_sid, seen.api_key) == (ACCOUNT, TOKEN)
    expected_auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert seen.headers["authorization"] == f"Basic {expected_auth}"
    assert seen.form == {
        "To": TO,
        "From": FROM,
        "Url": "https://app.example/voice?agent=42",
        "Method": "POST",
        "StatusCallback": "https://app.example/status",
        "StatusCallbackMethod": "POST",
    }
    assert seen.status == 201


def test_sign_matches_twilios_documented_algorithm() -> None:
    url = "https://app.example/voice?agent=42"
    params = {"CallSid": "CA123", "From": FROM, "To": TO}
    # HMAC-SHA1 over the URL followed by each parameter name and value, sorted by name.
    payload = url + "".join(name + params[name] for name in sorted(params))
    expected = base64.b64encode(hmac.new(TOKEN.encode(), payload.encode(), hashlib.sha1).digest())

    assert twilio.sign(TOKEN, url, params) == expected.decode()


def test_a_signature_validates_and_a_forgery_does_not() -> None:
    url = "https://app.example/voice"
    params = {"CallSid": "CA123", "CallStatus": "in-progress"}
    signature = twilio.sign(TOKEN, url, params)

    assert twilio.validate_signature(TOKEN, url, params, signature)
    assert not twilio.validate_signature("another-token", url, params, signature)
    assert not twilio.validate_signature(TOKEN, url, {**params, "CallStatus": "x"}, signature)
    assert not twilio.validate_signature(TOKEN, url + "?x=1", params, signature)
    assert not twilio.validate_signature(TOKEN, url, params, twilio.sign("forger", url, params))
    assert not twilio.validate_signature(TOKEN, url, params, None)
    assert not twilio.validate_signature(TOKEN, url, params, "")


def test_the_fake_drives_a_call_with_signed_webhooks(fakes: FakeProviders, app: FakeApp) -> None:
    call = create_call(fakes, app.url)

    answered = fakes.answer_call(call.sid)
    assert answered.status == 200 and "<Gather" in answered.body
    turn = fakes.gather(call.sid, "A table for two at seven, please.")
    assert turn.status == 200 and "Booked." in turn.body
    completed = fakes.complete_call(call.sid, duration_seconds=37)
    assert completed is not None and completed.status == 200

    assert [(w.path, w.signature_valid) for w in app.received] == [
        ("/voice?agent=42", True),
        ("/turn?n=1", True),  # the <Gather> action, resolved against the document URL
        ("/status", True),
    ]
    voice, gather, status = (w.params for w in app.received)
    for params in (voice, gather, status):
        assert params["CallSid"] == call.sid
        assert params["AccountSid"] == ACCOUNT
        assert (params["From"], params["To"], params["Direction"]) == (FROM, TO, "outbound-api")
    assert voice["CallStatus"] == "in-progress"
    assert gather["SpeechResult"] == "A table for two at seven, please."
    assert float(gather["Confidence"]) > 0
    assert (status["CallStatus"], status["CallDuration"]) == ("completed", "37")
    assert [c.status for c in fakes.calls()] == ["completed"]


def test_webhooks_are_signed_with_the_token_that_created_the_call(
    fakes: FakeProviders, app: FakeApp
) -> None:
    # The app only knows TOKEN; a call placed with another token must fail its check.
    call = create_call(fakes, app.url, token="some-other-accounts-token")
    answered = fakes.answer_call(call.sid)
    assert answered.status == 403
    assert app.received[0].signature_valid is False


def test_a_wrong_auth_token_is_unauthorized_and_hidden(fakes: FakeProviders) -> None:
    fakes.configure(twilio_auth_tokens={ACCOUNT: TOKEN})
    wrong = "not-the-right-token-secret"

    with pytest.raises(ProviderError) as caught:
        create_call(fakes, "https://app.example", token=wrong)

    err = caught.value
    assert (err.provider, err.kind, err.status) == ("twilio", "unauthorized", 401)
    assert wrong not in str(err) and TOKEN not in str(err)
    assert fakes.calls() == []


def test_an_invalid_number_is_a_bad_response_quoting_twilio(fakes: FakeProviders) -> None:
    with pytest.raises(ProviderError) as caught:
        twilio.create_call(
            ACCOUNT,
            TOKEN,
            fakes.base_urls["twilio"],
            FROM,
            "555-nope",
            "https://a.example/v",
            None,
            5.0,
        )
    assert (caught.value.kind, caught.value.status) == ("bad_response", 400)
    assert "21211" in caught.value.message


def test_latency_beyond_the_timeout_is_a_timeout(fakes: FakeProviders) -> None:
    fakes.configure(latency_ms={"twilio": 3000})
    with pytest.raises(ProviderError) as caught:
        twilio.create_call(
            ACCOUNT, TOKEN, fakes.base_urls["twilio"], FROM, TO, "https://a.example/v", None, 0.3
        )
    assert (caught.value.provider, caught.value.kind) == ("twilio", "timeout")


def test_a_500_is_unavailable(fakes: FakeProviders) -> None:
    fakes.configure(fail_next={"twilio": 500})
    with pytest.raises(ProviderError) as caught:
        create_call(fakes, "https://app.example")
    assert (caught.value.kind, caught.value.status) == ("unavailable", 500)


def test_verify_key(fakes: FakeProviders) -> None:
    base = fakes.base_urls["twilio"]
    fakes.configure(twilio_auth_tokens={ACCOUNT: TOKEN})

    assert twilio.verify_key(ACCOUNT, TOKEN, base, 5.0) is True
    assert twilio.verify_key(ACCOUNT, "wrong", base, 5.0) is False
    assert twilio.verify_key("AC" + "2" * 32, "rejected-token", base, 5.0) is False
    assert {r.path for r in fakes.requests("twilio")} == {
        f"/2010-04-01/Accounts/{ACCOUNT}.json",
        f"/2010-04-01/Accounts/{'AC' + '2' * 32}.json",
    }
