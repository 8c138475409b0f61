"""Sign-up, verification, sign-in and password recovery, through the page only."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import StackInfo
from tests.web.conftest import PASSWORD, Mailbox, check_page, link_in_mail, unique_email


def test_sign_up_verify_and_land_on_home(page: Page, mailbox: Mailbox) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    check_page(page, "sign-in")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your VoxFlow account")).to_be_visible()
    # The rules are there before anything is submitted.
    expect(page.get_by_text("At least 8 characters")).to_be_visible()
    check_page(page, "sign-up")

    email = unique_email("web")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("Acme Voice")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    check_page(page, "sign-up-check-inbox")

    page.get_by_role("button", name="Resend the email").click()
    expect(page.get_by_text(f"We sent a new link to {email}")).to_be_visible()
    messages = mailbox.wait_for(email, count=2)

    page.goto(link_in_mail(messages[-1]))
    expect(page).to_have_url(re.compile(r"/home"))


def test_duplicate_email_and_weak_password_are_shown_on_their_fields(page: Page, make_user) -> None:
    existing = make_user()
    page.goto("/sign-up")
    page.get_by_label("Email").fill(existing.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("Acme")
    page.get_by_role("button", name="Create account").click()
    alert = page.get_by_role("alert").filter(has_text="An account with this email already exists")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("link", name="Sign in")).to_be_visible()
    expect(alert.get_by_role("link", name="reset your password")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Email").fill(unique_email("weak"))
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert").filter(has_text="Password is too weak")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    check_page(page, "sign-up-errors")

    # An organization of spaces is refused on its field, in words rather than the API's
    # parameter name.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("   ")
    page.get_by_role("button", name="Create account").click()
    expect(
        page.get_by_role("alert").filter(has_text="Enter your organization's name.")
    ).to_be_visible()
    expect(page.get_by_label("Organization name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("data.organization_name")).to_have_count(0)
    expect(page.get_by_role("heading", name="Create your VoxFlow account")).to_be_visible()


def test_a_used_link_says_so_and_offers_resend(page: Page, mailbox: Mailbox) -> None:
    email = unique_email("used")
    page.goto("/sign-up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("Acme")
    page.get_by_role("button", name="Create account").click()
    link = link_in_mail(mailbox.wait_for(email)[0])
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/home"))
    page.evaluate("() => localStorage.clear()")
    page.goto(link)
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    page.get_by_label("Your email").fill(email)
    expect(page.get_by_role("button", name="Resend the email")).to_be_visible()
    check_page(page, "verify-failed")


def test_a_link_that_lands_with_only_an_error_code_says_it_in_words(page: Page) -> None:
    page.goto("/auth/callback#error=access_denied")
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(
        page.get_by_role("alert").filter(has_text="This link is invalid or has expired")
    ).to_be_visible()
    expect(page.get_by_text("access_denied")).to_have_count(0)


def test_unconfirmed_sign_in_wrong_password_and_throttling(
    page: Page, mailbox: Mailbox, stack: StackInfo
) -> None:
    email = unique_email("unconfirmed")
    page.goto("/sign-up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill("Acme")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="Confirm your email first")).to_be_visible()

    page.get_by_label("Password").fill("Wrong-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="do not match")).to_be_visible()

    with stack.connect() as conn:
        conn.execute(
            "update private.rate_limit_rules set max_hits = 1"
            " where rule = 'login_failures_per_email'"
        )
    try:
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert").filter(has_text="Too many attempts")).to_be_visible()
        expect(page.get_by_text(re.compile(r"Try again in \d+ seconds"))).to_be_visible()
        expect(page.get_by_role("button", name="Sign in")).to_be_disabled()
        check_page(page, "sign-in-throttled")
    finally:
        with stack.connect() as conn:
            conn.execute(
                "update private.rate_limit_rules set max_hits = 100000"
                " where rule = 'login_failures_per_email'"
            )


def test_recovery_link_ends_on_a_page_to_choose_the_new_password(
    page: Page, mailbox: Mailbox, make_user
) -> None:
    person = make_user()
    page.goto("/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(person.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("we sent it a link")).to_be_visible()
    check_page(page, "forgot-password")

    page.goto(link_in_mail(mailbox.wait_for(person.email)[-1]))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    check_page(page, "reset-password")
    page.get_by_label("New password", exact=True).fill("Brand-new-pass-7")
    page.get_by_label("Repeat the new password").fill("Brand-new-pass-7")
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_text("Your password was changed")).to_be_visible()
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill("Brand-new-pass-7")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/home"))
