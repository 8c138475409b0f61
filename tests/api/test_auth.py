"""Accounts through the GoTrue-compatible endpoints: sign-up, verification mail, sign-in,
refresh, sign-out, recovery, errors, throttling, suspension and roles."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlparse

import jwt
import psycopg
import pytest
from psycopg.rows import dict_row
from supabase import create_client

from tests.api.conftest import PASSWORD, Api, Mailbox, User, unique_email
from tests.conftest import StackInfo
from voxflow import mail
from voxflow.mail import SmtpSender, drain


def test_supabase_py_signs_up_verifies_signs_in_reads_refreshes_and_signs_out(
    stack: StackInfo, mailbox: Mailbox, api: Api
) -> None:
    """The official client, unchanged, against our gateway."""
    client = create_client(stack.api_url, stack.anon_key)
    address = unique_email("supa")
    signed_up = client.auth.sign_up(
        {"email": address, "password": PASSWORD, "options": {"data": {"organization_name": "Supa"}}}
    )
    assert signed_up.user is not None and signed_up.session is None  # not confirmed yet
    assert signed_up.user.user_metadata["organization_name"] == "Supa"

    link = mailbox.link_in(mailbox.wait_for(address)[-1])
    confirmed = api.http.get(link, timeout=10, allow_redirects=False)
    assert confirmed.status_code == 200 and "Email confirmed" in confirmed.text

    session = client.auth.sign_in_with_password({"email": address, "password": PASSWORD})
    assert session.user.email == address
    claims = jwt.decode(session.session.access_token, options={"verify_signature": False})
    assert claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    assert claims["app_metadata"]["role"] == "user" and claims["session_id"]

    rows = client.from_("profiles").select("*").execute().data
    assert len(rows) == 1
    assert rows[0]["email"] == address and rows[0]["status"] == "active"
    assert rows[0]["plan_id"] == "free" and rows[0]["role"] == "user"

    old_refresh = session.session.refresh_token
    refreshed = client.auth.refresh_session()
    assert refreshed.session.refresh_token != old_refresh
    assert client.from_("profiles").select("id").execute().data == [{"id": session.user.id}]

    token = refreshed.session.access_token
    client.auth.sign_out()
    after = api.get("/rest/v1/profiles", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401 and after.json()["code"] == "session_not_found"


def test_verification_link_is_single_use_and_redirects_to_allowed_targets(
    api: Api, mailbox: Mailbox, stack: StackInfo
) -> None:
    address = unique_email()
    site = stack.api_url
    api.post(
        "/auth/v1/signup",
        json={
            "email": address,
            "password": PASSWORD,
            "data": {"organization_name": "Acme"},
            "redirect_to": f"{site}/welcome",
        },
    )
    link = mailbox.link_in(mailbox.wait_for(address)[-1])
    first = api.http.get(link, timeout=10, allow_redirects=False)
    assert first.status_code == 303
    target = urlparse(first.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{site}/welcome"
    assert "access_token" in parse_qs(target.fragment)
    again = api.http.get(link, timeout=10, allow_redirects=False)
    assert again.status_code == 303 and "otp_expired" in again.headers["Location"]
    with stack.connect() as conn:
        stored = conn.execute(
            "select t.token_hash from private.one_time_tokens t join auth.users u "
            "on u.id = t.user_id where u.email = %s",
            (address,),
        ).fetchall()
    token = parse_qs(urlparse(link).query)["token"][0]
    assert stored and all(token not in row[0] for row in stored), "tokens are stored hashed"


def test_unlisted_redirect_is_ignored(api: Api, mailbox: Mailbox) -> None:
    address = unique_email()
    api.post(
        "/auth/v1/signup",
        json={"email": address, "password": PASSWORD, "data": {"organization_name": "A"},
              "redirect_to": "https://evil.example.net/steal"},
    )  # fmt: skip
    link = mailbox.link_in(mailbox.wait_for(address)[-1])
    assert "evil" not in link
    page = api.http.get(link, timeout=10, allow_redirects=False)
    assert page.status_code == 200 and "Email confirmed" in page.text


def test_expired_link_is_refused(api: Api, mailbox: Mailbox, stack: StackInfo) -> None:
    address = unique_email()
    api.post(
        "/auth/v1/signup",
        json={"email": address, "password": PASSWORD, "data": {"organization_name": "A"}},
    )
    link = mailbox.link_in(mailbox.wait_for(address)[-1])
    with stack.connect() as conn:
        conn.execute(
            "update private.one_time_tokens set expires_at = now() - interval '1 second' "
            "where user_id = (select id from auth.users where email = %s)",
            (address,),
        )
    page = api.http.get(link, timeout=10, allow_redirects=False)
    assert page.status_code == 403 and "expired" in page.text
    assert api.login(address).json()["error_code"] == "email_not_confirmed"


def test_resend_sends_a_new_link_and_the_old_one_stops_working(api: Api, mailbox: Mailbox) -> None:
    address = unique_email()
    api.post(
        "/auth/v1/signup",
        json={"email": address, "password": PASSWORD, "data": {"organization_name": "A"}},
    )
    old = mailbox.link_in(mailbox.wait_for(address)[-1])
    assert api.post("/auth/v1/resend", json={"type": "signup", "email": address}).status_code == 200
    new = mailbox.link_in(mailbox.wait_for(address, count=2)[-1])
    assert new != old
    assert api.http.get(old, timeout=10).status_code == 403
    assert api.http.get(new, timeout=10).status_code == 200
    assert api.login(address).status_code == 200
    unknown = api.post("/auth/v1/resend", json={"type": "signup", "email": unique_email()})
    assert unknown.status_code == 200, "the same answer for unknown emails"


def test_mail_survives_an_smtp_outage(mailbox: Mailbox, stack: StackInfo) -> None:
    """A send that fails (SMTP down) keeps the message queued with a backoff; the worker
    delivers it once the retry is due."""
    address = unique_email("outage")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]  # nothing listens here once the socket closes
    down = SmtpSender(f"smtp://127.0.0.1:{dead_port}", "VoxFlow <no-reply@voxflow.local>", 2)
    with psycopg.connect(stack.db_url, row_factory=dict_row) as conn:
        # Enqueued and attempted in one transaction, so the running worker cannot take it first.
        mail.enqueue(conn, None, address, mail.Mail("Outage test", "hello", "test"))
        assert drain(conn, down) == 0
        row = conn.execute(
            "select attempts, last_error, body_text, next_attempt_at > now() as later "
            "from private.outbox where to_email = %s",
            (address,),
        ).fetchone()
    assert row is not None
    assert row["attempts"] == 1 and row["last_error"] and row["body_text"] == "hello"
    assert row["later"], "retried later, not dropped"
    assert mailbox.wait_for(address, timeout=30), "delivered by the worker once due"
    with stack.connect() as conn:
        sent = conn.execute(
            "select sent_at is not null, body_text from private.outbox where to_email = %s",
            (address,),
        ).fetchone()
    assert sent == (True, None), "sent, and the body (which may hold a link) cleared"


# --- errors a person can cause ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "data": {"organization_name": "A"}},
         400, "validation_failed"),
        ({"email": "{email}", "password": PASSWORD, "data": {}}, 400, "validation_failed"),
        ({"email": "{email}", "password": PASSWORD, "data": {"organization_name": "  "}},
         400, "validation_failed"),
        ({"email": "{email}", "password": "Ab1", "data": {"organization_name": "A"}},
         422, "weak_password"),
        ({"email": "{email}", "password": "abcdefghijkl", "data": {"organization_name": "A"}},
         422, "weak_password"),
        ({"email": "{email}", "password": "{email}", "data": {"organization_name": "A"}},
         422, "weak_password"),
    ],
    ids=["invalid-email", "no-organization", "blank-organization", "short-password",
         "one-class-password", "password-is-email"],
)  # fmt: skip
def test_signup_errors(api: Api, payload: dict, status: int, code: str) -> None:
    address = unique_email()
    body = {
        k: (v.replace("{email}", address) if isinstance(v, str) else v) for k, v in payload.items()
    }
    response = api.post("/auth/v1/signup", json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["error_code"] == code and error["code"] == status and error["msg"]


def test_duplicate_email_is_refused_with_guidance(api: Api, user: User) -> None:
    response = api.post(
        "/auth/v1/signup",
        json={
            "email": user.email.upper(),
            "password": PASSWORD,
            "data": {"organization_name": "B"},
        },
    )
    assert response.status_code == 422
    assert response.json()["error_code"] == "user_already_exists"
    assert "sign in or reset your password" in response.json()["msg"]


def test_wrong_password_and_unknown_email_get_the_same_answer(api: Api, user: User) -> None:
    wrong = api.login(user.email, "Wrong-password-1")
    unknown = api.login(unique_email(), "Wrong-password-1")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json()["error_code"] == unknown.json()["error_code"] == "invalid_credentials"
    assert wrong.json()["msg"] == unknown.json()["msg"]


def test_unconfirmed_login_says_so(api: Api) -> None:
    address = unique_email()
    api.post(
        "/auth/v1/signup",
        json={"email": address, "password": PASSWORD, "data": {"organization_name": "A"}},
    )
    response = api.login(address)
    assert response.status_code == 400
    assert response.json()["error_code"] == "email_not_confirmed"
    assert "resend" in response.json()["msg"]


# --- throttling ---------------------------------------------------------------------------------


@pytest.fixture
def strict_limits(stack: StackInfo) -> Iterator[Callable[[str, int], None]]:
    def limit(rule: str, max_hits: int) -> None:
        with stack.connect() as conn:
            conn.execute(
                "update private.rate_limit_rules set max_hits = %s where rule = %s",
                (max_hits, rule),
            )
            conn.execute("delete from private.rate_limit_hits")

    yield limit
    with stack.connect() as conn:
        conn.execute("update private.rate_limit_rules set max_hits = 100000")
        conn.execute("delete from private.rate_limit_hits")


def test_repeated_failed_logins_are_throttled_per_email(
    api: Api, user: User, strict_limits: Callable[[str, int], None]
) -> None:
    strict_limits("login_failures_per_email", 3)
    answers = [api.login(user.email, "Wrong-password-1").status_code for _ in range(3)]
    assert answers == [400, 400, 400]
    blocked = api.login(user.email, PASSWORD)  # even the right password waits now
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error_code"] == "over_request_rate_limit"
    assert api.login(unique_email(), "Wrong-password-1").status_code == 400, (
        "other emails unaffected"
    )


def test_failed_logins_are_throttled_per_ip(
    api: Api, strict_limits: Callable[[str, int], None]
) -> None:
    strict_limits("login_failures_per_ip", 4)
    for _ in range(4):
        assert api.login(unique_email(), "Wrong-password-1").status_code == 400
    assert api.login(unique_email(), "Wrong-password-1").status_code == 429


def test_signup_is_rate_limited_per_ip(api: Api, strict_limits: Callable[[str, int], None]) -> None:
    strict_limits("signup_per_ip", 2)
    codes = [
        api.post(
            "/auth/v1/signup",
            json={
                "email": unique_email(),
                "password": PASSWORD,
                "data": {"organization_name": "A"},
            },
        ).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_resend_is_rate_limited_per_ip(api: Api, strict_limits: Callable[[str, int], None]) -> None:
    strict_limits("resend_per_ip", 1)
    body = {"type": "signup", "email": unique_email()}
    assert api.post("/auth/v1/resend", json=body).status_code == 200
    limited = api.post("/auth/v1/resend", json=body)
    assert limited.status_code == 429 and "Retry-After" in limited.headers


# --- sessions -----------------------------------------------------------------------------------


def test_refresh_tokens_rotate_and_reuse_revokes_the_session(api: Api, user: User) -> None:
    first = api.post("/auth/v1/token?grant_type=refresh_token",
                     json={"refresh_token": user.refresh_token})  # fmt: skip
    assert first.status_code == 200
    fresh = first.json()
    replay = api.post("/auth/v1/token?grant_type=refresh_token",
                      json={"refresh_token": user.refresh_token})  # fmt: skip
    assert replay.status_code == 400
    assert replay.json()["error_code"] == "refresh_token_already_used"
    # The whole session is gone: the rotated token and its access token stop working too.
    after = api.post("/auth/v1/token?grant_type=refresh_token",
                     json={"refresh_token": fresh["refresh_token"]})  # fmt: skip
    assert after.status_code == 400
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert api.get("/rest/v1/profiles", headers=headers).status_code == 401
    assert api.get("/auth/v1/user", headers=headers).status_code == 401


def test_get_and_update_user(api: Api, user: User) -> None:
    me = api.get("/auth/v1/user", headers=user.headers)
    assert me.status_code == 200 and me.json()["email"] == user.email
    changed = api.put("/auth/v1/user", headers=user.headers, json={"password": "New-password-77"})
    assert changed.status_code == 200
    assert api.login(user.email).status_code == 400
    assert api.login(user.email, "New-password-77").status_code == 200
    weak = api.put("/auth/v1/user", headers=user.headers, json={"password": "short"})
    assert weak.status_code == 422 and weak.json()["error_code"] == "weak_password"


def test_password_recovery_flow(api: Api, user: User, mailbox: Mailbox, stack: StackInfo) -> None:
    assert api.post("/auth/v1/recover", json={"email": user.email}).status_code == 200
    assert api.post("/auth/v1/recover", json={"email": unique_email()}).status_code == 200
    message = mailbox.wait_for(user.email, count=2)[-1]  # after the sign-up mail
    assert "reset" in message["Subject"].lower()
    link = mailbox.link_in(message)
    token = parse_qs(urlparse(link).query)["token"][0]
    session = api.post("/auth/v1/verify", json={"type": "recovery", "token_hash": token})
    assert session.status_code == 200
    headers = {"Authorization": f"Bearer {session.json()['access_token']}"}
    reset = api.put("/auth/v1/user", headers=headers, json={"password": "Recovered-pass-9"})
    assert reset.status_code == 200
    assert api.login(user.email, "Recovered-pass-9").status_code == 200
    again = api.post("/auth/v1/verify", json={"type": "recovery", "token_hash": token})
    assert again.status_code == 403 and again.json()["error_code"] == "otp_expired"


def test_settings_and_health(api: Api) -> None:
    assert api.get("/auth/v1/settings").json()["mailer_autoconfirm"] is False
    assert api.get("/auth/v1/health").status_code == 200


# --- tokens that must be rejected ---------------------------------------------------------------


def forged_tokens(user: User, stack: StackInfo) -> dict[str, str]:
    real = jwt.decode(user.access_token, options={"verify_signature": False})
    secret = json.loads((stack.state_dir / "secrets.json").read_text())["jwt_secret"]
    other_key = "x" * 64
    unsigned = jwt.encode(real, None, algorithm="none")
    return {
        "alg-none": unsigned,
        "wrong-signature": jwt.encode(real, other_key, algorithm="HS256"),
        "expired": jwt.encode({**real, "exp": int(time.time()) - 60}, secret, algorithm="HS256"),
        "wrong-audience": jwt.encode({**real, "aud": "someone-else"}, secret, algorithm="HS256"),
        "service-role-other-key": jwt.encode(
            {"role": "service_role", "exp": int(time.time()) + 600}, other_key, algorithm="HS256"
        ),
        "admin-claim-other-key": jwt.encode(
            {**real, "app_metadata": {"role": "admin"}}, other_key, algorithm="HS256"
        ),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize(
    "kind",
    ["alg-none", "wrong-signature", "expired", "wrong-audience", "service-role-other-key",
     "admin-claim-other-key", "garbage"],
)  # fmt: skip
def test_bad_tokens_are_rejected_everywhere(
    kind: str, api: Api, user: User, stack: StackInfo
) -> None:
    token = forged_tokens(user, stack)[kind]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/rest/v1/profiles", headers=headers).status_code == 401
    assert api.get("/auth/v1/user", headers=headers).status_code == 401
    admin_view = api.get("/rest/v1/users", headers={**headers, "Accept-Profile": "admin"})
    assert admin_view.status_code == 401


def test_no_token_is_401_on_user_routes(api: Api) -> None:
    response = api.get("/auth/v1/user")
    assert response.status_code == 401 and response.json()["error_code"] == "no_authorization"


# --- roles and protected columns ----------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"role": "admin"}, {"plan_id": "free"}, {"status": "active"},
     {"agent_limit_override": 99}, {"monthly_token_limit_override": 10**9}],
    ids=["role", "plan", "status", "agent-limit", "token-limit"],
)  # fmt: skip
def test_users_cannot_raise_their_own_role_plan_status_or_limits(
    api: Api, user: User, change: dict, stack: StackInfo
) -> None:
    response = api.patch(f"/rest/v1/profiles?id=eq.{user.id}", headers=user.headers, json=change)
    assert response.status_code in (401, 403), response.text
    with stack.connect() as conn:
        row = conn.execute(
            "select role, status, agent_limit_override from public.profiles where id = %s",
            (user.id,),
        ).fetchone()
    assert row == ("user", "active", None)
    rename = api.patch(f"/rest/v1/profiles?id=eq.{user.id}", headers=user.headers,
                       json={"organization_name": "Renamed Ltd"})  # fmt: skip
    assert rename.status_code == 204


SAMPLE_ARGUMENTS = {"uuid": "{self}", "text": "x", "integer": 1, "bigint": 1, "numeric": 1,
                    "boolean": True, "jsonb": {}, "date": "2026-01-01",
                    "timestamp with time zone": "2026-01-01T00:00:00Z"}  # fmt: skip


def admin_routes(stack: StackInfo) -> list[tuple[str, str, dict]]:
    """Every relation and function in the admin schema, read from the catalog so a new one
    cannot be forgotten (functions called with well-typed sample arguments), plus the
    sidecar's admin routes."""
    with stack.connect() as conn:
        relations = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'admin' and c.relkind in ('r', 'v', 'm') order by 1"
        ).fetchall()
        functions = conn.execute(
            "select p.proname, coalesce(array_agg(a.name order by a.n) filter "
            "(where a.name is not null), '{}'), coalesce(array_agg(format_type(a.type, null) "
            "order by a.n) filter (where a.name is not null), '{}') "
            "from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
            "left join lateral unnest(p.proargnames, p.proargtypes::oid[]) with ordinality "
            "as a (name, type, n) on true "
            "where n.nspname = 'admin' group by p.proname order by 1"
        ).fetchall()
    routes = [("GET", f"/rest/v1/{name}", {}) for (name,) in relations]
    routes += [
        (
            "POST",
            f"/rest/v1/rpc/{name}",
            {n: SAMPLE_ARGUMENTS[t] for n, t in zip(names, types, strict=True)},
        )
        for name, names, types in functions
    ]
    routes += [
        ("GET", "/auth/v1/admin/users", {}),
        ("PUT", "/auth/v1/admin/users/{self}", {"ban_duration": "none"}),
        ("GET", "/functions/v1/admin/export/users", {}),
        ("GET", "/functions/v1/admin/export/usage", {}),
        ("GET", "/functions/v1/admin/export/costs", {}),
        ("GET", "/functions/v1/admin/export/audit", {}),
        ("GET", "/functions/v1/metrics", {}),
    ]
    return routes


def test_admin_surface_is_enumerated(stack: StackInfo) -> None:
    routes = {(method, path) for method, path, _ in admin_routes(stack)}
    assert ("GET", "/rest/v1/users") in routes
    assert ("POST", "/rest/v1/rpc/set_user_status") in routes
    assert ("GET", "/rest/v1/alert_preferences") in routes
    assert ("POST", "/rest/v1/rpc/set_alert_email") in routes
    assert ("POST", "/rest/v1/rpc/verify_audit_chain") in routes


def test_non_admins_get_403_and_anonymous_401_on_every_admin_route(
    api: Api, user: User, stack: StackInfo
) -> None:
    for method, path, arguments in admin_routes(stack):
        path = path.replace("{self}", user.id)
        profile = {"Accept-Profile": "admin", "Content-Profile": "admin"}
        body = {k: (user.id if v == "{self}" else v) for k, v in arguments.items()}
        as_user = api.http.request(method, api.url(path), json=body, timeout=10,
                                   headers={**profile, **user.headers})  # fmt: skip
        assert as_user.status_code == 403, f"{method} {path}: {as_user.status_code} {as_user.text}"
        anonymous = api.http.request(method, api.url(path), json=body, timeout=10,
                                     headers=profile)  # fmt: skip
        assert anonymous.status_code == 401, f"{method} {path}: {anonymous.status_code}"


def test_admins_use_the_admin_api_and_every_action_is_audited(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    listed = api.get("/rest/v1/users", headers={**admin.headers, "Accept-Profile": "admin"})
    assert listed.status_code == 200 and {r["id"] for r in listed.json()} >= {admin.id, user.id}
    suspended = api.post(
        "/rest/v1/rpc/set_user_status",
        headers={**admin.headers, "Content-Profile": "admin"},
        json={"user_id": user.id, "status": "suspended"},
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    with stack.connect() as conn:
        entries = conn.execute(
            "select actor_id::text, action, before, after from private.audit_log "
            "where target_id = %s and action like 'admin.%%'",
            (user.id,),
        ).fetchall()
    assert entries == [
        (admin.id, "admin.user_suspended", {"status": "active"}, {"status": "suspended"})
    ]


def test_suspension_takes_effect_on_the_next_request(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    assert api.get("/rest/v1/profiles", headers=user.headers).status_code == 200
    with stack.connect() as conn:
        conn.execute("update public.profiles set status = 'suspended' where id = %s", (user.id,))
    assert api.get("/rest/v1/profiles", headers=user.headers).status_code == 401
    assert api.get("/auth/v1/user", headers=user.headers).status_code == 401
    login = api.login(user.email)
    assert login.status_code == 400 and login.json()["error_code"] == "user_banned"
    refresh = api.post("/auth/v1/token?grant_type=refresh_token",
                       json={"refresh_token": user.refresh_token})  # fmt: skip
    assert refresh.status_code == 400 and refresh.json()["error_code"] == "user_banned"


def test_banned_until_blocks_access_until_lifted(api: Api, admin: User, user: User) -> None:
    banned = api.put(f"/auth/v1/admin/users/{user.id}", headers=admin.headers,
                     json={"ban_duration": "24h"})  # fmt: skip
    assert banned.status_code == 200
    assert api.get("/rest/v1/profiles", headers=user.headers).status_code == 401
    assert api.login(user.email).status_code == 400
    lifted = api.put(f"/auth/v1/admin/users/{user.id}", headers=admin.headers,
                     json={"ban_duration": "none"})  # fmt: skip
    assert lifted.status_code == 200
    assert api.login(user.email).status_code == 200


def test_a_demoted_admin_loses_access_at_once(
    api: Api, admin: User, make_user: Callable[..., User]
) -> None:
    other_admin = make_user(role="admin", prefix="admin")
    neighbour = make_user()
    made = api.post("/rest/v1/agents", headers=neighbour.headers, json={"name": "Neighbour's"})
    assert made.status_code == 201, made.text
    headers = {**admin.headers, "Accept-Profile": "admin"}
    assert api.get("/rest/v1/users", headers=headers).status_code == 200
    theirs = f"/rest/v1/agents?user_id=eq.{neighbour.id}"
    assert len(api.get(theirs, headers=admin.headers).json()) == 1, "admins read every agent"
    demoted = api.post(
        "/rest/v1/rpc/set_user_role",
        headers={**other_admin.headers, "Content-Profile": "admin"},
        json={"user_id": admin.id, "role": "user"},
    )
    assert demoted.status_code == 200
    # The admin-role token still in hand is refused everywhere, not only on the admin API.
    for response in (
        api.get("/rest/v1/users", headers=headers),
        api.get(theirs, headers=admin.headers),
        api.get("/auth/v1/admin/users", headers=admin.headers),
    ):
        assert response.status_code == 401, response.text
        assert "stale_admin_token" in response.text
    refreshed = api.post(
        "/auth/v1/token?grant_type=refresh_token", json={"refresh_token": admin.refresh_token}
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (
        jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})["role"]
        == "authenticated"
    )
    assert api.get(theirs, headers=fresh).json() == [], "a plain user reads only their own"
    assert (
        api.get("/rest/v1/users", headers={**fresh, "Accept-Profile": "admin"}).status_code == 403
    )


def test_admin_create_cli_makes_a_confirmed_admin(api: Api, stack: StackInfo) -> None:
    address = unique_email("cli-admin")
    result = stack.voxflow("admin", "create", "--email", address, "--password", PASSWORD)
    assert result.stdout.startswith("created admin")
    session = api.session_for(address)
    claims = jwt.decode(session.access_token, options={"verify_signature": False})
    assert claims["app_metadata"]["role"] == "admin"
    assert claims["role"] == "voxflow_admin", "admins read under their own database role"
    listed = api.get("/rest/v1/users", headers={**session.headers, "Accept-Profile": "admin"})
    assert listed.status_code == 200
    older = unique_email("pre-accounts")  # an auth user from before profiles existed
    with stack.connect() as conn:
        conn.execute("set session_replication_role = replica")  # no profile-making trigger
        conn.execute(
            "insert into auth.users (id, email, email_confirmed_at) "
            "values (gen_random_uuid(), %s, now())",
            (older,),
        )
    promoted = stack.voxflow("admin", "create", "--email", older, "--password", PASSWORD)
    assert promoted.stdout.startswith("promoted admin")
    with stack.connect() as conn:
        profile = conn.execute(
            "select role, status from public.profiles where email = %s", (older,)
        ).fetchone()
    assert profile == ("admin", "active"), "the account has a profile and is an admin"
    weak = stack.voxflow("admin", "create", "--email", unique_email(), "--password", "x",
                         check=False)  # fmt: skip
    assert weak.returncode == 1 and "too weak" in weak.stderr and "Traceback" not in weak.stderr


def test_audit_rows_cannot_be_changed(api: Api, user: User, stack: StackInfo) -> None:
    with stack.connect() as conn:
        (entry,) = conn.execute(
            "select id from private.audit_log where target_id = %s limit 1", (user.id,)
        ).fetchone()
        for statement in ("update private.audit_log set action = 'x' where id = %s",
                          "delete from private.audit_log where id = %s"):  # fmt: skip
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(statement, (entry,))
