"""The admin console in the browser: an admin reads the overview, finds a user, changes only
their token limit with a reason and later gives them the plan's again, suspends and
reactivates them, reads health and alerts, acknowledges an alert with a note, filters the audit
log, downloads the filtered users CSV and imports a LiteLLM price file; a plain user is refused.
Every admin page is scanned with axe-core and photographed (tests/web/screenshots/admin-*)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import FilePayload, Page, expect

from tests.api.conftest import Api, User
from tests.conftest import StackInfo
from tests.web.conftest import check_page

REST = "/rest/v1"
READ = {"Accept-Profile": "admin"}
WRITE = {"Content-Profile": "admin"}


def refresh_analytics(stack: StackInfo) -> None:
    """What the worker does about once a minute, done now."""
    with stack.connect() as conn:
        conn.execute("select private.refresh_analytics(), private.refresh_platform_counts()")


def tagged_users(api: Api, make_user: Callable[..., User], count: int) -> tuple[str, list[User]]:
    """Users whose organization carries a fresh tag, renamed through the API."""
    tag = uuid.uuid4().hex[:10]
    users = [make_user() for _ in range(count)]
    for n, found in enumerate(users):
        renamed = api.patch(f"{REST}/profiles?id=eq.{found.id}", headers=found.headers,
                            json={"organization_name": f"Quokka {tag} {n}"})  # fmt: skip
        assert renamed.status_code == 204, renamed.text
    return tag, users


def profile_of(stack: StackInfo, user_id: str) -> tuple[str, int | None, int | None]:
    with stack.connect() as conn:
        row = conn.execute(
            "select status, agent_limit_override, monthly_token_limit_override "
            "from public.profiles where id = %s",
            (user_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_a_plain_user_is_refused_at_the_admin_console(
    page: Page, signed_in: Callable[..., User], api: Api
) -> None:
    person = signed_in()
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your workspace")).to_be_visible()
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    check_page(page, "admin-refused")
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    # ... and the API underneath says the same.
    refused = api.get(f"{REST}/users_overview", headers={**person.headers, **READ})
    assert refused.status_code == 403, refused.text


def test_an_admin_finds_a_user_raises_only_their_token_limit_and_suspends_them(
    page: Page,
    signed_in: Callable[..., User],
    make_user: Callable[..., User],
    api: Api,
    stack: StackInfo,
) -> None:
    signed_in(role="admin")
    target = make_user(prefix="target")
    refresh_analytics(stack)

    page.goto("/admin")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Totals")).to_be_visible()
    expect(page.get_by_text("Times in UTC")).to_be_visible()
    expect(page.get_by_role("heading", name="Daily sign-ups and active users")).to_be_visible()
    page.get_by_role("button", name="View Daily sign-ups and active users as table").click()
    today = datetime.now(UTC).strftime("%-d %b")
    expect(
        page.get_by_role("table", name="Daily sign-ups and active users").get_by_role(
            "cell", name=today, exact=True
        )
    ).to_be_visible()
    page.get_by_label("Daily range").select_option("7")
    expect(page).to_have_url(re.compile(r"days=7"))
    # Another range keeps the table the admin chose to read.
    expect(page.get_by_role("table", name="Daily sign-ups and active users")).to_be_visible()
    check_page(page, "admin-overview")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    page.get_by_label("Search email or organization").fill(target.email)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=target-"))
    expect(page.get_by_text("1 user match")).to_be_visible()
    check_page(page, "admin-users")
    page.get_by_role("link", name=target.email).click()

    expect(page.get_by_role("heading", name=target.email)).to_be_visible()
    expect(page.get_by_role("heading", name="Limits")).to_be_visible()
    assert profile_of(stack, target.id) == ("active", None, None)
    tokens = page.get_by_role("form", name="Change the monthly token limit")
    tokens.get_by_label("New monthly token limit").fill("5000")
    tokens.get_by_label("Reason").fill("Pilot customer")
    preview = tokens.get_by_text("tokens a month 1,000 → 5,000. Reason: Pilot customer")
    expect(preview).to_be_visible()
    tokens.get_by_role("button", name="Save monthly token limit").click()
    expect(tokens.get_by_text("Monthly token limit changed: 1,000 → 5,000")).to_be_visible()
    expect(tokens.get_by_text("Agent limit unchanged: 2")).to_be_visible()
    # Only the token limit has an override; the agent limit still follows the plan.
    assert profile_of(stack, target.id) == ("active", None, 5000)
    limits = page.get_by_role("table", name=re.compile("^Limits"))
    expect(limits.get_by_role("row", name=re.compile("Tokens a month"))).to_contain_text("override")
    # The user is told (their bell reads these notifications).
    told = api.get(f"{REST}/notifications?kind=eq.limits_changed", headers=target.headers).json()
    assert [n["title"] for n in told] == ["Your limits were changed"]
    assert told[0]["body"] == (
        "An administrator changed your limits: tokens a month 1,000 → 5,000. Reason: Pilot customer"
    ), "only the changed limit, with the reason"
    expect(page.get_by_role("cell", name="Your limits were changed")).to_be_visible()
    check_page(page, "admin-user")

    page.get_by_role("button", name="Suspend user").click()
    dialog = page.get_by_role("dialog", name=f"Suspend {target.email}?")
    expect(dialog).to_contain_text("does not notify them")
    dialog.get_by_role("button", name="Suspend", exact=True).click()
    expect(page.get_by_text(f"{target.email} is suspended")).to_be_visible()
    assert profile_of(stack, target.id)[0] == "suspended"
    assert api.login(target.email).status_code == 400

    page.get_by_role("button", name="Reactivate user").click()
    page.get_by_role("dialog").get_by_role("button", name="Reactivate", exact=True).click()
    expect(page.get_by_text(f"{target.email} is active again")).to_be_visible()
    assert profile_of(stack, target.id) == ("active", None, 5000)
    assert api.login(target.email).status_code == 200

    # Back to the plan's value: an explicit choice, offered only where there is an override.
    agents = page.get_by_role("form", name="Change the agent limit")
    expect(agents.get_by_label(re.compile("Use the plan's value"))).to_have_count(0)
    tokens.get_by_label("Use the plan's value (1,000) and remove the override").check()
    expect(tokens.get_by_text("tokens a month 5,000 → 1,000 (your plan's).")).to_be_visible()
    tokens.get_by_role("button", name="Save monthly token limit").click()
    expect(
        tokens.get_by_text("Monthly token limit changed: 5,000 → 1,000 (the plan's value)")
    ).to_be_visible()
    assert profile_of(stack, target.id) == ("active", None, None)

    # A plan change moves what the limit forms start from: no stale number offered as a change.
    page.get_by_label("Plan", exact=True).select_option("pro")
    page.get_by_role("button", name="Change plan").click()
    expect(page.get_by_text("Plan changed: Free → Pro")).to_be_visible()
    expect(agents.get_by_label("New agent limit")).to_have_value("10")
    expect(agents.get_by_role("button", name="Save agent limit")).to_be_disabled()


def test_an_admin_reads_health_and_acknowledges_an_alert(
    page: Page, signed_in: Callable[..., User], api: Api, stack: StackInfo
) -> None:
    admin = signed_in(role="admin")
    ip = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    at = datetime(2025, 5, 5, 10, 0, tzinfo=UTC)  # 30 failed sign-ins in one 15-minute window
    with stack.connect() as conn:
        conn.execute(
            "insert into private.audit_log (occurred_at, action, target_type, target_id, ip) "
            "select %s::timestamptz + n * interval '5 seconds', "
            "'login.failed', 'email', 'victim@example.com', %s::inet "
            "from generate_series(1, 30) as n",
            (at, ip),
        )
    detected = stack.voxflow("anomalies", "detect", "--at", at.replace(minute=7).isoformat())
    assert detected.stdout.splitlines()[-1] == "1 alert(s) raised", detected.stdout
    with stack.connect() as conn:
        (alert_id, title) = conn.execute(
            "select id, title from private.alerts where subject = %s", (ip,)
        ).fetchone()

    page.goto("/admin/health")
    expect(page.get_by_role("heading", name="Health", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Updated .*refreshes every 30 seconds"))).to_be_visible()
    expect(page.get_by_role("heading", name="Last 24 hours by route")).to_be_visible()
    check_page(page, "admin-health")

    # The link an alert's notification and mail carry.
    page.goto(f"/admin/alerts?alert={alert_id}")
    badge = page.get_by_role("link", name=re.compile(r"^Alerts, \d+ open$"))
    expect(badge).to_be_visible()
    open_before = int(re.findall(r"\d+", badge.get_attribute("aria-label") or "")[0])
    card = page.get_by_role("article", name=title)
    expect(card).to_have_attribute("aria-current", "true")
    expect(card).to_contain_text("Failed sign-in burst")
    expect(card).to_contain_text(f"30 from {ip} in 15 min")
    expect(card).to_contain_text("20 or more from one IP in 15 min")  # the rule's threshold
    expect(card).to_contain_text("This is the alert you were sent.")
    check_page(page, "admin-alerts")

    card.get_by_role("button", name=f"Acknowledge: {title}").click()
    dialog = page.get_by_role("dialog", name="Acknowledge this alert?")
    dialog.get_by_label("Note").fill("Blocked the IP at the firewall")
    dialog.get_by_role("button", name="Acknowledge alert").click()
    expect(card.get_by_text("Alert acknowledged.")).to_be_visible()
    expect(card).to_contain_text("acknowledged")
    expect(card).to_contain_text("Blocked the IP at the firewall")
    with stack.connect() as conn:
        (status, by, note) = conn.execute(
            "select status, acknowledged_by::text, acknowledged_note from private.alerts "
            "where id = %s",
            (alert_id,),
        ).fetchone()
    assert (status, by) == ("acknowledged", admin.id)
    assert note == "Blocked the IP at the firewall"
    expected = f"Alerts, {open_before - 1} open" if open_before > 1 else "Alerts"
    expect(page.get_by_role("link", name=expected, exact=True)).to_be_visible()


def test_an_admin_filters_the_audit_log_and_downloads_the_filtered_users_csv(
    page: Page,
    signed_in: Callable[..., User],
    make_user: Callable[..., User],
    api: Api,
    stack: StackInfo,
) -> None:
    admin = signed_in(role="admin")
    tag, (first, second) = tagged_users(api, make_user, 2)
    changed = api.post(
        f"{REST}/rpc/set_limits",
        headers={**admin.headers, **WRITE},
        json={"user_id": first.id, "agent_limit": 3, "monthly_token_limit": None},
    )
    assert changed.status_code == 200, changed.text

    page.goto("/admin/audit")
    expect(page.get_by_text("The chain verifies")).to_be_visible()
    page.get_by_label("Action").fill("admin.limits_changed")
    page.get_by_label("Target id").fill(first.id)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"action=admin.limits_changed&target={first.id}"))
    entries = page.get_by_role("table", name="Audit entries")
    expect(entries.locator("tbody tr")).to_have_count(1)
    expect(entries).to_contain_text("admin.limits_changed")
    expect(entries).to_contain_text(admin.email)
    check_page(page, "admin-audit")
    page.reload()  # the filters live in the address
    expect(page.get_by_label("Target id")).to_have_value(first.id)
    expect(page.get_by_role("table", name="Audit entries").locator("tbody tr")).to_have_count(1)
    page.go_back()  # and the form follows the address back and forth
    expect(page.get_by_label("Target id")).to_have_value("")
    page.go_forward()
    expect(page.get_by_label("Target id")).to_have_value(first.id)

    page.goto(f"/admin/users?q={tag}&sort=email.asc")
    expect(page.get_by_text("2 users match")).to_be_visible()
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export CSV").click()
    download = downloading.value
    assert download.suggested_filename == f"voxflow-users-{datetime.now(UTC).date()}.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["user_id", "email", "organization_name", "role"]
    assert "search" not in header and {"near_quota", "over_quota"} <= set(header)
    email = header.index("email")
    assert [r[email] for r in body] == sorted([first.email, second.email])
    organization = header.index("organization_name")
    assert sorted(r[organization] for r in body) == [f"Quokka {tag} 0", f"Quokka {tag} 1"]
    expect(page.get_by_text(re.compile(r"Saved voxflow-users-"))).to_be_visible()


def json_file(name: str, content: object) -> FilePayload:
    """A file as the browser's file picker hands it over."""
    return {"name": name, "mimeType": "application/json", "buffer": json.dumps(content).encode()}


def test_an_admin_imports_prices_changes_one_and_sees_the_exports(
    page: Page, signed_in: Callable[..., User], stack: StackInfo
) -> None:
    admin = signed_in(role="admin")
    page.goto("/admin/prices")
    expect(page.get_by_role("heading", name="Current prices")).to_be_visible()
    model = f"import-{uuid.uuid4().hex[:8]}"
    litellm = {
        f"groq/{model}": {"input_cost_per_token": 5e-08, "output_cost_per_token": 8e-08,
                          "litellm_provider": "groq", "mode": "chat"},
        "gpt-4o": {"input_cost_per_token": 2.5e-06, "litellm_provider": "openai"},
    }  # fmt: skip
    picker = page.get_by_label("Import a LiteLLM price file")
    picker.set_input_files(json_file("model_prices_and_context_window.json", litellm))
    page.get_by_role("button", name="Import prices").click()
    expect(
        page.get_by_text("model_prices_and_context_window.json: 2 price(s) read, 2 changed")
    ).to_be_visible()
    expect(page.get_by_role("table", name="Current prices")).to_contain_text(model)
    with stack.connect() as conn:
        audited = conn.execute(
            "select actor_id::text from private.audit_log where action = 'price.changed' "
            "and target_id like %s",
            (f"groq/{model}/%",),
        ).fetchall()
    assert audited == [(admin.id,), (admin.id,)], "audited under the admin's name"
    price = {"provider": "groq", "model": model, "unit": "input_token"}
    bad = [{**price, "usd_per_unit": 1}, {**price, "usd_per_unit": 2}]
    picker.set_input_files(json_file("mine.json", bad))
    page.get_by_role("button", name="Import prices").click()
    refused = page.get_by_role("alert").filter(has_text="The file was not imported")
    expect(refused).to_contain_text(f"mine.json: groq/{model} has two prices per input_token")
    page.get_by_role("button", name="Change deepgram * character").first.click()
    page.get_by_label("USD per unit").fill("0.00004")
    page.get_by_role("button", name="Save price").click()
    expect(
        page.get_by_text(re.compile(r"deepgram/\* per character: .* → \$0\.00004"))
    ).to_be_visible()
    with stack.connect() as conn:
        (price,) = conn.execute(
            "select usd_per_unit from public.price_book where provider = 'deepgram' "
            "and model = '*' and unit = 'character' and effective_to is null"
        ).fetchone()
    assert float(price) == 0.00004
    expect(page.get_by_role("table", name="Past prices")).to_contain_text("deepgram")
    check_page(page, "admin-prices")

    page.goto("/admin/exports")
    expect(page.get_by_role("heading", name="Exports", level=1)).to_be_visible()
    page.get_by_label("Usage: provider").select_option("groq")
    expect(page.get_by_text("provider=eq.groq")).to_be_visible()
    page.get_by_label("Usage: user id").fill("not-a-user-id")  # never every user's usage instead
    expect(page.get_by_role("button", name="Download usage CSV")).to_be_disabled()
    page.get_by_label("Usage: user id").fill("")
    expect(page.get_by_role("button", name="Download usage CSV")).to_be_enabled()
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download costs CSV").click()
    assert downloading.value.suggested_filename.startswith("voxflow-costs-")
    check_page(page, "admin-exports")
