"""Settings, read from the environment in one place.

Development and test stacks generate their secrets once into the state directory (mode 600) and
reuse them; production refuses to start without them. No secret has a default in code.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


# Each port has a variable so two stacks (say, `make run` and `make test`) can run side by side.
PORT_DEFAULTS: dict[str, int] = {
    "VOXFLOW_API_PORT": 54321,  # nginx gateway: the one URL clients use
    "VOXFLOW_DB_PORT": 54322,  # embedded Postgres
    "VOXFLOW_REST_PORT": 54323,  # PostgREST, behind the gateway
    "VOXFLOW_SIDECAR_PORT": 54324,  # Flask sidecar, behind the gateway
    "VOXFLOW_SMTP_PORT": 54325,  # local mail catcher
    "VOXFLOW_REST_ADMIN_PORT": 54326,  # PostgREST's health endpoint
    "VOXFLOW_FAKES_PORT": 54327,  # fake providers (`voxflow up --fake-providers`)
}


def _port(name: str) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return PORT_DEFAULTS[name]
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name}={raw!r} is not a TCP port; set it to a number from 1 to 65535")
    return int(raw)


@dataclass(frozen=True)
class Ports:
    api: int
    db: int
    rest: int
    sidecar: int
    smtp: int
    rest_admin: int
    fakes: int

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            api=_port("VOXFLOW_API_PORT"),
            db=_port("VOXFLOW_DB_PORT"),
            rest=_port("VOXFLOW_REST_PORT"),
            sidecar=_port("VOXFLOW_SIDECAR_PORT"),
            smtp=_port("VOXFLOW_SMTP_PORT"),
            rest_admin=_port("VOXFLOW_REST_ADMIN_PORT"),
            fakes=_port("VOXFLOW_FAKES_PORT"),
        )

    def named(self) -> dict[str, int]:
        """Port number by the variable that sets it, for error messages."""
        return {
            "VOXFLOW_API_PORT": self.api,
            "VOXFLOW_DB_PORT": self.db,
            "VOXFLOW_REST_PORT": self.rest,
            "VOXFLOW_SIDECAR_PORT": self.sidecar,
            "VOXFLOW_SMTP_PORT": self.smtp,
            "VOXFLOW_REST_ADMIN_PORT": self.rest_admin,
            "VOXFLOW_FAKES_PORT": self.fakes,
        }


@dataclass(frozen=True)
class Secrets:
    jwt_secret: str
    master_key: bytes  # 32 bytes, AES-256
    master_key_version: int
    db_password: str  # the embedded cluster's superuser
    authenticator_password: str
    sidecar_password: str
    extra_master_keys: dict[int, bytes] = field(default_factory=dict)

    def master_keys(self) -> dict[int, bytes]:
        """Every key version the sidecar can decrypt with, the current one included."""
        return {**self.extra_master_keys, self.master_key_version: self.master_key}


def decode_master_key(raw: str, name: str = "VOXFLOW_MASTER_KEY") -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise ConfigError(f"{name} must be base64 (try: openssl rand -base64 32)") from exc
    if len(key) != 32:
        raise ConfigError(f"{name} must decode to 32 bytes for AES-256, got {len(key)}")
    return key


def _new_secrets() -> dict[str, str]:
    return {
        "jwt_secret": secrets.token_hex(32),
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "db_password": secrets.token_urlsafe(24),
        "authenticator_password": secrets.token_urlsafe(24),
        "sidecar_password": secrets.token_urlsafe(24),
    }


def _load_or_create_dev_secrets(state_dir: Path) -> dict[str, str]:
    path = state_dir / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        missing = {k: v for k, v in _new_secrets().items() if k not in stored}
        if not missing:
            return stored
        stored.update(missing)
    else:
        stored = _new_secrets()
    write_private(path, json.dumps(stored, indent=2))
    return stored


def write_private(path: Path, text: str) -> Path:
    """Write a file only its owner can read, atomically: other processes poll these files (the
    stack's state, the secrets), and a reader must never see one half written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def _extra_master_keys() -> dict[int, bytes]:
    """Older key versions kept readable during rotation: VOXFLOW_MASTER_KEY_V<n>."""
    keys = {}
    for name, value in os.environ.items():
        if name.startswith("VOXFLOW_MASTER_KEY_V") and name[20:].isdigit():
            keys[int(name[20:])] = decode_master_key(value, name)
    return keys


@dataclass(frozen=True)
class ProviderSettings:
    """Where the providers live (fake local servers in tests and demos) and how long to wait."""

    groq_base_url: str
    deepgram_base_url: str
    twilio_base_url: str
    timeout_seconds: float

    @classmethod
    def from_env(cls) -> ProviderSettings:
        raw_timeout = os.environ.get("VOXFLOW_PROVIDER_TIMEOUT", "15")
        try:
            timeout = float(raw_timeout)
        except ValueError as exc:
            raise ConfigError("VOXFLOW_PROVIDER_TIMEOUT must be a number of seconds") from exc
        return cls(
            groq_base_url=os.environ.get("VOXFLOW_GROQ_BASE_URL") or "https://api.groq.com",
            deepgram_base_url=os.environ.get("VOXFLOW_DEEPGRAM_BASE_URL")
            or "https://api.deepgram.com",
            twilio_base_url=os.environ.get("VOXFLOW_TWILIO_BASE_URL") or "https://api.twilio.com",
            timeout_seconds=timeout,
        )


@dataclass(frozen=True)
class Settings:
    env: str
    state_dir: Path
    ports: Ports
    secrets: Secrets
    external_db_url: str | None  # VOXFLOW_DB_URL: use this database, start no cluster
    site_url: str
    redirect_allow_list: tuple[str, ...]
    smtp_url: str
    mail_from: str
    redis_url: str | None
    admin_email: str | None
    admin_password: str | None
    providers: ProviderSettings

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def api_url(self) -> str:
        return os.environ.get("VOXFLOW_API_URL") or f"http://127.0.0.1:{self.ports.api}"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def db_url(self) -> str:
        """The owner/superuser connection a DBA would use."""
        if self.external_db_url:
            return self.external_db_url
        return (
            f"postgresql://postgres:{self.secrets.db_password}@127.0.0.1:{self.ports.db}/postgres"
        )

    def role_url(self, role: str, password: str) -> str:
        """A connection for one of our login roles, on the same server as db_url."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        params = conninfo_to_dict(self.db_url)
        params.update(user=role, password=password)
        return make_conninfo("", **{k: v for k, v in params.items() if v is not None})

    @property
    def authenticator_url(self) -> str:
        return os.environ.get("VOXFLOW_AUTHENTICATOR_DB_URL") or self.role_url(
            "authenticator", self.secrets.authenticator_password
        )

    @property
    def sidecar_db_url(self) -> str:
        return os.environ.get("VOXFLOW_SIDECAR_DB_URL") or self.role_url(
            "voxflow_sidecar", self.secrets.sidecar_password
        )


def load_settings() -> Settings:
    env = os.environ.get("VOXFLOW_ENV", "development")
    if env not in ("development", "test", "production"):
        raise ConfigError(f"VOXFLOW_ENV={env!r}: use development, test or production")
    state_dir = Path(os.environ.get("VOXFLOW_STATE_DIR") or PROJECT_ROOT / ".voxflow").resolve()
    ports = Ports.from_env()

    if env == "production":
        missing = [
            name
            for name in (
                "VOXFLOW_JWT_SECRET",
                "VOXFLOW_MASTER_KEY",
                "VOXFLOW_DB_URL",
                "VOXFLOW_AUTHENTICATOR_PASSWORD",
                "VOXFLOW_SIDECAR_PASSWORD",
            )
            if not os.environ.get(name)
        ]
        if missing:
            raise ConfigError(
                "VOXFLOW_ENV=production needs "
                + ", ".join(missing)
                + " in the environment (see .env.example); nothing falls back to a default"
            )
        stored: dict[str, str] = {}
    else:
        stored = _load_or_create_dev_secrets(state_dir)

    def pick(env_name: str, key: str) -> str:
        return os.environ.get(env_name) or stored[key]

    jwt_secret = pick("VOXFLOW_JWT_SECRET", "jwt_secret")
    if len(jwt_secret) < 32:
        raise ConfigError("VOXFLOW_JWT_SECRET must be at least 32 characters")
    version_raw = os.environ.get("VOXFLOW_MASTER_KEY_VERSION", "1")
    if not version_raw.isdigit():
        raise ConfigError("VOXFLOW_MASTER_KEY_VERSION must be a positive integer")

    site_url = os.environ.get("VOXFLOW_SITE_URL") or f"http://127.0.0.1:{ports.api}"
    allow = os.environ.get("VOXFLOW_REDIRECT_ALLOW_LIST", "")
    return Settings(
        env=env,
        state_dir=state_dir,
        ports=ports,
        secrets=Secrets(
            jwt_secret=jwt_secret,
            master_key=decode_master_key(pick("VOXFLOW_MASTER_KEY", "master_key")),
            master_key_version=int(version_raw),
            db_password=stored.get("db_password", ""),
            authenticator_password=pick("VOXFLOW_AUTHENTICATOR_PASSWORD", "authenticator_password"),
            sidecar_password=pick("VOXFLOW_SIDECAR_PASSWORD", "sidecar_password"),
            extra_master_keys=_extra_master_keys(),
        ),
        external_db_url=os.environ.get("VOXFLOW_DB_URL") or None,
        site_url=site_url,
        redirect_allow_list=tuple(u.strip() for u in allow.split(",") if u.strip())
        + (site_url,)
        # In development the web app is opened as localhost as often as 127.0.0.1.
        + (() if env == "production" else (site_url.replace("://127.0.0.1:", "://localhost:"),)),
        smtp_url=os.environ.get("SMTP_URL") or f"smtp://127.0.0.1:{ports.smtp}",
        mail_from=os.environ.get("VOXFLOW_MAIL_FROM", "VoxFlow <no-reply@voxflow.local>"),
        redis_url=os.environ.get("VOXFLOW_REDIS_URL") or None,
        admin_email=os.environ.get("VOXFLOW_ADMIN_EMAIL") or None,
        admin_password=os.environ.get("VOXFLOW_ADMIN_PASSWORD") or None,
        providers=ProviderSettings.from_env(),
    )
