"""Browser tests: Python Playwright driving Debian's Chromium (/usr/bin/chromium, the apt
package; no browser is downloaded) against the real stack. Elements are found by role and
accessible name, so the tests also prove the pages are accessible; every page is scanned
with axe-core and photographed at desktop and phone width into tests/web/screenshots/."""

from __future__ import annotations

import json
import os
import re
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.api import conftest as api_suite
from tests.api.conftest import PASSWORD, Mailbox, User, unique_email  # noqa: F401
from tests.conftest import ROOT, StackInfo

# The API suite's fixtures: a mailbox on the mail catcher, users made through sign-up.
api = api_suite.api
mailbox = api_suite.mailbox
make_user = api_suite.make_user
generous_rate_limits = api_suite.generous_rate_limits

CHROMIUM = os.environ.get("VOXFLOW_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 760}


def speech_wav(path: Path, seconds: float = 2.0, rate: int = 16000) -> Path:
    """A WAV Chromium plays as the fake microphone: a quiet 440 Hz tone (any sound will do,
    the fake Deepgram answers with the transcript the test configures)."""
    import math

    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(6000 * math.sin(2 * math.pi * 440 * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(
    playwright_session: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.exit(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium", returncode=3)
    microphone = speech_wav(tmp_path_factory.mktemp("mic") / "speech.wav")
    browser = playwright_session.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, stack: StackInfo) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=stack.api_url, viewport=DESKTOP)
    context.grant_permissions(["microphone"], origin=stack.api_url)
    context.set_default_timeout(10000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    assert not errors, f"uncaught errors in the page: {errors}"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await window.axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]  # fmt: skip


def check_page(page: Page, name: str, settled: bool = True) -> None:
    """Scan with axe (zero serious or critical violations) and photograph the page at desktop
    and phone width, in the light theme and, at desktop, the dark one. `settled=False` for a
    page caught while its requests are still out (its loading state)."""
    if settled:
        page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(exist_ok=True)
    violations = axe_violations(page)
    assert not violations, f"{name}: {json.dumps(violations, indent=1)}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    original = page.viewport_size or DESKTOP
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)  # layout settles
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name}: the page is {overflow}px wider than a 375px phone"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(original)
    # The app follows prefers-color-scheme while the person has not picked a theme.
    page.evaluate("() => { localStorage.removeItem('voxflow-theme'); }")
    page.emulate_media(color_scheme="dark")
    page.wait_for_function("() => document.documentElement.classList.contains('dark')")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-dark.png"), full_page=True)
    dark = axe_violations(page)
    page.emulate_media(color_scheme="light")
    assert not dark, f"{name} (dark): {json.dumps(dark, indent=1)}"


def link_in_mail(message: Any) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"(http\S+/auth/v1/verify\?\S+)", body)
    assert match, f"no link in: {body}"
    return match.group(1)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/home"))


@pytest.fixture
def signed_in(page: Page, make_user: Callable[..., User]) -> Callable[..., User]:
    """Sign a new confirmed user (or admin) in through the page."""

    def go(role: str = "user") -> User:
        person = make_user(role=role)
        sign_in(page, person.email, person.password)
        return person

    return go
