"""The fakes' /__fake control API, used over HTTP the way a test in another process would."""

from __future__ import annotations

import pytest
import requests

from voxflow.fakes import FakeControl, FakeProviders
from voxflow.fakes.control import FakeControlError
from voxflow.providers import ProviderError, deepgram, groq, twilio

ACCOUNT = "AC" + "3" * 32


def test_health_lists_the_base_urls(fakes: FakeProviders) -> None:
    answer = requests.get(f"{fakes.url}/__fake/health", timeout=5)
    assert answer.json() == {"ok": True, "base_urls": fakes.base_urls}


def test_recorded_requests_show_each_tenants_key(fakes: FakeProviders) -> None:
    control = FakeControl(fakes.url)
    groq.verify_key("gsk_tenant_a", control.base_urls["groq"], 5.0)
    deepgram.verify_key("dg_tenant_b", control.base_urls["deepgram"], 5.0)

    everything = control.requests()
    only_groq = control.requests("groq")

    assert [(r["provider"], r["api_key"]) for r in everything] == [
        ("groq", "gsk_tenant_a"),
        ("deepgram", "dg_tenant_b"),
    ]
    assert [r["headers"]["authorization"] for r in only_groq] == ["Bearer gsk_tenant_a"]


def test_config_over_http_queues_failures_and_latency(fakes: FakeProviders) -> None:
    control = FakeControl(fakes.url)
    config = control.configure(fail_next={"deepgram": [503, "drop"]}, latency_ms={"groq": 5})

    assert config["fail_next"]["deepgram"] == [503, "drop"]
    assert config["latency_ms"] == {"groq": 5, "deepgram": 0, "twilio": 0}
    base = control.base_urls["deepgram"]
    kinds = []
    for _ in range(3):
        try:
            deepgram.verify_key("dg", base, 5.0)
            kinds.append("ok")
        except ProviderError as err:
            kinds.append(err.kind)
    assert kinds == ["unavailable", "unavailable", "ok"]
    assert [r["status"] for r in control.requests("deepgram")] == [503, None, 200]


def test_reset_over_http_forgets_requests_and_config(fakes: FakeProviders) -> None:
    control = FakeControl(fakes.url)
    control.configure(rejected_keys=["gsk_x"], reply="fixed")
    groq.verify_key("gsk_x", control.base_urls["groq"], 5.0)

    control.reset()

    assert control.requests() == []
    assert control.config()["rejected_keys"] == []
    assert control.config()["reply"] is None


def test_bad_settings_are_refused_by_name(fakes: FakeProviders) -> None:
    control = FakeControl(fakes.url)
    for bad in (
        {"fail_next": {"groq": "explode"}},
        {"fail_next": {"openai": 500}},
        {"latency_ms": {"groq": -1}},
        {"no_such_setting": 1},
    ):
        with pytest.raises(FakeControlError):
            control.configure(**bad)
    assert control.config()["fail_next"] == {"groq": [], "deepgram": [], "twilio": []}


def test_twilio_calls_are_listed_without_tokens(fakes: FakeProviders) -> None:
    control = FakeControl(fakes.url)
    call = twilio.create_call(
        ACCOUNT,
        "secret-token",
        control.base_urls["twilio"],
        "+15005550006",
        "+14155550100",
        "https://app.example/voice",
        None,
        5.0,
    )

    [listed] = control.calls()

    assert listed["sid"] == call.sid
    assert listed["status"] == "queued"
    assert "secret-token" not in str(listed)
    # No status callback was given, so completing sends nothing.
    assert control.complete_call(call.sid, duration_seconds=5) is None
    assert control.calls()[0]["status"] == "completed"


def test_driving_an_unknown_call_is_a_404(fakes: FakeProviders) -> None:
    answer = requests.post(f"{fakes.url}/__fake/twilio/calls/CAnope/answer", json={}, timeout=5)
    assert answer.status_code == 404
    assert "CAnope" in answer.json()["error"]


def test_unknown_paths_answer_in_json(fakes: FakeProviders) -> None:
    assert requests.get(f"{fakes.url}/openai/v1/models", timeout=5).status_code == 404
    assert requests.get(f"{fakes.url}/__fake/nothing", timeout=5).status_code == 404
