"""Every signed-in page while its data is on the way and when the API fails: it says it is
loading (role=status), then says what failed (role=alert) without the server's raw text —
never a blank page or an uncaught error. Photographed and scanned like every other state
(the empty and full states are in each page's own tests)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from tests.api.conftest import User
from tests.web.conftest import check_page

API = re.compile(r"/(rest|functions)/v1/")
MISSING = "00000000-0000-4000-8000-000000000000"
TENANT_PAGES = {
    "home": "/home",
    "keys": "/keys",
    "agents": "/agents",
    "agent-new": "/agents/new",
    "agent-edit": "/agents/1",
    "agent-test": "/agents/1/test",
    "calls": "/calls",
    "call-detail": "/calls/1",
    "usage": "/usage",
    "plans": "/plans",
    "notifications": "/notifications",
    "account": "/account",
}
ADMIN_PAGES = {
    "admin-overview": "/admin",
    "admin-users": "/admin/users",
    "admin-user": f"/admin/users/{MISSING}",
    "admin-health": "/admin/health",
    "admin-alerts": "/admin/alerts",
    "admin-audit": "/admin/audit",
    "admin-prices": "/admin/prices",
    # /admin/exports reads nothing until a download starts (its busy and failed downloads are
    # in test_admin_console.py).
}
RAW = "relation private.secret does not exist"  # what a careless page would show


FAILURE = {"code": "XX000", "message": RAW, "details": None, "hint": None}


# The account page's own data is the profile: it is held and failed with the rest there.
PROFILE_PAGES = {"account"}


def handlers(pass_profile: bool) -> tuple[Callable[[Route], None], Callable[[Route], None]]:
    """(hold, fail): hold never answers while the page is looked at, so its loading state stays
    on screen; fail answers 500 with database text. The person's own profile passes where
    asked, so each page (and the admin gate) gets as far as its own data."""

    def passed(route: Route) -> bool:
        if pass_profile and "/rest/v1/profiles" in route.request.url:
            route.continue_()
            return True
        return False

    def hold(route: Route) -> None:
        passed(route)

    def fail(route: Route) -> None:
        if not passed(route):
            route.fulfill(status=500, content_type="application/json", body=json.dumps(FAILURE))

    return hold, fail


def visit(page: Page, path: str, name: str) -> None:
    hold, fail = handlers(pass_profile=name not in PROFILE_PAGES)
    main = page.get_by_role("main")
    page.route(API, hold)
    page.goto(path)
    loading = main.get_by_role("status").filter(has_text=re.compile("Loading|Checking"))
    expect(loading).not_to_have_count(0)
    check_page(page, f"state-{name}-loading", settled=False)
    page.unroute(API)

    page.route(API, fail)
    page.goto(path)
    # Reads are retried once after a second: the error shows after that.
    expect(main.get_by_role("alert").first).to_be_visible(timeout=15000)
    expect(page.get_by_text(RAW)).to_have_count(0)
    check_page(page, f"state-{name}-error")
    page.unroute(API)


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_tenant_pages_say_they_load_and_what_failed(
    page: Page, signed_in: Callable[..., User], name: str
) -> None:
    signed_in()
    visit(page, TENANT_PAGES[name], name)


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_pages_say_they_load_and_what_failed(
    page: Page, signed_in: Callable[..., User], name: str
) -> None:
    signed_in(role="admin")
    visit(page, ADMIN_PAGES[name], name)


def test_an_export_is_busy_while_it_runs_and_says_why_it_failed(
    page: Page, signed_in: Callable[..., User]
) -> None:
    signed_in(role="admin")
    hold, fail = handlers(pass_profile=True)
    page.goto("/admin/exports")
    download = page.get_by_role("button", name="Download users CSV")
    page.route(re.compile(r"/functions/v1/admin/export/"), hold)
    download.click()
    expect(page.get_by_role("button", name="Exporting…")).to_be_disabled()
    check_page(page, "state-admin-exports-running", settled=False)
    page.unroute(re.compile(r"/functions/v1/admin/export/"))

    page.route(re.compile(r"/functions/v1/admin/export/"), fail)
    page.goto("/admin/exports")
    download.click()
    expect(page.get_by_role("main").get_by_role("alert").first).to_be_visible()
    expect(page.get_by_text(RAW)).to_have_count(0)
    expect(download).to_be_enabled()
    check_page(page, "state-admin-exports-error")
