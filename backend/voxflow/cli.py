"""The `voxflow` command: run the stack, migrate the database, administer the platform."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import psycopg
from psycopg.rows import dict_row

from voxflow import accounts, crypto, keys, legacy, migrate, prices, stack
from voxflow.config import ConfigError, Settings, load_settings
from voxflow.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn our known failures into a one-line message and exit status 1, not a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, stack.StackError, migrate.MigrationError) as exc:
            click.echo(f"voxflow: {exc}", err=True)
            sys.exit(1)
        except ApiError as exc:
            click.echo(f"voxflow: {exc.message}", err=True)
            sys.exit(1)
        except psycopg.Error as exc:
            if exc.sqlstate is None:  # no server answer: the connection itself failed
                click.echo(f"voxflow: cannot reach the database ({type(exc).__name__}); is the "
                           "stack running (`voxflow up --detach`) or VOXFLOW_DB_URL right?",
                           err=True)  # fmt: skip
            else:
                message = exc.diag.message_primary or type(exc).__name__
                click.echo(f"voxflow: the database refused: {message}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    return load_settings()


@click.group()
def main() -> None:
    """VoxFlow: a multi-tenant platform for voice AI agents."""


# --- the stack ----------------------------------------------------------------------------------


def print_banner(s: Settings, fake_providers: bool = False) -> None:
    info = stack.describe(s, fake_providers)
    admin_email, admin_password = stack.admin_login(s)
    click.echo(
        "\nVoxFlow is running.\n"
        f"  web app           {info['api_url']}/  (sign up, or sign in as the admin below)\n"
        f"  API URL           {info['api_url']}  (/rest/v1, /auth/v1, /functions/v1)\n"
        f"  anon key          {info['anon_key']}\n"
        f"  service_role key  {info['service_role_key']}\n"
        f"  database          {info['db_url']}\n"
        f"  admin login       {admin_email} / {admin_password}\n"
        f"  captured mail     {info['mail_dir']}\n"
        + (f"  fake providers    {info['fake_providers_url']}\n" if fake_providers else "")
        + "Press Ctrl-C to stop.\n",
    )


@main.command()
@click.option("--detach", is_flag=True, help="Start in the background and return when ready.")
@click.option(
    "--fake-providers", is_flag=True, help="Start local fake Groq/Deepgram/Twilio and use them."
)
@friendly
def up(detach: bool, fake_providers: bool) -> None:
    """Start the whole platform (Postgres, PostgREST, sidecar, mail catcher, nginx)."""
    s = settings()
    if detach:
        stack.start_detached(s, fake_providers)
        click.echo(json.dumps(stack.running_info(s), indent=2))
        return
    sys.exit(stack.run_foreground(s, lambda: print_banner(s, fake_providers), fake_providers))


@main.command()
@friendly
def down() -> None:
    """Stop a stack started with `voxflow up --detach`."""
    stopped = stack.stop_detached(settings())
    click.echo("stopped" if stopped else "not running")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@friendly
def status(as_json: bool) -> None:
    """Where the running stack is and how to reach it."""
    s = settings()
    running = stack.running_pid(s) is not None
    info: dict[str, Any] = {
        **(stack.running_info(s) if running else stack.describe(s)),
        "running": running,
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key:18}{value}")


# --- the database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Migrations, rollbacks, verification, seeding and backups."""


@db.command("push")
@click.option("--to", "target", help="Stop after this version (sql/ is applied only at the head).")
@friendly
def db_push(target: str | None) -> None:
    """Apply pending migrations, then re-apply sql/ (policies, views)."""
    with migrate.connect(settings().db_url) as conn:
        ran = migrate.push(conn, target=target)
    for m in ran:
        click.echo(f"applied {m.version}_{m.name}")
    click.echo(f"{len(ran)} migration(s) applied; sql/ re-applied")


@db.command("rollback")
@click.option("--steps", type=int, help="Roll back this many migrations.")
@click.option("--to", "to", help="Roll back to this version (kept applied); 0 for everything.")
@click.option(
    "--yes",
    is_flag=True,
    help="Back to v0 after `db upgrade-legacy`: accept that the provider keys are written to "
    "public.settings in plaintext and the accounts are dropped.",
)
@click.option(
    "--force", is_flag=True, help="Back to v0 even though other users' data would be lost."
)
@friendly
def db_rollback(steps: int | None, to: str | None, yes: bool, force: bool) -> None:
    """Undo applied migrations, newest first, with their down files."""
    s = settings()
    with migrate.connect(s.db_url) as conn:
        if legacy.returns_to_v0(conn, steps=steps, to=to):
            rolled, restored = legacy.return_to_v0(
                conn, s.secrets.master_keys(), steps=steps, to=to, yes=yes, force=force,
                warn=lambda message: click.echo(f"warning: {message}", err=True),
            )  # fmt: skip
        else:
            rolled, restored = migrate.rollback(conn, steps=steps, to=to), []
    for version in rolled:
        click.echo(f"rolled back {version}")
    for line in restored:
        click.echo(line)
    click.echo(f"{len(rolled)} migration(s) rolled back")


@db.command("status")
@friendly
def db_status() -> None:
    """Each migration: applied, pending, changed (file edited after applying) or missing_file."""
    with migrate.connect(settings().db_url) as conn:
        for state in migrate.status(conn):
            click.echo(f"{state.version}  {state.state:12}  {state.name}")


@db.command("verify")
@friendly
def db_verify() -> None:
    """Check applied files against their recorded text and that sql/ is fully applied."""
    with migrate.connect(settings().db_url) as conn:
        problems = migrate.verify(conn)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("ok: every applied migration matches its file and sql/ is up to date")


@db.command("reset")
@friendly
def db_reset() -> None:
    """Development only: roll everything back and push again (all data is lost)."""
    s = settings()
    if s.production:
        raise ConfigError("`voxflow db reset` refuses to run with VOXFLOW_ENV=production")
    with migrate.connect(s.db_url) as conn:
        migrate.rollback(conn, to="0")
        conn.execute("delete from auth.users")
        migrate.push(conn)
    click.echo("database reset")


@db.command("adopt")
@friendly
def db_adopt() -> None:
    """Record the v0 baseline as applied on an existing single-admin VoxFlow database."""
    with migrate.connect(settings().db_url) as conn:
        adopted = migrate.adopt(conn)
    click.echo("baseline recorded as applied" if adopted else "baseline was already recorded")


@db.command("upgrade-legacy")
@click.option("--admin-email", required=True, help="The account that will own the v0 data.")
@click.option(
    "--admin-password",
    help="Password of a new admin account (default: VOXFLOW_ADMIN_PASSWORD); an existing "
    "account keeps its own.",
)
@click.option(
    "--agent-limit",
    type=int,
    help="The admin's agent limit (default: migrated agents + the largest plan's limit).",
)
@click.option("--dry-run", is_flag=True, help="Do everything, print the report, roll back.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@friendly
def db_upgrade_legacy(
    admin_email: str,
    admin_password: str | None,
    agent_limit: int | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Upgrade a single-admin v0 database to multi-tenant in one verified transaction."""
    s = settings()
    with migrate.connect(s.db_url) as conn:
        try:
            report = legacy.upgrade(
                conn,
                admin_email=admin_email,
                admin_password=admin_password or s.admin_password,
                master_key=s.secrets.master_key,
                key_version=s.secrets.master_key_version,
                master_keys=s.secrets.master_keys(),
                agent_limit=agent_limit,
                dry_run=dry_run,
            )
        except legacy.UpgradeError as exc:
            if exc.report is not None:  # a mismatch: show where
                click.echo(exc.report.render(), err=True)
            raise migrate.MigrationError(f"upgrade-legacy: {exc}") from exc
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else report.render())


@db.command("verify-upgrade")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@friendly
def db_verify_upgrade(as_json: bool) -> None:
    """Print the report `db upgrade-legacy` stored, and how the v0 tables compare now."""
    with migrate.connect(settings().db_url) as conn:
        report = legacy.load_report(conn)
        if report is None:
            raise migrate.MigrationError(
                "no upgrade report in this database: it was not upgraded from v0 with "
                "`voxflow db upgrade-legacy`"
            )
        since = legacy.changes_since(conn, report)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(report.render())
        click.echo("  now:")
        for line in since:
            click.echo(f"    {line}")
    if not report.ok:
        sys.exit(1)


@db.command("seed")
@friendly
def db_seed() -> None:
    """Load the idempotent data files in seed/."""
    with migrate.connect(settings().db_url) as conn:
        files = migrate.seed(conn)
    click.echo(f"loaded {len(files)} seed file(s)")


# --- administration -----------------------------------------------------------------------------


@main.group()
def admin() -> None:
    """Platform administration."""


@admin.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="Used only when the account is new.")
@friendly
def admin_create(email: str, password: str) -> None:
    """Create a confirmed admin (or make an existing account an admin)."""
    with psycopg.connect(settings().db_url, row_factory=dict_row) as conn:
        user_id, created = accounts.ensure_admin(conn, email, password)
    click.echo(f"{'created' if created else 'promoted'} admin {email} ({user_id})")


@db.command("backup")
@click.option("--output", type=click.Path(dir_okay=False), help="Where to write the dump.")
@friendly
def db_backup(output: str | None) -> None:
    """A pg_dump custom-format backup (provider keys stay encrypted in it)."""
    s = settings()
    if output is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = s.state_dir / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        output = str(folder / f"voxflow-{stamp}.dump")
    result = subprocess.run(
        [str(stack.PG_BIN / "pg_dump"), "--format=custom", "--file", output, s.db_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise stack.StackError("pg_dump failed: " + result.stderr.strip().splitlines()[-1])
    os.chmod(output, 0o600)
    click.echo(f"backup written to {output}")


# --- provider keys ------------------------------------------------------------------------------


@main.group("keys")
def keys_group() -> None:
    """Users' encrypted provider keys."""


@keys_group.command("rotate")
@friendly
def keys_rotate() -> None:
    """Re-encrypt every key under VOXFLOW_MASTER_KEY (version VOXFLOW_MASTER_KEY_VERSION).
    Older versions must stay readable meanwhile: VOXFLOW_MASTER_KEY_V<old version>."""
    s = settings()
    with psycopg.connect(s.db_url, autocommit=True, row_factory=dict_row) as conn:
        try:
            count = keys.rotate(conn, s)
        except crypto.DecryptionError as exc:
            raise ConfigError(str(exc)) from exc
    click.echo(
        f"re-encrypted {count} key(s) under master key version {s.secrets.master_key_version}"
    )


# --- billing and prices -------------------------------------------------------------------------


@main.group()
def billing() -> None:
    """Billing periods (calendar months, UTC)."""


@billing.command("close")
@friendly
def billing_close() -> None:
    """Close every ended month: immutable summaries, events archived. Safe to repeat; pg_cron
    runs the same function monthly where it is installed."""
    with migrate.connect(settings().db_url) as conn:
        row = conn.execute("select private.run_billing_close()").fetchone()
    closed = (row[0] if row else {}).get("closed", [])
    for result in closed:
        click.echo(json.dumps(result))
    click.echo(f"{len([r for r in closed if r.get('closed')])} period(s) closed")


@main.group("prices")
def prices_group() -> None:
    """The provider price book."""


@prices_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly
def prices_import(file: Path) -> None:
    """Load prices: a JSON list of {provider, model, unit, usd_per_unit}, or LiteLLM's
    model_prices_and_context_window.json. Changed prices start now; the change is audited."""
    with psycopg.connect(settings().db_url, autocommit=True) as conn:
        try:
            result = prices.load(conn, file)
        except prices.PriceFileError as exc:
            raise ConfigError(f"{file.name}: {exc}") from exc
    click.echo(f"read {result.read} price(s) from {file.name}, {result.changed} changed")


# --- the admin surface: audit chain and anomaly alerts ------------------------------------------


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
@friendly
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first bad entry."""
    from voxflow import auditchain

    with psycopg.connect(settings().db_url) as conn:
        report = auditchain.verify(conn)
    if not report.ok:
        click.echo(f"voxflow: {report.render()}", err=True)
        sys.exit(1)
    click.echo(report.render())


@main.group("anomalies")
def anomalies_group() -> None:
    """Anomaly alerts (also run by the worker every minute, and by pg_cron where installed)."""


@anomalies_group.command("detect")
@click.option("--at", "at", help="Check the windows around this ISO time instead of now.")
@friendly
def anomalies_detect(at: str | None) -> None:
    """Fold pending usage, check every rule, print each alert raised (JSON lines)."""
    try:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError as exc:
        raise click.BadParameter(f"{at!r} is not an ISO time", param_hint="--at") from exc
    with psycopg.connect(settings().db_url, autocommit=True, row_factory=dict_row) as conn:
        rows = conn.execute("select * from private.detect_anomalies(%s)", (when,)).fetchall()
    for row in rows:
        click.echo(json.dumps(row, default=str))
    click.echo(f"{len(rows)} alert(s) raised")


if __name__ == "__main__":
    main()
