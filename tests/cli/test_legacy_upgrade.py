"""`voxflow db upgrade-legacy`: a v0 database becomes multi-tenant, verified, reversible, with
no loss; and v0 clients keep working through the transition."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
import pytest
import requests
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.cli.conftest import (
    ACCOUNTS_VERSION,
    install_v0,
    load_large_v0,
    schema_dump,
    v0_columns,
    v0_digests,
)
from tests.conftest import StackInfo
from voxflow import crypto, migrate

ADMIN = "owner@harbour-dental.example"
PASSWORD = "Correct-horse-42"
BASELINE = migrate.BASELINE_VERSION
SECRETS = ("GROQ_API_KEY", "DEEPGRAM_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")


def db_cli(stack: StackInfo, url: str, *args: str) -> subprocess.CompletedProcess:
    """`voxflow db ...` against a scratch database, with the test stack's secrets."""
    return stack.voxflow("db", *args, check=False, env={**stack.env, "VOXFLOW_DB_URL": url})


def upgrade(stack: StackInfo, url: str, *extra: str) -> subprocess.CompletedProcess:
    return db_cli(
        stack, url, "upgrade-legacy", "--admin-email", ADMIN, "--admin-password", PASSWORD, *extra
    )


def master_keys(stack: StackInfo) -> dict[int, bytes]:
    stored = json.loads((stack.state_dir / "secrets.json").read_text())
    return {1: base64.b64decode(stored["master_key"])}


def settings_rows(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select key, value, updated_at from public.settings order by key"
    ).fetchall()


def routes(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("select phone_number, id from public.agents where phone_number > ''")
    return dict(rows.fetchall())


def test_upgrade_of_the_seed_data(stack: StackInfo, scratch_db: str) -> None:
    """Every v0 row goes to the admin with every value; numbers still route; keys are sealed
    and gone from settings; the rest of settings stays; the limit covers the agents; the
    report is stored and `verify-upgrade` prints it again."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
        before, routed, v0_settings = v0_digests(conn), routes(conn), settings_rows(conn)
    plaintext = {key: value for key, value, _ in v0_settings}

    upgraded = upgrade(stack, scratch_db)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "result: OK" in upgraded.stdout and "v0 baseline adopted first" in upgraded.stdout

    with migrate.connect(scratch_db) as conn:
        assert {s.state for s in migrate.status(conn)} == {"applied"}
        admin = conn.execute(
            "select u.id, u.email_confirmed_at is not null, p.role, p.status "
            "from auth.users as u join public.profiles as p using (id) where u.email = %s",
            (ADMIN,),
        ).fetchone()
        assert admin is not None and admin[1:] == (True, "admin", "active")
        admin_id = admin[0]
        owners = conn.execute(
            "select (select array_agg(distinct user_id) from public.agents), "
            "(select array_agg(distinct user_id) from public.calls)"
        ).fetchone()
        assert owners == ([admin_id], [admin_id]), "every agent and call is the admin's"
        after = v0_digests(conn)
        assert (after["agents"], after["calls"]) == (before["agents"], before["calls"])
        assert routes(conn) == routed and len(routed) == 4

        kept = [row for row in v0_settings if row[0] in ("COMPANY_NAME", "DEFAULT_LANGUAGE")]
        assert settings_rows(conn) == kept, "only the non-secret settings remain, unchanged"
        keys = conn.execute(
            "select provider, ciphertext, nonce, key_version, hint from private.provider_keys "
            "where user_id = %s order by provider",
            (admin_id,),
        ).fetchall()
        opened = {
            provider: crypto.unseal(master_keys(stack), version, admin_id, provider, ct, nonce)
            for provider, ct, nonce, version, _ in keys
        }
        assert opened == {
            "deepgram": {"api_key": plaintext["DEEPGRAM_API_KEY"]},
            "groq": {"api_key": plaintext["GROQ_API_KEY"]},
            "twilio": {
                "account_sid": plaintext["TWILIO_ACCOUNT_SID"],
                "auth_token": plaintext["TWILIO_AUTH_TOKEN"],
                "phone_number": plaintext["TWILIO_PHONE_NUMBER"],
            },
        }
        assert [(k[0], k[4]) for k in keys] == [
            ("deepgram", "…0002"), ("groq", "…0001"), ("twilio", "…0003"),
        ]  # fmt: skip
        audited = conn.execute(
            "select target_id, after ->> 'hint' from private.audit_log "
            "where action = 'legacy.provider_key_moved' order by target_id"
        ).fetchall()
        assert audited == [("deepgram", "…0002"), ("groq", "…0001"), ("twilio", "…0003")]

        limit, suspended = conn.execute(
            "select (select agent_limit from private.effective_limits(%s)), "
            "(select count(*) from public.agents where status <> 'active')",
            (admin_id,),
        ).fetchone() or (0, 0)
        assert limit >= 5 and suspended == 0

    data = subprocess.run(
        ["pg_dump", "--data-only", scratch_db], capture_output=True, text=True, check=True
    ).stdout
    leaked = [key for key in SECRETS if plaintext[key] in data]
    assert leaked == [], "no secret is left in clear anywhere in the database"

    verified = db_cli(stack, scratch_db, "verify-upgrade")
    assert verified.returncode == 0, verified.stderr
    assert upgraded.stdout.strip() in verified.stdout, "the stored report, printed again"
    assert "agents: unchanged since the upgrade" in verified.stdout

    again = upgrade(stack, scratch_db)
    assert again.returncode == 1 and "already upgraded" in again.stderr


def test_dry_run_reports_and_changes_nothing(stack: StackInfo, scratch_db: str) -> None:
    """--dry-run prints the full report and leaves schema and rows exactly as they were."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
        before = v0_digests(conn)
    schema = schema_dump(scratch_db)

    dry = upgrade(stack, scratch_db, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "DRY RUN" in dry.stdout and "result: OK" in dry.stdout
    assert "groq      …0001" in dry.stdout

    assert schema_dump(scratch_db) == schema
    with migrate.connect(scratch_db) as conn:
        assert v0_digests(conn) == before
        assert migrate.applied(conn) == {}
    unverified = db_cli(stack, scratch_db, "verify-upgrade")
    assert unverified.returncode == 1 and "no upgrade report" in unverified.stderr


FAILURES = {
    "a weak password for the new admin": (
        None,
        ("--admin-password", "short"),
        "creating the admin account failed: Password is too weak",
    ),
    "a step that breaks after the schema changed": (
        "create function public.keep_settings() returns trigger language plpgsql as $$ "
        "begin raise exception 'settings are write-protected'; end $$;"
        "create trigger keep_settings before delete on public.settings "
        "for each row execute function public.keep_settings()",
        (),
        "moving the provider keys failed: settings are write-protected",
    ),
    "a value that changes on the way": (
        "create function public.touch() returns trigger language plpgsql as $$ "
        "begin new.description := coalesce(new.description, '') || '!'; return new; end $$;"
        "create trigger touch before update on public.agents "
        "for each row execute function public.touch()",
        (),
        "verification failed: agents differs",
    ),
    "a v0 row the multi-tenant schema rejects": (
        "update public.agents set phone_number = '(415) 555-0101' where id = 1",
        (),
        "agent 1 phone_number '(415) 555-0101' must be E.164",
    ),
}


@pytest.mark.parametrize("arrange, args, message", FAILURES.values(), ids=FAILURES.keys())
def test_a_failed_upgrade_leaves_exactly_v0(
    stack: StackInfo, scratch_db: str, arrange: str | None, args: tuple[str, ...], message: str
) -> None:
    """Any failure rolls the whole upgrade back, and says what failed in one line."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
        if arrange:
            conn.execute(arrange)
        before = v0_digests(conn)
    schema = schema_dump(scratch_db)

    failed = upgrade(stack, scratch_db, *args)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("voxflow: upgrade-legacy: ") and message in last, failed.stderr
    assert last.endswith(("nothing was changed", "match their pre-upgrade checksums"))
    if "verification" in message:
        assert "agents               5          5  MISMATCH" in failed.stderr
    else:
        assert len(failed.stderr.strip().splitlines()) == 1

    assert schema_dump(scratch_db) == schema, "no schema object is left behind"
    with migrate.connect(scratch_db) as conn:
        assert v0_digests(conn) == before
        assert migrate.applied(conn) == {}


def test_rollback_to_the_baseline_returns_to_v0_and_up_again(
    stack: StackInfo, scratch_db: str
) -> None:
    """After an upgrade, `rollback --to <baseline> --yes` gives back v0 exactly: every row,
    the plaintext settings, v0's grants; a second upgrade gives the same checksums again."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
        before, v0_settings = v0_digests(conn), settings_rows(conn)
    v0_schema = schema_dump(scratch_db, schema="public")
    assert upgrade(stack, scratch_db).returncode == 0

    unconfirmed = db_cli(stack, scratch_db, "rollback", "--to", BASELINE)
    assert unconfirmed.returncode == 1
    assert "plaintext" in unconfirmed.stderr and "--yes" in unconfirmed.stderr
    with migrate.connect(scratch_db) as conn:
        assert "20261103000000" in migrate.applied(conn), "nothing was rolled back"

    down = db_cli(stack, scratch_db, "rollback", "--to", BASELINE, "--yes")
    assert down.returncode == 0, down.stderr
    assert "warning: returning to v0 writes 5 provider credential(s)" in down.stderr
    assert down.stdout.count("identical to before the upgrade") == 3
    with migrate.connect(scratch_db) as conn:
        assert list(migrate.applied(conn)) == [BASELINE]
        assert v0_digests(conn) == before
        assert settings_rows(conn) == v0_settings, "the keys are back in plaintext, as they were"
        assert conn.execute("select count(*) from auth.users").fetchone() == (0,)
    assert schema_dump(scratch_db, schema="public") == v0_schema, "v0's schema and grants"

    assert upgrade(stack, scratch_db).returncode == 0
    with migrate.connect(scratch_db) as conn:
        after = v0_digests(conn)
        assert (after["agents"], after["calls"]) == (before["agents"], before["calls"])


def test_rollback_refuses_to_lose_other_tenants_data_unless_forced(
    stack: StackInfo, scratch_db: str
) -> None:
    """Another user's account and key would be lost: refused and listed; --force goes ahead
    and still gives back every v0 row."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
        before = v0_digests(conn)
    assert upgrade(stack, scratch_db).returncode == 0
    with migrate.connect(scratch_db) as conn:
        tenant = conn.execute(
            "insert into auth.users (id, email, created_at, updated_at) "
            "values (gen_random_uuid(), 'tenant@example.com', now(), now()) returning id"
        ).fetchone()
        assert tenant is not None
        conn.execute(
            "insert into private.provider_keys "
            "(user_id, provider, ciphertext, nonce, key_version, hint) "
            "values (%s, 'groq', 'sealed', extensions.gen_random_bytes(12), 1, '…abcd')",
            tenant,
        )

    refused = db_cli(stack, scratch_db, "rollback", "--to", BASELINE, "--yes")
    assert refused.returncode == 1
    assert "tenant@example.com" in refused.stderr
    assert "private.provider_keys" in refused.stderr and "--force" in refused.stderr
    with migrate.connect(scratch_db) as conn:
        assert "20261103000000" in migrate.applied(conn), "nothing was rolled back"

    forced = db_cli(stack, scratch_db, "rollback", "--to", BASELINE, "--yes", "--force")
    assert forced.returncode == 0, forced.stderr
    with migrate.connect(scratch_db) as conn:
        assert v0_digests(conn) == before
        assert conn.execute("select count(*) from auth.users").fetchone() == (0,)


def test_up_down_up_on_a_large_v0_data_set(stack: StackInfo, scratch_db: str) -> None:
    """10k agents and 100k calls: the same checksums after each upgrade and each rollback."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn, seed=False)
        load_large_v0(conn)
        before = v0_digests(conn)
    assert before["agents"][0] == 10_000 and before["calls"][0] == 100_000
    for step in ("upgrade-legacy", "rollback", "upgrade-legacy"):
        started = time.monotonic()
        if step == "rollback":
            done = db_cli(stack, scratch_db, "rollback", "--to", BASELINE, "--yes")
        else:
            done = upgrade(stack, scratch_db)
        assert done.returncode == 0, done.stderr
        print(f"{step} of the large set: {time.monotonic() - started:.1f} s")
        with migrate.connect(scratch_db) as conn:
            now = v0_digests(conn)
            if step == "rollback":
                assert now == before
            else:
                assert (now["agents"], now["calls"]) == (before["agents"], before["calls"])
                moved = conn.execute("select count(*) from private.provider_keys").fetchone()
                assert moved == (3,) and now["settings"][0] == 50


def test_an_interrupted_push_is_finished_by_upgrade_legacy(
    stack: StackInfo, scratch_db: str
) -> None:
    """`db push` on an adopted v0 database stops at the tenancy migration (its rows have no
    owner); upgrade-legacy finishes the job, asking for a password only for a new admin and
    taking the agent limit it is given."""
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
        migrate.adopt(conn)
    assert db_cli(stack, scratch_db, "push").returncode == 1
    with migrate.connect(scratch_db) as conn:
        assert list(migrate.applied(conn)) == [BASELINE, ACCOUNTS_VERSION]

    unnamed = db_cli(stack, scratch_db, "upgrade-legacy", "--admin-email", ADMIN)
    assert unnamed.returncode == 1 and "--admin-password" in unnamed.stderr
    too_low = upgrade(stack, scratch_db, "--agent-limit", "4")
    assert too_low.returncode == 1 and "below the 5 agents" in too_low.stderr

    finished = upgrade(stack, scratch_db, "--agent-limit", "7")
    assert finished.returncode == 0, finished.stderr
    assert "agent limit 7 for 5 migrated agent(s)" in finished.stdout
    assert "adopted" not in finished.stdout


# --- v0 clients through the transition ----------------------------------------------------------
#
# PostgREST serves only the stack's own database, which is multi-tenant from the start and
# shared with every other test, so it cannot be made v0 and upgraded. The comparison runs in a
# scratch database instead, with the v0 client's calls made as PostgREST makes them (role
# service_role, its JWT claims, one transaction per request) before and after the upgrade; then
# the same client runs over real HTTP through the gateway against the stack's database, with a
# legacy owner set for just that while and removed after, and must see exactly the same.

PROBE_PHONE = "+15005550199"
KEYS = {"agents": "id", "calls": "id", "settings": "key"}


class V0Client(Protocol):
    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]: ...
    def select(self, table: str, where: dict[str, Any]) -> list[dict[str, Any]]: ...
    def update(
        self, table: str, where: dict[str, Any], values: dict[str, Any]
    ) -> list[dict[str, Any]]: ...
    def delete(self, table: str, where: dict[str, Any]) -> None: ...


@dataclass
class SqlV0Client:
    """A v0 client's requests as PostgREST runs them for the service_role key."""

    url: str

    def _run(self, query: sql.Composable, params: list[Any]) -> list[dict[str, Any]]:
        with psycopg.connect(self.url, autocommit=True) as conn, conn.transaction():
            conn.execute("set local role service_role")
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)", ('{"role": "service_role"}',)
            )
            return [row[0] for row in conn.execute(query, params).fetchall()]

    @staticmethod
    def _parts(table: str, where: dict[str, Any]) -> tuple[sql.Composable, ...]:
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in v0_columns(table))
        condition = sql.SQL(" and ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in where
        )
        return sql.Identifier("public", table), columns, condition if where else sql.SQL("true")

    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        target, columns, _ = self._parts(table, {})
        query = sql.SQL(
            "with t as (insert into {} ({}) values ({}) returning {}) select to_jsonb(t) from t"
        ).format(
            target,
            sql.SQL(", ").join(sql.Identifier(c) for c in row),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
            columns,
        )
        return self._run(query, [_adapt(v) for v in row.values()])[0]

    def select(self, table: str, where: dict[str, Any]) -> list[dict[str, Any]]:
        target, columns, condition = self._parts(table, where)
        query = sql.SQL("select to_jsonb(t) from (select {} from {} where {} order by {}) as t")
        query = query.format(columns, target, condition, sql.Identifier(KEYS[table]))
        return self._run(query, list(where.values()))

    def update(
        self, table: str, where: dict[str, Any], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        target, columns, condition = self._parts(table, where)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder()) for c in values
        )
        query = sql.SQL(
            "with t as (update {} set {} where {} returning {}) select to_jsonb(t) from t"
        ).format(target, assignments, condition, columns)
        return self._run(query, [_adapt(v) for v in values.values()] + list(where.values()))

    def delete(self, table: str, where: dict[str, Any]) -> None:
        target, _, condition = self._parts(table, where)
        query = sql.SQL("with t as (delete from {} where {} returning 1) select count(*) from t")
        self._run(query.format(target, condition), list(where.values()))


def _adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict | list) else value


@dataclass
class RestV0Client:
    """The same requests over HTTP, as a v0 integration sends them with the service key."""

    api_url: str
    key: str

    def _call(self, method: str, table: str, params: dict[str, str], body: Any = None) -> Any:
        response = requests.request(
            method,
            f"{self.api_url}/rest/v1/{table}",
            params=params,
            json=body,
            headers={
                "apikey": self.key,
                "Authorization": f"Bearer {self.key}",
                "Prefer": "return=representation",
            },
            timeout=10,
        )
        assert response.ok, f"{method} {table}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    @staticmethod
    def _params(table: str, where: dict[str, Any]) -> dict[str, str]:
        return {
            "select": ",".join(v0_columns(table)),
            "order": KEYS[table],
            **{column: f"eq.{value}" for column, value in where.items()},
        }

    def insert(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        created: list[dict[str, Any]] = self._call("POST", table, self._params(table, {}), row)
        return created[0]

    def select(self, table: str, where: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", table, self._params(table, where))
        return found

    def update(
        self, table: str, where: dict[str, Any], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        changed: list[dict[str, Any]] = self._call(
            "PATCH", table, self._params(table, where), values
        )
        return changed

    def delete(self, table: str, where: dict[str, Any]) -> None:
        self._call("DELETE", table, self._params(table, where))


def v0_script(client: V0Client, check_owner: Callable[[int], None] | None = None) -> list[Any]:
    """What a v0 integration does: create an agent on a number, find it by that number, edit
    it, record and finish a call, keep a setting, clean up. Returns what it saw, with the ids
    and server-set times of its own rows made comparable across databases."""
    agent = client.insert(
        "agents",
        {
            "name": "Compat probe — Grüße",
            "system_prompt": "Réponds brièvement. 🙂",
            "first_message": None,
            "phone_number": PROBE_PHONE,
            "config": {"nested": {"list": [1, "zwei", None, {}]}, "empty": []},
        },
    )
    agent_id = agent["id"]
    seen: list[tuple[str, str, Any]] = [("created", "agents", agent)]
    seen += [
        ("routed", "agents", r) for r in client.select("agents", {"phone_number": PROBE_PHONE})
    ]
    edit = {"temperature": 1.25, "description": "edited by v0"}
    seen += [("edited", "agents", r) for r in client.update("agents", {"id": agent_id}, edit)]
    call = client.insert(
        "calls",
        {
            "agent_id": agent_id,
            "twilio_call_sid": "CAv0compatprobe",
            "direction": "inbound",
            "from_number": "+15005550006",
            "to_number": PROBE_PHONE,
            "status": "ringing",
        },
    )
    seen.append(("call", "calls", call))
    finish = {"status": "completed", "duration_seconds": 42,
              "transcript": [{"role": "user", "text": "Grüß Gott"}]}  # fmt: skip
    seen += [("finished", "calls", r) for r in client.update("calls", {"id": call["id"]}, finish)]
    seen += [("calls", "calls", r) for r in client.select("calls", {"agent_id": agent_id})]
    if check_owner:
        check_owner(agent_id)
    probe = {"key": "V0_COMPAT_PROBE", "value": "wert ✓"}
    seen.append(("setting", "settings", client.insert("settings", probe)))
    seen += [("read", "settings", r) for r in client.select("settings", {"key": probe["key"]})]
    client.delete("settings", {"key": probe["key"]})
    client.delete("agents", {"id": agent_id})
    left = client.select("agents", {"phone_number": PROBE_PHONE})
    left += client.select("calls", {"agent_id": agent_id})
    seen.append(("deleted", "agents", {"left": len(left)}))

    def comparable(table: str, row: dict[str, Any]) -> dict[str, Any]:
        row = dict(row)
        if row.get("id") in (agent_id, call["id"]):
            row["id"] = f"<new {table}>"
        if row.get("agent_id") == agent_id:
            row["agent_id"] = "<new agents>"
        for column in ("created_at", "updated_at"):
            if row.get(column) is not None:
                row[column] = "<set by the server>"
        return row

    return [(what, comparable(table, row)) for what, table, row in seen]


def v0_reads(client: V0Client) -> list[Any]:
    """Reads of the seed data as v0 clients make them: every agent, a routed number, a setting."""
    return [
        client.select("agents", {}),
        client.select("calls", {}),
        client.select("agents", {"phone_number": "+14155550101"}),
        client.select("settings", {"key": "COMPANY_NAME"}),
    ]


def test_v0_clients_work_the_same_after_the_upgrade(stack: StackInfo, scratch_db: str) -> None:
    with migrate.connect(scratch_db) as conn:
        install_v0(conn)
    client = SqlV0Client(scratch_db)
    reads_before, script_before = v0_reads(client), v0_script(client)

    assert upgrade(stack, scratch_db).returncode == 0

    def owned_by_admin(agent_id: int) -> None:
        with psycopg.connect(scratch_db) as conn:
            owners = conn.execute(
                "select (select user_id from public.agents where id = %s), "
                "(select user_id from public.calls where agent_id = %s), "
                "(select id from auth.users where email = %s)",
                (agent_id, agent_id, ADMIN),
            ).fetchone()
        assert owners is not None and owners[0] == owners[1] == owners[2]

    assert v0_reads(client) == reads_before
    assert v0_script(client, owned_by_admin) == script_before

    # Over HTTP, on the stack's database: new rows without an owner go to the legacy owner.
    with stack.connect() as conn:
        previous = conn.execute(
            "select value from private.platform_settings where key = 'legacy_owner'"
        ).fetchone()
        owner = conn.execute(
            "insert into auth.users (id, email, created_at, updated_at) "
            "values (gen_random_uuid(), %s, now(), now()) returning id",
            (f"v0-compat-{uuid.uuid4().hex[:8]}@example.com",),
        ).fetchone()
        assert owner is not None
        conn.execute(
            "insert into private.platform_settings (key, value) values ('legacy_owner', %s) "
            "on conflict (key) do update set value = excluded.value",
            (str(owner[0]),),
        )

        def owned_by_legacy_owner(agent_id: int) -> None:
            owners = conn.execute(
                "select (select user_id from public.agents where id = %s), "
                "(select user_id from public.calls where agent_id = %s)",
                (agent_id, agent_id),
            ).fetchone()
            assert owners == (owner[0], owner[0])

        try:
            over_http = v0_script(
                RestV0Client(stack.api_url, stack.service_role_key), owned_by_legacy_owner
            )
        finally:
            if previous is None:
                conn.execute("delete from private.platform_settings where key = 'legacy_owner'")
            else:
                conn.execute(
                    "update private.platform_settings set value = %s where key = 'legacy_owner'",
                    previous,
                )
            conn.execute("delete from auth.users where id = %s", owner)
    assert over_http == script_before
