"""Home's checklist, provider keys, and calls (placing one, the log, a call's transcript),
through the page only; the fake providers answer and play the calls."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.api.conftest import Api, User
from tests.api.test_tenancy import create_agent, put_key
from tests.web.conftest import check_page
from voxflow.fakes.control import FakeControl

GROQ = "gsk_test_web_keys_groq_7001"
DEEPGRAM = "dg_test_web_keys_deepgram_7002"
DEEPGRAM_BAD = "dg_test_web_keys_refused_7003"
TWILIO_SID = "AC" + "abcdef0123456789" * 2
TWILIO_TOKEN = "0123456789abcdef" * 2


def step(page: Page, title: str):
    return page.get_by_role("list", name="Getting started steps").get_by_role(
        "listitem"
    ).filter(has_text=title)  # fmt: skip


def all_keys(api: Api, user: User) -> None:
    assert put_key(api, user, "groq", {"api_key": GROQ}).status_code == 200
    assert put_key(api, user, "deepgram", {"api_key": DEEPGRAM}).status_code == 200
    twilio = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "phone_number": "+14155550100"}
    assert put_key(api, user, "twilio", twilio).status_code == 200


def test_keys_are_verified_never_shown_again_and_deleted_with_confirmation(
    page: Page, signed_in: Callable[..., User], fakes: FakeControl, api: Api
) -> None:
    signed_in()
    # Fresh account: every step to do, the first one links to the keys page.
    expect(step(page, "Add your provider keys")).to_contain_text("To do")
    expect(step(page, "Place a call")).to_contain_text("To do")
    page.goto("/home?welcome=1")
    expect(page.get_by_text("Welcome to VoxFlow")).to_be_visible()
    check_page(page, "home-checklist")
    page.get_by_role("link", name="Set up your provider keys").click()
    expect(page.get_by_role("heading", name="Provider keys")).to_be_visible()
    expect(page.get_by_text("Not set", exact=True)).to_have_count(3)
    expect(page.get_by_role("link", name="Where to find your Groq key")).to_have_attribute(
        "href", "https://console.groq.com/keys"
    )
    expect(page.get_by_role("link", name="Where to find your Twilio key")).to_have_attribute(
        "href", "https://console.twilio.com"
    )
    check_page(page, "keys-empty")

    # A malformed key: the server's message on the field it names.
    groq = page.get_by_label("Groq API key")
    expect(groq).to_have_attribute("type", "password")
    groq.fill("not-a-groq-key-at-all")
    page.get_by_role("button", name="Save Groq key").click()
    malformed = page.get_by_role("alert").filter(has_text="a Groq API key starts with gsk_")
    expect(malformed).to_be_visible()
    expect(groq).to_have_attribute("aria-invalid", "true")
    groq.fill(GROQ)
    page.get_by_role("button", name="Save Groq key").click()
    expect(page.get_by_text("Groq accepted the key. It is saved, ending in …7001.")).to_be_visible()
    expect(groq).to_have_value("")
    assert fakes.requests("groq")[-1]["api_key"] == GROQ, "verified with the provider"

    # A key the provider refuses: its answer, and nothing saved.
    fakes.configure(rejected_keys=[DEEPGRAM_BAD])
    page.get_by_label("Deepgram API key").fill(DEEPGRAM_BAD)
    page.get_by_role("button", name="Save Deepgram key").click()
    refused = page.get_by_role("alert").filter(has_text="Deepgram rejected these credentials")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("Copy the key again from the provider's console.")
    check_page(page, "keys-rejected")
    page.get_by_label("Deepgram API key").fill(DEEPGRAM)
    page.get_by_role("button", name="Save Deepgram key").click()
    expect(page.get_by_text("Deepgram accepted the key")).to_be_visible()

    # Twilio: a phone number that is not E.164 is refused before anything is sent.
    page.get_by_label("Twilio account SID").fill(TWILIO_SID)
    page.get_by_label("Twilio auth token").fill(TWILIO_TOKEN)
    page.get_by_label("Twilio phone number").fill("415 555 0100")
    sent = len(fakes.requests("twilio"))
    page.get_by_role("button", name="Save Twilio key").click()
    expect(page.get_by_label("Twilio phone number")).to_have_attribute("aria-invalid", "true")
    assert len(fakes.requests("twilio")) == sent
    page.get_by_label("Twilio phone number").fill("+1 415 555 0100")
    page.get_by_role("button", name="Save Twilio key").click()
    saved = page.get_by_text("Twilio accepted the key. It is saved, ending in …cdef.")
    expect(saved).to_be_visible()

    # After a reload: configured, hints and dates, and no secret anywhere in the page.
    page.reload()
    expect(page.get_by_text("Configured", exact=True)).to_have_count(3)
    expect(page.get_by_text("…7002")).to_be_visible()
    for label in ("Groq API key", "Deepgram API key", "Twilio auth token"):
        expect(page.get_by_label(label)).to_have_value("")
    html = page.content()
    for secret in (GROQ, DEEPGRAM, TWILIO_TOKEN):
        assert secret not in html
    check_page(page, "keys-configured")

    # Delete asks first; Cancel keeps the key.
    page.get_by_role("button", name="Delete Deepgram key").click()
    dialog = page.get_by_role("dialog", name="Delete your Deepgram key?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Configured", exact=True)).to_have_count(3)
    page.get_by_role("button", name="Delete Deepgram key").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete key").click()
    expect(page.get_by_text("Not set", exact=True)).to_have_count(1)
    expect(page.get_by_role("button", name="Delete Deepgram key")).to_have_count(0)

    page.get_by_role("link", name="Home", exact=True).click()
    expect(step(page, "Add your provider keys")).to_contain_text("2 of 3 providers")
    expect(step(page, "Add your provider keys")).to_contain_text("To do")


def test_place_a_call_see_it_in_the_log_filter_and_read_its_transcript(
    page: Page, signed_in: Callable[..., User], fakes: FakeControl, api: Api
) -> None:
    user = signed_in()
    page.goto("/calls")
    expect(page.get_by_text("You have no agents yet")).to_be_visible()

    all_keys(api, user)
    front = create_agent(api, user, name="Front desk", first_message="Hello from the desk")
    sales = create_agent(api, user, name="Sales line")
    assert front.status_code == 201 and sales.status_code == 201, front.text
    front_id = front.json()[0]["id"]
    # A chat in the test console's conversation counts as "tested".
    chat = api.post("/functions/v1/agent-chat", headers=user.headers,
                    json={"agent_id": front_id, "message": "hi"})  # fmt: skip
    assert chat.status_code == 200, chat.text
    page.goto("/home")
    expect(step(page, "Add your provider keys")).to_contain_text("Done")
    expect(step(page, "Create an agent")).to_contain_text("Done")
    expect(step(page, "Test your agent")).to_contain_text("Done")
    expect(step(page, "Place a call")).to_contain_text("To do")
    step(page, "Place a call").get_by_role("link", name="Place a call").click()

    expect(page.get_by_text("No calls yet")).to_be_visible()
    check_page(page, "calls-empty")

    # A number that is not E.164 is refused in the page: no dialog, nothing dialed.
    page.get_by_label("Agent", exact=True).select_option(label="Front desk")
    page.get_by_label("To", exact=True).fill("555-0142")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="E.164")).to_be_visible()
    expect(page.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert fakes.calls() == []

    # A good one is confirmed first; Cancel dials nobody.
    page.get_by_label("To", exact=True).fill("+1 (415) 555-0142")
    page.get_by_role("button", name="Call", exact=True).click()
    dialog = page.get_by_role("dialog", name="Call +14155550142 with Front desk?")
    expect(dialog).to_be_visible()
    check_page(page, "calls-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    assert fakes.calls() == []
    page.get_by_role("button", name="Call", exact=True).click()
    dialog.get_by_role("button", name="Place call").click()
    expect(page.get_by_text("Calling +14155550142.")).to_be_visible()
    log = page.get_by_role("table", name="Calls, newest first")
    expect(log.get_by_role("row").filter(has_text="+14155550142")).to_contain_text("Front desk")
    (placed,) = fakes.calls()
    assert placed["to"] == "+14155550142"

    # The fake Twilio plays the call: answered, one exchange, hung up after 95 s.
    fakes.configure(reply="We open at nine on Saturdays.")
    assert fakes.answer_call(placed["sid"])["status"] == 200
    assert fakes.gather(placed["sid"], "Do you open on Saturdays?")["status"] == 200
    finished = fakes.complete_call(placed["sid"], duration_seconds=95)
    assert finished is not None and finished["status"] == 204

    # A second call, by the other agent to another number, for the filters.
    other = api.post("/functions/v1/calls", headers=user.headers,
                     json={"agent_id": sales.json()[0]["id"], "to": "+442071838750"})  # fmt: skip
    assert other.status_code == 201, other.text

    page.reload()
    row = log.get_by_role("row").filter(has_text="+14155550142")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("1 min 35 s")
    expect(row).to_contain_text("$0.02")  # 95 s at $0.014 a minute
    expect(log.get_by_role("row")).to_have_count(3)
    check_page(page, "calls-log")

    page.get_by_label("Calls of agent").select_option(label="Sales line")
    expect(log.get_by_role("row")).to_have_count(2)
    expect(log).to_contain_text("+442071838750")
    page.get_by_label("Calls of agent").select_option(label="All agents")
    page.get_by_label("Status").select_option(label="Completed")
    expect(log.get_by_role("row")).to_have_count(2)
    expect(log).to_contain_text("+14155550142")
    page.get_by_label("Status").select_option(label="Any status")
    page.get_by_label("Search by number").fill("4420718")
    expect(log.get_by_role("row")).to_have_count(2)
    expect(log).to_contain_text("Sales line")
    page.get_by_label("Search by number").fill("999999")
    expect(page.get_by_text("No calls match these filters")).to_be_visible()
    page.get_by_role("button", name="Clear the filters").click()
    expect(log.get_by_role("row")).to_have_count(3)

    # The call's page: details, the transcript turn by turn, the cost split.
    log.get_by_role("link", name=re.compile(r"^Call to \+14155550142")).click()
    expect(page.get_by_role("heading", name="Call to +14155550142")).to_be_visible()
    transcript = page.get_by_role("list", name="Transcript, turn by turn")
    turns = transcript.get_by_role("listitem")
    expect(turns).to_have_count(2)
    expect(turns.nth(0)).to_contain_text("Caller")
    expect(turns.nth(0)).to_contain_text("Do you open on Saturdays?")
    expect(turns.nth(1)).to_contain_text("Front desk")
    expect(turns.nth(1)).to_contain_text("We open at nine on Saturdays.")
    cost = page.get_by_role("table", name="What this call cost, by part")
    expect(cost.get_by_role("row").filter(has_text="Phone line")).to_contain_text("$0.014/min")
    check_page(page, "call-detail")

    page.goto("/calls/999999999")
    expect(page.get_by_role("heading", name="Call not found")).to_be_visible()

    # Every step done: Home shows the month's usage instead of the checklist.
    page.goto("/home")
    expect(page.get_by_role("heading", name="This month")).to_be_visible()
    expect(page.get_by_role("meter", name="Tokens used this month")).to_be_visible()
    expect(page.get_by_role("list", name="Getting started steps")).to_have_count(0)
    check_page(page, "home-usage")


def test_a_call_without_a_twilio_key_links_to_the_keys_page(
    page: Page, signed_in: Callable[..., User], api: Api
) -> None:
    user = signed_in()
    assert create_agent(api, user, name="Lonely agent").status_code == 201
    page.goto("/calls")
    page.get_by_label("To", exact=True).fill("+14155550199")
    page.get_by_role("button", name="Call", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Place call").click()
    alert = page.get_by_role("dialog").get_by_role("alert")
    expect(alert).to_contain_text("No Twilio key is set for your account")
    alert.get_by_role("link", name="Set up your provider keys").click()
    expect(page).to_have_url(re.compile(r"/keys$"))
