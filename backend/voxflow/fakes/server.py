"""All three fake providers behind one local HTTP server, one port, a path prefix each:

    http://127.0.0.1:<port>/groq       Groq's API root      (client appends /openai/v1/...)
    http://127.0.0.1:<port>/deepgram   Deepgram's API root  (client appends /v1/...)
    http://127.0.0.1:<port>/twilio     Twilio's API root    (client appends /2010-04-01/...)
    http://127.0.0.1:<port>/__fake     control API for tests in any process

Control API (JSON):
    GET  /__fake/health                       {"ok": true, "base_urls": {...}}
    GET  /__fake/requests[?provider=groq]     every provider request received, oldest first
    POST /__fake/reset                        forget requests and calls, restore the defaults
    GET  /__fake/config, POST /__fake/config  read / partially change FakeConfig
    GET  /__fake/twilio/calls                 calls created so far (no tokens)
    POST /__fake/twilio/calls/<sid>/answer    send the answer webhook; returns the app's answer
    POST /__fake/twilio/calls/<sid>/gather    {"speech": "...", "confidence": 0.9}
    POST /__fake/twilio/calls/<sid>/complete  {"duration_seconds": 42, "status": "completed"}

A stdlib ThreadingHTTPServer, not WSGI, because faking failures needs the raw connection: a
"drop" closes the socket without a status line, which WSGI servers can't be asked to do.
Each response closes its connection so no client ever reuses a socket the fake has dropped.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests

from voxflow.fakes import deepgram, groq
from voxflow.fakes import twilio as twilio_fake
from voxflow.fakes.config import PROVIDERS, Failure, FakeConfig
from voxflow.fakes.twilio import FakeCall, TwilioFake, WebhookResult
from voxflow.fakes.wire import FakeRequest, FakeResponse, dropped, json_response

MAX_BODY_BYTES = 50 * 1024 * 1024


@dataclass
class RecordedRequest:
    """One request a fake provider received, as the provider saw it."""

    provider: str  # "groq" | "deepgram" | "twilio"
    method: str
    path: str  # without the provider prefix: /openai/v1/chat/completions
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names, Authorization included
    api_key: str | None  # the Groq/Deepgram key or Twilio auth token the request carried
    account_sid: str | None  # Twilio's basic-auth user
    body: str | None  # the body as text; None when it's binary (audio)
    body_size: int
    json: Any  # the parsed JSON body, if it was JSON
    form: dict[str, str] | None  # the parsed form body, if it was form-encoded
    received_at: float  # time.time()
    status: int | None = None  # what the fake answered; None while pending or when dropped

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Provider:
    credential: Callable[[FakeRequest], tuple[str | None, str | None]]
    handle: Callable[[FakeRequest, FakeConfig], FakeResponse]
    failure: Callable[[int], FakeResponse]


def _record(
    provider: str, request: FakeRequest, credential: tuple[str | None, str | None]
) -> RecordedRequest:
    content_type = request.header("Content-Type")
    try:
        text: str | None = request.body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return RecordedRequest(
        provider=provider,
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=dict(request.headers),
        api_key=credential[0],
        account_sid=credential[1],
        body=text,
        body_size=len(request.body),
        json=request.json() if "json" in content_type else None,
        form=request.form() if "x-www-form-urlencoded" in content_type else None,
        received_at=time.time(),
    )


class FakeProviders:
    """The fake Groq, Deepgram and Twilio, served on 127.0.0.1. Start with FakeProviders.start()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.twilio = TwilioFake()
        self._providers: dict[str, _Provider] = {
            "groq": _Provider(groq.credential, groq.handle, groq.failure),
            "deepgram": _Provider(deepgram.credential, deepgram.handle, deepgram.failure),
            "twilio": _Provider(twilio_fake.credential, self.twilio.handle, twilio_fake.failure),
        }
        self._lock = threading.Lock()
        self._config = FakeConfig()
        self._requests: list[RecordedRequest] = []
        # Set to release every request held by latency or a "timeout" failure.
        self._wake = threading.Event()
        self._host = host
        self._server = _Server((host, port), _Handler)
        self._server.fakes = self
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, port: int = 0, host: str = "127.0.0.1") -> FakeProviders:
        """Listen (port 0 picks a free one) and serve in a background thread."""
        fakes = cls(host, port)
        fakes._thread = threading.Thread(
            target=fakes._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how quickly stop() is noticed
            name="voxflow-fakes",
            daemon=True,
        )
        fakes._thread.start()
        return fakes

    def stop(self) -> None:
        self._wake.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProviders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_urls(self) -> dict[str, str]:
        """The base URL to give each provider client instead of the real API root."""
        return {provider: f"{self.url}/{provider}" for provider in PROVIDERS}

    # --- test controls ---------------------------------------------------------------------

    def requests(self, provider: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if provider is None or r.provider == provider]

    def reset(self) -> None:
        """Forget requests and calls, restore the default config, release held requests."""
        with self._lock:
            self._requests.clear()
            self._config = FakeConfig()
            self._wake.set()
            self._wake = threading.Event()
        self.twilio.reset()

    def configure(
        self,
        *,
        latency_ms: int | Mapping[str, int] | None = None,
        fail_next: Mapping[str, Failure | Sequence[Failure]] | None = None,
        rejected_keys: Iterable[str] | None = None,
        rejected_key_prefixes: Iterable[str] | None = None,
        reply: str | None = None,
        transcript: str | None = None,
        twilio_auth_tokens: Mapping[str, str] | None = None,
        groq_models: Iterable[str] | None = None,
        hang_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Change some settings (see FakeConfig); returns the whole config afterwards."""
        changes: dict[str, Any] = {
            "latency_ms": latency_ms,
            "fail_next": fail_next,
            "rejected_keys": None if rejected_keys is None else list(rejected_keys),
            "rejected_key_prefixes": (
                None if rejected_key_prefixes is None else list(rejected_key_prefixes)
            ),
            "reply": reply,
            "transcript": transcript,
            "twilio_auth_tokens": twilio_auth_tokens,
            "groq_models": None if groq_models is None else list(groq_models),
            "hang_seconds": hang_seconds,
        }
        return self.configure_from(
            {name: value for name, value in changes.items() if value is not None}
        )

    def configure_from(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """configure() from a JSON object; ValueError names the bad setting."""
        with self._lock:
            self._config.update(changes)
            return self._config.as_dict()

    def config(self) -> dict[str, Any]:
        with self._lock:
            return self._config.as_dict()

    def calls(self) -> list[FakeCall]:
        return self.twilio.calls()

    def answer_call(self, sid: str, timeout: float = 15.0) -> WebhookResult:
        return self.twilio.answer_call(sid, timeout)

    def gather(
        self, sid: str, speech: str, confidence: float = 0.92, timeout: float = 15.0
    ) -> WebhookResult:
        return self.twilio.gather(sid, speech, confidence, timeout)

    def complete_call(
        self, sid: str, duration_seconds: int, status: str = "completed", timeout: float = 15.0
    ) -> WebhookResult | None:
        return self.twilio.complete_call(sid, duration_seconds, status, timeout)

    # --- serving ---------------------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> FakeResponse:
        if path == "/__fake" or path.startswith("/__fake/"):
            return self._control(method, path.removeprefix("/__fake"), query, body)
        name, _, rest = path.lstrip("/").partition("/")
        provider = self._providers.get(name)
        if provider is None:
            return json_response(
                404, {"error": f"no fake at /{name}; providers are under /groq, /deepgram, /twilio"}
            )
        request = FakeRequest(method, "/" + rest, query, headers, body)
        record = _record(name, request, provider.credential(request))
        with self._lock:
            self._requests.append(record)
            config = self._config
            latency = config.latency_ms.get(name, 0)
            queue = config.fail_next.get(name, [])
            failure = queue.pop(0) if queue else None
            wake = self._wake
        if latency:
            wake.wait(latency / 1000)
        response = self._fail(provider, failure, config, wake) if failure is not None else None
        if response is None:
            response = provider.handle(request, config)
        record.status = None if response.drop else response.status
        return response

    @staticmethod
    def _fail(
        provider: _Provider, failure: Failure, config: FakeConfig, wake: threading.Event
    ) -> FakeResponse:
        if isinstance(failure, int):
            return provider.failure(failure)
        if failure == "timeout":
            wake.wait(config.hang_seconds)
            return dropped()
        if failure == "garbage":
            return FakeResponse(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        return dropped()

    def _control(self, method: str, path: str, query: dict[str, str], body: bytes) -> FakeResponse:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return json_response(400, {"error": "the body must be JSON"})
        if not isinstance(payload, dict):
            return json_response(400, {"error": "the body must be a JSON object"})
        try:
            return self._control_route(method, path, query, payload)
        except (KeyError, ValueError, TypeError) as err:
            status = 404 if isinstance(err, KeyError) else 400
            return json_response(status, {"error": str(err).strip("'\"")})
        except requests.RequestException as err:
            # The app didn't take the webhook; say so without the request's details.
            return json_response(502, {"error": f"the webhook failed: {type(err).__name__}"})

    def _control_route(
        self, method: str, path: str, query: dict[str, str], payload: dict[str, Any]
    ) -> FakeResponse:
        route = (method, path)
        if route == ("GET", "/health"):
            return json_response(200, {"ok": True, "base_urls": self.base_urls})
        if route == ("GET", "/requests"):
            recorded = self.requests(query.get("provider"))
            return json_response(200, {"requests": [r.as_dict() for r in recorded]})
        if route == ("POST", "/reset"):
            self.reset()
            return json_response(200, {"ok": True})
        if route == ("GET", "/config"):
            return json_response(200, self.config())
        if route == ("POST", "/config"):
            return json_response(200, self.configure_from(payload))
        if route == ("GET", "/twilio/calls"):
            return json_response(200, {"calls": [c.summary() for c in self.calls()]})
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 4 and parts[:2] == ["twilio", "calls"]:
            sid, action = parts[2], parts[3]
            timeout = float(payload.get("timeout", 15.0))
            result: WebhookResult | None
            if action == "answer":
                result = self.answer_call(sid, timeout)
            elif action == "gather":
                speech = payload.get("speech")
                if not isinstance(speech, str):
                    raise ValueError('gather needs {"speech": "..."}')
                result = self.gather(sid, speech, float(payload.get("confidence", 0.92)), timeout)
            elif action == "complete":
                duration = payload.get("duration_seconds", 0)
                if isinstance(duration, bool) or not isinstance(duration, int):
                    raise ValueError("duration_seconds must be an integer")
                status = str(payload.get("status", "completed"))
                result = self.complete_call(sid, duration, status, timeout)
            else:
                raise KeyError(f"no call action {action!r}; use answer, gather or complete")
            return json_response(200, {"webhook": None if result is None else result.as_dict()})
        return json_response(404, {"error": f"no control route {method} /__fake{path}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a held request must never keep the process alive
    fakes: FakeProviders

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (after its timeout, say) is normal here, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a client may take to send its request

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read the recorded requests instead

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        self.close_connection = True
        try:
            body = self._read_body()
        except ValueError as err:
            self._write(json_response(400, {"error": str(err)}))
            return
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            response = self.server.fakes.dispatch(
                self.command, unquote(split.path), query, headers, body
            )
        except Exception as err:
            # A bug in a fake: show where on stderr (fakes hold no secrets worth hiding from a
            # developer's terminal) and answer 500 so the test fails loudly, not by timeout.
            traceback.print_exc()
            response = json_response(500, {"error": f"the fake crashed: {type(err).__name__}"})
        self._write(response)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise ValueError("bad or oversized Content-Length")
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, then the blank line
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("oversized chunked body")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)  # the CRLF after each chunk

    def _write(self, response: FakeResponse) -> None:
        if response.drop:
            return  # close_connection is set: the socket closes with nothing written
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Connection", "close")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (its timeout), as tests intend
