"""Versioned SQL migrations with rollback, plus the declarative `sql/` files.

History lives in `supabase_migrations.schema_migrations`, the table the Supabase CLI uses, so
`supabase migration list` agrees with us. Each migration runs in its own transaction: a failing
one leaves the database exactly as it was before it started.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from voxflow.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"
ROLLBACKS_DIR = PROJECT_ROOT / "supabase" / "rollbacks"
SQL_DIR = PROJECT_ROOT / "sql"
PLATFORM_SQL = SQL_DIR / "platform" / "supabase_compat.sql"
DECLARATIVE_DIRS = (SQL_DIR / "policies", SQL_DIR / "views")
BASELINE_VERSION = "20261101000000"
BASELINE_TABLES = ("agents", "calls", "settings")

_NAME = re.compile(r"^(\d{14})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 7_461_020_001  # advisory lock: one migrator at a time per database


class MigrationError(Exception):
    """A migration could not be applied or rolled back; the message names the file."""


@dataclass(frozen=True)
class Source:
    """Where migrations and their down files live (tests point this at a scratch copy)."""

    migrations: Path = MIGRATIONS_DIR
    rollbacks: Path = ROLLBACKS_DIR


PROJECT_SOURCE = Source()


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    down_path: Path

    @property
    def text(self) -> str:
        return self.path.read_text()


@dataclass(frozen=True)
class MigrationState:
    version: str
    name: str
    state: str  # applied | pending | changed | missing_file


def discover(source: Source = PROJECT_SOURCE) -> list[Migration]:
    found = []
    for path in sorted(source.migrations.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path.name}: migration files are named <14-digit UTC timestamp>_<verb_object>.sql"
            )
        version, name = match.groups()
        found.append(Migration(version, name, path, source.rollbacks / f"{path.stem}.down.sql"))
    for migration in found:
        if not migration.down_path.exists():
            raise MigrationError(
                f"{migration.path.name} has no rollback file at {migration.down_path}"
            )
    return found


def declarative_files() -> list[Path]:
    """sql/policies, then sql/views, each in file-name order."""
    return [p for d in DECLARATIVE_DIRS if d.exists() for p in sorted(d.glob("*.sql"))]


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        yield conn


def _ensure_history(conn: psycopg.Connection) -> None:
    conn.execute("create schema if not exists supabase_migrations")
    conn.execute(
        "create table if not exists supabase_migrations.schema_migrations "
        "(version text not null primary key, statements text[], name text)"
    )


def applied(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    """version -> (name, recorded text)."""
    exists = conn.execute(
        "select to_regclass('supabase_migrations.schema_migrations') is not null"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute(
        "select version, coalesce(name, ''), array_to_string(statements, E'\\n') "
        "from supabase_migrations.schema_migrations order by version"
    ).fetchall()
    return {version: (name, text) for version, name, text in rows}


def status(conn: psycopg.Connection, source: Source = PROJECT_SOURCE) -> list[MigrationState]:
    done = applied(conn)
    states = []
    files = {m.version: m for m in discover(source)}
    for version in sorted(set(files) | set(done)):
        if version not in files:
            states.append(MigrationState(version, done[version][0], "missing_file"))
        elif version not in done:
            states.append(MigrationState(version, files[version].name, "pending"))
        elif done[version][1] != files[version].text:
            states.append(MigrationState(version, files[version].name, "changed"))
        else:
            states.append(MigrationState(version, files[version].name, "applied"))
    return states


def _refuse_drift(conn: psycopg.Connection, source: Source) -> None:
    for state in status(conn, source):
        if state.state == "changed":
            raise MigrationError(
                f"{state.version}_{state.name}.sql was changed after it was "
                "applied; restore the applied text and put the change in a new migration"
            )
        if state.state == "missing_file":
            raise MigrationError(
                f"migration {state.version}_{state.name} is applied but its file is gone; "
                "restore it from version control"
            )


@contextmanager
def _migrator_lock(conn: psycopg.Connection) -> Iterator[None]:
    conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        yield
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _run_file(conn: psycopg.Connection, path: Path) -> None:
    try:
        conn.execute(path.read_text().encode())
    except psycopg.Error as exc:
        rel = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        raise MigrationError(f"{rel}: {exc.diag.message_primary or exc}") from exc


def bootstrap(conn: psycopg.Connection) -> None:
    """Create the Supabase-provided roles, schemas and auth objects where they are missing."""
    with conn.transaction():
        _run_file(conn, PLATFORM_SQL)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier, so a login's password never reaches SQL (or its logs) in clear."""
    import base64
    import hmac
    import os

    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def set_login_password(conn: psycopg.Connection, role: str, password: str) -> None:
    conn.execute(
        sql.SQL("alter role {} with login password {}").format(
            sql.Identifier(role), sql.Literal(scram_verifier(password))
        )
    )


def apply_declarative(conn: psycopg.Connection) -> None:
    """Re-apply every idempotent file under sql/ in one transaction."""
    with conn.transaction():
        for path in declarative_files():
            _run_file(conn, path)


def push(
    conn: psycopg.Connection, source: Source = PROJECT_SOURCE, target: str | None = None
) -> list[Migration]:
    """Apply pending migrations in order (up to and including `target`, if given), then the
    declarative sql/ files. Returns what ran."""
    bootstrap(conn)
    with _migrator_lock(conn):
        _ensure_history(conn)
        _refuse_drift(conn, source)
        done = applied(conn)
        ran = []
        for migration in discover(source):
            if migration.version in done:
                continue
            if target is not None and migration.version > target:
                break
            text = migration.text
            with conn.transaction():
                _run_file(conn, migration.path)
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, statements, name) "
                    "values (%s, %s, %s)",
                    (migration.version, [text], migration.name),
                )
            ran.append(migration)
        if target is None or target >= discover(source)[-1].version:
            apply_declarative(conn)
        conn.execute("notify pgrst, 'reload schema'")
    return ran


def rollback(
    conn: psycopg.Connection,
    *,
    steps: int | None = None,
    to: str | None = None,
    source: Source = PROJECT_SOURCE,
) -> list[str]:
    """Run down files newest first. `to` keeps that version applied; "0" rolls back everything."""
    if (steps is None) == (to is None):
        raise MigrationError("say either --steps N or --to VERSION")
    with _migrator_lock(conn):
        _ensure_history(conn)
        done = sorted(applied(conn), reverse=True)
        if to is not None:
            if to != "0" and to not in done:
                raise MigrationError(f"version {to} is not applied; see `voxflow db status`")
            targets = [v for v in done if to == "0" or v > to]
        else:
            assert steps is not None
            if steps < 1:
                raise MigrationError("--steps must be at least 1")
            targets = done[:steps]
        files = {m.version: m for m in discover(source)}
        rolled = []
        for version in targets:
            migration = files.get(version)
            if migration is None:
                raise MigrationError(f"no file for applied migration {version}; cannot roll back")
            with conn.transaction():
                _run_file(conn, migration.down_path)
                conn.execute(
                    "delete from supabase_migrations.schema_migrations where version = %s",
                    (version,),
                )
            rolled.append(version)
        conn.execute("notify pgrst, 'reload schema'")
    return rolled


def declarative_fingerprint(conn: psycopg.Connection) -> str:
    """A digest of every policy, view and function definition in our schemas."""
    rows = conn.execute(
        """
        select 'policy', schemaname || '.' || tablename || '.' || policyname,
               concat_ws('|', permissive, roles::text, cmd, qual, with_check)
        from pg_catalog.pg_policies
        union all
        select 'view', schemaname || '.' || viewname, definition
        from pg_catalog.pg_views
        where schemaname not in ('pg_catalog', 'information_schema')
        union all
        select 'function', n.nspname || '.' || p.proname || '(' ||
               pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
               pg_catalog.pg_get_functiondef(p.oid)
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('public', 'private', 'admin') and p.prokind in ('f', 'p')
        order by 1, 2
        """
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def verify(conn: psycopg.Connection, source: Source = PROJECT_SOURCE) -> list[str]:
    """Problems found: changed applied files, pending migrations, sql/ drift. Empty means fine."""
    problems = [
        f"{s.version}_{s.name}: {s.state.replace('_', ' ')}"
        for s in status(conn, source)
        if s.state != "applied"
    ]
    before = declarative_fingerprint(conn)
    conn.execute("begin")
    try:
        for path in declarative_files():
            _run_file(conn, path)
        after = declarative_fingerprint(conn)
    finally:
        conn.execute("rollback")
    if before != after:
        problems.append("re-applying sql/ changes the database: run `voxflow db push`")
    return problems


def adopt(conn: psycopg.Connection) -> bool:
    """Record the v0 baseline as applied on a database whose v0 tables already exist."""
    existing = conn.execute(
        "select count(*) from pg_catalog.pg_tables "
        "where schemaname = 'public' and tablename = any(%s)",
        (list(BASELINE_TABLES),),
    ).fetchone()
    if not existing or existing[0] != len(BASELINE_TABLES):
        raise MigrationError(
            "this database has no v0 tables (public.agents, public.calls, public.settings); "
            "nothing to adopt — run `voxflow db push` to create the schema instead"
        )
    bootstrap(conn)
    _ensure_history(conn)
    if BASELINE_VERSION in applied(conn):
        return False
    baseline = next(m for m in discover() if m.version == BASELINE_VERSION)
    conn.execute(
        "insert into supabase_migrations.schema_migrations (version, statements, name) "
        "values (%s, %s, %s)",
        (baseline.version, [baseline.text], baseline.name),
    )
    return True


def seed(conn: psycopg.Connection, directory: Path = PROJECT_ROOT / "seed") -> list[Path]:
    """Load the idempotent data files in seed/, in one transaction."""
    files = sorted(directory.glob("*.sql"))
    with conn.transaction():
        for path in files:
            _run_file(conn, path)
    return files
