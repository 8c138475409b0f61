"""Fixtures for HTTP tests: a mailbox reading the mail catcher, and users made through the
real sign-up flow (or, where the flow is not under test, created directly and confirmed)."""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import StackInfo

PASSWORD = "Correct-horse-42"


@dataclass
class Mailbox:
    directory: Path

    def messages_to(self, address: str) -> list[email.message.EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        return found  # type: ignore[return-value]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[Any]:
        """Poll until `count` messages reached `address` (the worker sends asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)  # polling the mail directory
        raise AssertionError(f"no mail #{count} reached {address} within {timeout}s")

    @staticmethod
    def link_in(message: Any) -> str:
        body = message.get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"(http\S+/auth/v1/verify\?\S+)", body)
        assert match, f"no verification link in: {body}"
        return match.group(1)


@pytest.fixture(scope="session")
def mailbox(stack: StackInfo) -> Mailbox:
    return Mailbox(stack.mail_dir)


@pytest.fixture(scope="session", autouse=True)
def generous_rate_limits(stack: StackInfo) -> Iterator[None]:
    """Every test signs up from 127.0.0.1; tests of the limits lower them on their own."""
    with stack.connect() as conn:
        conn.execute("update private.rate_limit_rules set max_hits = 100000")
    yield


@dataclass
class User:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    def __init__(self, stack: StackInfo) -> None:
        self.stack = stack
        self.http = requests.Session()
        self.http.headers["apikey"] = stack.anon_key

    def url(self, path: str) -> str:
        return f"{self.stack.api_url}{path}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.http.post(self.url(path), timeout=30, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.http.put(self.url(path), timeout=30, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.http.patch(self.url(path), timeout=30, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.http.delete(self.url(path), timeout=30, **kw)

    def login(self, address: str, password: str = PASSWORD) -> requests.Response:
        return self.post(
            "/auth/v1/token?grant_type=password", json={"email": address, "password": password}
        )

    def session_for(self, address: str, password: str = PASSWORD) -> User:
        response = self.login(address, password)
        assert response.status_code == 200, response.text
        body = response.json()
        return User(
            body["user"]["id"], address, password, body["access_token"], body["refresh_token"]
        )


@pytest.fixture(scope="session")
def api(stack: StackInfo) -> Api:
    return Api(stack)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def make_user(api: Api, stack: StackInfo) -> Callable[..., User]:
    """A confirmed, signed-in user. Created through the API (sign-up), then confirmed in the
    database: tests of the verification mail itself live in test_auth.py."""

    def make(role: str = "user", prefix: str = "user") -> User:
        address = unique_email(prefix)
        response = api.post(
            "/auth/v1/signup",
            json={"email": address, "password": PASSWORD, "data": {"organization_name": "Acme"}},
        )
        assert response.status_code == 200, response.text
        with stack.connect() as conn:
            conn.execute(
                "update auth.users set email_confirmed_at = now() where email = %s", (address,)
            )
            if role == "admin":
                conn.execute(
                    "update public.profiles set role = 'admin' where email = %s", (address,)
                )
        return api.session_for(address)

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user()


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(role="admin", prefix="admin")
