"""The admin surface over HTTP: the users overview through PostgREST, one audit row per admin
action, client IPs in the audit log, the gateway log shipped into system health (once, across
workers, restarts and rotation), /metrics, streamed and audited CSV exports, the audit chain
CLI and anomaly alerts. Analytics arithmetic and the anomaly rules are in
tests/sql/05_admin_test.sql."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from tests.api.conftest import PASSWORD, Api, Mailbox, User, unique_email
from tests.conftest import StackInfo
from voxflow import health

REST = "/rest/v1"
READ = {"Accept-Profile": "admin"}
WRITE = {"Content-Profile": "admin"}


def admin_rpc(api: Api, admin: User, name: str, **args: Any) -> requests.Response:
    return api.post(f"{REST}/rpc/{name}", headers={**admin.headers, **WRITE}, json=args)


def audit_rows(stack: StackInfo, request_id: str) -> list[tuple[Any, ...]]:
    with stack.connect() as conn:
        return conn.execute(
            "select actor_id::text, action, before, after from private.audit_log "
            "where request_id = %s order by id",
            (request_id,),
        ).fetchall()


def tagged_users(api: Api, make_user: Callable[..., User], count: int) -> tuple[str, list[User]]:
    """Users whose organization carries a fresh tag, renamed through the API."""
    tag = uuid.uuid4().hex[:10]
    users = [make_user() for _ in range(count)]
    for n, found in enumerate(users):
        renamed = api.patch(f"{REST}/profiles?id=eq.{found.id}", headers=found.headers,
                            json={"organization_name": f"Quokka {tag} {n}"})  # fmt: skip
        assert renamed.status_code == 204, renamed.text
    return tag, users


# --- users ------------------------------------------------------------------------------------


def test_users_overview_filters_searches_sorts_and_pages(
    api: Api, admin: User, make_user: Callable[..., User], stack: StackInfo
) -> None:
    tag, (first, second, third) = tagged_users(api, make_user, 3)
    headers = {**admin.headers, **READ}
    found = api.get(f"{REST}/users_overview?search=ilike.*{tag.upper()}*&order=created_at.desc",
                    headers=headers)  # fmt: skip
    assert found.status_code == 200, found.text
    assert [r["user_id"] for r in found.json()] == [third.id, second.id, first.id]
    row = found.json()[0]
    assert row["organization_name"] == f"Quokka {tag} 2" and row["plan_id"] == "free"
    assert (row["agent_count"], row["agent_limit"], row["token_limit"]) == (0, 2, 1000)
    assert row["last_active_at"] is not None, "signing in counts as activity"

    page = api.get(f"{REST}/users_overview?search=ilike.*{tag}*&order=created_at&limit=2",
                   headers={**headers, "Prefer": "count=exact"})  # fmt: skip
    assert [r["user_id"] for r in page.json()] == [first.id, second.id]
    assert page.headers["Content-Range"] == "0-1/3"

    assert admin_rpc(api, admin, "set_user_status", user_id=second.id,
                     status="suspended").status_code == 200  # fmt: skip
    with stack.connect() as conn:
        conn.execute(
            "insert into public.usage_counters (user_id, period_start, tokens_used) "
            "values (%s, date_trunc('month', now() at time zone 'UTC')::date, 1000)",
            (third.id,),
        )
    suspended = api.get(f"{REST}/users_overview?search=ilike.*{tag}*&status=eq.suspended",
                        headers=headers).json()  # fmt: skip
    assert [r["user_id"] for r in suspended] == [second.id]
    over = api.get(f"{REST}/users_overview?search=ilike.*{tag}*&over_quota=is.true",
                   headers=headers).json()  # fmt: skip
    assert [(r["user_id"], r["near_quota"]) for r in over] == [(third.id, True)]
    recent = api.get(
        f"{REST}/users_overview?search=ilike.*{tag}*&created_at=gte.{first_created(found)}"
        "&plan_id=eq.free&role=eq.user&select=user_id",
        headers=headers,
    )
    assert len(recent.json()) == 3


def first_created(response: requests.Response) -> str:
    return min(r["created_at"] for r in response.json()).replace("+", "%2B")


def test_every_admin_action_writes_exactly_one_audit_row(
    api: Api, admin: User, make_user: Callable[..., User], stack: StackInfo
) -> None:
    target = make_user()
    with stack.connect() as conn:
        (alert_id,) = conn.execute(
            "insert into private.alerts (rule, subject, window_start, severity, title, evidence) "
            "values ('pricing_gap', %s, now(), 'warning', 'test alert', '{}') returning id",
            (f"test/{uuid.uuid4().hex}",),
        ).fetchone()
    actions = [
        ("set_user_status", {"status": "suspended"}, "admin.user_suspended",
         {"status": "active"}, {"status": "suspended"}),
        ("set_user_status", {"status": "active"}, "admin.user_reactivated",
         {"status": "suspended"}, {"status": "active"}),
        ("set_user_role", {"role": "admin"}, "admin.user_role_changed",
         {"role": "user"}, {"role": "admin"}),
        ("set_user_role", {"role": "user"}, "admin.user_role_changed",
         {"role": "admin"}, {"role": "user"}),
        ("change_plan", {"plan_id": "pro"}, "admin.plan_changed",
         {"plan_id": "free"}, {"plan_id": "pro"}),
        ("set_limits", {"agent_limit": 5, "monthly_token_limit": 5000}, "admin.limits_changed",
         {"agent_limit": 10, "monthly_token_limit": 1000000},
         {"agent_limit": 5, "monthly_token_limit": 5000}),
        ("acknowledge_alert", {"alert_id": alert_id}, "admin.alert_acknowledged",
         {"status": "open"}, {"status": "acknowledged"}),
        ("resolve_alert", {"alert_id": alert_id}, "admin.alert_resolved",
         {"status": "acknowledged"}, {"status": "resolved"}),
        ("delete_user", {}, "admin.account_deleted", None, None),
    ]  # fmt: skip
    for name, args, action, before, after in actions:
        if "alert_id" not in args:
            args = {"user_id": target.id, **args}
        response = admin_rpc(api, admin, name, **args)
        assert response.status_code in (200, 204), f"{name}: {response.text}"
        request_id = response.headers["X-Request-Id"]
        assert audit_rows(stack, request_id) == [(admin.id, action, before, after)], name
        with stack.connect() as conn:
            ip = conn.execute(
                "select host(ip) from private.audit_log where request_id = %s", (request_id,)
            ).fetchone()
        assert ip == ("127.0.0.1",), f"{name}: PostgREST requests record the client's address"


def notes_of(api: Api, person: User, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.get(
        f"{REST}/notifications?kind=eq.{kind}&order=id", headers=person.headers
    ).json()
    return found


def test_set_limits_changes_only_the_limit_it_is_given(
    api: Api, admin: User, make_user: Callable[..., User], stack: StackInfo
) -> None:
    """Raising only the token limit keeps the agent limit and its agents as they are; clearing
    an override is explicit; the reason reaches the audit entry and the user (issue 16, 2)."""
    target = make_user()
    agent_only = admin_rpc(api, admin, "set_limits", user_id=target.id, agent_limit=3)
    assert agent_only.status_code == 200, agent_only.text
    assert (agent_only.json()["agent_limit"], agent_only.json()["monthly_token_limit"]) == (3, 1000)
    for n in range(3):
        created = api.post(f"{REST}/agents", headers=target.headers,
                           json={"name": f"Agent {n}", "system_prompt": "Be kind."})  # fmt: skip
        assert created.status_code == 201, created.text
    with stack.connect() as conn:  # as a v0 upgrade leaves them: 3 active agents over the plan's 2
        conn.execute("update public.profiles set agent_limit_override = null where id = %s",
                     (target.id,))  # fmt: skip

    raised = admin_rpc(api, admin, "set_limits", user_id=target.id, monthly_token_limit=5000,
                       reason="Pilot customer, ticket 4711")  # fmt: skip
    assert raised.status_code == 200, raised.text
    body = raised.json()
    assert body["changed"] is True and body["reason"] == "Pilot customer, ticket 4711"
    assert (body["before"], body["after"]) == (
        {"agent_limit": 2, "monthly_token_limit": 1000},
        {"agent_limit": 2, "monthly_token_limit": 5000},
    )
    assert body["overrides"] == {
        "before": {"agent_limit": None, "monthly_token_limit": None},
        "after": {"agent_limit": None, "monthly_token_limit": 5000},
    }
    assert (body["suspended_agent_ids"], body["reactivated_agent_ids"]) == ([], [])
    with stack.connect() as conn:
        statuses = conn.execute(
            "select status from public.agents where user_id = %s", (target.id,)
        ).fetchall()
    assert statuses == [("active",)] * 3, "a token change pauses no agent"
    assert audit_rows(stack, raised.headers["X-Request-Id"]) == [(
        admin.id, "admin.limits_changed", {"agent_limit": 2, "monthly_token_limit": 1000},
        {"agent_limit": 2, "monthly_token_limit": 5000, "reason": "Pilot customer, ticket 4711"},
    )]  # fmt: skip
    told = notes_of(api, target, "limits_changed")[-1]
    assert told["body"] == (
        "An administrator changed your limits: tokens a month 1,000 → 5,000. "
        "Reason: Pilot customer, ticket 4711"
    )
    assert told["data"]["reason"] == "Pilot customer, ticket 4711"

    same = admin_rpc(api, admin, "set_limits", user_id=target.id, monthly_token_limit=5000)
    assert same.status_code == 200 and same.json()["changed"] is False
    assert audit_rows(stack, same.headers["X-Request-Id"]) == [], "nothing changed, nothing written"

    cleared = admin_rpc(api, admin, "set_limits", user_id=target.id, clear_token_limit=True)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["after"] == {"agent_limit": 2, "monthly_token_limit": 1000}
    overrides = cleared.json()["overrides"]["after"]
    assert overrides == {"agent_limit": None, "monthly_token_limit": None}
    assert notes_of(api, target, "limits_changed")[-1]["body"] == (
        "An administrator changed your limits: tokens a month 5,000 → 1,000 (your plan's)."
    )

    for args, field in [
        ({"agent_limit": 4, "clear_agent_limit": True}, "agent_limit"),
        ({"monthly_token_limit": 10, "clear_token_limit": True}, "monthly_token_limit"),
        ({"monthly_token_limit": -1}, "monthly_token_limit"),
        ({}, None),
        ({"reason": "only a reason"}, None),
    ]:
        refused = admin_rpc(api, admin, "set_limits", user_id=target.id, **args)
        assert refused.status_code == 400, f"{args}: {refused.text}"
        assert (refused.json()["code"], refused.json()["details"]) == ("invalid_limit", field)
    long_reason = admin_rpc(api, admin, "set_limits", user_id=target.id, agent_limit=4,
                            reason="x" * 501)  # fmt: skip
    assert (long_reason.status_code, long_reason.json()["code"]) == (400, "validation_failed")
    assert profile_limits(stack, target.id) == (None, None), "refused calls changed nothing"


def profile_limits(stack: StackInfo, user_id: str) -> tuple[int | None, int | None]:
    with stack.connect() as conn:
        row = conn.execute(
            "select agent_limit_override, monthly_token_limit_override from public.profiles "
            "where id = %s",
            (user_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_sign_ups_and_failed_sign_ins_record_the_client_ip(api: Api, stack: StackInfo) -> None:
    address = unique_email("ip")
    body = {"email": address, "password": PASSWORD, "data": {"organization_name": "Acme"}}
    signed_up = api.post("/auth/v1/signup", json=body)
    assert signed_up.status_code == 200
    assert api.login(address, "wrong-password-1").status_code == 400
    with stack.connect() as conn:
        rows = conn.execute(
            "select action, host(ip) from private.audit_log "
            "where (action = 'user.signed_up' and target_id = %s) "
            "or (action = 'login.failed' and target_id = %s) order by id",
            (signed_up.json()["id"], address),
        ).fetchall()
    assert rows == [("user.signed_up", "127.0.0.1"), ("login.failed", "127.0.0.1")]


def test_user_detail_views_filter_by_user(
    api: Api, admin: User, make_user: Callable[..., User]
) -> None:
    owner, other = make_user(), make_user()
    for found in (owner, other):
        created = api.post(f"{REST}/agents", headers=found.headers,
                           json={"name": "Receptionist", "system_prompt": "Be kind."})  # fmt: skip
        assert created.status_code == 201, created.text
    assert admin_rpc(api, admin, "change_plan", user_id=owner.id, plan_id="pro").status_code == 200
    headers = {**admin.headers, **READ}

    def rows(view: str, query: str = "") -> list[dict[str, Any]]:
        response = api.get(f"{REST}/{view}?user_id=eq.{owner.id}{query}", headers=headers)
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()
        return result

    assert [a["name"] for a in rows("user_agents")] == ["Receptionist"]
    history = rows("user_subscriptions", "&order=subscription_id")
    assert [(s["plan_id"], s["status"]) for s in history] == [
        ("free", "ended"), ("pro", "active")
    ]  # fmt: skip
    assert "plan_changed" in [n["kind"] for n in rows("user_notifications")]
    assert rows("user_usage") == []
    about = api.get(f"{REST}/audit_log?target_id=eq.{owner.id}&order=id", headers=headers).json()
    expected = ["user.signed_up", "login.succeeded", "admin.plan_changed"]
    assert [e["action"] for e in about] == expected
    by = api.get(f"{REST}/audit_log?actor_id=eq.{admin.id}&action=eq.admin.plan_changed",
                 headers=headers).json()  # fmt: skip
    assert [e["target_id"] for e in by] == [owner.id]


def test_analytics_views_answer_admins_with_their_freshness(
    api: Api, admin: User, stack: StackInfo
) -> None:
    with stack.connect() as conn:
        conn.execute("select private.refresh_analytics(), private.refresh_platform_counts()")
    headers = {**admin.headers, **READ}
    totals = api.get(f"{REST}/platform_totals", headers=headers)
    assert totals.status_code == 200, totals.text
    (row,) = totals.json()
    assert row["users_total"] >= 1 and row["active_users_7d"] >= 1 and row["usage_as_of"]
    today = datetime.now(UTC).date().isoformat()
    month = today[:8] + "01"
    for path in (
        f"daily_trends?day=eq.{today}",
        f"monthly_trends?month=eq.{month}",
        f"feature_usage?period_start=eq.{month}",
        f"cost_breakdown?period_start=eq.{month}",
        f"top_users?period_start=eq.{month}&order=rank&limit=5",
        "system_health?granularity=eq.minute&limit=5",
        "alerts?status=eq.open",
    ):
        response = api.get(f"{REST}/{path}", headers=headers)
        assert response.status_code == 200, f"{path}: {response.text}"
    (day,) = api.get(f"{REST}/daily_trends?day=eq.{today}", headers=headers).json()
    assert day["signups"] >= 1 and day["as_of"]


# --- system health ----------------------------------------------------------------------------


def route_totals(conn: psycopg.Connection, route: str) -> tuple[int, int, int]:
    found = conn.execute(
        "select requests, client_errors, server_errors from private.health_totals "
        "where source = 'route' and name = %s",
        (route,),
    ).fetchone()
    return tuple(found) if found else (0, 0, 0)  # type: ignore[return-value]


def test_gateway_traffic_reaches_system_health(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    path = stack.state_dir / "run" / "nginx" / "access.log"
    route = "/rest/v1/price_book"
    with stack.connect() as conn:
        health.ship_access_log(conn, path)
        before = route_totals(conn, route)
        for query in ("", "?select=id", "?provider=eq.groq", "?id=eq.x", "?id=eq.y"):
            api.get(f"{route}{query}", headers=user.headers)
        deadline = time.monotonic() + 10
        while route_totals(conn, route)[0] - before[0] < 5 and time.monotonic() < deadline:
            health.ship_access_log(conn, path)  # nginx writes the line as the response ends
        after = route_totals(conn, route)
    assert [a - b for a, b in zip(after, before, strict=True)] == [5, 2, 0]
    query = f"source=eq.route&name=eq.{route}&granularity=eq.minute&order=bucket_start.desc"
    shown = api.get(f"{REST}/system_health?{query}", headers={**admin.headers, **READ}).json()
    assert shown and shown[0]["requests"] >= 1 and shown[0]["p95_ms"] is not None


def log_line(uri: str, status: int, seconds: float = 0.012) -> str:
    entry = {"time": datetime.now(UTC).isoformat(), "method": "GET", "uri": uri,
             "status": status, "request_time": seconds, "request_id": "x"}  # fmt: skip
    return json.dumps(entry) + "\n"


def test_access_log_lines_count_once_across_workers_restarts_and_rotation(
    stack: StackInfo, tmp_path: Path
) -> None:
    uri = f"/functions/v1/zz{uuid.uuid4().hex[:10]}"
    log = tmp_path / "access.log"
    log.write_text("".join(log_line(uri, 200 if n % 10 else 503) for n in range(500)))
    with open(log, "a") as fh:
        fh.write(log_line(uri, 200).rstrip("\n"))  # a line still being written: not counted yet

    def ship() -> None:
        with stack.connect() as conn:
            health.ship_access_log(conn, log)

    workers = [threading.Thread(target=ship) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with stack.connect() as conn:
        assert route_totals(conn, uri) == (500, 0, 50), "four concurrent workers count once"
        with open(log, "a") as fh:
            fh.write("\n" + "not json\n" + log_line(uri, 401) * 9)
        health.ship_access_log(conn, log)
        cursor = "select updated_at from private.log_cursors where path = %s"
        (shipped_at,) = conn.execute(cursor, (str(log),)).fetchone()
        health.ship_access_log(conn, log)
        assert route_totals(conn, uri) == (510, 9, 50), "appended lines, each once"
        assert conn.execute(cursor, (str(log),)).fetchone() == (shipped_at,), (
            "a tick with nothing new writes nothing"
        )
        log.rename(tmp_path / "access.log.1")
        log.write_text(log_line(uri, 200) * 7)
        health.ship_access_log(conn, log)
        assert route_totals(conn, uri)[0] == 517, "a rotated log is read from its start"
        os.truncate(log, 0)
        log.write_text(log_line(uri, 200) * 3)
        health.ship_access_log(conn, log)
        assert route_totals(conn, uri)[0] == 520, "a truncated log is read from its start"


@pytest.mark.parametrize(
    ("uri", "status", "route"),
    [
        ("/rest/v1/agents", 200, "/rest/v1/agents"),
        ("/rest/v1/agents/", 200, "/rest/v1/agents"),
        ("/rest/v1/rpc/change_plan", 200, "/rest/v1/rpc/change_plan"),
        ("/rest/v1/no_such_table_here", 404, "/rest/v1/:unknown"),
        ("/rest/v1/rpc/nope", 404, "/rest/v1/rpc/:unknown"),
        ("/auth/v1/token", 400, "/auth/v1/token"),
        ("/auth/v1/admin/users/6f1c2e7a-8b9d-4c3e-a1f2-0123456789ab", 200,
         "/auth/v1/admin/users/:id"),
        ("/functions/v1/api-keys/groq", 200, "/functions/v1/api-keys/groq"),
        ("/functions/v1/agents/123/chat", 200, "/functions/v1/agents/:id/chat"),
        ("/functions/v1/random/path/that/is/unknown", 404, "/functions/v1/:unmatched"),
        ("/index.html", 200, "/:static"),
    ],
)  # fmt: skip
def test_requests_map_to_route_templates(uri: str, status: int, route: str) -> None:
    known = frozenset({"agents", "rpc/change_plan"})
    assert health.route_template(uri, status, known) == route


def test_metrics_need_an_admin_or_the_service_key_and_read_the_database(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    route = f"/test/{uuid.uuid4().hex[:8]}"
    hist = [0] * 25
    hist[7], hist[12] = 40, 2
    with stack.connect() as conn:
        conn.execute(
            "insert into private.health_totals (source, name, requests, client_errors, "
            "server_errors, latency_ms_total, latency_hist) "
            "values ('route', %s, 42, 3, 1, 1234, %s)",
            (route, hist),
        )
    try:
        service = {"Authorization": f"Bearer {stack.service_role_key}"}
        scraped = api.get("/functions/v1/metrics", headers=service)
        assert scraped.status_code == 200 and scraped.headers["Content-Type"].startswith(
            "text/plain"
        )
        text = scraped.text
        assert f'voxflow_http_requests_total{{route="{route}"}} 42' in text
        assert f'voxflow_http_server_errors_total{{route="{route}"}} 1' in text
        assert f'voxflow_http_duration_seconds_bucket{{le="0.03",route="{route}"}} 40' in text
        assert f'voxflow_http_duration_seconds_bucket{{le="+Inf",route="{route}"}} 42' in text
        assert f'voxflow_http_duration_seconds_sum{{route="{route}"}} 1.234' in text
        assert "# TYPE voxflow_http_duration_seconds histogram" in text
        assert 'voxflow_users{status="active"}' in text and "voxflow_outbox_backlog " in text
        assert api.get("/functions/v1/metrics", headers=admin.headers).status_code == 200
        assert api.get("/functions/v1/metrics", headers=user.headers).status_code == 403
        assert api.get("/functions/v1/metrics").status_code == 401
    finally:
        with stack.connect() as conn:
            conn.execute("delete from private.health_totals where name = %s", (route,))


# --- CSV exports ------------------------------------------------------------------------------


def sidecar_memory_kb(stack: StackInfo) -> int:
    """Peak resident memory (VmHWM) summed over the sidecar's gunicorn processes."""
    port = stack.env["VOXFLOW_SIDECAR_PORT"]
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if b"gunicorn" not in b" ".join(cmdline) or f"127.0.0.1:{port}".encode() not in cmdline:
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines()
                      if line.startswith("VmHWM:"))  # fmt: skip
    assert total, "found no sidecar processes"
    return total


def test_csv_export_of_50k_rows_streams_with_bounded_memory(
    api: Api, admin: User, make_user: Callable[..., User], stack: StackInfo
) -> None:
    owner = make_user()
    with stack.connect() as conn:
        conn.execute(
            "insert into public.usage_daily (user_id, day, period_start, provider, kind, model, "
            "events, input_tokens, output_tokens, cost_usd) "
            "select %s, current_date, date_trunc('month', current_date)::date, 'groq', 'llm', "
            "'bulk-model-' || lpad(n::text, 6, '0') || repeat('x', 120), 1, n, n, n / 1e6 "
            "from generate_series(1, 50000) as n",
            (owner.id,),
        )
    try:
        before = sidecar_memory_kb(stack)
        with api.http.get(
            api.url(f"/functions/v1/admin/export/usage?user_id=eq.{owner.id}&order=model"),
            headers=admin.headers, stream=True, timeout=60,
        ) as response:  # fmt: skip
            assert response.status_code == 200, response.text
            assert response.headers["Content-Type"].startswith("text/csv")
            assert response.headers.get("Transfer-Encoding") == "chunked"
            lines = 0
            first = last = ""
            for line in response.iter_lines(decode_unicode=True):
                first = first or line
                last = line
                lines += 1
        grown_mb = (sidecar_memory_kb(stack) - before) / 1024
    finally:
        with stack.connect() as conn:
            conn.execute("delete from public.usage_daily where user_id = %s", (owner.id,))
    assert lines == 50_001 and first.startswith("user_id,period_start,closed,provider")
    assert "bulk-model-050000" in last
    # Holding the rows (or the CSV) in memory would take well over 50 MB.
    assert grown_mb < 25, f"the sidecar's peak memory grew by {grown_mb:.0f} MB"


def test_csv_exports_respect_filters_and_are_audited(
    api: Api, admin: User, make_user: Callable[..., User], stack: StackInfo
) -> None:
    tag, (first, second) = tagged_users(api, make_user, 2)
    renamed = api.patch(f"{REST}/profiles?id=eq.{second.id}", headers=second.headers,
                        json={"organization_name": f"=HYPERLINK(1) {tag}"})  # fmt: skip
    assert renamed.status_code == 204
    query = f"search=ilike.*{tag}*&select=email,organization_name,plan_id&order=email"
    exported = api.get(f"/functions/v1/admin/export/users?{query}", headers=admin.headers)
    assert exported.status_code == 200, exported.text
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows == [["email", "organization_name", "plan_id"]] + sorted([
        [first.email, f"Quokka {tag} 0", "free"],
        [second.email, f"'=HYPERLINK(1) {tag}", "free"],  # never a spreadsheet formula
    ])  # fmt: skip
    filters = {"search": f"ilike.*{tag}*", "select": "email,organization_name,plan_id",
               "order": "email"}  # fmt: skip
    assert audit_rows(stack, exported.headers["X-Request-Id"]) == [
        (admin.id, "admin.export", None, {"kind": "users", "filters": filters})
    ]
    between = f"search=ilike.*{tag}*&created_at=gte.2000-01-01&created_at=lt.2000-01-02"
    ranged = api.get(f"/functions/v1/admin/export/users?{between}", headers=admin.headers)
    assert ranged.status_code == 200 and ranged.text.count("\n") == 1, (
        "both ends of the range apply"
    )
    for path, status, code in [
        ("users?nope=eq.1", 400, "invalid_filter"),
        ("users?status=matches.x", 400, "invalid_filter"),
        ("users?created_at=gte.not-a-time", 400, "invalid_filter"),
        ("users?order=email.sideways", 400, "invalid_filter"),
        ("secrets", 404, "unknown_export"),
    ]:
        refused = api.get(f"/functions/v1/admin/export/{path}", headers=admin.headers)
        assert (refused.status_code, refused.json()["code"]) == (status, code), path
        assert audit_rows(stack, refused.headers["X-Request-Id"]) == [], "nothing was exported"
    for kind in ("usage", "costs", "audit"):
        response = api.get(f"/functions/v1/admin/export/{kind}?limit=1", headers=admin.headers)
        assert response.status_code == 200 and response.text.count("\n") <= 2, kind


# --- prices -----------------------------------------------------------------------------------

IMPORT = "/functions/v1/admin/prices/import"


def test_an_admin_imports_a_price_file_as_the_cli_does(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    """POST .../admin/prices/import loads LiteLLM's file with `voxflow prices import`'s code:
    each changed price audited under the admin's name; a file it cannot use is a clear 400."""
    model = f"import-{uuid.uuid4().hex[:8]}"
    litellm = json.dumps({
        f"groq/{model}": {"input_cost_per_token": 5e-08, "output_cost_per_token": 8e-08,
                          "litellm_provider": "groq", "mode": "chat"},
        "gpt-4o": {"input_cost_per_token": 2.5e-06, "litellm_provider": "openai"},
    })  # fmt: skip
    json_headers = {**admin.headers, "Content-Type": "application/json"}
    imported = api.post(f"{IMPORT}?filename=model_prices_and_context_window.json",
                        headers=json_headers, data=litellm)  # fmt: skip
    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "file": "model_prices_and_context_window.json", "read": 2, "changed": 2
    }  # fmt: skip
    with stack.connect() as conn:
        current = conn.execute(
            "select unit, usd_per_unit::float8, source from public.price_book "
            "where provider = 'groq' and model = %s and effective_to is null order by unit",
            (model,),
        ).fetchall()
    source = "import:model_prices_and_context_window.json"
    assert current == [("input_token", 5e-08, source), ("output_token", 8e-08, source)]
    audited = audit_rows(stack, imported.headers["X-Request-Id"])
    assert sorted(audited, key=str) == sorted([
        (admin.id, "price.changed", None, {"usd_per_unit": 5e-08, "source": source}),
        (admin.id, "price.changed", None, {"usd_per_unit": 8e-08, "source": source}),
    ], key=str)  # fmt: skip

    again = api.post(IMPORT, headers=json_headers, data=litellm)
    assert again.json() == {"file": "upload.json", "read": 2, "changed": 0}
    assert audit_rows(stack, again.headers["X-Request-Id"]) == []
    own = json.dumps([{"provider": "groq", "model": model, "unit": "input_token",
                       "usd_per_unit": 6e-08}])  # fmt: skip
    ours = api.post(f"{IMPORT}?filename=../../prices.json", headers=json_headers, data=own)
    assert ours.json() == {"file": "prices.json", "read": 1, "changed": 1}

    for body, says in [
        ('[{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": 1}, '
         '{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": 2}]',
         "groq/m has two prices per input_token"),
        ('[{"provider": "groq", "model": "m", "unit": "input_token", "usd_per_unit": NaN}]',
         "item 0: usd_per_unit must be a number >= 0"),
        ('{"gpt-4o": {"input_cost_per_token": 1, "litellm_provider": "openai"}}',
         "no Groq, Deepgram or Twilio prices found"),
        ("[1, 2", "not JSON"),
        (b"\xff\xfe not text", "cannot be read as UTF-8 text"),
        ("", "no price file"),
    ]:  # fmt: skip
        refused = api.post(f"{IMPORT}?filename=bad.json", headers=json_headers, data=body)
        assert refused.status_code == 400, f"{body!r}: {refused.text}"
        assert refused.json()["code"] == "invalid_price_file"
        assert says in refused.json()["message"], refused.json()
    form = api.post(IMPORT, headers=admin.headers, files={"file": ("p.json", own)})
    assert (form.status_code, form.json()["code"]) == (400, "invalid_price_file")
    assert "not a form" in form.json()["message"]
    with stack.connect() as conn:
        (price,) = conn.execute(
            "select usd_per_unit::float8 from public.price_book where provider = 'groq' "
            "and model = %s and unit = 'input_token' and effective_to is null",
            (model,),
        ).fetchone()
    assert price == 6e-08, "a refused file changes no price"

    plain = api.post(IMPORT, headers={**user.headers, "Content-Type": "application/json"},
                     data=own)  # fmt: skip
    assert (plain.status_code, plain.json()["code"]) == (403, "not_admin")
    assert api.post(IMPORT, data=own).status_code == 401


# --- audit chain and alerts -------------------------------------------------------------------


@contextmanager
def tampered_audit_entry(stack: StackInfo) -> Iterator[int]:
    """A new audit entry whose content is edited behind the chain's back; restored on exit."""
    with stack.connect() as conn:
        (entry,) = conn.execute(
            "select private.audit('test.tamper', 'user', null, null, '{\"plan_id\": \"free\"}')"
        ).fetchone()
        conn.execute("set session_replication_role = replica")
        try:
            conn.execute("update private.audit_log set after = '{\"plan_id\": \"business\"}' "
                         "where id = %s", (entry,))  # fmt: skip
            yield entry
        finally:
            conn.execute("update private.audit_log set after = '{\"plan_id\": \"free\"}' "
                         "where id = %s", (entry,))  # fmt: skip
            conn.execute("reset session_replication_role")


def test_audit_verify_names_an_edited_entry(stack: StackInfo) -> None:
    assert stack.voxflow("audit", "verify").stdout.startswith("ok: ")
    with tampered_audit_entry(stack) as entry:
        broken = stack.voxflow("audit", "verify", check=False)
    assert broken.returncode == 1
    assert f"audit chain broken at entry {entry}: entry content was changed" in broken.stderr
    assert stack.voxflow("audit", "verify").returncode == 0


def failed_sign_ins(stack: StackInfo, ip: str, start: datetime, count: int, every: int) -> None:
    """`count` failed sign-ins from `ip`, one every `every` seconds after `start`."""
    with stack.connect() as conn:
        conn.execute(
            "insert into private.audit_log (occurred_at, action, target_type, target_id, ip) "
            "select %s::timestamptz + n * make_interval(secs => %s), "
            "'login.failed', 'email', 'victim@example.com', %s::inet "
            "from generate_series(1, %s) as n",
            (start, every, ip, count),
        )


def test_detected_anomalies_are_shown_to_admins_who_acknowledge_them(
    api: Api, admin: User, stack: StackInfo
) -> None:
    ip = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    failed_sign_ins(stack, ip, datetime(2025, 5, 5, 10, 0, tzinfo=UTC), count=30, every=5)
    detected = stack.voxflow("anomalies", "detect", "--at", "2025-05-05T10:07:00+00:00")
    raised = [json.loads(line) for line in detected.stdout.splitlines()[:-1]]
    assert [(a["rule"], a["subject"]) for a in raised] == [("failed_login_burst", ip)]
    assert detected.stdout.splitlines()[-1] == "1 alert(s) raised"
    again = stack.voxflow("anomalies", "detect", "--at", "2025-05-05T10:07:00+00:00")
    assert again.stdout.strip() == "0 alert(s) raised", "once per rule, subject and window"

    headers = {**admin.headers, **READ}
    (alert,) = api.get(f"{REST}/alerts?subject=eq.{ip}", headers=headers).json()
    assert alert["status"] == "open" and alert["evidence"]["count"] == 30
    acknowledged = admin_rpc(api, admin, "acknowledge_alert", alert_id=alert["id"])
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    again_ack = admin_rpc(api, admin, "acknowledge_alert", alert_id=alert["id"])
    assert (again_ack.status_code, again_ack.json()["code"]) == (409, "invalid_alert_transition")
    missing = admin_rpc(api, admin, "resolve_alert", alert_id=10**12)
    assert (missing.status_code, missing.json()["code"]) == (404, "alert_not_found")


def test_an_alert_states_its_thresholds_and_keeps_the_acknowledging_note(
    api: Api, admin: User, stack: StackInfo
) -> None:
    ip = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    failed_sign_ins(stack, ip, datetime(2025, 5, 6, 10, 0, tzinfo=UTC), count=25, every=10)
    with stack.connect() as conn:
        (params,) = conn.execute(
            "select params from private.anomaly_rules where rule = 'failed_login_burst'"
        ).fetchone()
    stack.voxflow("anomalies", "detect", "--at", "2025-05-06T10:07:00+00:00")
    headers = {**admin.headers, **READ}
    (alert,) = api.get(f"{REST}/alerts?subject=eq.{ip}", headers=headers).json()
    assert alert["thresholds"] == params, "the rule's thresholds when it was raised"
    seen = [datetime.fromisoformat(alert[k]) for k in ("first_seen_at", "last_seen_at")]
    assert seen == [datetime(2025, 5, 6, 10, 0, 10, tzinfo=UTC),
                    datetime(2025, 5, 6, 10, 4, 10, tzinfo=UTC)]  # fmt: skip
    assert alert["acknowledged_note"] is None

    acknowledged = admin_rpc(api, admin, "acknowledge_alert", alert_id=alert["id"],
                             note="  Blocked the IP at the firewall  ")  # fmt: skip
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged_note"] == "Blocked the IP at the firewall"
    (shown,) = api.get(f"{REST}/alerts?id=eq.{alert['id']}", headers=headers).json()
    assert (shown["status"], shown["acknowledged_note"]) == (
        "acknowledged", "Blocked the IP at the firewall"
    )  # fmt: skip
    assert audit_rows(stack, acknowledged.headers["X-Request-Id"]) == [(
        admin.id, "admin.alert_acknowledged", {"status": "open"},
        {"status": "acknowledged", "note": "Blocked the IP at the firewall"},
    )]  # fmt: skip
    too_long = admin_rpc(api, admin, "acknowledge_alert", alert_id=alert["id"], note="x" * 1001)
    assert (too_long.status_code, too_long.json()["code"]) == (400, "validation_failed")


def test_audit_chain_verification_is_read_by_admins_only(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    verified = admin_rpc(api, admin, "verify_audit_chain")
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert report["ok"] is True and report["checked"] >= 1 and report["verified_at"]
    assert (report["first_bad_id"], report["problem"]) == (None, None)
    read = api.get(f"{REST}/rpc/verify_audit_chain", headers={**admin.headers, **READ})
    assert read.status_code == 200 and read.json()["ok"] is True, "a read, so GET works too"
    with tampered_audit_entry(stack) as entry:
        broken = admin_rpc(api, admin, "verify_audit_chain").json()
    assert (broken["ok"], broken["first_bad_id"], broken["problem"]) == (
        False, entry, "entry content was changed"
    )  # fmt: skip
    assert admin_rpc(api, admin, "verify_audit_chain").json()["ok"] is True
    refused = admin_rpc(api, user, "verify_audit_chain")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_admin")
    anonymous = api.post(f"{REST}/rpc/verify_audit_chain", headers=WRITE, json={})
    assert anonymous.status_code == 401


def test_admins_turn_their_own_alert_mail_off_and_on(
    api: Api, admin: User, make_user: Callable[..., User], user: User, stack: StackInfo
) -> None:
    other = make_user(role="admin", prefix="admin")
    mine = f"{REST}/alert_preferences?user_id=eq.{admin.id}"
    headers = {**admin.headers, **READ}
    assert api.get(mine, headers=headers).json() == [
        {"user_id": admin.id, "email": admin.email, "email_enabled": True, "updated_at": None}
    ], "alert mail is on until an admin turns it off"
    off = admin_rpc(api, admin, "set_alert_email", enabled=False)
    assert off.status_code == 200, off.text
    assert (off.json()["user_id"], off.json()["email_enabled"]) == (admin.id, False)
    assert audit_rows(stack, off.headers["X-Request-Id"]) == [
        (admin.id, "admin.alert_email_changed", {"email_enabled": True}, {"email_enabled": False})
    ]
    (row,) = api.get(mine, headers=headers).json()
    assert row["email_enabled"] is False and row["updated_at"]
    others = api.get(f"{REST}/alert_preferences?user_id=eq.{other.id}", headers=headers).json()
    assert [r["email_enabled"] for r in others] == [True], "only the caller's choice changed"
    on = admin_rpc(api, admin, "set_alert_email", enabled=True)
    assert on.status_code == 200 and on.json()["email_enabled"] is True
    assert audit_rows(stack, on.headers["X-Request-Id"]) == [
        (admin.id, "admin.alert_email_changed", {"email_enabled": False}, {"email_enabled": True})
    ]
    missing = admin_rpc(api, admin, "set_alert_email", enabled=None)
    assert (missing.status_code, missing.json()["code"]) == (400, "validation_failed")
    refused = admin_rpc(api, user, "set_alert_email", enabled=False)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_admin")


def recorded_site_url(stack: StackInfo, timeout: float = 10.0) -> str:
    """The site URL the worker records when it starts (polled: it starts with the stack)."""
    deadline = time.monotonic() + timeout
    with stack.connect() as conn:
        while time.monotonic() < deadline:
            found = conn.execute(
                "select value from private.platform_settings where key = 'site_url'"
            ).fetchone()
            if found:
                return str(found[0])
            time.sleep(0.05)  # polling the database
    raise AssertionError(f"the worker recorded no site URL within {timeout}s")


def alert_mail(mailbox: Mailbox, address: str, link: str, timeout: float = 15.0) -> list[str]:
    """The bodies of mail to `address` naming `link`, once one arrived (the worker sends)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bodies = [m.get_body(preferencelist=("plain",)).get_content()
                  for m in mailbox.messages_to(address)]  # fmt: skip
        found = [b for b in bodies if link in b.split()]
        if found:
            return found
        time.sleep(0.05)  # polling the mail directory
    raise AssertionError(f"no mail naming {link} reached {address} within {timeout}s")


def test_a_failed_sign_in_burst_reaches_every_active_admin_once(
    api: Api, admin: User, make_user: Callable[..., User], user: User, mailbox: Mailbox,
    stack: StackInfo,
) -> None:  # fmt: skip
    """One burst: one alert, one notification per active admin, one mail per admin whose alert
    mail is on; nothing for users."""
    site_url = recorded_site_url(stack)
    assert site_url == stack.api_url, "the worker recorded where the console is"
    quiet = make_user(role="admin", prefix="quiet")
    assert admin_rpc(api, quiet, "set_alert_email", enabled=False).status_code == 200
    ip = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    with stack.connect() as conn:
        conn.execute(
            "insert into private.audit_log (occurred_at, action, target_type, target_id, ip) "
            "select timestamptz '2025-06-06 10:00+00' + n * interval '5 seconds', "
            "'login.failed', 'email', 'victim@example.com', %s::inet "
            "from generate_series(1, 30) as n",
            (ip,),
        )
    for _ in range(2):
        stack.voxflow("anomalies", "detect", "--at", "2025-06-06T10:07:00+00:00")
    (alert,) = api.get(f"{REST}/alerts?subject=eq.{ip}", headers={**admin.headers, **READ}).json()
    path = f"/admin/alerts?alert={alert['id']}"

    for person in (admin, quiet):
        query = f"kind=eq.admin_alert&user_id=eq.{person.id}&data->>alert_id=eq.{alert['id']}"
        notes = api.get(f"{REST}/notifications?{query}", headers=person.headers).json()
        assert [(n["title"], n["data"]["link"]) for n in notes] == [(alert["title"], path)]
    assert api.get(f"{REST}/notifications?kind=eq.admin_alert", headers=user.headers).json() == []
    with stack.connect() as conn:
        active = {r[0] for r in conn.execute(
            "select id::text from public.profiles where role = 'admin' and status = 'active'"
        )}  # fmt: skip
        told = conn.execute(
            "select user_id::text from public.notifications "
            "where kind = 'admin_alert' and data ->> 'alert_id' = %s",
            (str(alert["id"]),),
        ).fetchall()
        # Sent mail loses its body (it may carry a link); the subject names the alert's IP.
        mailed = conn.execute(
            "select user_id::text from private.outbox where kind = 'admin_alert' and subject = %s",
            (f"VoxFlow alert: {alert['title']}",),
        ).fetchall()
    assert sorted(r[0] for r in told) == sorted(active), "one notification per active admin"
    assert sorted(r[0] for r in mailed) == sorted(active - {quiet.id}), (
        "one mail per active admin whose alert mail is on"
    )
    assert {admin.id, quiet.id} <= active and user.id not in active
    (body,) = alert_mail(mailbox, admin.email, f"{site_url}{path}")
    assert alert["title"] in body
    assert not [m for m in mailbox.messages_to(quiet.email) if "alert" in m["Subject"]]
    assert not [m for m in mailbox.messages_to(user.email) if "alert" in m["Subject"]]
