"""Twilio webhooks under /functions/v1/twilio: an agent answers the phone.

Each request is accepted only with a valid X-Twilio-Signature made with the agent owner's
Twilio auth token. The call greets with the agent's first message, gathers speech, sends it
to the agent, speaks the reply (Deepgram audio Twilio fetches with <Play>) and loops, until the
caller hangs up or the call's turn budget (capped from the tokens left when it started) is
spent. Every provider call is metered; a retried webhook is counted once.
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from psycopg.types.json import Jsonb

from voxflow import keys, metering
from voxflow.blueprints.runtime import callable_agent, chat_turn, settings, synthesize
from voxflow.db import transaction
from voxflow.errors import ApiError
from voxflow.providers import twilio

bp = Blueprint("twilio", __name__, url_prefix="/functions/v1/twilio")

MAX_TURNS = 50
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
AUDIO_MINUTES = 15  # how long Twilio may fetch an agent's reply for <Play>


def twiml(*verbs: str) -> Response:
    body = '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"
    return Response(body, mimetype="text/xml")


def say(text: str) -> str:
    return f"<Say>{escape(text)}</Say>"


def verified_agent(agent_id: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The agent and its owner's Twilio credentials, once the signature proves Twilio sent
    this request for that owner's account."""
    with transaction() as conn:
        agent = conn.execute("select * from public.agents where id = %s", (agent_id,)).fetchone()
        if agent is None:
            raise ApiError(404, "agent_not_found", "No such agent")
        credentials = keys.load(conn, settings(), agent["user_id"], "twilio")
    url = settings().api_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    params = request.form.to_dict()
    signature = request.headers.get(twilio.SIGNATURE_HEADER)
    valid = twilio.validate_signature(credentials["auth_token"], url, params, signature)
    if not valid or params.get("AccountSid") != credentials["account_sid"]:
        raise ApiError(403, "invalid_signature", "This request is not signed by Twilio")
    return agent, credentials


def speak_or_say(agent: dict[str, Any], text: str, key: str) -> str:
    """The agent's Deepgram voice, stored briefly for Twilio to fetch; Twilio's own voice if
    the owner has no Deepgram key."""
    user_id = str(agent["user_id"])
    try:
        audio, content_type = synthesize(user_id, agent, text, key)
    except ApiError as err:
        if err.code != "provider_key_missing":
            raise
        return say(text)
    with transaction() as conn:
        row = conn.execute(
            "insert into private.call_audio (user_id, audio, content_type) values (%s, %s, %s) "
            "returning id",
            (user_id, audio, content_type),
        ).fetchone()
    assert row is not None
    return f"<Play>{escape(settings().api_url)}/functions/v1/twilio/audio/{row['id']}</Play>"


def gather(agent: dict[str, Any]) -> str:
    action = f"{settings().api_url}/functions/v1/twilio/gather/{agent['id']}"
    return (
        f'<Gather input="speech" method="POST" speechTimeout="auto" action={quoteattr(action)}'
        f" language={quoteattr(agent['language'])}/>"
    )


@bp.post("/voice/<int:agent_id>")
def voice(agent_id: int) -> ResponseReturnValue:
    """The call starts (inbound, or an outbound call was answered)."""
    agent, _credentials = verified_agent(agent_id)
    form = request.form
    call_sid = form.get("CallSid", "")
    try:
        callable_agent(agent)
    except ApiError as err:
        return twiml(say(f"Sorry, this agent is not available. {err.message}."), "<Hangup/>")
    user_id = str(agent["user_id"])
    try:
        tokens_left = metering.assert_quota(user_id)
    except ApiError:
        return twiml(say("Sorry, this account has used its monthly allowance."), "<Hangup/>")
    per_turn = metering.estimate_tokens(
        [{"role": "system", "content": agent["system_prompt"] or ""}], agent["max_tokens"]
    )
    budget = max(1, min(MAX_TURNS, tokens_left // max(per_turn, 1)))
    direction = "outbound" if form.get("Direction", "").startswith("outbound") else "inbound"
    with transaction() as conn:
        call = conn.execute(
            "insert into public.calls (agent_id, twilio_call_sid, direction, from_number, "
            "to_number, status, started_at) values (%s, %s, %s, %s, %s, 'in-progress', now()) "
            "on conflict (twilio_call_sid) do update set status = 'in-progress', "
            "started_at = coalesce(public.calls.started_at, now()) returning id",
            (agent_id, call_sid, direction, form.get("From"), form.get("To")),
        ).fetchone()
        assert call is not None
        existing = conn.execute(
            "select id from public.conversations where call_id = %s", (call["id"],)
        ).fetchone()
        if existing is None:
            conn.execute(
                "insert into public.conversations (user_id, agent_id, call_id, turn_budget) "
                "values (%s, %s, %s, %s)",
                (user_id, agent_id, call["id"], budget),
            )
    greeting = agent["first_message"] or "Hello, how can I help you?"
    return twiml(speak_or_say(agent, greeting, f"{call_sid}:greeting"), gather(agent), "<Hangup/>")


@bp.post("/gather/<int:agent_id>")
def gather_result(agent_id: int) -> ResponseReturnValue:
    """What the caller said: the agent answers, and the call listens again."""
    agent, _credentials = verified_agent(agent_id)
    form = request.form
    call_sid, speech = form.get("CallSid", ""), form.get("SpeechResult", "").strip()
    with transaction() as conn:
        conversation = conn.execute(
            "select v.id, v.turn_budget, c.id as call_id from public.calls c "
            "join public.conversations v on v.call_id = c.id where c.twilio_call_sid = %s",
            (call_sid,),
        ).fetchone()
    if conversation is None:
        raise ApiError(404, "call_not_found", "This call was not started through this agent")
    if not speech:
        return twiml(say("Sorry, I did not catch that."), gather(agent), "<Hangup/>")
    # Twilio repeats a webhook it got no answer to with the same token; without one, the same
    # words in the same call are the same turn.
    token = (
        request.headers.get("I-Twilio-Idempotency-Token")
        or hashlib.sha256(f"{speech}|{form.get('Confidence', '')}".encode()).hexdigest()[:16]
    )
    key = f"{call_sid}:gather:{token}"
    if metering.already_recorded(f"{key}:llm"):
        with transaction() as conn:
            last = conn.execute(
                "select content from public.conversation_messages where conversation_id = %s "
                "and role = 'assistant' order by id desc limit 1",
                (conversation["id"],),
            ).fetchone()
        reply = last["content"] if last else ""
        return twiml(speak_or_say(agent, reply, f"{key}:tts"), gather(agent), "<Hangup/>")
    if (conversation["turn_budget"] or 0) <= 0:
        return twiml(say("We have reached the limit for this call. Goodbye."), "<Hangup/>")
    # A call in progress may finish: its turns were budgeted when it started.
    _conversation, reply, _usage = chat_turn(
        str(agent["user_id"]), agent, str(conversation["id"]), speech, f"{key}:llm",
        reserve=False,
    )  # fmt: skip
    with transaction() as conn:
        conn.execute(
            "update public.conversations set turn_budget = turn_budget - 1 where id = %s",
            (conversation["id"],),
        )
        turn = [{"role": "user", "text": speech}, {"role": "assistant", "text": reply}]
        conn.execute(
            "update public.calls set transcript = transcript || %s where id = %s",
            (Jsonb(turn), conversation["call_id"]),
        )
    return twiml(speak_or_say(agent, reply, f"{key}:tts"), gather(agent), "<Hangup/>")


@bp.post("/status/<int:agent_id>")
def status_callback(agent_id: int) -> ResponseReturnValue:
    """The call's status changed; a finished call is recorded with its duration and metered."""
    agent, _credentials = verified_agent(agent_id)
    form = request.form
    call_sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    duration_raw = form.get("CallDuration", "")
    duration = int(duration_raw) if duration_raw.isdigit() else None
    final = status in FINAL_STATUSES
    with transaction() as conn:
        call = conn.execute(
            "update public.calls set status = %s, duration_seconds = coalesce(%s, "
            "duration_seconds), ended_at = case when %s then coalesce(ended_at, now()) "
            "else ended_at end where twilio_call_sid = %s and agent_id = %s "
            "returning id, direction",
            (status, duration, final, call_sid, agent_id),
        ).fetchone()
    if call is None:
        raise ApiError(404, "call_not_found", "No such call for this agent")
    if final and duration:
        usage = metering.Usage(
            str(agent["user_id"]), "twilio", "telephony", call["direction"],
            f"{call_sid}:telephony", agent_id=agent_id, call_id=call["id"],
            call_seconds=float(duration),
        )  # fmt: skip
        metering.record(usage)
    return Response(status=204)


@bp.get("/audio/<uuid:audio_id>")
def audio(audio_id: Any) -> ResponseReturnValue:
    """Agent speech for Twilio's <Play>: unguessable ids, served for AUDIO_MINUTES (the worker
    deletes it afterwards)."""
    with transaction() as conn:
        row = conn.execute(
            "select audio, content_type from private.call_audio "
            "where id = %s and created_at > now() - make_interval(mins => %s)",
            (audio_id, AUDIO_MINUTES),
        ).fetchone()
    if row is None:
        raise ApiError(404, "audio_not_found", "This audio has expired")
    return Response(bytes(row["audio"]), mimetype=row["content_type"])
