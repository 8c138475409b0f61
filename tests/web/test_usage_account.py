"""Usage, plans, notifications and account pages, through the page only: usage is made with
real chat turns against the fake providers; the page's figures are checked against the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.api.conftest import Api, User
from tests.api.test_tenancy import REST, create_agent, put_key
from tests.conftest import StackInfo
from tests.web.conftest import check_page, sign_in

GROQ = "gsk_test_usage_page_0001_abcd"
NEW_PASSWORD = "An0ther-Strong-Passphrase!"


def en_gb_month(day: datetime) -> str:
    """Intl's en-GB short month ("Dec", and "Sept" for September)."""
    return "Sept" if day.month == 9 else day.strftime("%b")


def chat_turns(api: Api, user: User, turns: int = 2) -> dict[str, Any]:
    """An agent on the user's Groq key, and `turns` metered chat turns with it."""
    assert put_key(api, user, "groq", {"api_key": GROQ}).status_code == 200
    agent = create_agent(api, user, name="Front desk", max_tokens=40).json()[0]
    conversation = None
    for n in range(turns):
        body: dict[str, Any] = {"agent_id": agent["id"], "message": f"Question {n}"}
        if conversation:
            body["conversation_id"] = conversation
        response = api.post("/functions/v1/agent-chat", headers=user.headers, json=body)
        assert response.status_code == 200, response.text
        conversation = response.json()["conversation_id"]
    return agent


def summary(api: Api, user: User) -> dict[str, Any]:
    response = api.get(f"{REST}/usage_summary", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()[0]


def unread(stack: StackInfo, user: User) -> int:
    with stack.connect() as conn:
        row = conn.execute(
            "select count(*) from public.notifications where user_id = %s and read_at is null",
            (user.id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


# --- usage ----------------------------------------------------------------------------------


def test_usage_page_shows_the_periods_figures_daily_table_and_warning(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    user = signed_in()
    chat_turns(api, user)
    usage = summary(api, user)
    used, limit = int(usage["tokens_used"]), int(usage["token_limit"])
    assert used > 0

    page.goto("/usage")
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    now = datetime.now(UTC)
    next_month = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    last_day = (next_month - timedelta(days=1)).day
    period = f"1–{last_day} {en_gb_month(now)} {now.year}"
    expect(page.get_by_text(period)).to_be_visible()
    days = int(usage["days_until_reset"])
    resets = "resets tomorrow" if days == 1 else f"resets in {days} days"
    expect(page.get_by_text(re.compile(resets))).to_be_visible()
    meter = page.get_by_role("meter", name="Tokens used this period")
    expect(meter).to_have_attribute("aria-valuenow", str(min(used, limit)))
    expect(meter).to_have_attribute("aria-valuemax", str(limit))
    expect(page.get_by_text(re.compile(rf"{used:,}\s+of {limit:,} tokens used"))).to_be_visible()
    # Cost by provider and kind: the Groq chat turns.
    by_provider = page.get_by_role("table", name="Cost by provider and kind this period")
    expect(by_provider.get_by_role("row", name=re.compile(r"Groq Chat \(LLM\) 2"))).to_be_visible()
    expect(page.get_by_role("heading", name="Projection to the end of the period")).to_be_visible()
    expect(page.get_by_text("No closed periods yet")).to_be_visible()
    check_page(page, "usage")

    # The chart's table lists today's tokens, as the daily rollup has them.
    with stack.connect() as conn:
        row = conn.execute(
            "select sum(input_tokens + output_tokens) from public.usage_daily "
            "where user_id = %s and day = (now() at time zone 'UTC')::date",
            (user.id,),
        ).fetchone()
    assert row is not None and int(row[0]) == used
    page.get_by_role("button", name="View Tokens per day as table").click()
    table = page.get_by_role("table", name="Tokens per day")
    today = f"{now.day} {en_gb_month(now)} {now.year}"
    today_row = table.get_by_role("row", name=re.compile(rf"^{today} {used:,} "))
    expect(today_row).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(1 + now.day)  # header + every day so far
    check_page(page, "usage-table")

    # At 80 % of the limit the page warns (the limit is lowered, the usage is real).
    with stack.connect() as conn:
        conn.execute(
            "update public.profiles set monthly_token_limit_override = %s where id = %s",
            (int(used / 0.85), user.id),
        )
    percent = round(100 * used / int(used / 0.85))
    page.reload()
    warning = page.get_by_role("status").filter(
        has_text=f"You have used {percent}% of this month's tokens"
    )
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name="Compare plans")).to_be_visible()
    check_page(page, "usage-warning")
    # …and the plans page suggests the upgrade.
    page.get_by_role("link", name="Plans", exact=True).click()
    suggestion = page.get_by_role("status").filter(has_text="You are close to your plan's limits")
    expect(suggestion).to_be_visible()
    expect(suggestion.get_by_role("button", name="Upgrade to Pro")).to_be_visible()


# --- plans ----------------------------------------------------------------------------------


def test_plans_mark_the_current_plan_upgrade_and_downgrade_names_the_agents_to_pause(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    user = signed_in()
    for name in ("Reception", "Sales line"):
        assert create_agent(api, user, name=name).status_code == 201
    page.goto("/plans")
    table = page.get_by_role("table", name="Plans compared")
    expect(table.get_by_role("columnheader", name="Free Current plan")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Pro", exact=True)).to_be_visible()
    expect(table.get_by_role("row", name=re.compile(r"^Agents 2 10 50"))).to_be_visible()
    expect(page.get_by_role("heading", name="Your plan: Free")).to_be_visible()
    expect(page.get_by_text("2 of 2 agents")).to_be_visible()
    check_page(page, "plans")

    page.get_by_role("button", name="Upgrade to Pro").first.click()
    dialog = page.get_by_role("dialog", name="Upgrade to Pro?")
    expect(dialog.get_by_text(re.compile(r"gives you 10 agents, 1,000,000 tokens"))).to_be_visible()
    dialog.get_by_role("button", name="Upgrade to Pro").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Your plan: Pro")).to_be_visible()
    expect(page.get_by_text("2 of 10 agents")).to_be_visible()
    expect(page.get_by_text("of 1,000,000 tokens")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Pro Current plan")).to_be_visible()

    third = create_agent(api, user, name="Night shift")
    assert third.status_code == 201, third.text
    page.reload()
    expect(page.get_by_text("3 of 10 agents")).to_be_visible()
    page.get_by_role("button", name="Downgrade to Free").click()
    dialog = page.get_by_role("dialog", name="Downgrade to Free?")
    consequence = dialog.get_by_role("status").filter(has_text="1 of your agents will pause")
    expect(consequence).to_be_visible()
    expect(consequence.get_by_role("listitem")).to_have_text(["Night shift"])
    check_page(page, "plans-downgrade")
    dialog.get_by_role("button", name="Downgrade to Free").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Your plan: Free")).to_be_visible()
    expect(page.get_by_text("3 of 2 agents")).to_be_visible()

    agents = api.get(f"{REST}/agents?select=name,status&order=id", headers=user.headers).json()
    assert agents == [
        {"name": "Reception", "status": "active"},
        {"name": "Sales line", "status": "active"},
        {"name": "Night shift", "status": "suspended_over_limit"},
    ]


def test_a_downgrade_whose_agents_cannot_be_read_does_not_promise_they_stay_active(
    page: Page, signed_in: Callable[..., User], api: Api
) -> None:
    user = signed_in()
    response = api.post(f"{REST}/rpc/change_plan", headers=user.headers, json={"plan_id": "pro"})
    assert response.status_code == 200, response.text
    for name in ("Reception", "Sales line", "Night shift"):
        assert create_agent(api, user, name=name).status_code == 201
    agents = re.compile(r"/rest/v1/agents")
    page.route(agents, lambda route: route.fulfill(status=500, json={"message": "down"}))
    page.goto("/plans")
    expect(page.get_by_role("alert").filter(has_text="Could not load your agents")).to_be_visible(
        timeout=15000
    )
    page.get_by_role("button", name="Downgrade to Free").click()
    dialog = page.get_by_role("dialog", name="Downgrade to Free?")
    expect(
        dialog.get_by_role("status").filter(has_text="Some of your agents may pause")
    ).to_contain_text("you have 3")
    expect(dialog.get_by_text("All your agents stay active")).to_have_count(0)
    page.unroute(agents)


def test_a_usage_page_that_failed_to_load_recovers_with_try_again(
    page: Page, signed_in: Callable[..., User]
) -> None:
    signed_in()
    summary_route = re.compile(r"/rest/v1/usage_summary")
    page.route(summary_route, lambda route: route.fulfill(status=500, json={"message": "down"}))
    page.goto("/usage")
    failed = page.get_by_role("alert").filter(has_text="Could not load your usage")
    expect(failed).to_be_visible(timeout=15000)
    page.unroute(summary_route)
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("meter", name="Tokens used this period")).to_be_visible()
    expect(failed).to_have_count(0)


# --- notifications --------------------------------------------------------------------------


def test_notifications_list_and_mark_read_update_the_bell(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    user = signed_in()
    for plan in ("pro", "business"):
        response = api.post(f"{REST}/rpc/change_plan", headers=user.headers, json={"plan_id": plan})
        assert response.status_code == 200, response.text
    count = unread(stack, user)
    assert count >= 2
    page.goto("/home")
    bell = page.get_by_role("link", name=f"Notifications, {count} unread")
    expect(bell).to_be_visible()
    bell.click()
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    items = page.get_by_role("list", name="Notifications").get_by_role("listitem")
    expect(items).to_have_count(count)
    # Newest first.
    expect(items.first).to_contain_text("You are now on the Business plan")
    expect(items.nth(1)).to_contain_text("You are now on the Pro plan")
    check_page(page, "notifications")

    page.get_by_role("button", name="Mark as read: You are now on the Pro plan").click()
    expect(page.get_by_role("link", name=f"Notifications, {count - 1} unread")).to_be_visible()
    expect(page.get_by_role("listitem", name="You are now on the Pro plan")).to_be_visible()
    assert unread(stack, user) == count - 1

    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(page.get_by_text("You are all caught up.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("as read"))).to_have_count(0)
    assert unread(stack, user) == 0
    check_page(page, "notifications-read")


def test_notifications_empty_state(page: Page, signed_in: Callable[..., User]) -> None:
    signed_in()
    page.goto("/notifications")
    expect(page.get_by_text("No notifications yet")).to_be_visible()


# --- account --------------------------------------------------------------------------------


def test_account_rename_password_change_and_sign_out_everywhere(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    user = signed_in()
    page.goto("/account")
    name = page.get_by_label("Organization name")
    expect(name).to_have_value("Acme")
    check_page(page, "account")
    name.fill("Renamed Voice Co")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Organization name saved.")).to_be_visible()
    with stack.connect() as conn:
        row = conn.execute(
            "select p.organization_name, u.raw_user_meta_data ->> 'organization_name' "
            "from public.profiles p join auth.users u using (id) where p.id = %s",
            (user.id,),
        ).fetchone()
    assert row == ("Renamed Voice Co", "Renamed Voice Co")
    name.fill("")
    page.get_by_role("button", name="Save name").click()
    expect(
        page.get_by_role("alert").filter(has_text="Enter your organization's name.")
    ).to_be_visible()

    # A new password that does not match its confirmation is refused on the page…
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert").filter(has_text="do not match")).to_be_visible()
    # …the server's rules are shown on the field…
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_label("New password", exact=True)).to_have_attribute("aria-invalid", "true")
    # …and a good one is saved; signing in again takes it.
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    page.get_by_role("main").get_by_role("button", name="Sign out of this device").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    assert api.login(user.email, user.password).status_code == 400
    sign_in(page, user.email, NEW_PASSWORD)

    # Sign out everywhere ends the API's session too.
    other = api.session_for(user.email, NEW_PASSWORD)
    assert api.get("/auth/v1/user", headers=other.headers).status_code == 200
    page.goto("/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    dialog = page.get_by_role("dialog", name="Sign out everywhere?")
    dialog.get_by_role("button", name="Sign out everywhere").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_text("Signed out everywhere", exact=True)).to_be_visible()
    assert api.get("/auth/v1/user", headers=other.headers).status_code == 401
    refreshed = api.post(
        "/auth/v1/token?grant_type=refresh_token", json={"refresh_token": other.refresh_token}
    )
    assert refreshed.status_code >= 400
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_account_deletion_needs_typed_confirmation_and_the_password(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    user = signed_in()
    chat_turns(api, user, turns=1)
    page.goto("/account")
    page.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    for erased in ("your agents", "conversations", "provider keys", "usage"):
        expect(dialog.get_by_text(re.compile(erased))).to_be_visible()
    confirm = dialog.get_by_role("button", name="Delete my account")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Your password").fill("not-the-password")
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    expect(confirm).to_be_enabled()
    check_page(page, "account-delete")
    confirm.click()
    expect(
        dialog.get_by_role("alert").filter(has_text="That password is not right")
    ).to_be_visible()
    dialog.get_by_label("Your password").fill(user.password)
    confirm.click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_text("Your account was deleted", exact=True)).to_be_visible()
    with stack.connect() as conn:
        left = conn.execute(
            "select (select count(*) from auth.users where id = %(id)s)"
            " + (select count(*) from public.agents where user_id = %(id)s)"
            " + (select count(*) from public.usage_daily where user_id = %(id)s)",
            {"id": user.id},
        ).fetchone()
    assert left == (0,)

    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/sign-in"))
