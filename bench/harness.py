"""The bench's own stack: `voxflow up --detach --fake-providers` in its own state directory and
on its own ports (never the dev stack in .voxflow, never a test stack), stopped at the end."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxflow.config import PROJECT_ROOT

PORT_VARIABLES = (
    "VOXFLOW_API_PORT",
    "VOXFLOW_DB_PORT",
    "VOXFLOW_REST_PORT",
    "VOXFLOW_SIDECAR_PORT",
    "VOXFLOW_SMTP_PORT",
    "VOXFLOW_REST_ADMIN_PORT",
    "VOXFLOW_FAKES_PORT",
)
# Production-like settings for a 2-core machine with a few GB for Postgres; the large WAL
# allowance only keeps checkpoints out of the seeding. VOXFLOW_PG_SETTINGS adds to these.
PG_SETTINGS = (
    "shared_buffers=1GB,effective_cache_size=3GB,work_mem=16MB,maintenance_work_mem=512MB,"
    "max_wal_size=8GB,checkpoint_timeout=30min,random_page_cost=1.1"
)


def free_port_block(count: int, first: int = 24321, last: int = 25300) -> int:
    """The first of `count` consecutive free ports, below the test stacks' range (25321+)."""
    for base in range(first, last, 10):
        free = True
        for port in range(base, base + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    free = False
                    break
        if free:
            return base
    raise RuntimeError(f"no {count} free consecutive ports between {first} and {last}")


@dataclass
class BenchStack:
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def prepare(cls, state_dir: Path) -> BenchStack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXFLOW_", "SMTP_"))}
        extra = os.environ.get("VOXFLOW_PG_SETTINGS", "")
        env.update(
            VOXFLOW_ENV="development",
            VOXFLOW_STATE_DIR=str(state_dir),
            VOXFLOW_PG_SETTINGS=PG_SETTINGS + ("," + extra if extra else ""),
            VOXFLOW_SIDECAR_WORKERS=os.environ.get("VOXFLOW_SIDECAR_WORKERS", "2"),
        )
        stack = cls(state_dir, env)
        stack.stop()  # a stack left running by an interrupted run
        shutil.rmtree(state_dir, ignore_errors=True)
        state_dir.mkdir(parents=True)
        os.chmod(state_dir, 0o755)  # the postgres OS user must reach the cluster under it
        base = free_port_block(len(PORT_VARIABLES))
        stack.env.update({name: str(base + i) for i, name in enumerate(PORT_VARIABLES)})
        return stack

    def voxflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "voxflow.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            cwd=PROJECT_ROOT,
        )

    def start(self) -> dict[str, Any]:
        started = self.voxflow("up", "--detach", "--fake-providers")
        if started.returncode != 0:
            logs = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                for p in sorted((self.state_dir / "logs").glob("*.log"))
            )
            raise RuntimeError(f"the bench stack did not start: {started.stderr}\n{logs}")
        self.info = json.loads(started.stdout)
        running = json.loads((self.state_dir / "run" / "stack.json").read_text())
        self.info["pid"] = running["pid"]
        self.info["rest_url"] = f"http://127.0.0.1:{self.env['VOXFLOW_REST_PORT']}"
        return self.info

    @property
    def secrets(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads((self.state_dir / "secrets.json").read_text())
        return loaded

    def stop(self) -> None:
        if (self.state_dir / "run" / "stack.json").exists():
            self.voxflow("down")

    def remove(self) -> None:
        shutil.rmtree(self.state_dir, ignore_errors=True)
