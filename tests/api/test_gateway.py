"""The gateway keeps Supabase's URL contract: /rest/v1, /auth/v1, /functions/v1, and /."""

from __future__ import annotations

import requests

from tests.conftest import StackInfo


def test_rest_root_serves_postgrest_openapi_behind_the_gateway(stack: StackInfo) -> None:
    response = requests.get(f"{stack.api_url}/rest/v1/", timeout=10)
    assert response.status_code == 200
    spec = response.json()
    assert spec["swagger"] == "2.0"
    assert spec["basePath"] == "/rest/v1/"
    assert spec["info"]["version"].startswith("12.")


def test_auth_health_answers_through_the_gateway(stack: StackInfo) -> None:
    response = requests.get(f"{stack.api_url}/auth/v1/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["name"] == "GoTrue"
    assert response.headers["X-Request-Id"]


def test_root_serves_the_web_page(stack: StackInfo) -> None:
    response = requests.get(f"{stack.api_url}/", timeout=10)
    assert response.status_code == 200
    assert "VoxFlow" in response.text


def test_unknown_function_route_is_a_json_error_with_request_id(stack: StackInfo) -> None:
    response = requests.get(f"{stack.api_url}/functions/v1/no-such-thing", timeout=10)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert {"message", "details", "hint"} <= body.keys()


def test_anon_key_reaches_postgrest_as_anon(stack: StackInfo) -> None:
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {stack.anon_key}"}
    response = requests.get(f"{stack.api_url}/rest/v1/", headers=headers, timeout=10)
    assert response.status_code == 200
    forged = stack.anon_key[:-4] + ("AAAA" if not stack.anon_key.endswith("AAAA") else "BBBB")
    rejected = requests.get(
        f"{stack.api_url}/rest/v1/", headers={"Authorization": f"Bearer {forged}"}, timeout=10
    )
    assert rejected.status_code == 401
