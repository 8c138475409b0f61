"""Fake Groq, Deepgram and Twilio: real HTTP servers on 127.0.0.1 speaking each provider's wire
format, for tests and local development. Never for production.

In process:

    fakes = FakeProviders.start()          # port 0: a free port
    fakes.base_urls["groq"]                # http://127.0.0.1:<port>/groq
    fakes.configure(fail_next={"groq": 500}, latency_ms={"deepgram": 300})
    fakes.requests("groq")[-1].api_key     # the key the last Groq request carried
    fakes.reset(); fakes.stop()

In another process: `python -m voxflow.fakes --port N`, then drive it with FakeControl(url).
"""

from voxflow.fakes.config import FakeConfig
from voxflow.fakes.control import FakeControl
from voxflow.fakes.server import FakeProviders, RecordedRequest
from voxflow.fakes.twilio import FakeCall, WebhookResult

__all__ = [
    "FakeCall",
    "FakeConfig",
    "FakeControl",
    "FakeProviders",
    "RecordedRequest",
    "WebhookResult",
]
