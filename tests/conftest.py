"""The real stack, started once per test session on its own ports and state directory."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from voxflow.fakes.control import FakeControl

ROOT = Path(__file__).resolve().parents[1]
VOXFLOW = [sys.executable, "-m", "voxflow.cli"]
PORT_VARIABLES = (
    "VOXFLOW_API_PORT",
    "VOXFLOW_DB_PORT",
    "VOXFLOW_REST_PORT",
    "VOXFLOW_SIDECAR_PORT",
    "VOXFLOW_SMTP_PORT",
    "VOXFLOW_REST_ADMIN_PORT",
    "VOXFLOW_FAKES_PORT",
)


@dataclass(frozen=True)
class StackInfo:
    env: dict[str, str]
    api_url: str
    db_url: str
    anon_key: str
    service_role_key: str
    mail_dir: Path
    state_dir: Path
    fakes_url: str
    rate_limit_store: str  # a Redis URL, or "postgres"

    def voxflow(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Run the CLI against this stack."""
        return subprocess.run(
            [*VOXFLOW, *args], env=env or self.env, capture_output=True, text=True, check=check
        )

    def connect(self, **kw: object) -> psycopg.Connection:
        return psycopg.connect(self.db_url, autocommit=True, **kw)


def _free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports, so the test stack never meets `make run`."""
    # Below the kernel's ephemeral range (32768+), so outgoing connections cannot take them.
    for base in range(25321, 32000, 10):
        ok = True
        for port in range(base, base + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free block of ports for the test stack")


@pytest.fixture(scope="session")
def stack() -> Iterator[StackInfo]:
    # Under /tmp so the postgres OS user can reach the cluster's directory.
    state_dir = Path(tempfile.mkdtemp(prefix="voxflow-test-", dir="/tmp"))
    os.chmod(state_dir, 0o755)
    base = _free_port_block(len(PORT_VARIABLES))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXFLOW_", "SMTP_"))}
    if "VOXFLOW_WEB_DIST" in os.environ:  # a web build of one's own (web/dist by default)
        env["VOXFLOW_WEB_DIST"] = os.environ["VOXFLOW_WEB_DIST"]
    env.update({name: str(base + i) for i, name in enumerate(PORT_VARIABLES)})
    env.update(
        VOXFLOW_ENV="test",
        VOXFLOW_STATE_DIR=str(state_dir),
        VOXFLOW_PG_SETTINGS="fsync=off,synchronous_commit=off,full_page_writes=off",
        # Provider timeouts are exercised against the fakes; plan rates are changed by tests.
        VOXFLOW_PROVIDER_TIMEOUT="2",
        VOXFLOW_PLAN_CACHE_SECONDS="0",
    )
    started = subprocess.run(
        [*VOXFLOW, "up", "--detach", "--fake-providers"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode != 0:
        logs = "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted((state_dir / "logs").glob("*.log"))
        )
        # Whatever did start must not outlive the run.
        subprocess.run([*VOXFLOW, "down"], env=env, capture_output=True, check=False)
        pytest.exit(f"the test stack did not start: {started.stderr}\n{logs}", returncode=3)
    info = json.loads(started.stdout)
    try:
        yield StackInfo(
            env=env,
            api_url=info["api_url"],
            db_url=info["db_url"],
            anon_key=info["anon_key"],
            service_role_key=info["service_role_key"],
            mail_dir=Path(info["mail_dir"]),
            state_dir=state_dir,
            fakes_url=info["fake_providers_url"],
            rate_limit_store=info["rate_limit_store"],
        )
    finally:
        subprocess.run([*VOXFLOW, "down"], env=env, capture_output=True, check=False)
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def db(stack: StackInfo) -> Iterator[psycopg.Connection]:
    """A superuser connection to the stack's database, for arranging and inspecting state."""
    with stack.connect() as conn:
        yield conn


@pytest.fixture
def fakes(stack: StackInfo) -> Iterator[FakeControl]:
    """The stack's fake providers, reset around each test that uses them."""
    control = FakeControl(stack.fakes_url)
    control.reset()
    yield control
    control.reset()
