"""Upgrade a single-admin VoxFlow v0 database to multi-tenant, verified, and return it to v0.

The upgrade is one transaction. The migrator's per-migration transactions nest in it as
savepoints, so any failure (a migration, the admin account, a key that does not seal, a checksum
that does not match) leaves the database exactly as v0 left it. Before anything changes, every
v0 row is checksummed over its v0 columns; afterwards the same checksums are taken again and the
moved provider keys are decrypted and compared with the plaintext they replaced. The report is
stored in the database (`private.platform_settings`, key `legacy_upgrade_report`) so that
`voxflow db verify-upgrade` can print it and `voxflow db rollback` can restore v0 exactly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from voxflow import accounts, crypto, migrate
from voxflow.db import Conn
from voxflow.errors import ApiError, from_database
from voxflow.integrity import TableDigest, table_digest

ACCOUNTS_VERSION = "20261102000000"
TENANCY_VERSION = "20261103000000"
REPORT_KEY = "legacy_upgrade_report"

# The v0 column sets, as the baseline migration creates them: what "every value kept" means.
V0_COLUMNS: dict[str, list[str]] = {
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

# v0 kept provider credentials as plaintext settings: setting key -> (provider, field).
SECRET_SETTINGS: dict[str, tuple[str, str]] = {
    "GROQ_API_KEY": ("groq", "api_key"),
    "DEEPGRAM_API_KEY": ("deepgram", "api_key"),
    "TWILIO_ACCOUNT_SID": ("twilio", "account_sid"),
    "TWILIO_AUTH_TOKEN": ("twilio", "auth_token"),
    "TWILIO_PHONE_NUMBER": ("twilio", "phone_number"),
}
SETTING_OF_FIELD = {pf: key for key, pf in SECRET_SETTINGS.items()}
PROVIDERS = ("groq", "deepgram", "twilio")
MAIN_FIELD = {"groq": "api_key", "deepgram": "api_key", "twilio": "auth_token"}  # the hint's

# The tenancy migration adds these checks NOT VALID, but its own UPDATE of every agent (to set
# the owner) checks each row again, so one v0 row breaking a rule would stop the upgrade with a
# bare constraint name. They are checked first, to name the rows instead.
AGENT_RULES = (
    ("name", "char_length(name) between 1 and 100", "must be 1 to 100 characters"),
    ("temperature", "temperature between 0 and 2", "must be between 0 and 2"),
    ("max_tokens", "max_tokens between 1 and 8192", "must be between 1 and 8192"),
    ("phone_number", r"phone_number ~ '^\+[1-9][0-9]{6,14}$'", "must be E.164 (+14155550123)"),
    ("config", "jsonb_typeof(config) = 'object'", "must be a JSON object"),
)

# What v0 clients were granted (Supabase grants the API roles access to new public tables), and
# whether RLS was on: the tenancy migration and its rollback change both, the rollback restores.
V0_RELATIONS = (
    "public.agents",
    "public.calls",
    "public.settings",
    "public.agents_id_seq",
    "public.calls_id_seq",
)
_PRIVILEGES = frozenset(
    "SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES TRIGGER USAGE CREATE EXECUTE MAINTAIN".split()
)


class UpgradeError(migrate.MigrationError):
    """The upgrade failed and was rolled back; the message says which step and why."""

    def __init__(self, message: str, report: UpgradeReport | None = None) -> None:
        super().__init__(message)
        self.report = report


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows_before: int
    rows_after: int
    checksum_before: str
    checksum_after: str
    compared: str  # which rows and columns the checksums cover
    match: bool


@dataclass(frozen=True)
class MovedKey:
    provider: str
    hint: str
    key_version: int
    settings: list[str]  # the v0 setting keys it replaced
    decrypts: bool  # decrypted back to exactly the plaintext it replaced
    nonce: str  # hex; a later rollback knows the key is unchanged since the upgrade
    updated_at: dict[str, str]  # the settings' own timestamps, restored by a rollback


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@dataclass
class UpgradeReport:
    started_at: str
    seconds: float
    dry_run: bool
    admin_email: str
    admin_id: str
    admin_created: bool
    adopted: bool
    migrations: list[str]
    migrated_agents: int
    agent_limit: int
    tables: list[TableCheck]
    keys: list[MovedKey]
    kept_settings: list[str]
    checks: list[Check]
    # Before the upgrade: [rows, checksum] of each v0 table (every v0 column), and v0's grants
    # and RLS switches: what a return to v0 must give back.
    v0_snapshot: dict[str, list[Any]] = field(default_factory=dict)
    v0_privileges: list[list[Any]] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = [f"{t.table} differs ({t.compared})" for t in self.tables if not t.match]
        found += [f"{k.provider} key does not decrypt to the original" for k in self.keys
                  if not k.decrypts]  # fmt: skip
        found += [c.detail for c in self.checks if not c.ok]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UpgradeReport:
        data = dict(data)
        data["tables"] = [TableCheck(**t) for t in data["tables"]]
        data["keys"] = [MovedKey(**k) for k in data["keys"]]
        data["checks"] = [Check(**c) for c in data["checks"]]
        return cls(**data)

    def render(self) -> str:
        if self.dry_run:
            outcome = "DRY RUN: rolled back, nothing was changed"
        else:
            outcome = "upgraded" if self.ok else "FAILED: rolled back, the database is still v0"
        lines = [
            f"VoxFlow v0 upgrade report ({outcome})",
            f"  started {self.started_at[:19].replace('T', ' ')} UTC, took {self.seconds:.2f} s",
            f"  admin {self.admin_email} ({self.admin_id}), "
            f"{'created' if self.admin_created else 'existing account'}, confirmed, role admin",
            f"  agent limit {self.agent_limit} for {self.migrated_agents} migrated agent(s)",
            f"  migrations applied: {', '.join(self.migrations) or 'none'}"
            + (" (v0 baseline adopted first)" if self.adopted else ""),
            "",
            f"  {'table':10} {'rows before':>11} {'rows after':>10}  checksum",
        ]
        for t in self.tables:
            verdict = "match" if t.match else "MISMATCH"
            lines.append(
                f"  {t.table:10} {t.rows_before:>11} {t.rows_after:>10}  {verdict} "
                f"{t.checksum_after[:12]} ({t.compared})"
            )
        lines.append("")
        if self.keys:
            lines.append("  provider keys moved to encrypted storage (hints only):")
            for k in self.keys:
                verdict = "decrypts to the original" if k.decrypts else "DOES NOT DECRYPT"
                lines.append(
                    f"    {k.provider:9} {k.hint:8} {verdict}, key version {k.key_version}, "
                    f"from {', '.join(k.settings)}"
                )
        else:
            lines.append("  provider keys moved: none (no provider settings in v0)")
        kept = ", ".join(self.kept_settings[:8]) or "none"
        if len(self.kept_settings) > 8:
            kept += f" and {len(self.kept_settings) - 8} more"
        lines.append(f"  non-secret settings kept ({len(self.kept_settings)}): {kept}")
        lines.append("  checks:")
        lines += [f"    {'ok  ' if c.ok else 'FAIL'} {c.detail}" for c in self.checks]
        lines.append(f"  result: {'OK' if self.ok else 'MISMATCH'}")
        return "\n".join(lines)


# --- snapshots ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretSetting:
    value: str
    updated_at: datetime


@dataclass(frozen=True)
class Snapshot:
    digests: dict[str, TableDigest]  # every v0 column of every v0 row
    kept: TableDigest  # the settings rows that are not provider secrets
    kept_keys: list[str]
    secrets: dict[str, SecretSetting]  # setting key -> plaintext, held in memory only
    routes: dict[str, int]  # phone number -> agent id
    privileges: list[list[Any]]


def v0_digests(conn: psycopg.Connection[Any]) -> dict[str, TableDigest]:
    return {t: table_digest(conn, "public", t, V0_COLUMNS[t]) for t in V0_COLUMNS}


def _kept_settings_digest(conn: psycopg.Connection[Any]) -> TableDigest:
    """table_digest's checksum over the settings that are not provider secrets."""
    row = conn.execute(
        "select count(*), coalesce(md5(string_agg(md5(row(s.key, s.value, s.updated_at)::text), "
        "'' order by s.key)), '') from public.settings as s where s.key <> all(%s)",
        (list(SECRET_SETTINGS),),
    ).fetchone()
    assert row is not None
    return TableDigest("settings", int(row[0]), str(row[1]))


def _privileges(conn: psycopg.Connection[Any]) -> list[list[Any]]:
    """[kind, object, grantee, privilege, grantable] for schema public (its grants and default
    privileges) and the v0 relations (grants, RLS), the owners' own privileges left out."""
    rows = conn.execute(
        """
        select case c.relkind when 'S' then 'sequence' else 'table' end, c.oid::regclass::text,
               coalesce(r.rolname, 'public'),
               a.privilege_type, a.is_grantable
        from pg_catalog.pg_class as c
        cross join lateral aclexplode(coalesce(
            c.relacl,
            acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner)
        )) as a
        left join pg_catalog.pg_roles as r on r.oid = a.grantee
        where c.oid = any(%s::regclass[]) and a.grantee <> c.relowner
        union all
        select 'schema', n.nspname, coalesce(r.rolname, 'public'), a.privilege_type, a.is_grantable
        from pg_catalog.pg_namespace as n
        cross join lateral aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) as a
        left join pg_catalog.pg_roles as r on r.oid = a.grantee
        where n.nspname = 'public' and a.grantee <> n.nspowner
        union all
        select 'default', r.rolname || '/' || case d.defaclobjtype
                when 'r' then 'tables' when 'S' then 'sequences' when 'f' then 'functions'
                when 'T' then 'types' else 'schemas' end,
            coalesce(g.rolname, 'public'), a.privilege_type, a.is_grantable
        from pg_catalog.pg_default_acl as d
        join pg_catalog.pg_roles as r on r.oid = d.defaclrole
        cross join lateral aclexplode(d.defaclacl) as a
        left join pg_catalog.pg_roles as g on g.oid = a.grantee
        where d.defaclnamespace = 'public'::regnamespace
        union all
        select 'rls', c.oid::regclass::text, '', case
            when c.relforcerowsecurity then 'FORCE' when c.relrowsecurity then 'ENABLE'
            else 'DISABLE' end, false
        from pg_catalog.pg_class as c
        where c.oid = any(%s::regclass[]) and c.relkind = 'r'
        order by 1, 2, 3, 4
        """,
        (list(V0_RELATIONS), list(V0_RELATIONS)),
    ).fetchall()
    return [list(r) for r in rows]


def take_snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    rows = conn.execute(
        "select key, value, updated_at from public.settings where key = any(%s)",
        (list(SECRET_SETTINGS),),
    ).fetchall()
    kept = conn.execute(
        "select key from public.settings where key <> all(%s) order by key",
        (list(SECRET_SETTINGS),),
    ).fetchall()
    return Snapshot(
        digests=v0_digests(conn),
        kept=_kept_settings_digest(conn),
        kept_keys=[k for (k,) in kept],
        secrets={k: SecretSetting(v, u) for k, v, u in rows},
        routes=_routes(conn),
        privileges=_privileges(conn),
    )


def _fields(snapshot: Snapshot, provider: str) -> dict[str, str]:
    """The provider's v0 settings present in this database: setting key -> field."""
    return {
        key: f for key, (p, f) in SECRET_SETTINGS.items()
        if p == provider and key in snapshot.secrets
    }  # fmt: skip


def _routes(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute(
        "select phone_number, id from public.agents where phone_number is not null"
    ).fetchall()
    return {phone: int(agent_id) for phone, agent_id in rows}


# --- the upgrade --------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error):
        api = from_database(exc)
        if api is not None:
            return api.message
        return exc.diag.message_primary or str(exc)
    if isinstance(exc, ApiError):
        return exc.message
    return str(exc)


@contextmanager
def _step(what: str) -> Iterator[None]:
    """Name the step in the one-line error a failure becomes."""
    try:
        yield
    except UpgradeError:
        raise
    except (
        migrate.MigrationError, ApiError, psycopg.Error, crypto.DecryptionError, ValueError
    ) as exc:  # fmt: skip
        raise UpgradeError(f"{what} failed: {_describe(exc)}") from exc


@contextmanager
def _dict_rows(conn: psycopg.Connection[Any]) -> Iterator[Conn]:
    """The same connection (and transaction) with dict rows, as the accounts module expects."""
    previous = conn.row_factory
    conn.row_factory = dict_row
    try:
        yield cast(Conn, conn)
    finally:
        conn.row_factory = previous


def _v0_tables_present(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "select count(*) from pg_catalog.pg_tables "
        "where schemaname = 'public' and tablename = any(%s)",
        (list(migrate.BASELINE_TABLES),),
    ).fetchone()
    return bool(row and row[0] == len(migrate.BASELINE_TABLES))


def load_report(conn: psycopg.Connection[Any]) -> UpgradeReport | None:
    exists = conn.execute("select to_regclass('private.platform_settings') is not null")
    if not (exists.fetchone() or (False,))[0]:
        return None
    row = conn.execute(
        "select value::jsonb from private.platform_settings where key = %s", (REPORT_KEY,)
    ).fetchone()
    return UpgradeReport.from_json(row[0]) if row else None


def _prepare(conn: psycopg.Connection[Any], agent_limit: int | None) -> bool:
    """Refuse what is not a v0 database, adopt it if needed, hold off writers, check the rows.
    Returns whether the baseline was adopted."""
    if not _v0_tables_present(conn):
        raise UpgradeError(
            "this database has no v0 tables (public.agents, public.calls, public.settings); "
            "nothing to upgrade"
        )
    done = migrate.applied(conn)
    if TENANCY_VERSION in done:
        report = load_report(conn)
        raise UpgradeError(
            f"this database was already upgraded from v0 on {report.started_at[:10]}; "
            "see `voxflow db verify-upgrade`"
            if report
            else f"this database is already multi-tenant ({TENANCY_VERSION} is applied); "
            "there is nothing to upgrade"
        )
    adopted = False
    if migrate.BASELINE_VERSION not in done:
        with _step("adopting the v0 baseline"):
            adopted = migrate.adopt(conn)
    # v0 clients keep reading; their writes wait for the commit, so the snapshot stays true.
    conn.execute("lock table public.agents, public.calls, public.settings in exclusive mode")
    broken = []
    for column, rule, meaning in AGENT_RULES:
        query = sql.SQL(
            "select id, left({column}::text, 40) from public.agents where not ({rule}) order by id"
        ).format(column=sql.Identifier(column), rule=sql.SQL(rule))
        broken += [f"agent {i} {column} {v!r} {meaning}" for i, v in conn.execute(query)]
    if broken:
        shown = "; ".join(broken[:5]) + (f"; and {len(broken) - 5} more" if len(broken) > 5 else "")
        raise UpgradeError(
            f"{len(broken)} v0 agent value(s) break rules the multi-tenant schema enforces on "
            f"every changed row; correct them first: {shown}"
        )
    if agent_limit is not None:
        count = conn.execute("select count(*) from public.agents").fetchone()
        if count and agent_limit < count[0]:
            raise UpgradeError(
                f"--agent-limit {agent_limit} is below the {count[0]} agents being migrated"
            )
    return adopted


def _ensure_admin(
    conn: psycopg.Connection[Any], email: str, password: str | None
) -> tuple[str, bool]:
    with _dict_rows(conn) as dconn:
        address = accounts.normalize_email(email)
        existing = accounts.find_by_email(dconn, address)
        if not password and existing is None:
            raise ValueError(
                f"{address} is a new account: give its password with --admin-password "
                "(or VOXFLOW_ADMIN_PASSWORD)"
            )
        return accounts.ensure_admin(dconn, address, password or "")


def _move_secrets(
    conn: psycopg.Connection[Any],
    snapshot: Snapshot,
    admin_id: str,
    master_key: bytes,
    key_version: int,
) -> None:
    for provider in PROVIDERS:
        found = _fields(snapshot, provider)
        if not found:
            continue
        secret = {f: snapshot.secrets[key].value for key, f in found.items()}
        main = secret.get(MAIN_FIELD[provider], next(iter(secret.values())))
        sealed = crypto.seal(master_key, key_version, admin_id, provider, secret)
        conn.execute(
            "insert into private.provider_keys "
            "(user_id, provider, ciphertext, nonce, key_version, hint) "
            "values (%s, %s, %s, %s, %s, %s)",
            (admin_id, provider, sealed.ciphertext, sealed.nonce, key_version, crypto.hint(main)),
        )
        conn.execute(
            "select private.audit('legacy.provider_key_moved', 'provider_key', %s, null, %s, "
            "%s::uuid)",
            (
                provider,
                Jsonb({"hint": crypto.hint(main), "key_version": key_version,
                       "from_settings": list(found)}),
                admin_id,
            ),
        )  # fmt: skip
    conn.execute("delete from public.settings where key = any(%s)", (list(snapshot.secrets),))


def _raise_agent_limit(
    conn: psycopg.Connection[Any], admin_id: str, requested: int | None
) -> tuple[int, int]:
    """The admin keeps every migrated agent active, with room for v0 clients to add more:
    v0 had no limit. Returns (limit, migrated agents)."""
    row = conn.execute(
        "select (select count(*) from public.agents where user_id = %s), "
        "(select max(agent_limit) from public.plans), "
        "(select agent_limit_override from public.profiles where id = %s)",
        (admin_id, admin_id),
    ).fetchone()
    assert row is not None
    migrated, largest_plan, override = int(row[0]), int(row[1] or 0), row[2]
    wanted = requested if requested is not None else migrated + largest_plan
    limit = max(wanted, migrated, override or 0)
    conn.execute(
        "update public.profiles set agent_limit_override = %s where id = %s", (limit, admin_id)
    )
    return limit, migrated


def _check(ok: bool, passed: str, failed: str) -> Check:
    return Check(ok, passed if ok else failed)


def _verify(
    conn: psycopg.Connection[Any],
    snapshot: Snapshot,
    admin_id: str,
    master_keys: dict[int, bytes],
) -> tuple[list[TableCheck], list[MovedKey], list[Check]]:
    tables = []
    for table in ("agents", "calls"):
        before, after = snapshot.digests[table], table_digest(conn, "public", table,
                                                              V0_COLUMNS[table])  # fmt: skip
        same = (before.rows, before.checksum) == (after.rows, after.checksum)
        tables.append(
            TableCheck(table, before.rows, after.rows, before.checksum, after.checksum,
                       "every v0 column of every row", same)
        )  # fmt: skip

    keys = []
    stored = conn.execute(
        "select provider, ciphertext, nonce, key_version, hint from private.provider_keys "
        "where user_id = %s order by provider",
        (admin_id,),
    ).fetchall()
    for provider, ciphertext, nonce, key_version, hint in stored:
        found = _fields(snapshot, provider)
        expected = {f: snapshot.secrets[k].value for k, f in found.items()}
        try:
            actual = crypto.unseal(master_keys, key_version, admin_id, provider, ciphertext, nonce)
        except crypto.DecryptionError:
            actual = None
        keys.append(
            MovedKey(
                provider=provider,
                hint=hint,
                key_version=key_version,
                settings=list(found),
                decrypts=actual == expected,
                nonce=bytes(nonce).hex(),
                updated_at={k: snapshot.secrets[k].updated_at.isoformat() for k in found},
            )
        )

    kept_after = _kept_settings_digest(conn)
    moved = len(snapshot.secrets)
    tables.append(
        TableCheck(
            "settings",
            snapshot.digests["settings"].rows,
            kept_after.rows,
            snapshot.kept.checksum,
            kept_after.checksum,
            f"the {kept_after.rows} non-secret rows; {moved} secret rows moved to keys",
            snapshot.kept == kept_after and all(k.decrypts for k in keys),
        )
    )

    owned = conn.execute(
        "select (select count(*) from public.agents where user_id is distinct from %s), "
        "(select count(*) from public.calls where user_id is distinct from %s), "
        "(select count(*) from public.agents where status <> 'active'), "
        "(select count(*) from public.settings where key = any(%s)), "
        "(select value from private.platform_settings where key = 'legacy_owner'), "
        "(select agent_limit from private.effective_limits(%s)), "
        "(select agent_count from public.profiles where id = %s)",
        (admin_id, admin_id, list(SECRET_SETTINGS), admin_id, admin_id),
    ).fetchone()
    assert owned is not None
    foreign_agents, foreign_calls, suspended, plaintext, legacy_owner, limit, count = owned
    limit, count = limit or 0, count or 0  # no profile: reported as a failed check
    agents, calls = tables[0].rows_after, tables[1].rows_after
    routes = _routes(conn)
    owners_ok = foreign_agents == 0 and foreign_calls == 0
    limit_ok = suspended == 0 and limit >= count == agents
    checks = [
        _check(
            owners_ok,
            f"every agent ({agents}) and call ({calls}) is owned by the admin",
            f"{foreign_agents} agent(s) and {foreign_calls} call(s) are not the admin's",
        ),
        _check(
            routes == snapshot.routes,
            f"{len(routes)} phone number(s) route to the same agents as before",
            "phone numbers no longer route to the same agents",
        ),
        _check(
            limit_ok,
            f"agent limit {limit} covers the admin's {count} agents; none suspended",
            f"{suspended} agent(s) suspended, limit {limit} for {count} agents",
        ),
        _check(
            plaintext == 0,
            "no provider secret is left in plaintext in public.settings",
            f"{plaintext} provider secret(s) still in plaintext in public.settings",
        ),
        _check(
            legacy_owner == admin_id,
            "v0 clients' new rows go to the admin (private.platform_settings legacy_owner)",
            "private.platform_settings legacy_owner is not the admin",
        ),
    ]
    return tables, keys, checks


def upgrade(
    conn: psycopg.Connection[Any],
    *,
    admin_email: str,
    admin_password: str | None,
    master_key: bytes,
    key_version: int,
    master_keys: dict[int, bytes],
    agent_limit: int | None = None,
    dry_run: bool = False,
) -> UpgradeReport:
    """Upgrade a v0 database in one transaction (rolled back when `dry_run`); raises
    UpgradeError, with the database unchanged, on any failure or mismatch."""
    clock = time.monotonic()
    started = datetime.now(UTC).isoformat()  # also tells a rollback which accounts are new
    snapshot: Snapshot | None = None
    try:
        with conn.transaction() as tx:
            adopted = _prepare(conn, agent_limit)
            with _step("reading the v0 data"):
                snapshot = take_snapshot(conn)
            before = set(migrate.applied(conn))
            with _step("applying the accounts migration"):
                migrate.push(conn, target=ACCOUNTS_VERSION)
            with _step("creating the admin account"):
                admin_id, created = _ensure_admin(conn, admin_email, admin_password)
            with _step("applying the multi-tenant migrations"):
                # Transaction-local: the tenancy migration gives the v0 rows to this account.
                conn.execute("select set_config('voxflow.legacy_owner', %s, true)", (admin_id,))
                migrate.push(conn)
            with _step("moving the provider keys"):
                _move_secrets(conn, snapshot, admin_id, master_key, key_version)
            with _step("raising the admin's agent limit"):
                limit, migrated = _raise_agent_limit(conn, admin_id, agent_limit)
            with _step("verifying"):
                tables, keys, checks = _verify(conn, snapshot, admin_id, master_keys)
            report = UpgradeReport(
                started_at=started,
                seconds=round(time.monotonic() - clock, 3),
                dry_run=dry_run,
                admin_email=admin_email.strip().lower(),
                admin_id=admin_id,
                admin_created=created,
                adopted=adopted,
                migrations=sorted(set(migrate.applied(conn)) - before),
                migrated_agents=migrated,
                agent_limit=limit,
                tables=tables,
                keys=keys,
                kept_settings=snapshot.kept_keys,
                checks=checks,
                v0_snapshot={t: [d.rows, d.checksum] for t, d in snapshot.digests.items()},
                v0_privileges=snapshot.privileges,
            )
            if not report.ok:
                raise UpgradeError(
                    "verification failed: " + "; ".join(report.problems), report=report
                )
            with _step("storing the report"):
                conn.execute(
                    "insert into private.platform_settings (key, value) values (%s, %s) "
                    "on conflict (key) do update set value = excluded.value, updated_at = now()",
                    (REPORT_KEY, json.dumps(report.to_json())),
                )
                conn.execute(
                    "select private.audit('legacy.upgraded', 'user', %s, null, %s, %s::uuid)",
                    (
                        admin_id,
                        Jsonb({"agents": tables[0].rows_after, "calls": tables[1].rows_after,
                               "keys": [k.provider for k in keys], "agent_limit": limit}),
                        admin_id,
                    ),
                )  # fmt: skip
            if dry_run:
                raise psycopg.Rollback(tx)
    except UpgradeError as exc:
        raise UpgradeError(f"{exc}; {_after_rollback(conn, snapshot)}", exc.report) from exc
    return report


def _after_rollback(conn: psycopg.Connection[Any], snapshot: Snapshot | None) -> str:
    """Prove the rollback: the v0 checksums are the snapshot's again."""
    if snapshot is None:
        return "nothing was changed"
    now = v0_digests(conn)
    if now == snapshot.digests:
        return "rolled back: agents, calls and settings match their pre-upgrade checksums"
    differ = ", ".join(t for t in now if now[t] != snapshot.digests[t])
    return f"rolled back, but {differ} differ from the pre-upgrade checksums (written meanwhile?)"


# --- back to v0 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoredSetting:
    key: str
    value: str  # plaintext: never printed
    updated_at: datetime


@dataclass(frozen=True)
class ReturnToV0:
    owner_id: str
    settings: list[RestoredSetting]
    overwritten: list[str]  # plaintext rows written since the upgrade that the stored keys replace
    losses: list[str]  # other tenants' data (and anything else) the rollback cannot keep
    report: UpgradeReport | None


def return_to_v0(
    conn: psycopg.Connection[Any],
    master_keys: dict[int, bytes],
    *,
    steps: int | None,
    to: str | None,
    yes: bool,
    force: bool,
    warn: Callable[[str], None],
) -> tuple[list[str], list[str]]:
    """Roll back an upgraded v0 database to v0 in one transaction: the legacy owner's keys
    back to plaintext settings, the down files, then v0's grants and the new accounts gone.
    Returns (versions rolled back, what was restored)."""
    with conn.transaction():
        plan = plan_return_to_v0(conn, master_keys)
        if plan.losses and not force:
            raise migrate.MigrationError(
                "refusing to return to v0, which would lose other users' data: "
                + "; ".join(plan.losses)
                + " (add --force to roll back anyway)"
            )
        warn(
            f"returning to v0 writes {len(plan.settings)} provider credential(s) back to "
            "public.settings in plaintext and deletes the accounts made since the upgrade"
        )
        if not yes:
            raise migrate.MigrationError(
                "not rolled back: run again with --yes to accept writing the provider keys "
                "in plaintext"
            )
        restore_plaintext(conn, plan)
        rolled = migrate.rollback(conn, steps=steps, to=to)
        dropped = 0
        if ACCOUNTS_VERSION not in migrate.applied(conn) and plan.report is not None:
            # All the way back to the baseline: v0's grants, and no accounts v0 never had.
            restore_v0_privileges(conn, plan.report)
            dropped = drop_new_accounts(conn, plan.report)
    notes = [f"restored {x.key} to public.settings" for x in plan.settings]
    notes += [f"replaced the plaintext {k} written since the upgrade" for k in plan.overwritten]
    notes += [f"deleted {dropped} account(s) made since the upgrade"] if dropped else []
    return rolled, notes + compare_with_snapshot(conn, plan.report)


def returns_to_v0(conn: psycopg.Connection[Any], *, steps: int | None, to: str | None) -> bool:
    """Whether this rollback undoes the tenancy migration of a database upgraded from v0 while
    keeping the v0 tables, so the moved keys must go back to public.settings first."""
    done = sorted(migrate.applied(conn), reverse=True)
    if to is not None:
        targets = [v for v in done if to == "0" or v > to] if to == "0" or to in done else []
    else:
        targets = done[:steps] if steps and steps > 0 else []
    if TENANCY_VERSION not in targets or migrate.BASELINE_VERSION in targets:
        return False
    if not _exists(conn, "private.platform_settings"):
        return False
    row = conn.execute(
        "select exists (select from private.platform_settings where key = 'legacy_owner')"
    ).fetchone()
    return bool(row and row[0])


def _exists(conn: psycopg.Connection[Any], relation: str) -> bool:
    row = conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
    return bool(row and row[0])


def plan_return_to_v0(conn: psycopg.Connection[Any], master_keys: dict[int, bytes]) -> ReturnToV0:
    owner_row = conn.execute(
        "select value from private.platform_settings where key = 'legacy_owner'"
    ).fetchone()
    assert owner_row is not None
    owner = str(owner_row[0])
    report = load_report(conn)
    moved = {k.provider: k for k in report.keys} if report else {}
    settings, losses = [], []
    rows = conn.execute(
        "select provider, ciphertext, nonce, key_version, updated_at from private.provider_keys "
        "where user_id = %s order by provider",
        (owner,),
    ).fetchall()
    for provider, ciphertext, nonce, key_version, updated_at in rows:
        try:
            secret = crypto.unseal(master_keys, key_version, owner, provider, ciphertext, nonce)
        except crypto.DecryptionError as exc:
            raise migrate.MigrationError(
                f"cannot decrypt the legacy owner's {provider} key ({exc}); nothing was rolled back"
            ) from exc
        original = moved.get(provider)
        unchanged = original is not None and original.nonce == bytes(nonce).hex()
        for name, value in sorted(secret.items()):
            key = SETTING_OF_FIELD.get((provider, name))
            if key is None:
                losses.append(f"the {provider} key's {name!r} (no v0 setting holds it)")
                continue
            when = (
                datetime.fromisoformat(original.updated_at[key])
                if unchanged and original is not None and key in original.updated_at
                else updated_at
            )
            settings.append(RestoredSetting(key, str(value), when))
    existing = conn.execute(
        "select key from public.settings where key = any(%s) order by key",
        ([s.key for s in settings],),
    ).fetchall()
    return ReturnToV0(
        owner_id=owner,
        settings=settings,
        overwritten=[k for (k,) in existing],
        losses=losses + _other_tenants_data(conn, owner, report),
        report=report,
    )


def _other_tenants_data(
    conn: psycopg.Connection[Any], owner: str, report: UpgradeReport | None
) -> list[str]:
    """Accounts besides the legacy owner (those made since the upgrade, when it is known),
    and rows of other users in any table with a user_id."""
    found = []
    users = conn.execute(
        "select count(*), (array_agg(coalesce(email, id::text) order by created_at, id))[1:3] "
        "from auth.users where id <> %s and coalesce(created_at, 'infinity') >= %s",
        (owner, report.started_at if report else "-infinity"),
    ).fetchone()
    if users and users[0]:
        more = ", …" if users[0] > 3 else ""
        found.append(f"{users[0]} other user account(s) ({', '.join(users[1])}{more})")
    tables = conn.execute(
        "select table_schema, table_name from information_schema.columns "
        "where column_name = 'user_id' and data_type = 'uuid' "
        "and table_schema in ('public', 'private') "
        "and (table_schema, table_name) in (select table_schema, table_name "
        "from information_schema.tables where table_type = 'BASE TABLE') "
        "order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        query = sql.SQL("select count(*) from {} where user_id <> %s").format(
            sql.Identifier(schema, table)
        )
        count = conn.execute(query, (owner,)).fetchone()
        if count and count[0]:
            found.append(f"{count[0]} row(s) of other users in {schema}.{table}")
    return found


def restore_plaintext(conn: psycopg.Connection[Any], plan: ReturnToV0) -> None:
    """Write the legacy owner's keys back to public.settings as v0 kept them."""
    for s in plan.settings:
        conn.execute(
            "insert into public.settings (key, value, updated_at) values (%s, %s, %s) "
            "on conflict (key) do update set value = excluded.value, "
            "updated_at = excluded.updated_at",
            (s.key, s.value, s.updated_at),
        )


def drop_new_accounts(conn: psycopg.Connection[Any], report: UpgradeReport) -> int:
    """Once the accounts schema is rolled back too: the accounts made since the upgrade (its
    admin included, if it made it), which v0 never had and which would otherwise outlive
    their profiles. Older auth.users rows (say, a Supabase project's) are left alone."""
    deleted = conn.execute(
        "delete from auth.users where coalesce(created_at, 'infinity') >= %s",
        (report.started_at,),
    )
    return deleted.rowcount


def restore_v0_privileges(conn: psycopg.Connection[Any], report: UpgradeReport) -> int:
    """After the down files: v0's grants, default privileges and RLS switches as they were
    before the upgrade. Returns how many it changed."""
    if not report.v0_privileges:
        return 0
    wanted = {tuple(p) for p in report.v0_privileges}
    now = {tuple(p) for p in _privileges(conn)}
    changes = [(False, p) for p in sorted(now - wanted) if p[0] != "rls"]
    changes += [(True, p) for p in sorted(wanted - now)]
    for grant, (kind, obj, grantee, privilege, grantable) in changes:
        if kind == "rls":
            target = sql.Identifier(*obj.split(".", 1))
            enable = "disable" if privilege == "DISABLE" else "enable"
            force = "force" if privilege == "FORCE" else "no force"
            for switch in (enable, force):
                query = sql.SQL("alter table {} {} row level security")
                conn.execute(query.format(target, sql.SQL(switch)))
            continue
        if privilege not in _PRIVILEGES:
            raise migrate.MigrationError(f"unexpected privilege {privilege!r} on {obj}")
        role: sql.Composable = sql.SQL("public") if grantee == "public" else sql.Identifier(grantee)
        prefix: sql.Composable
        on: sql.Composable
        if kind == "default":  # obj is "<role>/<tables|sequences|functions|types|schemas>"
            owner, objects = obj.split("/", 1)
            prefix = sql.SQL("alter default privileges for role {} in schema public ").format(
                sql.Identifier(owner)
            )
            on = sql.SQL(objects)
        else:
            prefix = sql.SQL("")
            on = sql.SQL(kind + " ") + sql.Identifier(*obj.split(".", 1))
        statement = (
            sql.SQL("grant {} on {} to {}" + (" with grant option" if grantable else ""))
            if grant
            else sql.SQL("revoke {} on {} from {}")
        )
        conn.execute(prefix + statement.format(sql.SQL(privilege), on, role))
    return len(changes)


def compare_with_snapshot(conn: psycopg.Connection[Any], report: UpgradeReport | None) -> list[str]:
    """After a return to v0: each v0 table against its checksum from before the upgrade."""
    if report is None or not report.v0_snapshot:
        return []
    lines = []
    for table, digest in v0_digests(conn).items():
        rows, checksum = report.v0_snapshot[table]
        if (digest.rows, digest.checksum) == (rows, checksum):
            lines.append(f"{table}: {digest.rows} rows, identical to before the upgrade")
        else:
            lines.append(
                f"{table}: {digest.rows} rows ({rows} before the upgrade), changed since the "
                "upgrade (rows written or edited meanwhile)"
            )
    return lines


def changes_since(conn: psycopg.Connection[Any], report: UpgradeReport) -> list[str]:
    """Each v0 table now against its checksum right after the upgrade."""
    now = {t: table_digest(conn, "public", t, V0_COLUMNS[t]) for t in ("agents", "calls")}
    now["settings"] = _kept_settings_digest(conn)
    lines = []
    for check in report.tables:
        digest = now[check.table]
        if (digest.rows, digest.checksum) == (check.rows_after, check.checksum_after):
            lines.append(f"{check.table}: unchanged since the upgrade")
        else:
            lines.append(
                f"{check.table}: {digest.rows} rows ({check.rows_after} right after the "
                "upgrade), written since"
            )
    return lines
