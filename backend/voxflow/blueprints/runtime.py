"""The voice agent runtime under /functions/v1: chat (Groq), speak and transcribe (Deepgram),
and outbound phone calls (Twilio), each on the agent owner's own keys and metered."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from voxflow import keys, metering
from voxflow.blueprints.auth import body
from voxflow.config import Settings
from voxflow.db import Conn, transaction
from voxflow.errors import ApiError
from voxflow.guard import caller, require_user
from voxflow.providers import ProviderError, deepgram, groq, twilio

bp = Blueprint("runtime", __name__, url_prefix="/functions/v1")

HISTORY_MESSAGES = 20  # what the LLM sees of a conversation
MAX_MESSAGE_CHARS = 4000
MAX_SPEAK_CHARS = 2000
MAX_AUDIO_BYTES = 20 * 1024 * 1024


def settings() -> Settings:
    found: Settings = current_app.config["VOXFLOW"]
    return found


def provider_failure(exc: ProviderError) -> ApiError:
    """A provider's failure as our error: never a stack trace, always the provider named."""
    name = keys.DISPLAY.get(exc.provider, exc.provider)
    if exc.kind == "unauthorized":
        return ApiError(
            422,
            "provider_key_rejected",
            f"{name} rejected your API key",
            details=exc.provider,
            hint=f"Update it with PUT /functions/v1/api-keys/{exc.provider}.",
        )
    if exc.kind == "timeout":
        return ApiError(504, "provider_timeout", f"{name} did not answer in time; try again")
    if exc.kind == "rate_limited":
        return ApiError(
            502, "provider_rate_limited", f"{name} is rate limiting your key; try again shortly"
        )
    return ApiError(502, "provider_error", f"{name} failed: {exc.message}")


def agent_id_of(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, "validation_failed", "agent_id must be the agent's numeric id")
    return value


def agent_for_caller(agent_id: int, conn: Conn | None = None) -> dict[str, Any]:
    """The caller's own agent, ready to be called (require_user has already checked them);
    in the caller's transaction when given one."""
    if conn is None:
        with transaction() as own:
            return agent_for_caller(agent_id, own)
    agent = conn.execute(
        "select * from public.agents where id = %s and user_id = %s",
        (agent_id, caller().user_id),
    ).fetchone()
    return callable_agent(agent)


def callable_agent(agent: dict[str, Any] | None) -> dict[str, Any]:
    if agent is None:
        raise ApiError(404, "agent_not_found", "No such agent on your account")
    if agent["status"] == "suspended_over_limit":
        raise ApiError(
            409,
            "agent_suspended",
            "This agent is paused because your plan allows fewer agents",
            hint="Choose it with rpc/set_active_agents, delete another agent, or upgrade.",
        )
    if not agent["is_active"]:
        raise ApiError(
            409,
            "agent_inactive",
            "This agent is switched off; switch it on in its settings to use it",
        )
    return agent


def load_key(user_id: str, provider: str) -> dict[str, str]:
    with transaction() as conn:
        return keys.load(conn, settings(), user_id, provider)


# --- chat ---------------------------------------------------------------------------------------


def conversation_for(
    conn: Conn, user_id: str, agent: dict[str, Any], conversation_id: Any
) -> tuple[str, list[dict[str, str]]]:
    """An existing conversation of this user and agent (with its recent history), or a new one."""
    if conversation_id is None:
        row = conn.execute(
            "insert into public.conversations (user_id, agent_id) values (%s, %s) returning id",
            (user_id, agent["id"]),
        ).fetchone()
        assert row is not None
        return str(row["id"]), []
    try:
        uuid.UUID(str(conversation_id))
    except ValueError as exc:
        raise ApiError(400, "validation_failed", "conversation_id must be a UUID") from exc
    found = conn.execute(
        "select id from public.conversations where id = %s and user_id = %s and agent_id = %s",
        (conversation_id, user_id, agent["id"]),
    ).fetchone()
    if found is None:
        raise ApiError(404, "conversation_not_found", "No such conversation with this agent")
    history = conn.execute(
        "select role, content from (select id, role, content from public.conversation_messages "
        "where conversation_id = %s order by id desc limit %s) recent order by id",
        (conversation_id, HISTORY_MESSAGES),
    ).fetchall()
    return str(conversation_id), [dict(m) for m in history]


def chat_turn(
    user_id: str,
    agent: dict[str, Any] | int,
    conversation_id: Any,
    message: str,
    key: str,
    *,
    reserve: bool = True,
) -> tuple[str, str, metering.Usage]:
    """One LLM turn on the owner's Groq key, metered; both messages join the conversation.
    `agent` is the agent's row, or the calling user's agent id to look up here. Returns
    (conversation id, reply, usage). Two transactions: before the call (agent, conversation,
    key, quota hold — committed so concurrent requests see the hold) and after it (usage and
    messages)."""
    with transaction() as conn:
        if not isinstance(agent, dict):
            agent = agent_for_caller(agent, conn)
        conversation_id, history = conversation_for(conn, user_id, agent, conversation_id)
        credentials = keys.load(conn, settings(), user_id, "groq")
        messages = [{"role": "system", "content": agent["system_prompt"] or ""}]
        messages += history + [{"role": "user", "content": message}]
        estimate = metering.estimate_tokens(messages, agent["max_tokens"])
        reservation = metering.reserve(conn, user_id, estimate) if reserve else None
    usage = metering.Usage(
        user_id, "groq", "llm", agent["llm_model"], key,
        agent_id=agent["id"], conversation_id=conversation_id,
    )  # fmt: skip
    p = settings().providers
    try:
        result = groq.chat(
            credentials["api_key"], p.groq_base_url, agent["llm_model"], messages,
            agent["temperature"], agent["max_tokens"], p.timeout_seconds,
        )  # fmt: skip
    except ProviderError as exc:
        usage.success, usage.error_code = False, f"provider_{exc.kind}"
        metering.record(usage, reservation)  # what it consumed (nothing), and the hold back
        raise provider_failure(exc) from exc
    usage.input_tokens, usage.output_tokens = result.input_tokens, result.output_tokens
    usage.latency_ms = result.latency_ms
    try:
        with transaction() as conn:
            metering.record(usage, reservation, conn)
            for role, content in (("user", message), ("assistant", result.text)):
                conn.execute(
                    "insert into public.conversation_messages (conversation_id, user_id, role, "
                    "content) values (%s, %s, %s, %s)",
                    (conversation_id, user_id, role, content),
                )
    except psycopg.errors.ForeignKeyViolation as exc:
        # The conversation was deleted while the provider answered. The call was paid for:
        # meter it (and free the hold) even though its messages have nowhere to go.
        metering.record(usage, reservation)
        raise ApiError(
            409,
            "conversation_deleted",
            "The conversation was deleted while the agent was answering; the reply was not kept",
            hint="Start a new conversation (leave out conversation_id).",
        ) from exc
    return conversation_id, result.text, usage


def text_field(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "validation_failed", f"{name} is required", details=name)
    if len(value) > limit:
        raise ApiError(
            400, "validation_failed", f"{name} is too long (at most {limit} characters)",
            details=name,
        )  # fmt: skip
    return value


@bp.post("/agent-chat")
@require_user
def agent_chat() -> ResponseReturnValue:
    data = body()
    message = text_field(data, "message", MAX_MESSAGE_CHARS)
    user_id = str(caller().user_id)
    conversation_id, reply, usage = chat_turn(
        user_id, agent_id_of(data.get("agent_id")), data.get("conversation_id"), message,
        metering.idempotency_key(user_id, "chat"),
    )  # fmt: skip
    return jsonify(
        conversation_id=conversation_id,
        reply=reply,
        usage={"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
    )


# --- speech -------------------------------------------------------------------------------------


def synthesize(user_id: str, agent: dict[str, Any], text: str, key: str) -> tuple[bytes, str]:
    credentials = load_key(user_id, "deepgram")
    usage = metering.Usage(user_id, "deepgram", "tts", agent["tts_voice"], key,
                           agent_id=agent["id"])  # fmt: skip
    p = settings().providers
    try:
        with metering.metered(usage):
            result = deepgram.speak(
                credentials["api_key"], p.deepgram_base_url, agent["tts_voice"], text,
                p.timeout_seconds,
            )  # fmt: skip
            usage.characters, usage.latency_ms = result.characters, result.latency_ms
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    return result.audio, result.content_type


@bp.post("/agent-speak")
@require_user
def agent_speak() -> ResponseReturnValue:
    data = body()
    text = text_field(data, "text", MAX_SPEAK_CHARS)
    agent = agent_for_caller(agent_id_of(data.get("agent_id")))
    user_id = str(caller().user_id)
    metering.assert_quota(user_id)
    audio, content_type = synthesize(user_id, agent, text, metering.idempotency_key(user_id, "tts"))
    return Response(audio, mimetype=content_type)


@bp.post("/agent-transcribe")
@require_user
def agent_transcribe() -> ResponseReturnValue:
    raw_id = request.args.get("agent_id", "")
    if not raw_id.isdigit():
        raise ApiError(400, "validation_failed", "Pass ?agent_id=<id> and the audio as the body")
    agent = agent_for_caller(int(raw_id))
    audio = request.get_data(cache=False)
    if not audio:
        raise ApiError(400, "validation_failed", "Send the audio as the request body")
    if len(audio) > MAX_AUDIO_BYTES:
        raise ApiError(413, "payload_too_large", "Audio is limited to 20 MB per request")
    content_type = request.content_type or "audio/wav"
    if not content_type.startswith("audio/"):
        raise ApiError(415, "unsupported_media_type", "Send audio (Content-Type: audio/...)")
    user_id = str(caller().user_id)
    metering.assert_quota(user_id)
    credentials = load_key(user_id, "deepgram")
    key = metering.idempotency_key(user_id, "stt")
    usage = metering.Usage(user_id, "deepgram", "stt", agent["stt_model"], key,
                           agent_id=agent["id"])  # fmt: skip
    p = settings().providers
    try:
        with metering.metered(usage):
            result = deepgram.transcribe(
                credentials["api_key"], p.deepgram_base_url, agent["stt_model"],
                agent["language"], audio, content_type, p.timeout_seconds,
            )  # fmt: skip
            usage.audio_seconds, usage.latency_ms = result.duration_seconds, result.latency_ms
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    return jsonify(transcript=result.transcript, duration_seconds=result.duration_seconds)


# --- outbound calls -----------------------------------------------------------------------------


@bp.post("/calls")
@require_user
def start_call() -> ResponseReturnValue:
    """Start an outbound call through Twilio; the agent talks when the callee answers."""
    data = body()
    to = data.get("to")
    if not isinstance(to, str) or not keys.E164.match(to):
        raise ApiError(400, "validation_failed", "to must be a phone number in E.164 form",
                       details="to")  # fmt: skip
    agent = agent_for_caller(agent_id_of(data.get("agent_id")))
    user_id = str(caller().user_id)
    metering.assert_quota(user_id)
    credentials = load_key(user_id, "twilio")
    from_number = agent["phone_number"] or credentials["phone_number"]
    base = settings().api_url
    p = settings().providers
    try:
        call = twilio.create_call(
            credentials["account_sid"], credentials["auth_token"], p.twilio_base_url,
            from_number, to, f"{base}/functions/v1/twilio/voice/{agent['id']}",
            f"{base}/functions/v1/twilio/status/{agent['id']}", p.timeout_seconds,
        )  # fmt: skip
    except ProviderError as exc:
        raise provider_failure(exc) from exc
    with transaction() as conn:
        row = conn.execute(
            "insert into public.calls (agent_id, twilio_call_sid, direction, from_number, "
            "to_number, status) values (%s, %s, 'outbound', %s, %s, %s) "
            "on conflict (twilio_call_sid) do update set status = excluded.status returning id",
            (agent["id"], call.sid, from_number, to, call.status),
        ).fetchone()
    assert row is not None
    return jsonify(call_id=row["id"], call_sid=call.sid, status=call.status), 201
