"""Tenancy through PostgREST and the sidecar: owned agents, the agent limit (also under
concurrency), plans and graceful downgrades, provider keys, notifications, account deletion."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import PASSWORD, Api, Mailbox, User
from tests.conftest import StackInfo
from voxflow import crypto
from voxflow.fakes.control import FakeControl

REST = "/rest/v1"
GROQ_KEY = "gsk_test_alice_key_0001_abcd"
TWILIO = {
    "account_sid": "AC" + "0123456789ABCDEF" * 2,
    "auth_token": "FEDCBA9876543210" * 2,
    "phone_number": "+14155550123",
}


def create_agent(api: Api, user: User, **fields: Any) -> Any:
    body = {"name": "Receptionist", "system_prompt": "Be kind.", **fields}
    return api.post(
        f"{REST}/agents", headers={**user.headers, "Prefer": "return=representation"}, json=body
    )


def agent_ids(api: Api, user: User) -> list[int]:
    response = api.get(f"{REST}/agents?select=id&order=id", headers=user.headers)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


# --- agents and isolation -----------------------------------------------------------------------


def test_agents_belong_to_their_creator_and_stay_private(
    api: Api, make_user: Callable[..., User], admin: User
) -> None:
    owner, other = make_user(), make_user()
    created = create_agent(api, owner, name="Mine")
    assert created.status_code == 201, created.text
    agent = created.json()[0]
    assert agent["user_id"] == owner.id and agent["status"] == "active"

    assert agent_ids(api, owner) == [agent["id"]]
    assert agent_ids(api, other) == [], "another user sees nothing"
    stolen = api.patch(f"{REST}/agents?id=eq.{agent['id']}", headers=other.headers,
                       json={"name": "Stolen"})  # fmt: skip
    assert stolen.status_code == 204
    deleted = api.delete(f"{REST}/agents?id=eq.{agent['id']}", headers=other.headers)
    assert deleted.status_code == 204
    assert agent_ids(api, owner) == [agent["id"]], "other users' writes touched nothing"
    forged = create_agent(api, other, user_id=owner.id)
    assert forged.status_code in (401, 403), "nobody creates agents for someone else"
    assert agent["id"] in agent_ids(api, admin), "admins read every agent"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"temperature": 2.5}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 9000}, "max_tokens"),
        ({"phone_number": "555-1234"}, "phone_number"),
        ({"config": [1, 2]}, "config"),
        ({"llm_model": "gpt-imaginary"}, "llm_model"),
        ({"stt_model": "whisper-9"}, "stt_model"),
        ({"tts_voice": "robot"}, "tts_voice"),
    ],
)
def test_agent_input_errors_name_the_field(
    api: Api, user: User, fields: dict[str, Any], field: str
) -> None:
    response = create_agent(api, user, **fields)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "invalid_agent" and error["details"] == field
    assert error["message"]
    assert agent_ids(api, user) == [], "nothing was stored"


# --- the agent limit ----------------------------------------------------------------------------


def test_the_free_plan_stops_at_two_agents_with_an_upgrade_hint(api: Api, user: User) -> None:
    first, second = create_agent(api, user), create_agent(api, user)
    assert first.status_code == second.status_code == 201
    third = create_agent(api, user)
    assert third.status_code == 402
    error = third.json()
    assert error["code"] == "agent_limit_reached"
    assert error["message"] == "You have 2 of 2 agents on the Free plan"
    assert "Upgrade to Pro for 10 agents" in error["hint"]
    deleted = api.delete(f"{REST}/agents?id=eq.{first.json()[0]['id']}", headers=user.headers)
    assert deleted.status_code == 204
    assert create_agent(api, user).status_code == 201, "deleting frees the slot at once"


def test_the_agent_limit_holds_under_concurrent_inserts(api: Api, user: User) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def insert() -> None:
        response = create_agent(api, user)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=insert) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201] + [402] * 18
    assert len(agent_ids(api, user)) == 2


# --- plans --------------------------------------------------------------------------------------


def rpc(api: Api, user: User, name: str, body: dict[str, Any], schema: str = "public") -> Any:
    return api.post(f"{REST}/rpc/{name}", headers={**user.headers, "Content-Profile": schema},
                    json=body)  # fmt: skip


def test_upgrade_applies_at_once_and_downgrade_suspends_the_newest(
    api: Api, user: User, stack: StackInfo
) -> None:
    upgraded = rpc(api, user, "change_plan", {"plan_id": "pro"})
    assert upgraded.status_code == 200 and upgraded.json()["changed"] is True
    made = [create_agent(api, user, name=f"Agent {i}").json()[0]["id"] for i in range(4)]
    comparison = api.get(f"{REST}/plan_comparison?order=sort_order", headers=user.headers).json()
    assert [(p["plan_id"], p["is_current"], p["agents_used"]) for p in comparison] == [
        ("free", False, 4), ("pro", True, 4), ("business", False, 4)
    ]  # fmt: skip

    downgraded = rpc(api, user, "change_plan", {"plan_id": "free"}).json()
    assert downgraded["suspended_agent_ids"] == made[2:], "the newest beyond the limit"
    rows = api.get(f"{REST}/agents?select=id,status&order=id", headers=user.headers).json()
    assert [r["status"] for r in rows] == ["active", "active"] + ["suspended_over_limit"] * 2
    kept = api.patch(f"{REST}/agents?id=eq.{made[3]}", headers=user.headers,
                     json={"description": "still editable"})  # fmt: skip
    assert kept.status_code == 204
    assert create_agent(api, user).status_code == 402, "creation stays blocked over the limit"

    chosen = rpc(api, user, "set_active_agents", {"agent_ids": [made[1], made[3]]}).json()
    assert chosen == {"active": [made[1], made[3]], "suspended": [made[0], made[2]]}
    too_many = rpc(api, user, "set_active_agents", {"agent_ids": made[:3]})
    assert too_many.status_code == 400 and too_many.json()["code"] == "too_many_active_agents"

    rpc(api, user, "change_plan", {"plan_id": "pro"})
    rows = api.get(f"{REST}/agents?select=status", headers=user.headers).json()
    assert {r["status"] for r in rows} == {"active"}, "an upgrade reactivates them"

    kinds = [n["kind"] for n in api.get(f"{REST}/notifications?order=id",
                                         headers=user.headers).json()]  # fmt: skip
    assert kinds.count("plan_changed") == 3 and "agents_suspended" in kinds
    history = api.get(f"{REST}/subscriptions?order=id", headers=user.headers).json()
    assert [(s["plan_id"], s["status"]) for s in history] == [
        ("free", "ended"), ("pro", "ended"), ("free", "ended"), ("pro", "active")
    ]  # fmt: skip
    unknown = rpc(api, user, "change_plan", {"plan_id": "platinum"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_plan"


def test_admin_limit_change_reaches_the_user_by_notification_and_mail(
    api: Api, admin: User, user: User, mailbox: Mailbox, stack: StackInfo
) -> None:
    changed = rpc(api, admin, "set_limits",
                  {"user_id": user.id, "agent_limit": 5, "monthly_token_limit": 5000},
                  schema="admin")  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["agent_limit"] == 5
    notes = api.get(f"{REST}/notifications?kind=eq.limits_changed", headers=user.headers).json()
    assert len(notes) == 1
    assert notes[0]["data"]["before"] == {"agent_limit": 2, "monthly_token_limit": 1000}
    assert notes[0]["data"]["after"] == {"agent_limit": 5, "monthly_token_limit": 5000}
    mails = [m for m in mailbox.wait_for(user.email, count=2) if "limits" in m["Subject"]]
    assert mails and "2 → 5" in mails[0].get_body().get_content()
    read = api.patch(f"{REST}/notifications?id=eq.{notes[0]['id']}", headers=user.headers,
                     json={"read_at": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert read.status_code == 204
    forged = api.patch(f"{REST}/notifications?id=eq.{notes[0]['id']}", headers=user.headers,
                       json={"body": "edited"})  # fmt: skip
    assert forged.status_code in (401, 403)
    with stack.connect() as conn:
        audit = conn.execute(
            "select before, after from private.audit_log "
            "where action = 'admin.limits_changed' and target_id = %s",
            (user.id,),
        ).fetchall()
    assert audit == [
        ({"agent_limit": 2, "monthly_token_limit": 1000},
         {"agent_limit": 5, "monthly_token_limit": 5000})
    ]  # fmt: skip


# --- provider keys ------------------------------------------------------------------------------


def put_key(api: Api, user: User, provider: str, body: dict[str, str], verify: bool = False) -> Any:
    query = "?verify=true" if verify else ""
    return api.put(f"/functions/v1/api-keys/{provider}{query}", headers=user.headers, json=body)


def test_keys_are_stored_encrypted_and_shown_only_as_hints(
    api: Api, user: User, stack: StackInfo
) -> None:
    assert put_key(api, user, "groq", {"api_key": GROQ_KEY}).status_code == 200
    saved = put_key(api, user, "twilio", TWILIO)
    assert saved.status_code == 200 and saved.json()["hint"] == "…3210"
    listed = {r["provider"]: r for r in api.get(f"{REST}/api_keys", headers=user.headers).json()}
    assert listed["groq"]["configured"] and listed["groq"]["hint"] == "…abcd"
    assert listed["deepgram"]["configured"] is False
    assert listed["deepgram"]["set_with"] == "/functions/v1/api-keys/deepgram"
    assert GROQ_KEY not in str(listed)
    with stack.connect() as conn:
        rows = conn.execute(
            "select provider, ciphertext, nonce from private.provider_keys where user_id = %s",
            (user.id,),
        ).fetchall()
    assert len(rows) == 2
    for _provider, ciphertext, nonce in rows:
        assert GROQ_KEY.encode() not in bytes(ciphertext)
        assert TWILIO["auth_token"].encode() not in bytes(ciphertext)
        assert len(bytes(nonce)) == 12


def test_a_ciphertext_copied_to_another_user_does_not_decrypt(
    api: Api, make_user: Callable[..., User], stack: StackInfo
) -> None:
    alice, mallory = make_user(), make_user()
    put_key(api, alice, "groq", {"api_key": GROQ_KEY})
    with stack.connect() as conn:
        ciphertext, nonce, version = conn.execute(
            "select ciphertext, nonce, key_version from private.provider_keys "
            "where user_id = %s and provider = 'groq'",
            (alice.id,),
        ).fetchone()
    secrets = json.loads((stack.state_dir / "secrets.json").read_text())
    keys = {1: base64.b64decode(secrets["master_key"])}
    assert crypto.unseal(keys, version, alice.id, "groq", ciphertext, nonce) == {
        "api_key": GROQ_KEY
    }
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(keys, version, mallory.id, "groq", ciphertext, nonce)
    with pytest.raises(crypto.DecryptionError):
        crypto.unseal(keys, version, alice.id, "deepgram", ciphertext, nonce)


@pytest.mark.parametrize(
    ("provider", "body", "field"),
    [
        ("groq", {}, "api_key"),
        ("groq", {"api_key": "sk-not-groq"}, "api_key"),
        ("deepgram", {"api_key": "short"}, "api_key"),
        ("twilio", {**TWILIO, "account_sid": "XX123"}, "account_sid"),
        ("twilio", {**TWILIO, "auth_token": "nothex" * 6}, "auth_token"),
        ("twilio", {**TWILIO, "phone_number": "0800 123"}, "phone_number"),
    ],
)
def test_key_shapes_are_checked_per_field(
    api: Api, user: User, provider: str, body: dict[str, str], field: str
) -> None:
    response = put_key(api, user, provider, body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed" and response.json()["details"] == field
    listed = api.get(f"{REST}/api_keys?provider=eq.{provider}", headers=user.headers).json()
    assert listed[0]["configured"] is False


def test_verify_checks_the_key_with_the_provider_first(
    api: Api, user: User, fakes: FakeControl
) -> None:
    fakes.configure(rejected_keys=["gsk_rejected_by_provider_1"])
    rejected = put_key(api, user, "groq", {"api_key": "gsk_rejected_by_provider_1"}, verify=True)
    assert rejected.status_code == 422 and rejected.json()["code"] == "provider_key_rejected"
    listed = api.get(f"{REST}/api_keys?provider=eq.groq", headers=user.headers).json()
    assert listed[0]["configured"] is False, "a rejected key is not saved"
    accepted = put_key(api, user, "groq", {"api_key": GROQ_KEY}, verify=True)
    assert accepted.status_code == 200 and accepted.json()["verified"] is True
    seen = [r["api_key"] for r in fakes.requests("groq")]
    assert seen == ["gsk_rejected_by_provider_1", GROQ_KEY], "the provider saw each key"
    unknown = put_key(api, user, "openai", {"api_key": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_provider"


def test_key_changes_are_audited_with_hints_only(api: Api, user: User, stack: StackInfo) -> None:
    put_key(api, user, "groq", {"api_key": GROQ_KEY})
    put_key(api, user, "groq", {"api_key": "gsk_test_second_key_0002_wxyz"})
    assert api.delete("/functions/v1/api-keys/groq", headers=user.headers).status_code == 204
    assert api.delete("/functions/v1/api-keys/groq", headers=user.headers).status_code == 404
    with stack.connect() as conn:
        entries = conn.execute(
            "select action, before, after from private.audit_log "
            "where actor_id = %s and target_type = 'provider_key' order by id",
            (user.id,),
        ).fetchall()
    assert entries == [
        ("key.created", {"hint": None}, {"hint": "…abcd"}),
        ("key.updated", {"hint": "…abcd"}, {"hint": "…wxyz"}),
        ("key.deleted", {"hint": "…wxyz"}, None),
    ]
    notes = api.get(f"{REST}/notifications?kind=eq.key_changed", headers=user.headers).json()
    assert len(notes) == 3


def test_master_key_and_plaintext_never_reach_logs_statistics_or_backups(
    api: Api, user: User, stack: StackInfo, tmp_path: Any
) -> None:
    """With log_statement=all and pg_stat_statements on, nothing secret lands in Postgres."""
    master = json.loads((stack.state_dir / "secrets.json").read_text())["master_key"]
    with stack.connect() as conn:
        conn.execute("create extension if not exists pg_stat_statements with schema extensions")
        conn.execute("alter system set log_statement = 'all'")
        conn.execute("select pg_reload_conf()")
    try:
        put_key(api, user, "groq", {"api_key": GROQ_KEY})
        put_key(api, user, "twilio", TWILIO)
    finally:
        with stack.connect() as conn:
            conn.execute("alter system reset log_statement")
            conn.execute("select pg_reload_conf()")
            statements = conn.execute(
                "select string_agg(query, E'\\n') from extensions.pg_stat_statements"
            ).fetchone()[0]
    log = "".join(p.read_text(errors="replace") for p in stack.state_dir.rglob("postgres.log"))
    assert "provider_keys" in log, "statement logging was on"
    dump = tmp_path / "backup.dump"
    stack.voxflow("db", "backup", "--output", str(dump))
    dumped = dump.read_bytes()
    for secret in (GROQ_KEY, TWILIO["auth_token"], master):
        assert secret not in log
        assert secret not in (statements or "")
        assert secret.encode() not in dumped
    assert b"provider_keys" in dumped, "the backup holds the key table, encrypted"


# --- account deletion ---------------------------------------------------------------------------


def tables_referencing_users(stack: StackInfo) -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to auth.users, from the catalog."""
    with stack.connect() as conn:
        return conn.execute(
            "select n.nspname || '.' || t.relname, a.attname from pg_constraint c "
            "join pg_class t on t.oid = c.conrelid "
            "join pg_namespace n on n.oid = t.relnamespace "
            "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1] "
            "where c.contype = 'f' and c.confrelid = 'auth.users'::regclass order by 1"
        ).fetchall()


def test_deleting_an_account_removes_every_row_of_the_user(
    api: Api, user: User, stack: StackInfo
) -> None:
    create_agent(api, user)
    put_key(api, user, "groq", {"api_key": GROQ_KEY})
    referencing = tables_referencing_users(stack)
    assert {t for t, _ in referencing} >= {
        "public.profiles", "public.agents", "public.calls", "private.provider_keys",
        "public.notifications", "public.subscriptions", "private.sessions",
    }  # fmt: skip
    assert api.login(user.email, "Wrong-password-1").status_code == 400  # audited by email
    wrong = api.delete("/functions/v1/account", headers=user.headers, json={"password": "nope"})
    assert wrong.status_code == 400
    done = api.delete("/functions/v1/account", headers=user.headers, json={"password": PASSWORD})
    assert done.status_code == 204
    with stack.connect() as conn:
        for table, column in referencing:
            count = conn.execute(f"select count(*) from {table} where {column} = %s", (user.id,))
            assert count.fetchone() == (0,), f"{table} still holds rows of the deleted user"
        assert conn.execute(
            "select count(*) from auth.users where id = %s", (user.id,)
        ).fetchone() == (0,)
        leftovers = conn.execute(
            "select count(*) from private.audit_log where (actor_email = %s or before::text "
            "like %s or after::text like %s or target_id = %s)",
            (user.email, f"%{user.email}%", f"%{user.email}%", user.email),
        ).fetchone()
        assert leftovers == (0,), "no identifying audit data remains"
        deletion = conn.execute(
            "select count(*) from private.audit_log where action = 'user.account_deleted' "
            "and occurred_at > now() - interval '1 minute'"
        ).fetchone()
        assert deletion[0] >= 1
    assert api.login(user.email).status_code == 400


def test_admins_delete_accounts_through_the_admin_api(
    api: Api, admin: User, user: User, stack: StackInfo
) -> None:
    deleted = rpc(api, admin, "delete_user", {"user_id": user.id}, schema="admin")
    assert deleted.status_code in (200, 204), deleted.text
    with stack.connect() as conn:
        assert conn.execute("select count(*) from public.profiles where id = %s",
                            (user.id,)).fetchone() == (0,)  # fmt: skip
    self_delete = rpc(api, admin, "delete_user", {"user_id": admin.id}, schema="admin")
    assert self_delete.status_code == 409


# --- injection ----------------------------------------------------------------------------------

INJECTIONS = ["' or 1=1 --", "'; drop table public.agents; --", "\") or true --", "%' or ''='",
              "1; select pg_sleep(5)", "$$; select 1; $$"]  # fmt: skip


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_strings_are_inert(
    api: Api, make_user: Callable[..., User], attack: str, stack: StackInfo
) -> None:
    owner, other = make_user(), make_user()
    create_agent(api, owner, name="Private")
    # PostgREST filters and bodies
    filtered = api.get(f"{REST}/agents", headers=other.headers, params={"name": f"eq.{attack}"})
    assert filtered.status_code == 200 and filtered.json() == []
    assert agent_ids(api, other) == []
    created = create_agent(api, other, name=attack[:100] or "x", description=attack)
    assert created.status_code in (201, 400)
    # Sidecar inputs
    signup = {"email": attack, "password": attack, "data": {"organization_name": attack}}
    for path, body in [
        ("/auth/v1/signup", signup),
        ("/auth/v1/token?grant_type=password", {"email": attack, "password": attack}),
        ("/auth/v1/recover", {"email": attack}),
    ]:  # fmt: skip
        response = api.post(path, json=body)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
    key = put_key(api, other, "groq", {"api_key": attack})
    assert key.status_code == 400
    with stack.connect() as conn:
        assert conn.execute("select to_regclass('public.agents') is not null").fetchone() == (True,)
        assert conn.execute("select count(*) from public.agents where user_id = %s",
                            (owner.id,)).fetchone() == (1,)  # fmt: skip


def test_keys_rotate_reseals_every_key_under_the_new_master_key(
    api: Api, user: User, stack: StackInfo
) -> None:
    put_key(api, user, "groq", {"api_key": GROQ_KEY})
    old = json.loads((stack.state_dir / "secrets.json").read_text())["master_key"]
    new = base64.b64encode(bytes(range(32))).decode()
    env = {
        "VOXFLOW_MASTER_KEY": new,
        "VOXFLOW_MASTER_KEY_VERSION": "2",
        "VOXFLOW_MASTER_KEY_V1": old,
    }
    missing_old = stack.voxflow(
        "keys", "rotate", check=False, env={**stack.env, **{k: v for k, v in env.items()
                                                          if k != "VOXFLOW_MASTER_KEY_V1"}},
    )  # fmt: skip
    assert missing_old.returncode == 1 and "VOXFLOW_MASTER_KEY_V1" in missing_old.stderr
    try:
        rotated = stack.voxflow("keys", "rotate", env={**stack.env, **env})
        assert "re-encrypted" in rotated.stdout
        with stack.connect() as conn:
            rows = conn.execute(
                "select user_id, ciphertext, nonce, key_version from private.provider_keys"
            ).fetchall()
            assert {r[3] for r in rows} == {2}, "every row moved to version 2"
            mine = next(r for r in rows if str(r[0]) == user.id)
            opened = crypto.unseal({2: base64.b64decode(new)}, 2, user.id, "groq", mine[1], mine[2])
            assert opened == {"api_key": GROQ_KEY}
            audited = conn.execute(
                "select count(*) from private.audit_log where action = 'key.rotated'"
            ).fetchone()
            assert audited[0] >= 1
    finally:
        # Back to the stack's own key, so later tests' sidecar requests can decrypt.
        back = {"VOXFLOW_MASTER_KEY": old, "VOXFLOW_MASTER_KEY_VERSION": "1",
                "VOXFLOW_MASTER_KEY_V2": new}  # fmt: skip
        stack.voxflow("keys", "rotate", env={**stack.env, **back})
