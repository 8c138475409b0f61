"""The agents pages and the test console, through the page only: create, validate, edit and
delete an agent, the plan's agent limit, agents paused by a downgrade, a text chat turn,
push-to-talk with Chromium's fake microphone, and the errors a person can run into."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.api.conftest import Api, User
from tests.conftest import StackInfo
from tests.web.conftest import check_page
from voxflow.fakes.control import FakeControl

REST = "/rest/v1"
GROQ = "gsk_test_web_agents_0001"
DEEPGRAM = "dg_test_web_agents_key_0002_abcd"


def put_key(api: Api, user: User, provider: str, body: dict[str, str]) -> None:
    response = api.put(f"/functions/v1/api-keys/{provider}", headers=user.headers, json=body)
    assert response.status_code == 200, response.text


def create_agent(api: Api, user: User, **fields: Any) -> dict[str, Any]:
    body = {"name": "Front desk", "system_prompt": "Be kind.", "max_tokens": 40, **fields}
    response = api.post(
        f"{REST}/agents", headers={**user.headers, "Prefer": "return=representation"}, json=body
    )
    assert response.status_code == 201, response.text
    return dict(response.json()[0])


def agents_of(api: Api, user: User) -> list[dict[str, Any]]:
    response = api.get(f"{REST}/agents?order=id", headers=user.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_create_validate_edit_and_delete_an_agent(
    page: Page, signed_in: Callable[..., User], api: Api
) -> None:
    user = signed_in()
    page.goto("/agents")
    expect(page.get_by_text("No agents yet")).to_be_visible()
    expect(page.get_by_text("0 of 2 agents on the Free plan")).to_be_visible()
    check_page(page, "agents-empty")

    page.get_by_role("link", name="New agent").click()
    expect(page.get_by_role("heading", name="New agent")).to_be_visible()
    page.get_by_label("Name").fill("Front desk")
    page.get_by_label("Description").fill("Answers the clinic's phone")
    page.get_by_label("Active (can chat and take calls)").uncheck()
    page.get_by_label("System prompt").fill("You are the front desk of a dental clinic.")
    page.get_by_label("First message").fill("Hello, Smile Clinic, how can I help?")
    page.get_by_label("LLM model").select_option(label="Llama 3.1 8B Instant")
    page.get_by_label("Temperature").fill("0.4")
    page.get_by_label("Max tokens").fill("120")
    page.get_by_label("Speech-to-text model").select_option(label="Nova-2")
    page.get_by_label("TTS voice").select_option(label="Agathe (French)")
    page.get_by_label("Language").select_option("fr")
    page.get_by_label("Phone number").fill("12345")
    page.get_by_label("Config (JSON)").fill('{"greeting_style": "formal"}')
    check_page(page, "agent-new")

    # The server's validation message lands on its field; nothing typed is lost.
    page.get_by_role("button", name="Create agent").click()
    phone = page.get_by_label("Phone number")
    expect(page.get_by_role("alert").filter(has_text="E.164")).to_be_visible()
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Name")).to_have_value("Front desk")
    check_page(page, "agent-new-invalid")

    phone.fill("+33 1 23 45 67 89")
    page.get_by_role("button", name="Create agent").click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    card = page.get_by_role("article", name="Front desk")
    expect(card).to_be_visible()
    expect(card.get_by_text("Switched off")).to_be_visible()
    expect(page.get_by_text("1 of 2 agents on the Free plan")).to_be_visible()
    [saved] = agents_of(api, user)
    assert saved["user_id"] == user.id
    assert {k: saved[k] for k in (
        "name", "description", "system_prompt", "first_message", "llm_model", "max_tokens",
        "stt_model", "tts_voice", "language", "phone_number", "config", "is_active",
    )} == {
        "name": "Front desk", "description": "Answers the clinic's phone",
        "system_prompt": "You are the front desk of a dental clinic.",
        "first_message": "Hello, Smile Clinic, how can I help?",
        "llm_model": "llama-3.1-8b-instant", "max_tokens": 120, "stt_model": "nova-2",
        "tts_voice": "aura-2-agathe-fr", "language": "fr", "phone_number": "+33123456789",
        "config": {"greeting_style": "formal"}, "is_active": False,
    }  # fmt: skip
    assert abs(saved["temperature"] - 0.4) < 1e-6
    check_page(page, "agents")

    card.get_by_role("link", name="Edit Front desk").click()
    expect(page.get_by_role("heading", name="Edit Front desk")).to_be_visible()
    expect(page.get_by_label("Max tokens")).to_have_value("120")
    page.get_by_label("Name").fill("Reception")
    page.get_by_label("Active (can chat and take calls)").check()
    page.get_by_label("Temperature").fill("5")
    page.get_by_role("button", name="Save changes").click()
    expect(
        page.get_by_role("alert").filter(has_text="Temperature must be between 0 and 2")
    ).to_be_visible()
    expect(page.get_by_label("Temperature")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Temperature").fill("1.2")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/agents$"))
    card = page.get_by_role("article", name="Reception")
    expect(card.get_by_text("Active", exact=True)).to_be_visible()
    assert agents_of(api, user)[0]["name"] == "Reception"

    card.get_by_role("button", name="Delete Reception").click()
    dialog = page.get_by_role("dialog", name="Delete Reception?")
    expect(dialog).to_be_visible()
    check_page(page, "agents-delete-dialog")
    dialog.get_by_role("button", name="Delete agent").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("No agents yet")).to_be_visible()
    expect(page.get_by_text("0 of 2 agents on the Free plan")).to_be_visible()
    assert agents_of(api, user) == []


def test_the_agent_limit_is_explained_and_paused_agents_can_be_chosen(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    user = signed_in()
    first = create_agent(api, user, name="Sales")
    second = create_agent(api, user, name="Support")
    page.goto("/agents")
    expect(page.get_by_text("2 of 2 agents on the Free plan").first).to_be_visible()
    expect(page.get_by_role("button", name="New agent")).to_be_disabled()
    limit = page.get_by_role("status").filter(has_text="reached your plan's agent limit")
    expect(limit.get_by_role("link", name="Upgrade your plan on the Plans page")).to_have_attribute(
        "href", "/plans"
    )
    check_page(page, "agents-limit")

    # Opening the form anyway: the server's 402 with its hint and the way to Plans.
    page.goto("/agents/new")
    page.get_by_label("Name").fill("One too many")
    page.get_by_role("button", name="Create agent").click()
    alert = page.get_by_role("alert").filter(has_text="You have 2 of 2 agents on the Free plan")
    expect(alert).to_be_visible()
    expect(alert.get_by_text("Upgrade to Pro for 10 agents")).to_be_visible()
    expect(alert.get_by_role("link", name="Compare plans and upgrade")).to_have_attribute(
        "href", "/plans"
    )
    expect(page.get_by_label("Name")).to_have_value("One too many")

    # A downgrade to one agent pauses the newest; the person picks which one stays active.
    with stack.connect() as conn:
        conn.execute(
            "update public.profiles set agent_limit_override = 1 where id = %s", (user.id,)
        )
        conn.execute("select private.apply_agent_limit(%s)", (user.id,))
    page.goto("/agents")
    support = page.get_by_role("article", name="Support")
    expect(support.get_by_text("Paused by plan limit")).to_be_visible()
    expect(page.get_by_text("2 of 1 agents on the Free plan").first).to_be_visible()
    form = page.get_by_role("form", name="Choose which agents stay active")
    expect(form.get_by_label("Keep Sales active")).to_be_checked()
    check_page(page, "agents-paused")
    form.get_by_label("Keep Support active").check()
    expect(form.get_by_role("button", name="Save active agents")).to_be_disabled()
    form.get_by_label("Keep Sales active").uncheck()
    form.get_by_role("button", name="Save active agents").click()
    sales = page.get_by_role("article", name="Sales")
    expect(sales.get_by_text("Paused by plan limit")).to_be_visible()
    expect(support.get_by_text("Active", exact=True)).to_be_visible()
    status = {a["id"]: a["status"] for a in agents_of(api, user)}
    assert status == {first["id"]: "suspended_over_limit", second["id"]: "active"}

    # Chatting with the paused agent anyway: the way to choose it, not the API's route.
    page.goto(f"/agents/{first['id']}/test")
    page.get_by_role("textbox", name="Message").fill("Hello?")
    page.get_by_role("button", name="Send").click()
    refused = page.get_by_role("alert").filter(has_text="The agent did not answer")
    expect(refused).to_contain_text("paused")
    expect(refused.get_by_role("link", name="Choose which agents stay active")).to_have_attribute(
        "href", "/agents"
    )
    expect(refused).not_to_contain_text("rpc/")
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Hello?")


def test_a_text_chat_turn_shows_tokens_and_latency_and_the_history_stays(
    page: Page, signed_in: Callable[..., User], api: Api, fakes: FakeControl
) -> None:
    user = signed_in()
    put_key(api, user, "groq", {"api_key": GROQ})
    agent = create_agent(api, user)
    fakes.configure(reply="We open at nine.")
    page.goto("/agents")
    page.get_by_role("link", name="Test Front desk").click()
    expect(page.get_by_role("heading", name="Test Front desk")).to_be_visible()
    expect(page.get_by_text("No messages yet")).to_be_visible()
    check_page(page, "agent-test-empty")

    page.get_by_role("textbox", name="Message").fill("When do you open?")
    page.get_by_role("button", name="Send").click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_text("We open at nine.")).to_be_visible()
    expect(messages.get_by_text(re.compile(r"reply in [\d,]+ ms"))).to_be_visible()
    expect(messages.get_by_text(re.compile(r"\d+ tokens in, \d+ out"))).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")
    expect(page).to_have_url(re.compile(r"conversation="))
    sent = fakes.requests("groq")[-1]
    assert sent["api_key"] == GROQ and sent["json"]["max_completion_tokens"] == 40
    check_page(page, "agent-test")

    # A second turn carries the first as history; a reload reads both back.
    page.get_by_role("textbox", name="Message").fill("And on Sunday?")
    page.get_by_role("textbox", name="Message").press("Enter")
    expect(messages.get_by_text("And on Sunday?")).to_be_visible()
    expect(messages.get_by_text("We open at nine.")).to_have_count(2)
    roles = [m["role"] for m in fakes.requests("groq")[-1]["json"]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    page.reload()
    expect(messages.get_by_text("When do you open?")).to_be_visible()
    expect(messages.get_by_text("And on Sunday?")).to_be_visible()
    expect(messages.get_by_role("listitem")).to_have_count(4)
    assert agent["id"]


def test_push_to_talk_hears_answers_and_plays_the_reply(
    page: Page, signed_in: Callable[..., User], api: Api, fakes: FakeControl
) -> None:
    user = signed_in()
    put_key(api, user, "groq", {"api_key": GROQ})
    put_key(api, user, "deepgram", {"api_key": DEEPGRAM})
    agent = create_agent(api, user)
    fakes.configure(transcript="Can I book a cleaning on Monday?", reply="Yes, at ten.")
    page.goto(f"/agents/{agent['id']}/test")
    page.get_by_role("button", name="Start recording").click()
    stop = page.get_by_role("button", name="Stop recording")
    expect(stop).to_be_visible()
    page.wait_for_timeout(1500)
    stop.click()
    expect(page.get_by_text("Heard: Can I book a cleaning on Monday?")).to_be_visible()
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_text("Yes, at ten.")).to_be_visible()
    expect(messages.get_by_text(re.compile(r"heard in [\d,]+ ms"))).to_be_visible()
    audio = page.get_by_label("Agent reply audio")
    expect(audio).to_have_attribute("src", re.compile(r"^blob:"))
    audio.evaluate(
        """el => el.readyState >= 1 || new Promise((ok, fail) => {
            el.addEventListener('loadedmetadata', ok, {once: true});
            el.addEventListener('error', () => fail(new Error('audio error')), {once: true});
        })"""
    )
    assert audio.evaluate("el => el.error") is None
    expect(page.get_by_role("alert")).to_have_count(0)
    uploads = fakes.requests("deepgram")
    listen = next(r for r in uploads if "/listen" in r["path"])
    assert listen["api_key"] == DEEPGRAM
    assert listen["headers"]["content-type"].startswith("audio/")
    assert any("/speak" in r["path"] for r in uploads)
    talk = page.get_by_role("button", name="Start recording")
    expect(talk).to_be_enabled()
    check_page(page, "agent-test-voice")

    # Push-to-talk from the keyboard: hold Space while speaking, let go to send.
    fakes.configure(transcript="And on Tuesday?", reply="Tuesday at two works.")
    talk.focus()
    page.keyboard.down(" ")
    expect(page.get_by_role("button", name="Stop recording")).to_be_visible()
    page.wait_for_timeout(1000)
    page.keyboard.up(" ")
    expect(page.get_by_text("Heard: And on Tuesday?")).to_be_visible()
    expect(messages.get_by_text("Tuesday at two works.")).to_be_visible()
    expect(talk).to_be_enabled()
    assert len([r for r in fakes.requests("deepgram") if "/listen" in r["path"]]) == 2


def test_missing_keys_quota_and_provider_failures_are_explained(
    page: Page, signed_in: Callable[..., User], api: Api, fakes: FakeControl, stack: StackInfo
) -> None:
    user = signed_in()
    agent = create_agent(api, user)
    page.goto(f"/agents/{agent['id']}/test")
    page.get_by_role("textbox", name="Message").fill("Hello?")
    page.get_by_role("button", name="Send").click()
    alert = page.get_by_role("alert").filter(has_text="The agent did not answer")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("link", name="Set up your provider keys")).to_have_attribute(
        "href", "/keys"
    )
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Hello?")
    check_page(page, "agent-test-missing-key")

    # With Groq but no Deepgram key, the voice path says which key is missing.
    put_key(api, user, "groq", {"api_key": GROQ})
    page.get_by_role("button", name="Start recording").click()
    stop = page.get_by_role("button", name="Stop recording")
    expect(stop).to_be_visible()
    page.wait_for_timeout(700)
    stop.click()
    voice = page.get_by_role("alert").filter(has_text="Voice did not work")
    expect(voice).to_be_visible()
    expect(voice).to_contain_text("Deepgram")
    expect(voice.get_by_role("link", name="Set up your provider keys")).to_be_visible()

    # A provider outage: the provider is named, the draft kept.
    fakes.configure(fail_next={"groq": 500})
    page.get_by_role("button", name="Send").click()
    expect(alert.filter(has_text="Groq failed")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Hello?")

    # The month's tokens are spent: the quota, the reset and the way to Plans.
    with stack.connect() as conn:
        conn.execute(
            "insert into public.usage_counters (user_id, period_start, tokens_used) "
            "values (%s, date_trunc('month', now() at time zone 'UTC')::date, 1000) "
            "on conflict (user_id, period_start) do update set tokens_used = 1000",
            (user.id,),
        )
    page.get_by_role("button", name="Send").click()
    expect(alert.filter(has_text="tokens this month")).to_be_visible()
    expect(alert.get_by_role("link", name="Compare plans and upgrade")).to_have_attribute(
        "href", "/plans"
    )
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Hello?")


def test_microphone_denied_and_no_media_recorder(
    page: Page, signed_in: Callable[..., User], api: Api
) -> None:
    user = signed_in()
    agent = create_agent(api, user)
    page.add_init_script(
        """navigator.mediaDevices.getUserMedia = () =>
            Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"""
    )
    page.goto(f"/agents/{agent['id']}/test")
    page.get_by_role("button", name="Start recording").click()
    alert = page.get_by_role("alert").filter(has_text="Microphone access was denied")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Allow the microphone")
    expect(page.get_by_role("button", name="Start recording")).to_be_enabled()
    check_page(page, "agent-test-mic-denied")

    page.add_init_script("delete window.MediaRecorder;")
    page.reload()
    expect(page.get_by_role("alert").filter(has_text="cannot record audio")).to_be_visible()
    expect(page.get_by_role("button", name="Start recording")).to_be_disabled()
    expect(page.get_by_role("textbox", name="Message")).to_be_enabled()
