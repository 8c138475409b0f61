"""Scratch databases on the test cluster, and v0 (single-admin) data sets to upgrade in them."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.conftest import StackInfo
from voxflow import migrate
from voxflow.integrity import table_digest

V0_TABLES = ("agents", "calls", "settings")
ACCOUNTS_VERSION = "20261102000000"


@pytest.fixture
def scratch_db(stack: StackInfo) -> Iterator[str]:
    """A fresh database on the test cluster, dropped afterwards."""
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    with stack.connect() as conn:
        conn.execute(f"create database {name}")
    params = conninfo_to_dict(stack.db_url)
    params["dbname"] = name
    try:
        yield make_conninfo("", **params)
    finally:
        with stack.connect() as conn:
            conn.execute(f"drop database {name} with (force)")


def push_with_legacy_data(conn: psycopg.Connection) -> None:
    """From an empty database: the v0 baseline with the seed data, then every later migration,
    the v0 rows going to an owner account (as `voxflow db upgrade-legacy` arranges)."""
    migrate.push(conn, target=migrate.BASELINE_VERSION)
    migrate.seed(conn)
    migrate.push(conn, target=ACCOUNTS_VERSION)
    owner = conn.execute(
        "insert into auth.users (id, email, created_at, updated_at) "
        "values (gen_random_uuid(), 'owner@example.com', now(), now()) returning id"
    ).fetchone()
    assert owner is not None
    conn.execute("select set_config('voxflow.legacy_owner', %s, false)", (str(owner[0]),))
    migrate.push(conn)
    conn.execute("select set_config('voxflow.legacy_owner', '', false)")


def schema_dump(url: str, schema: str | None = None) -> str:
    """The schema as pg_dump prints it: a stable text form of the whole catalog we own (or of
    one schema)."""
    only = [f"--schema={schema}"] if schema else ["--exclude-schema=supabase_migrations"]
    result = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", *only, url],
        capture_output=True,
        text=True,
        check=True,
    )
    # \restrict lines carry a random key per run; "-- Dumped" lines carry versions.
    noise = ("-- Dumped", "\\restrict", "\\unrestrict")
    lines = result.stdout.splitlines()
    return "\n".join(line for line in lines if not line.startswith(noise))


def v0_digests(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    digests = {}
    for table in V0_TABLES:
        d = table_digest(conn, "public", table, columns=v0_columns(table))
        digests[table] = (d.rows, d.checksum)
    return digests


def v0_columns(table: str) -> list[str]:
    """The v0 column set, as created by the baseline migration."""
    baseline = {
        "agents": [
            "id", "name", "description", "system_prompt", "first_message", "llm_model",
            "temperature", "max_tokens", "stt_model", "tts_voice", "language", "phone_number",
            "config", "is_active", "created_at", "updated_at",
        ],
        "calls": [
            "id", "agent_id", "twilio_call_sid", "direction", "from_number", "to_number",
            "status", "started_at", "ended_at", "duration_seconds", "transcript", "created_at",
        ],
        "settings": ["key", "value", "updated_at"],
    }  # fmt: skip
    return baseline[table]


def install_v0(conn: psycopg.Connection, *, seed: bool = True) -> None:
    """A v0 installation as it exists in the field: the baseline tables made without our
    migrator (so nothing is recorded), on a Supabase project, whose default privileges give
    the API roles every table in public; then the seed data."""
    conn.execute(migrate.discover()[0].path.read_bytes())
    conn.execute(
        "grant usage on schema public to anon, authenticated, service_role;"
        "grant all on public.agents, public.calls, public.settings "
        "to anon, authenticated, service_role;"
        "grant all on sequence public.agents_id_seq, public.calls_id_seq "
        "to anon, authenticated, service_role"
    )
    if seed:
        migrate.seed(conn)


def load_large_v0(conn: psycopg.Connection, agents: int = 10_000, calls: int = 100_000) -> None:
    """A large v0 data set, made in SQL: long and non-ASCII text, a NULL in every nullable
    column, empty and nested JSON, awkward characters; values the multi-tenant schema accepts
    (it re-checks every agent row the upgrade touches)."""
    # The sizes travel as settings, so the script stays one multi-statement text.
    conn.execute("select set_config('voxflow.large_agents', %s, false)", (str(agents),))
    conn.execute("select set_config('voxflow.large_calls', %s, false)", (str(calls),))
    conn.execute(
        """
        insert into public.agents (
            id, name, description, system_prompt, first_message, llm_model, temperature,
            max_tokens, stt_model, tts_voice, language, phone_number, config, is_active,
            created_at, updated_at
        )
        select
            g,
            'Agent ' || g || case g % 3 when 0 then ' — Zürich ☎' when 1 then ' 東京' else '' end,
            case when g % 4 = 0 then null else E'line one\\nline two\\t"quoted" \\\\ ' || g end,
            repeat('Speak kindly; ne jamais donner de conseil médical. 🙂 ', 20 + g % 40),
            case when g % 5 = 0 then null when g % 5 = 1 then '' else 'Hallo, wie geht''s? ' end,
            (array['llama-3.3-70b-versatile', 'llama-3.1-8b-instant'])[1 + g % 2],
            (g % 21) / 10.0,
            1 + g % 8192,
            'nova-3',
            'aura-2-thalia-en',
            (array['en', 'fr', 'de', 'ja'])[1 + g % 4],
            case when g % 3 = 0 then null else '+1415' || lpad(g::text, 7, '0') end,
            case g % 4
                when 0 then '{}'::jsonb
                when 1 then jsonb_build_object('n', g, 'deep', jsonb_build_object(
                    'list', jsonb_build_array(1, 'zwei', null, jsonb_build_object()),
                    'empty', '[]'::jsonb, 'text', 'ünïcode ✓'))
                when 2 then jsonb_build_object('tags', '[]'::jsonb, 'null', null)
                else jsonb_build_object('quote', E'"\\\\', 'flag', g % 2 = 0)
            end,
            g % 7 <> 0,
            timestamptz '2025-01-01 00:00:00.123456+00' + g * interval '1 minute 1.000001 s',
            timestamptz '2025-06-01 12:00:00+00' + g * interval '1.5 s'
        from generate_series(1, current_setting('voxflow.large_agents')::int) as g;

        insert into public.calls (
            id, agent_id, twilio_call_sid, direction, from_number, to_number, status,
            started_at, ended_at, duration_seconds, transcript, created_at
        )
        select
            g,
            1 + g % current_setting('voxflow.large_agents')::int,
            case when g % 9 = 0 then null else 'CA' || md5(g::text) end,
            case when g % 2 = 0 then 'inbound' else 'outbound' end,
            case when g % 6 = 0 then null else '+3361234' || lpad(g::text, 6, '0') end,
            case when g % 8 = 0 then null else '+1415' || lpad((g % 9000)::text, 7, '0') end,
            (array['completed', 'no-answer', 'busy', 'queued'])[1 + g % 4],
            case when g % 4 <> 3 then timestamptz '2025-07-01 00:00+00' + g * interval '7 s' end,
            case when g % 4 < 2 then timestamptz '2025-07-01 00:01+00' + g * interval '7 s' end,
            case when g % 4 >= 2 then null else 30 + g % 600 end,
            case g % 4
                when 0 then '[]'::jsonb
                when 1 then jsonb_build_array(
                    jsonb_build_object('role', 'assistant', 'text', 'Bonjour ! Ça va ?'),
                    jsonb_build_object('role', 'user', 'text', 'Grüß Gott, ' || g,
                        'meta', jsonb_build_object('confidence', 0.93, 'words', '[]'::jsonb)))
                when 2 then jsonb_build_array(jsonb_build_object(), '[]'::jsonb, null)
                else jsonb_build_array(jsonb_build_object('role', 'user', 'text', repeat('ü', 200)))
            end,
            timestamptz '2025-07-01 00:00:00+00' + g * interval '7.000003 s'
        from generate_series(1, current_setting('voxflow.large_calls')::int) as g;

        select setval('public.agents_id_seq', current_setting('voxflow.large_agents')::int);
        select setval('public.calls_id_seq', current_setting('voxflow.large_calls')::int);

        insert into public.settings (key, value, updated_at)
        values
        ('GROQ_API_KEY', 'gsk_large_set_key_ÄÖÜ_0001', '2024-12-31 23:59:59.999999+00'),
        ('DEEPGRAM_API_KEY', '', '2025-01-01 00:00:00+00'),
        ('TWILIO_AUTH_TOKEN', E'tok\\\\en with spaces  ', '2025-01-02 00:00:00+00'),
        ('TWILIO_PHONE_NUMBER', '+14155550100', '2025-01-03 00:00:00+00');
        insert into public.settings (key, value, updated_at)
        select 'SETTING_' || g, case when g % 2 = 0 then '' else 'wert ' || g || ' ✓' end,
            timestamptz '2025-01-01 00:00:00+00' + g * interval '1 day'
        from generate_series(1, 50) as g;
        """
    )
