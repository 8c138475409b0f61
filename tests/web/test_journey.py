"""A newcomer's whole first session, through the page only (issue 13's end-to-end path): sign
up, verify from the mail, onboarding, keys, an agent, a chat, push-to-talk and the spoken
reply, tokens on the usage page, the agent limit and its upgrade hint, an upgrade and a third
agent, a downgrade that pauses agents, and deleting the account."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.api.conftest import Api
from tests.conftest import StackInfo
from tests.web.conftest import PASSWORD, Mailbox, link_in_mail, unique_email
from voxflow.fakes.control import FakeControl

GROQ = "gsk_test_web_journey_0001"
DEEPGRAM = "dg_test_web_journey_key_0002"


@pytest.fixture
def person_paced_rates(stack: StackInfo) -> Iterator[None]:
    """A test clicks faster than a person: it makes more than the Free plan's 60 requests in a
    minute, which would be refused (and is, in the rate-limit tests). Raise it for this one."""
    with stack.connect() as conn:
        conn.execute("update public.plans set requests_per_minute = 1000 where id = 'free'")
    yield
    with stack.connect() as conn:
        conn.execute("update public.plans set requests_per_minute = 60 where id = 'free'")


def nav(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def create_agent(page: Page, name: str) -> None:
    page.goto("/agents/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("System prompt").fill("You are a friendly receptionist.")
    page.get_by_label("Max tokens").fill("60")
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("article", name=name)).to_be_visible()


def test_sign_up_to_a_spoken_reply_then_plans_and_goodbye(
    page: Page, mailbox: Mailbox, fakes: FakeControl, api: Api, person_paced_rates: None
) -> None:
    email = unique_email("journey")
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("Journey Dental")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    page.goto(link_in_mail(mailbox.wait_for(email)[0]))
    expect(page.get_by_text("Welcome to VoxFlow")).to_be_visible()
    steps = page.get_by_role("list", name="Getting started steps")
    expect(steps.get_by_role("listitem").filter(has_text="Add your provider keys")).to_contain_text(
        "To do"
    )

    # Keys, verified with the (fake) providers.
    page.get_by_role("link", name="Set up your provider keys").click()
    page.get_by_label("Groq API key").fill(GROQ)
    page.get_by_role("button", name="Save Groq key").click()
    expect(page.get_by_text("Groq accepted the key")).to_be_visible()
    page.get_by_label("Deepgram API key").fill(DEEPGRAM)
    page.get_by_role("button", name="Save Deepgram key").click()
    expect(page.get_by_text("Deepgram accepted the key")).to_be_visible()

    # An agent, and a text turn in its test console.
    create_agent(page, "Front desk")
    fakes.configure(reply="We open at nine.")
    page.get_by_role("link", name="Test Front desk").click()
    page.get_by_role("textbox", name="Message").fill("When do you open?")
    page.get_by_role("button", name="Send").click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_text("We open at nine.")).to_be_visible()

    # Push-to-talk with Chromium's fake microphone; the reply is spoken into the audio element.
    fakes.configure(transcript="Can I book a cleaning?", reply="Yes, on Monday at ten.")
    page.get_by_role("button", name="Start recording").click()
    stop = page.get_by_role("button", name="Stop recording")
    expect(stop).to_be_visible()
    page.wait_for_timeout(1200)  # a second of the fake microphone's sound
    stop.click()
    expect(page.get_by_text("Heard: Can I book a cleaning?")).to_be_visible()
    expect(messages.get_by_text("Yes, on Monday at ten.")).to_be_visible()
    audio = page.get_by_label("Agent reply audio")
    expect(audio).to_have_attribute("src", re.compile(r"^blob:"))
    audio.evaluate(
        """el => el.readyState >= 1 || new Promise((ok, fail) => {
            el.addEventListener('loadedmetadata', ok, {once: true});
            el.addEventListener('error', () => fail(new Error('audio error')), {once: true});
        })"""
    )

    # The tokens of those turns on the usage page.
    nav(page, "Usage").click()
    meter = page.get_by_role("meter", name="Tokens used this period")
    expect(meter).to_be_visible()
    assert int(meter.get_attribute("aria-valuenow") or "0") > 0

    # The second agent fills the Free plan; the third is explained, with the way out.
    create_agent(page, "Night shift")
    page.goto("/agents")
    expect(page.get_by_text("2 of 2 agents on the Free plan", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="New agent")).to_be_disabled()
    limit = page.get_by_role("status").filter(has_text="reached your plan's agent limit")
    limit.get_by_role("link", name="Upgrade your plan on the Plans page").click()

    page.get_by_role("button", name="Upgrade to Pro").first.click()
    dialog = page.get_by_role("dialog", name="Upgrade to Pro?")
    dialog.get_by_role("button", name="Upgrade to Pro").click()
    expect(page.get_by_role("heading", name="Your plan: Pro")).to_be_visible()
    create_agent(page, "Weekend")
    expect(page.get_by_text("3 of 10 agents on the Pro plan", exact=True)).to_be_visible()

    # Back to Free: the dialog says which agent pauses before anything happens.
    nav(page, "Plans").click()
    page.get_by_role("button", name="Downgrade to Free").click()
    dialog = page.get_by_role("dialog", name="Downgrade to Free?")
    expect(dialog.get_by_role("listitem")).to_have_text(["Weekend"])
    dialog.get_by_role("button", name="Downgrade to Free").click()
    expect(page.get_by_role("heading", name="Your plan: Free")).to_be_visible()
    nav(page, "Agents").click()
    expect(page.get_by_role("article", name="Weekend")).to_contain_text("Paused")

    # Goodbye: typed confirmation and the password, then the account is gone.
    nav(page, "Account").click()
    page.get_by_role("button", name="Delete account").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    dialog.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    assert api.login(email).status_code == 400
