"""`voxflow up/down/status`: ports, secrets and production safety."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import PORT_VARIABLES, VOXFLOW, StackInfo
from voxflow import stack as stack_module
from voxflow.config import write_private


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*VOXFLOW, *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def test_status_json_describes_the_running_stack(stack: StackInfo) -> None:
    result = run(stack.env, "status", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert {"api_url", "db_url", "anon_key", "service_role_key", "mail_dir"} <= info.keys()
    assert info["running"] is True
    assert info["api_url"] == stack.api_url
    assert info["db_url"].startswith("postgresql://postgres:")


def test_dev_secrets_are_private_and_reused(stack: StackInfo) -> None:
    path = stack.state_dir / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    assert run(stack.env, "status", "--json").returncode == 0
    assert path.read_text() == before


def test_a_taken_port_stops_start_up_with_one_clear_line(stack: StackInfo) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as state, socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        env = {**stack.env, "VOXFLOW_STATE_DIR": state, "VOXFLOW_API_PORT": str(taken)}
        # Every other port points at a free block so only the taken one is at fault.
        for i, name in enumerate(v for v in PORT_VARIABLES if v != "VOXFLOW_API_PORT"):
            env[name] = str(int(stack.env["VOXFLOW_DB_PORT"]) + 100 + i)
        result = run(env, "up")
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines == [
            f"voxflow: port {taken} is already in use; set VOXFLOW_API_PORT to use another"
        ]
        assert not (Path(state) / "pg").exists(), "nothing was started"
        assert not (Path(state) / "run" / "stack.json").exists()


def test_production_without_secrets_refuses_to_start(stack: StackInfo) -> None:
    env = {k: v for k, v in stack.env.items() if k != "VOXFLOW_ENV"}
    env["VOXFLOW_ENV"] = "production"
    result = run(env, "status", "--json")
    assert result.returncode == 1
    assert "VOXFLOW_JWT_SECRET" in result.stderr and "VOXFLOW_MASTER_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_down_without_a_stack_says_so(stack: StackInfo) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as state:
        result = run({**stack.env, "VOXFLOW_STATE_DIR": state}, "down")
        assert result.returncode == 0
        assert result.stdout.strip() == "not running"
        assert os.listdir(state) == ["secrets.json"]


def _rewrite(path: Path, times: int) -> None:
    for i in range(times):
        write_private(path, json.dumps({"pid": i, "padding": "x" * 4096}))


def test_a_poller_never_sees_a_state_file_half_written(tmp_path: Path) -> None:
    """`up --detach` polls the state file while the supervisor writes it: a half-written file
    made the poller crash while the stack went on running."""
    path = tmp_path / "stack.json"
    write_private(path, json.dumps({"pid": 0}))
    writer = multiprocessing.get_context("spawn").Process(target=_rewrite, args=(path, 3000))
    writer.start()
    reads = 0
    while writer.is_alive() or reads == 0:
        json.loads(path.read_text())  # raises on an empty or truncated file
        reads += 1
    writer.join()
    assert writer.exitcode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["stack.json"], "no temporary files left"


def health(conn: http.client.HTTPConnection) -> int:
    """GET the sidecar's health on a kept-alive connection."""
    conn.request("GET", "/auth/v1/health")
    response = conn.getresponse()
    response.read()
    assert not response.will_close
    return response.status


def test_nginx_drops_an_idle_upstream_connection_before_the_upstream_does(
    stack: StackInfo,
) -> None:
    # An upstream that closes a pooled connection as nginx sends a request on it makes a 502
    # (seen under load at gunicorn's 2 s default): the sidecar must outlast nginx's idle time.
    conf = (stack.state_dir / "run" / "nginx" / "nginx.conf").read_text()
    idle = {int(s) for s in re.findall(r"keepalive_timeout (\d+)s;", conf)}
    assert idle == {stack_module.UPSTREAM_IDLE_S}
    assert stack_module.UPSTREAM_IDLE_S < min(
        stack_module.SIDECAR_IDLE_S, stack_module.POSTGREST_IDLE_S
    )

    sidecar = http.client.HTTPConnection("127.0.0.1", int(stack.env["VOXFLOW_SIDECAR_PORT"]))
    try:
        assert health(sidecar) == 200
        kept = sidecar.sock
        time.sleep(3)  # past gunicorn's default keep-alive (2 s), far below nginx's 20 s
        assert health(sidecar) == 200  # RemoteDisconnected if the sidecar had closed it
        assert sidecar.sock is kept
    finally:
        sidecar.close()
