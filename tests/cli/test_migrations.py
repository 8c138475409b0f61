"""Migrations: apply, roll back, refuse drift, survive failure, adopt a v0 database."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import ACCOUNTS_VERSION, push_with_legacy_data, schema_dump, v0_digests
from tests.conftest import VOXFLOW, StackInfo
from voxflow import migrate


def test_push_rollback_to_zero_push_reproduces_schema_and_data(scratch_db: str) -> None:
    """push → rollback to zero → push again, on seeded data, gives the same catalog and rows."""
    with migrate.connect(scratch_db) as conn:
        push_with_legacy_data(conn)
        first_schema = schema_dump(scratch_db)
        first_data = v0_digests(conn)
        assert first_data["agents"][0] == 5 and first_data["calls"][0] == 4

        rolled = migrate.rollback(conn, to="0")
        assert rolled == sorted(rolled, reverse=True) and len(rolled) == len(migrate.discover())
        left = conn.execute(
            "select count(*) from pg_tables where schemaname in ('public', 'private', 'admin')"
        ).fetchone()
        assert left == (0,), "rolling back to zero leaves no tables of ours"
        assert migrate.applied(conn) == {}

        conn.execute("delete from auth.users")
        push_with_legacy_data(conn)
        assert schema_dump(scratch_db) == first_schema
        assert v0_digests(conn) == first_data


def test_rollback_to_baseline_keeps_v0_rows(scratch_db: str) -> None:
    """Rolling back to the baseline and pushing again keeps every v0 row byte for byte."""
    with migrate.connect(scratch_db) as conn:
        migrate.push(conn, target=migrate.BASELINE_VERSION)
        migrate.seed(conn)
        before = v0_digests(conn)
        migrate.rollback(conn, to=migrate.BASELINE_VERSION)
        push_rest = migrate.push(conn, target=ACCOUNTS_VERSION)
        assert [m.version for m in push_rest] == [ACCOUNTS_VERSION]
        owner = conn.execute(
            "insert into auth.users (id, email, created_at, updated_at) "
            "values (gen_random_uuid(), 'o@example.com', now(), now()) returning id"
        ).fetchone()
        assert owner is not None
        conn.execute("select set_config('voxflow.legacy_owner', %s, false)", (str(owner[0]),))
        migrate.push(conn)
        assert v0_digests(conn) == before
        owned = conn.execute("select count(*) from public.agents where user_id = %s", owner)
        assert owned.fetchone() == (5,), "every v0 agent went to the owner"
        migrate.rollback(conn, to=migrate.BASELINE_VERSION)
        assert list(migrate.applied(conn)) == [migrate.BASELINE_VERSION]
        assert v0_digests(conn) == before


def test_tenancy_refuses_ownerless_v0_rows(scratch_db: str) -> None:
    """Without an owner for them, v0 rows stop the tenancy migration, which changes nothing."""
    with migrate.connect(scratch_db) as conn:
        migrate.push(conn, target=migrate.BASELINE_VERSION)
        migrate.seed(conn)
        with pytest.raises(migrate.MigrationError, match="without an owner"):
            migrate.push(conn)
        assert list(migrate.applied(conn)) == [migrate.BASELINE_VERSION, ACCOUNTS_VERSION]


def copy_source(tmp_path: Path) -> migrate.Source:
    source = migrate.Source(tmp_path / "migrations", tmp_path / "rollbacks")
    shutil.copytree(migrate.MIGRATIONS_DIR, source.migrations)
    shutil.copytree(migrate.ROLLBACKS_DIR, source.rollbacks)
    return source


def test_changed_applied_migration_is_refused(scratch_db: str, tmp_path: Path) -> None:
    source = copy_source(tmp_path)
    with migrate.connect(scratch_db) as conn:
        migrate.push(conn, source)
        first = migrate.discover(source)[0]
        first.path.write_text(first.text + "\n-- edited after applying\n")
        states = {s.version: s.state for s in migrate.status(conn, source)}
        assert states[first.version] == "changed"
        with pytest.raises(migrate.MigrationError, match=first.path.name):
            migrate.push(conn, source)
        assert any(first.version in p for p in migrate.verify(conn, source))


def test_failing_migration_leaves_database_as_before(scratch_db: str, tmp_path: Path) -> None:
    source = copy_source(tmp_path)
    (source.migrations / "29990101000000_create_broken_thing.sql").write_text(
        "create table public.half_done (id int);\n"
        "alter table public.agents add column half_done int;\n"
        "select 1 / 0;\n"
    )
    (source.rollbacks / "29990101000000_create_broken_thing.down.sql").write_text(
        "drop table public.half_done;\n"
    )
    with migrate.connect(scratch_db) as conn:
        migrate.push(conn)
        before_schema = schema_dump(scratch_db)
        with pytest.raises(migrate.MigrationError, match="29990101000000_create_broken_thing"):
            migrate.push(conn, source)
        assert schema_dump(scratch_db) == before_schema
        assert "29990101000000" not in migrate.applied(conn)


def test_missing_rollback_file_is_refused(tmp_path: Path) -> None:
    source = copy_source(tmp_path)
    (source.migrations / "29990101000000_add_thing.sql").write_text("select 1;\n")
    with pytest.raises(migrate.MigrationError, match="no rollback file"):
        migrate.discover(source)


def test_rollback_steps_and_status(scratch_db: str) -> None:
    with migrate.connect(scratch_db) as conn:
        migrate.push(conn)
        assert all(s.state == "applied" for s in migrate.status(conn))
        newest = migrate.discover()[-1]
        assert migrate.rollback(conn, steps=1) == [newest.version]
        states = {s.version: s.state for s in migrate.status(conn)}
        assert states[newest.version] == "pending"
        with pytest.raises(migrate.MigrationError, match="not applied"):
            migrate.rollback(conn, to="20000101000000")


def test_verify_passes_on_a_freshly_pushed_database(scratch_db: str) -> None:
    with migrate.connect(scratch_db) as conn:
        migrate.push(conn)
        assert migrate.verify(conn) == []


def test_adopt_records_the_baseline_on_an_existing_v0_database(scratch_db: str) -> None:
    baseline = migrate.discover()[0]
    with migrate.connect(scratch_db) as conn:
        conn.execute(baseline.path.read_bytes())  # a v0 install, made without our migrator
        migrate.seed(conn)
        before = v0_digests(conn)
        assert migrate.adopt(conn) is True
        assert list(migrate.applied(conn)) == [migrate.BASELINE_VERSION]
        assert migrate.adopt(conn) is False
        pending = [s.version for s in migrate.status(conn) if s.state == "pending"]
        assert pending == [m.version for m in migrate.discover()[1:]]
        assert v0_digests(conn) == before


def test_adopt_refuses_a_database_without_v0_tables(scratch_db: str) -> None:
    with migrate.connect(scratch_db) as conn, pytest.raises(migrate.MigrationError, match="no v0"):
        migrate.adopt(conn)


def test_cli_push_status_verify(stack: StackInfo, scratch_db: str) -> None:
    env = {**stack.env, "VOXFLOW_DB_URL": scratch_db}

    def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*VOXFLOW, "db", *args],
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            check=False,
        )

    pushed = run("push")
    assert pushed.returncode == 0, pushed.stderr
    assert "applied 20261101000000_create_legacy_baseline" in pushed.stdout
    status = run("status")
    assert "applied" in status.stdout and "pending" not in status.stdout
    assert run("verify").returncode == 0

    production = {
        "VOXFLOW_ENV": "production",
        "VOXFLOW_JWT_SECRET": "x" * 40,
        "VOXFLOW_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "VOXFLOW_AUTHENTICATOR_PASSWORD": "a-password",
        "VOXFLOW_SIDECAR_PASSWORD": "another-password",
    }
    refused = run("reset", extra=production)
    assert refused.returncode == 1
    assert "refuses to run with VOXFLOW_ENV=production" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run("status").returncode == 0, "the refused reset left the database in place"
