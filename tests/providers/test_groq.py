"""The Groq client against the fake Groq, over real HTTP."""

from __future__ import annotations

import math
import pickle
import time

import pytest

from voxflow.fakes import FakeProviders
from voxflow.providers import ProviderError, groq

MODEL = "llama-3.3-70b-versatile"
KEY = "gsk_tenant_one_0123456789"
MESSAGES = [
    {"role": "system", "content": "You are a terse receptionist."},
    {"role": "user", "content": "Book me a table for two."},
]


def chat(
    fakes: FakeProviders,
    key: str = KEY,
    *,
    model: str = MODEL,
    max_tokens: int = 200,
    timeout: float = 5.0,
    base_url: str | None = None,
) -> groq.ChatResult:
    base = base_url or fakes.base_urls["groq"]
    return groq.chat(key, base, model, MESSAGES, 0.2, max_tokens, timeout)


def test_chat_returns_the_reply_and_its_token_usage(fakes: FakeProviders) -> None:
    fakes.configure(reply="Done: a table for two at seven.")

    result = chat(fakes)

    assert result.text == "Done: a table for two at seven."
    assert result.model == MODEL
    # The fake's documented count: ceil(len/4) per text, +4 per message, +3 to prime the reply.
    expected_prompt = 3 + sum(4 + math.ceil(len(m["content"]) / 4) for m in MESSAGES)
    assert result.input_tokens == expected_prompt
    assert result.output_tokens == math.ceil(len(result.text) / 4)
    assert result.latency_ms >= 0


def test_completion_tokens_never_exceed_max_tokens(fakes: FakeProviders) -> None:
    fakes.configure(reply="word " * 500)

    result = chat(fakes, max_tokens=16)

    assert result.output_tokens == 16
    sent = fakes.requests("groq")[-1].json
    assert sent["max_completion_tokens"] == 16


def test_the_fake_records_the_tenants_key_and_the_request(fakes: FakeProviders) -> None:
    chat(fakes, key="gsk_tenant_two")

    [seen] = fakes.requests("groq")
    assert seen.api_key == "gsk_tenant_two"
    assert seen.headers["authorization"] == "Bearer gsk_tenant_two"
    assert (seen.method, seen.path) == ("POST", "/openai/v1/chat/completions")
    assert seen.json["messages"] == MESSAGES
    assert seen.json["temperature"] == 0.2
    assert seen.status == 200


def test_an_openai_style_base_url_works_too(fakes: FakeProviders) -> None:
    result = chat(fakes, base_url=fakes.base_urls["groq"] + "/openai/v1/")
    assert result.input_tokens > 0


def test_a_rejected_key_is_unauthorized_and_the_message_hides_the_key(
    fakes: FakeProviders,
) -> None:
    key = "rejected-gsk-secret-value"
    with pytest.raises(ProviderError) as caught:
        chat(fakes, key=key)

    err = caught.value
    assert (err.provider, err.kind, err.status) == ("groq", "unauthorized", 401)
    assert "Groq" in err.message
    for text in (err.message, str(err), repr(err)):
        assert key not in text


def test_a_key_rejected_by_exact_value(fakes: FakeProviders) -> None:
    fakes.configure(rejected_keys=["gsk_revoked"])
    with pytest.raises(ProviderError) as caught:
        chat(fakes, key="gsk_revoked")
    assert caught.value.kind == "unauthorized"
    assert chat(fakes, key="gsk_still_fine").text


def test_latency_beyond_the_timeout_is_a_timeout(fakes: FakeProviders) -> None:
    fakes.configure(latency_ms={"groq": 3000})
    started = time.perf_counter()

    with pytest.raises(ProviderError) as caught:
        chat(fakes, timeout=0.3)

    assert (caught.value.kind, caught.value.status) == ("timeout", None)
    assert time.perf_counter() - started < 2.0


def test_latency_within_the_timeout_is_just_slower(fakes: FakeProviders) -> None:
    fakes.configure(latency_ms={"groq": 150})
    result = chat(fakes, timeout=3.0)
    assert result.latency_ms >= 150


def test_a_500_is_unavailable_and_is_not_retried(fakes: FakeProviders) -> None:
    fakes.configure(fail_next={"groq": 500})

    with pytest.raises(ProviderError) as caught:
        chat(fakes)

    assert (caught.value.kind, caught.value.status) == ("unavailable", 500)
    assert len(fakes.requests("groq")) == 1  # the voice loop decides on retries, not the SDK
    assert chat(fakes).text  # the failure was for the next request only


@pytest.mark.parametrize(
    ("failure", "kind", "status"),
    [
        (429, "rate_limited", 429),
        (503, "unavailable", 503),
        (403, "unauthorized", 403),
        ("drop", "unavailable", None),
        ("garbage", "bad_response", None),
    ],
)
def test_provider_failures_map_to_error_kinds(
    fakes: FakeProviders, failure: int | str, kind: str, status: int | None
) -> None:
    fakes.configure(fail_next={"groq": failure})
    with pytest.raises(ProviderError) as caught:
        chat(fakes)
    assert (caught.value.provider, caught.value.kind, caught.value.status) == (
        "groq",
        kind,
        status,
    )


def test_an_unknown_model_is_a_bad_response_quoting_groq(fakes: FakeProviders) -> None:
    with pytest.raises(ProviderError) as caught:
        chat(fakes, model="no-such-model")
    assert (caught.value.kind, caught.value.status) == ("bad_response", 404)
    assert "no-such-model" in caught.value.message


def test_a_provider_message_that_echoes_the_key_is_scrubbed(fakes: FakeProviders) -> None:
    # The fake quotes the model name in its 404; pretend a user pasted their key there.
    with pytest.raises(ProviderError) as caught:
        chat(fakes, key=KEY, model=KEY)
    assert caught.value.kind == "bad_response"
    assert KEY not in caught.value.message
    assert "[redacted]" in caught.value.message


def test_errors_survive_pickling() -> None:
    err = ProviderError("groq", "timeout", None, "Groq did not answer within 1 s")
    assert pickle.loads(pickle.dumps(err)) == err


def test_an_unreachable_groq_is_unavailable() -> None:
    with pytest.raises(ProviderError) as caught:
        groq.chat(KEY, "http://127.0.0.1:9", MODEL, MESSAGES, 0.2, 10, 1.0)
    assert (caught.value.kind, caught.value.status) == ("unavailable", None)


def test_verify_key(fakes: FakeProviders) -> None:
    base = fakes.base_urls["groq"]
    assert groq.verify_key(KEY, base, 5.0) is True
    assert groq.verify_key("rejected-key", base, 5.0) is False
    assert [r.path for r in fakes.requests("groq")] == ["/openai/v1/models"] * 2

    fakes.configure(fail_next={"groq": 502})
    with pytest.raises(ProviderError) as caught:
        groq.verify_key(KEY, base, 5.0)
    assert caught.value.kind == "unavailable"
