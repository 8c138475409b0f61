"""The Deepgram client against the fake Deepgram, over real HTTP."""

from __future__ import annotations

import pytest

from voxflow.fakes import FakeProviders, audio
from voxflow.providers import ProviderError, deepgram

KEY = "dg_tenant_one_abcdef"
VOICE = "aura-2-thalia-en"


def speak(
    fakes: FakeProviders, text: str, key: str = KEY, timeout: float = 5.0
) -> deepgram.SpeakResult:
    return deepgram.speak(key, fakes.base_urls["deepgram"], VOICE, text, timeout)


def transcribe(
    fakes: FakeProviders, body: bytes, key: str = KEY, timeout: float = 5.0
) -> deepgram.TranscribeResult:
    return deepgram.transcribe(
        key, fakes.base_urls["deepgram"], "nova-3", "en", body, "audio/wav", timeout
    )


def test_speak_returns_audio_and_the_billed_characters(fakes: FakeProviders) -> None:
    short = speak(fakes, "Hello!")
    long = speak(fakes, "Hello, thanks for calling. How can I help you today? " * 3)

    assert short.content_type == "audio/mpeg"
    assert short.audio[:2] == b"\xff\xfb"  # an MPEG audio frame
    assert short.characters == len("Hello!")
    assert long.characters == 3 * len("Hello, thanks for calling. How can I help you today? ")
    assert len(long.audio) > len(short.audio)


def test_speak_sends_the_key_voice_and_text_the_way_deepgram_expects(
    fakes: FakeProviders,
) -> None:
    speak(fakes, "Your table is booked.")

    [seen] = fakes.requests("deepgram")
    assert (seen.method, seen.path) == ("POST", "/v1/speak")
    assert seen.headers["authorization"] == f"Token {KEY}"
    assert seen.api_key == KEY
    assert seen.query == {"model": VOICE}
    assert seen.json == {"text": "Your table is booked."}


def test_aura_1_voices_report_characters_in_the_older_header(fakes: FakeProviders) -> None:
    result = deepgram.speak(KEY, fakes.base_urls["deepgram"], "aura-asteria-en", "Hi there", 5.0)
    assert result.characters == len("Hi there")


def test_transcribe_returns_the_transcript_and_the_audio_duration(fakes: FakeProviders) -> None:
    fakes.configure(transcript="Can I move my booking to Friday?")

    result = transcribe(fakes, audio.silent_wav(2.5, sample_rate=16000))

    assert result.transcript == "Can I move my booking to Friday?"
    assert result.duration_seconds == 2.5
    [seen] = fakes.requests("deepgram")
    assert seen.query == {"model": "nova-3", "language": "en"}
    assert seen.headers["content-type"] == "audio/wav"
    assert seen.body is None and seen.body_size > 80_000  # binary audio isn't kept as text


def test_transcribing_what_speak_returned_measures_its_length(fakes: FakeProviders) -> None:
    spoken = speak(fakes, "x" * 150)  # 10 s at the fake's 15 characters a second
    result = deepgram.transcribe(
        KEY, fakes.base_urls["deepgram"], "nova-3", "en", spoken.audio, spoken.content_type, 5.0
    )
    assert result.duration_seconds == pytest.approx(10.0, abs=0.05)


def test_a_rejected_key_is_unauthorized_and_the_message_hides_the_key(
    fakes: FakeProviders,
) -> None:
    key = "rejected-dg-very-secret"
    with pytest.raises(ProviderError) as caught:
        speak(fakes, "Hello", key=key)

    err = caught.value
    assert (err.provider, err.kind, err.status) == ("deepgram", "unauthorized", 401)
    assert key not in str(err) and key not in repr(err)


def test_latency_beyond_the_timeout_is_a_timeout(fakes: FakeProviders) -> None:
    fakes.configure(latency_ms={"deepgram": 3000})
    with pytest.raises(ProviderError) as caught:
        speak(fakes, "Hello", timeout=0.3)
    assert (caught.value.provider, caught.value.kind) == ("deepgram", "timeout")


def test_a_held_request_is_a_timeout(fakes: FakeProviders) -> None:
    fakes.configure(fail_next={"deepgram": "timeout"})
    with pytest.raises(ProviderError) as caught:
        transcribe(fakes, audio.silent_wav(0.5), timeout=0.3)
    assert caught.value.kind == "timeout"


def test_a_500_is_unavailable(fakes: FakeProviders) -> None:
    fakes.configure(fail_next={"deepgram": 500})
    with pytest.raises(ProviderError) as caught:
        transcribe(fakes, audio.silent_wav(0.5))
    assert (caught.value.kind, caught.value.status) == ("unavailable", 500)


def test_a_refused_request_quotes_deepgram(fakes: FakeProviders) -> None:
    with pytest.raises(ProviderError) as caught:
        speak(fakes, "x" * 2001)  # over Deepgram's per-request limit
    assert (caught.value.kind, caught.value.status) == ("bad_response", 413)
    assert "2000 character" in caught.value.message


def test_verify_key(fakes: FakeProviders) -> None:
    base = fakes.base_urls["deepgram"]
    assert deepgram.verify_key(KEY, base, 5.0) is True
    assert deepgram.verify_key("rejected-dg", base, 5.0) is False
    assert [r.path for r in fakes.requests("deepgram")] == ["/v1/projects"] * 2
