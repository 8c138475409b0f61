"""The voice runtime end to end through the gateway against the fake providers: each flow on
the owner's own keys, metered, held to the plan's quota and rate; Twilio webhooks signed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
import requests
from psycopg.types.json import Jsonb

from tests.api.conftest import Api, Mailbox, User
from tests.api.test_tenancy import REST, create_agent, put_key
from tests.conftest import StackInfo
from voxflow.fakes.control import FakeControl
from voxflow.providers import twilio as twilio_client

ALICE_GROQ = "gsk_test_alice_runtime_0001"
BOB_GROQ = "gsk_test_bobby_runtime_0002"
DEEPGRAM = "dg_test_runtime_key_0003_abcdefgh"
TWILIO_SID = "AC" + "1234567890ABCDEF" * 2
TWILIO_TOKEN = "0123456789ABCDEF" * 2


@dataclass
class Owner:
    user: User
    agent: dict[str, Any]


@pytest.fixture
def owner(api: Api, make_user: Callable[..., User]) -> Owner:
    """A user with all three providers' keys and one agent."""
    user = make_user()
    put_key(api, user, "groq", {"api_key": ALICE_GROQ})
    put_key(api, user, "deepgram", {"api_key": DEEPGRAM})
    put_key(api, user, "twilio", {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
                                  "phone_number": "+14155550100"})  # fmt: skip
    agent = create_agent(
        api, user, name="Front desk", system_prompt="Be kind.", max_tokens=40,
        first_message="Hello from the front desk", temperature=0.3,
    ).json()[0]  # fmt: skip
    return Owner(user, agent)


def chat(api: Api, owner: Owner, message: str = "hi", **extra: Any) -> requests.Response:
    return api.post("/functions/v1/agent-chat", headers=owner.user.headers,
                    json={"agent_id": owner.agent["id"], "message": message, **extra})  # fmt: skip


def events(stack: StackInfo, user: User) -> list[dict[str, Any]]:
    with stack.connect() as conn:
        cur = conn.execute(
            "select provider, kind, model, input_tokens, output_tokens, audio_seconds, "
            "characters, call_seconds, success, cost_usd, price_version, error_code "
            "from public.usage_events where user_id = %s order by id",
            (user.id,),
        )
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# --- the three provider flows -------------------------------------------------------------------


def test_chat_uses_the_owners_key_keeps_history_and_is_metered(
    api: Api, owner: Owner, fakes: FakeControl, stack: StackInfo
) -> None:
    first = chat(api, owner, "What are your opening hours?")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["reply"] and body["usage"]["input_tokens"] > 0
    second = chat(api, owner, "And on Sunday?", conversation_id=body["conversation_id"])
    assert second.status_code == 200 and second.json()["conversation_id"] == body["conversation_id"]

    sent = fakes.requests("groq")
    assert [r["api_key"] for r in sent] == [ALICE_GROQ, ALICE_GROQ]
    request = sent[-1]["json"]
    assert request["model"] == "llama-3.3-70b-versatile"
    assert request["max_completion_tokens"] == 40
    assert request["temperature"] == pytest.approx(0.3)
    assert [m["role"] for m in request["messages"]] == [
        "system", "user", "assistant", "user"
    ], "the second turn carries the first as history"  # fmt: skip
    assert request["messages"][0]["content"] == "Be kind."

    recorded = events(stack, owner.user)
    assert len(recorded) == 2 and all(e["kind"] == "llm" and e["success"] for e in recorded)
    assert all(e["cost_usd"] > 0 and e["price_version"] for e in recorded)
    summary = api.get(f"{REST}/usage_summary", headers=owner.user.headers).json()[0]
    assert summary["tokens_used"] == sum(e["input_tokens"] + e["output_tokens"] for e in recorded)
    assert summary["token_limit"] == 1000 and summary["tokens_reserved"] == 0
    by_provider = api.get(f"{REST}/usage_by_provider", headers=owner.user.headers).json()
    assert [(r["provider"], r["kind"], r["events"]) for r in by_provider] == [("groq", "llm", 2)]


def test_each_user_is_served_with_their_own_key(
    api: Api, owner: Owner, make_user: Callable[..., User], fakes: FakeControl
) -> None:
    bob = make_user()
    put_key(api, bob, "groq", {"api_key": BOB_GROQ})
    bobs_agent = create_agent(api, bob).json()[0]
    assert chat(api, owner).status_code == 200
    response = api.post("/functions/v1/agent-chat", headers=bob.headers,
                        json={"agent_id": bobs_agent["id"], "message": "hi"})  # fmt: skip
    assert response.status_code == 200
    assert [r["api_key"] for r in fakes.requests("groq")] == [ALICE_GROQ, BOB_GROQ]
    stolen = api.post("/functions/v1/agent-chat", headers=bob.headers,
                      json={"agent_id": owner.agent["id"], "message": "hi"})  # fmt: skip
    assert stolen.status_code == 404, "nobody calls another user's agent"


def test_an_idempotency_key_meters_once_and_is_never_reused_for_a_free_call(
    api: Api, owner: Owner, make_user: Callable[..., User], fakes: FakeControl, stack: StackInfo
) -> None:
    """A retried request with the same Idempotency-Key is refused before the provider is
    called (reusing a key must not buy an unmetered turn); keys are scoped to their user."""
    body = {"agent_id": owner.agent["id"], "message": "hi"}
    headers = {**owner.user.headers, "Idempotency-Key": "order-42"}
    first = api.post("/functions/v1/agent-chat", headers=headers, json=body)
    assert first.status_code == 200, first.text
    again = api.post("/functions/v1/agent-chat", headers=headers, json=body)
    assert again.status_code == 409 and again.json()["code"] == "idempotency_key_reused"
    assert len(fakes.requests("groq")) == 1, "the refused retry never reached the provider"
    assert len(events(stack, owner.user)) == 1

    bob = make_user()
    put_key(api, bob, "groq", {"api_key": BOB_GROQ})
    bobs_agent = create_agent(api, bob).json()[0]
    same_key = api.post("/functions/v1/agent-chat",
                        headers={**bob.headers, "Idempotency-Key": "order-42"},
                        json={"agent_id": bobs_agent["id"], "message": "hi"})  # fmt: skip
    assert same_key.status_code == 200, "another user's identical key is a different key"
    assert len(events(stack, bob)) == 1, "and their usage is metered"


def test_a_turn_whose_conversation_is_deleted_meanwhile_is_still_metered(
    api: Api, owner: Owner, fakes: FakeControl, stack: StackInfo
) -> None:
    first = chat(api, owner)
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    fakes.configure(latency_ms={"groq": 1500})
    answers: list[requests.Response] = []
    turn = threading.Thread(target=lambda: answers.append(
        chat(api, owner, "still there?", conversation_id=conversation)))  # fmt: skip
    turn.start()
    time.sleep(0.7)  # the provider is answering
    with stack.connect() as conn:
        conn.execute("delete from public.conversations where id = %s", (conversation,))
    turn.join(timeout=30)
    assert answers[0].status_code == 409 and answers[0].json()["code"] == "conversation_deleted"
    assert len(events(stack, owner.user)) == 2, "the paid provider call is metered"
    summary = api.get(f"{REST}/usage_summary", headers=owner.user.headers).json()[0]
    assert summary["tokens_reserved"] == 0, "and its quota hold is released"


def test_speak_and_transcribe(api: Api, owner: Owner, fakes: FakeControl, stack: StackInfo) -> None:
    words = {"agent_id": owner.agent["id"], "text": "Welcome to VoxFlow"}
    spoken = api.post("/functions/v1/agent-speak", headers=owner.user.headers, json=words)
    assert spoken.status_code == 200 and spoken.headers["Content-Type"].startswith("audio/")
    assert len(spoken.content) > 100
    heard = api.post(
        f"/functions/v1/agent-transcribe?agent_id={owner.agent['id']}",
        headers={**owner.user.headers, "Content-Type": "audio/wav"},
        data=spoken.content if spoken.headers["Content-Type"] == "audio/wav" else b"\0" * 32000,
    )
    assert heard.status_code == 200, heard.text
    assert heard.json()["transcript"] and heard.json()["duration_seconds"] > 0
    speak_request = fakes.requests("deepgram")[0]
    assert speak_request["api_key"] == DEEPGRAM
    assert speak_request["query"]["model"] == "aura-2-thalia-en"
    kinds = {e["kind"]: e for e in events(stack, owner.user)}
    assert kinds["tts"]["characters"] == len("Welcome to VoxFlow") and kinds["tts"]["cost_usd"] > 0
    assert kinds["stt"]["audio_seconds"] > 0 and kinds["stt"]["cost_usd"] > 0


# --- provider failures --------------------------------------------------------------------------


def test_a_missing_key_says_where_to_set_it(api: Api, user: User) -> None:
    agent = create_agent(api, user).json()[0]
    response = api.post("/functions/v1/agent-chat", headers=user.headers,
                        json={"agent_id": agent["id"], "message": "hi"})  # fmt: skip
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "provider_key_missing" and error["details"] == "groq"
    assert "PUT /functions/v1/api-keys/groq" in error["hint"] and "api_key" in error["hint"]


def test_a_rejected_key_is_reported_and_metered_as_a_failure(
    api: Api, owner: Owner, fakes: FakeControl, stack: StackInfo
) -> None:
    fakes.configure(rejected_keys=[ALICE_GROQ])
    response = chat(api, owner)
    assert response.status_code == 422
    assert response.json()["code"] == "provider_key_rejected"
    assert "api-keys/groq" in response.json()["hint"]
    assert ALICE_GROQ not in response.text
    (event,) = events(stack, owner.user)
    assert event["success"] is False and event["input_tokens"] == 0
    summary = api.get(f"{REST}/usage_summary", headers=owner.user.headers).json()[0]
    assert summary["tokens_reserved"] == 0, "the hold was released"


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [("timeout", 504, "provider_timeout"), (500, 502, "provider_error"),
     ("drop", 502, "provider_error")],
)  # fmt: skip
def test_provider_outages_are_clear_errors(
    api: Api, owner: Owner, fakes: FakeControl, failure: Any, status: int, code: str
) -> None:
    fakes.configure(fail_next={"groq": failure}, hang_seconds=4)
    response = chat(api, owner)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and "Groq" in body["message"]
    assert "Traceback" not in response.text and "request_id" in body


# --- quota --------------------------------------------------------------------------------------


def set_tokens_used(stack: StackInfo, user: User, used: int) -> None:
    with stack.connect() as conn:
        conn.execute(
            "insert into public.usage_counters (user_id, period_start, tokens_used) "
            "values (%s, date_trunc('month', now() at time zone 'UTC')::date, %s) "
            "on conflict (user_id, period_start) do update set tokens_used = excluded.tokens_used",
            (user.id, used),
        )


def test_over_quota_is_429_with_usage_reset_date_and_upgrade(
    api: Api, owner: Owner, stack: StackInfo
) -> None:
    set_tokens_used(stack, owner.user, 1000)
    for response in (
        chat(api, owner),
        api.post("/functions/v1/agent-speak", headers=owner.user.headers,
                 json={"agent_id": owner.agent["id"], "text": "hi"}),
    ):  # fmt: skip
        assert response.status_code == 429
        error = response.json()
        assert error["code"] == "quota_exceeded"
        assert "1000 of 1000" in error["message"]
        assert "resets on" in error["hint"] and "Upgrade to Pro" in error["hint"]


def test_concurrent_chats_cannot_overrun_the_quota(
    api: Api, owner: Owner, stack: StackInfo
) -> None:
    """50 chats at once with 60 tokens left: only what fits is admitted."""
    api.patch(f"{REST}/agents?id=eq.{owner.agent['id']}", headers=owner.user.headers,
              json={"max_tokens": 2})  # fmt: skip
    set_tokens_used(stack, owner.user, 940)
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        code = chat(api, owner).status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted = statuses.count(200)
    assert set(statuses) <= {200, 429} and 1 <= admitted <= 4
    with stack.connect() as conn:
        used, reserved = conn.execute(
            "select tokens_used, tokens_reserved from public.usage_counters where user_id = %s",
            (owner.user.id,),
        ).fetchone()
    assert used <= 1000 and reserved == 0
    assert used == 940 + sum(
        e["input_tokens"] + e["output_tokens"] for e in events(stack, owner.user)
    )


def test_warnings_at_80_95_100_are_sent_once_per_period(
    api: Api, owner: Owner, stack: StackInfo, mailbox: Mailbox
) -> None:
    api.patch(f"{REST}/agents?id=eq.{owner.agent['id']}", headers=owner.user.headers,
              json={"max_tokens": 2})  # fmt: skip  # each chat spends ~16 tokens
    set_tokens_used(stack, owner.user, 790)
    assert chat(api, owner).status_code == 200  # crosses 80 %
    assert chat(api, owner).status_code == 200  # still above 80 %: no second warning
    set_tokens_used(stack, owner.user, 940)
    assert chat(api, owner).status_code == 200  # crosses 95 %
    with stack.connect() as conn:
        warnings = conn.execute(
            "select metric, threshold from public.quota_warnings where user_id = %s order by 2",
            (owner.user.id,),
        ).fetchall()
    assert warnings == [("tokens", 80), ("tokens", 95)]
    notes = api.get(f"{REST}/notifications?kind=eq.quota_warning&order=id",
                    headers=owner.user.headers).json()  # fmt: skip
    assert [n["data"]["threshold"] for n in notes] == [80, 95]
    assert "Upgrade to Pro" in notes[0]["body"]
    subjects = [m["Subject"] for m in mailbox.wait_for(owner.user.email, count=5)]
    assert sum("80%" in s for s in subjects) == 1 and sum("95%" in s for s in subjects) == 1


# --- telephony ----------------------------------------------------------------------------------


def test_a_phone_call_from_start_to_finish(
    api: Api, owner: Owner, fakes: FakeControl, stack: StackInfo
) -> None:
    started = api.post("/functions/v1/calls", headers=owner.user.headers,
                       json={"agent_id": owner.agent["id"], "to": "+14155559999"})  # fmt: skip
    assert started.status_code == 201, started.text
    sid = started.json()["call_sid"]
    assert fakes.requests("twilio")[-1]["account_sid"] == TWILIO_SID

    answered = fakes.answer_call(sid)
    assert answered["status"] == 200, answered["body"]
    assert "<Play>" in answered["body"] and "<Gather" in answered["body"]
    replied = fakes.gather(sid, "Do you open on Saturdays?")
    assert replied["status"] == 200 and "<Play>" in replied["body"], replied["body"]
    audio_url = replied["body"].split("<Play>")[1].split("</Play>")[0]
    assert requests.get(audio_url, timeout=10).status_code == 200
    finished = fakes.complete_call(sid, duration_seconds=95)
    assert finished is not None and finished["status"] == 204

    with stack.connect() as conn:
        call = conn.execute(
            "select status, duration_seconds, direction, jsonb_array_length(transcript), user_id "
            "from public.calls where twilio_call_sid = %s",
            (sid,),
        ).fetchone()
    assert call[:4] == ("completed", 95, "outbound", 2) and str(call[4]) == owner.user.id
    kinds = [e["kind"] for e in events(stack, owner.user)]
    assert sorted(kinds) == ["llm", "telephony", "tts", "tts"]
    telephony = next(e for e in events(stack, owner.user) if e["kind"] == "telephony")
    assert telephony["call_seconds"] == 95 and telephony["cost_usd"] > 0


def signed_post(
    url: str, params: dict[str, str], token: str, idem: str = "t-1"
) -> requests.Response:
    signature = twilio_client.sign(token, url, params)
    headers = {twilio_client.SIGNATURE_HEADER: signature, "I-Twilio-Idempotency-Token": idem}
    return requests.post(url, data=params, headers=headers, timeout=10)


def test_twilio_webhooks_need_the_owners_signature(
    api: Api, owner: Owner, stack: StackInfo
) -> None:
    url = f"{stack.api_url}/functions/v1/twilio/voice/{owner.agent['id']}"
    params = {"CallSid": "CA" + "f" * 32, "AccountSid": TWILIO_SID, "From": "+14155550001",
              "To": "+14155550100", "Direction": "inbound", "CallStatus": "ringing"}  # fmt: skip
    forged = signed_post(url, params, "F" * 32)
    assert forged.status_code == 403 and forged.json()["code"] == "invalid_signature"
    unsigned = requests.post(url, data=params, timeout=10)
    assert unsigned.status_code == 403
    genuine = signed_post(url, params, TWILIO_TOKEN)
    assert genuine.status_code == 200 and "<Gather" in genuine.text


def test_a_retried_status_webhook_is_counted_once(api: Api, owner: Owner, stack: StackInfo) -> None:
    sid = "CA" + "e" * 32
    base = f"{stack.api_url}/functions/v1/twilio"
    params = {"CallSid": sid, "AccountSid": TWILIO_SID, "From": "+14155550001",
              "To": "+14155550100", "Direction": "inbound", "CallStatus": "ringing"}  # fmt: skip
    assert signed_post(f"{base}/voice/{owner.agent['id']}", params, TWILIO_TOKEN).status_code == 200
    done = {**params, "CallStatus": "completed", "CallDuration": "61"}
    for _ in range(3):  # Twilio retries a webhook it did not get an answer to
        response = signed_post(f"{base}/status/{owner.agent['id']}", done, TWILIO_TOKEN)
        assert response.status_code == 204
    telephony = [e for e in events(stack, owner.user) if e["kind"] == "telephony"]
    assert len(telephony) == 1 and telephony[0]["model"] == "inbound"


# --- the ledger ---------------------------------------------------------------------------------


def test_usage_events_are_append_only_through_the_api(api: Api, owner: Owner, admin: User) -> None:
    assert chat(api, owner).status_code == 200
    for who in (owner.user, admin):
        patched = api.patch(f"{REST}/usage_events?user_id=eq.{owner.user.id}", headers=who.headers,
                            json={"cost_usd": 0})  # fmt: skip
        deleted = api.delete(f"{REST}/usage_events?user_id=eq.{owner.user.id}", headers=who.headers)
        assert patched.status_code in (401, 403) and deleted.status_code in (401, 403)
    rows = api.get(f"{REST}/usage_events", headers=owner.user.headers).json()
    assert len(rows) == 1 and float(rows[0]["cost_usd"]) > 0


def record(conn: Any, user: User, key: str, occurred_at: str) -> None:
    """A metered LLM call of 100 + 50 tokens, as the sidecar records one."""
    event = {"user_id": user.id, "provider": "groq", "kind": "llm", "success": True,
             "model": "llama-3.1-8b-instant", "input_tokens": 100, "output_tokens": 50,
             "idempotency_key": key, "occurred_at": occurred_at}  # fmt: skip
    conn.execute("select private.record_usage(%s)", (Jsonb(event),))


def test_billing_close_is_idempotent_and_late_events_become_adjustments(
    api: Api, owner: Owner, stack: StackInfo
) -> None:
    """A month ends: summaries are written once, the month's events archived, nothing lost."""
    with stack.connect() as conn:
        last_month = conn.execute(
            "select (date_trunc('month', now() at time zone 'UTC') - interval '1 month')::date"
        ).fetchone()[0]
        for i in range(3):
            record(conn, owner.user, f"close-test-{owner.user.id}-{i}", f"{last_month}T12:00Z")
    first = stack.voxflow("billing", "close")
    assert "period(s) closed" in first.stdout
    again = stack.voxflow("billing", "close")
    assert again.stdout.strip().endswith("0 period(s) closed")
    with stack.connect() as conn:
        summary = conn.execute(
            "select events, input_tokens, output_tokens, cost_usd from public.period_summaries "
            "where user_id = %s and period_start = %s",
            (owner.user.id, last_month),
        ).fetchall()
        assert [(r[0], r[1], r[2]) for r in summary] == [(3, 300, 150)] and summary[0][3] > 0
        archived = conn.execute(
            "select archive_table from private.closed_periods where period_start = %s",
            (last_month,),
        ).fetchone()[0]
        kept = conn.execute(f"select count(*) from {archived} where user_id = %s", (owner.user.id,))
        assert kept.fetchone() == (3,), "the archived events are all there"
        record(conn, owner.user, f"late-{owner.user.id}", f"{last_month}T23:00Z")
        late = conn.execute(
            "select period_start, adjusts_period from public.usage_events "
            "where idempotency_key = %s",
            (f"late-{owner.user.id}",),
        ).fetchone()
        assert late[1] == last_month and late[0] > last_month, "an adjustment in the open month"
        unchanged = conn.execute(
            "select sum(events) from public.period_summaries where user_id = %s and "
            "period_start = %s",
            (owner.user.id, last_month),
        ).fetchone()
        assert unchanged == (3,), "the closed summary is immutable"
    with pytest.raises(Exception, match="cannot change"):
        with stack.connect() as conn:
            conn.execute("update public.period_summaries set events = 0 where user_id = %s",
                         (owner.user.id,))  # fmt: skip


def test_prices_import_accepts_litellm_and_changes_are_audited(
    stack: StackInfo, tmp_path: Any
) -> None:
    litellm = tmp_path / "model_prices_and_context_window.json"
    litellm.write_text(
        '{"groq/llama-3.1-8b-instant": {"input_cost_per_token": 6e-08, '
        '"output_cost_per_token": 9e-08, "litellm_provider": "groq", "mode": "chat"}, '
        '"gpt-4o": {"input_cost_per_token": 2.5e-06, "litellm_provider": "openai"}}'
    )
    result = stack.voxflow("prices", "import", str(litellm), check=False)
    assert result.returncode == 0, result.stderr
    assert "read 2 price(s)" in result.stdout
    with stack.connect() as conn:
        current = conn.execute(
            "select usd_per_unit from public.price_book where provider = 'groq' and "
            "model = 'llama-3.1-8b-instant' and unit = 'input_token' and effective_to is null"
        ).fetchone()
        assert float(current[0]) == pytest.approx(6e-08)
        audited = conn.execute(
            "select count(*) from private.audit_log where action = 'price.changed' "
            "and target_id = 'groq/llama-3.1-8b-instant/input_token'"
        ).fetchone()
        assert audited[0] >= 1
    bad = tmp_path / "bad.json"
    bad.write_text(
        '[{"provider": "openai", "model": "x", "unit": "input_token", "usd_per_unit": 1}]'
    )
    refused = stack.voxflow("prices", "import", str(bad), check=False)
    assert refused.returncode == 1 and "provider must be one of" in refused.stderr
    for content, says in [
        (
            '[{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": 1}, '
            '{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": 2}]',
            "groq/m has two prices per input_token",
        ),
        (
            '[{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": NaN}]',
            "usd_per_unit must be a number >= 0",
        ),
        (
            '[{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": true}]',
            "usd_per_unit must be a number >= 0",
        ),
    ]:
        bad.write_text(content)
        refused = stack.voxflow("prices", "import", str(bad), check=False)
        assert refused.returncode == 1 and says in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    bad.write_bytes(b"\xff\xfe not text")
    refused = stack.voxflow("prices", "import", str(bad), check=False)
    assert refused.returncode == 1 and "cannot be read as UTF-8 text" in refused.stderr


# --- per-user rate limits -----------------------------------------------------------------------


@pytest.fixture
def tiny_plan(stack: StackInfo) -> Iterator[str]:
    with stack.connect() as conn:
        conn.execute(
            "insert into public.plans (id, name, agent_limit, monthly_token_limit, "
            "requests_per_minute, sort_order) values ('tiny', 'Tiny', 5, 100000, 6, 99) "
            "on conflict (id) do nothing"
        )
    yield "tiny"
    with stack.connect() as conn:  # other tests compare the real plan catalogue
        conn.execute("update public.profiles set plan_id = 'free' where plan_id = 'tiny'")
        conn.execute("delete from public.plans where id = 'tiny'")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def replica_of(stack: StackInfo) -> dict[str, str]:
    """The settings a replica shares with the stack: the same rate-limit store."""
    store = stack.rate_limit_store
    return {"VOXFLOW_REDIS_URL": "" if store == "postgres" else store}


def start_sidecar(stack: StackInfo, **env: str) -> tuple[subprocess.Popen, str]:
    """Another sidecar replica on its own port, sharing only the database (and Redis, if the
    stack uses it) with the others."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--no-control-socket", "voxflow.app:create_app()"],
        env={**stack.env, "VOXFLOW_API_URL": stack.api_url, **replica_of(stack), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/auth/v1/health", timeout=5).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)  # polling for readiness
    proc.kill()
    raise AssertionError("the extra sidecar did not start")


@pytest.fixture
def replicas(stack: StackInfo) -> Iterator[Callable[..., str]]:
    started: list[subprocess.Popen] = []

    def start(**env: str) -> str:
        proc, url = start_sidecar(stack, **env)
        started.append(proc)
        return url

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def on_tiny_plan(api: Api, owner: Owner, stack: StackInfo, plan: str) -> User:
    with stack.connect() as conn:
        conn.execute("update public.profiles set plan_id = %s where id = %s", (plan, owner.user.id))
    if time.time() % 60 > 54:  # the counters use one-minute windows: start inside one
        time.sleep(61 - time.time() % 60)
    return api.session_for(owner.user.email)  # a token that names the new plan


def test_rate_limits_follow_the_plan_across_routes_and_replicas(
    api: Api, owner: Owner, tiny_plan: str, stack: StackInfo, replicas: Callable[..., str]
) -> None:
    """The stack's own store (Redis when the machine has one): PostgREST through the gateway
    and the sidecar routes of another replica draw on one per-user count."""
    other = replicas()
    user = on_tiny_plan(api, owner, stack, tiny_plan)
    first = api.get(f"{REST}/agents", headers=user.headers)
    assert first.status_code == 200 and first.headers["X-RateLimit-Limit"] == "6"
    left = int(first.headers["X-RateLimit-Remaining"])  # the set-up's requests count too
    answers = []
    for i in range(left + 2):
        if i % 2 == 0:  # the other replica, straight to its sidecar routes
            answers.append(requests.delete(f"{other}/functions/v1/api-keys/openai",
                                           headers=user.headers, timeout=10))  # fmt: skip
        else:  # the gateway → PostgREST
            answers.append(api.get(f"{REST}/agents", headers=user.headers))
    codes = [r.status_code for r in answers]
    assert all(c in (200, 404) for c in codes[:left]) and codes[left:] == [429, 429], codes
    limited = answers[-1]
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0 and limited.headers["X-RateLimit-Limit"] == "6"
    others = api.get(f"{REST}/plans")  # anonymous traffic is counted per IP, separately
    assert others.status_code == 200 and "X-RateLimit-Limit" in others.headers


def test_without_redis_replicas_share_counts_in_postgres(
    api: Api, owner: Owner, tiny_plan: str, stack: StackInfo, replicas: Callable[..., str]
) -> None:
    one, two = replicas(VOXFLOW_REDIS_URL=""), replicas(VOXFLOW_REDIS_URL="")
    user = on_tiny_plan(api, owner, stack, tiny_plan)
    with stack.connect() as conn:  # forget the set-up's requests, if they were counted here
        conn.execute("delete from private.rate_limit_hits where bucket = %s", (f"user:{user.id}",))
    codes = [
        requests.delete(f"{url}/functions/v1/api-keys/openai", headers=user.headers,
                        timeout=10).status_code
        for url in [one, two] * 4
    ]  # fmt: skip
    assert codes[:6] == [404] * 6 and codes[6:] == [429, 429]
    with stack.connect() as conn:
        counted = conn.execute(
            "select sum(hits) from private.rate_limit_hits where bucket = %s", (f"user:{user.id}",)
        ).fetchone()
    assert counted[0] >= 8, "the count lives in Postgres"


def test_the_rate_follows_a_plan_change_with_the_token_already_issued(api: Api, user: User) -> None:
    """The limit comes from the database's current plan, not from the token's claims: after
    Free -> Pro the same token gets Pro's rate at once (VOXFLOW_PLAN_CACHE_SECONDS is 0 here)."""
    before = api.get(f"{REST}/agents", headers=user.headers)
    assert before.headers["X-RateLimit-Limit"] == "60"
    changed = api.post(f"{REST}/rpc/change_plan", headers=user.headers, json={"plan_id": "pro"})
    assert changed.status_code == 200, changed.text
    after = api.get(f"{REST}/agents", headers=user.headers)
    assert after.headers["X-RateLimit-Limit"] == "600"
    sidecar = api.delete("/functions/v1/api-keys/openai", headers=user.headers)
    assert sidecar.headers["X-RateLimit-Limit"] == "600"


def test_admins_get_the_most_generous_rate(api: Api, admin: User, user: User) -> None:
    """Admins drive the dashboards: they are not held to the Free plan's 60 a minute."""
    as_admin = api.get(f"{REST}/agents", headers=admin.headers)
    as_user = api.get(f"{REST}/agents", headers=user.headers)
    assert as_user.headers["X-RateLimit-Limit"] == "60"
    assert as_admin.headers["X-RateLimit-Limit"] == "3000"


def test_a_token_stops_counting_as_its_user_once_it_expires(
    api: Api, user: User, stack: StackInfo
) -> None:
    """The gate remembers each token's subject (verifying costs more than counting). It counts
    a token as its user exactly as long as PostgREST serves it (30 s of clock-skew allowance
    past `exp`), then by the caller's IP, never on the user's plan from memory."""
    secret = json.loads((stack.state_dir / "secrets.json").read_text())["jwt_secret"]
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    expiry = int(time.time()) - 28  # expired, but inside the allowance for 2 more seconds
    late = jwt.encode({**claims, "exp": expiry}, secret, algorithm="HS256")
    headers = {**user.headers, "Authorization": f"Bearer {late}"}
    served = api.get(f"{REST}/agents", headers=headers)
    assert served.status_code == 200 and served.headers["X-RateLimit-Limit"] == "60"
    time.sleep(max(0.0, expiry + 30 - time.time()) + 0.5)  # past the allowance
    refused = api.get(f"{REST}/agents", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["X-RateLimit-Limit"] == "300"  # counted per IP, as anonymous
