"""`python -m voxflow.fakes` as its own process: starts, serves, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

from voxflow.fakes import FakeControl
from voxflow.providers import groq


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_module_serves_until_sigterm_and_prints_no_secret() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "voxflow.fakes", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        control = FakeControl(f"http://127.0.0.1:{port}")
        control.wait_until_ready(timeout=10)
        key = "gsk_subprocess_secret"
        result = groq.chat(
            key,
            control.base_urls["groq"],
            "llama-3.1-8b-instant",
            [{"role": "user", "content": "Are you there?"}],
            0.0,
            32,
            5.0,
        )
        assert result.text == "You said: Are you there?"
        assert [r["api_key"] for r in control.requests("groq")] == [key]

        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr
    assert json.loads(stdout) == {
        "url": f"http://127.0.0.1:{port}",
        "base_urls": control.base_urls,
    }
    assert key not in stdout + stderr
    assert stderr == ""


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "voxflow.fakes", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=10,
        )
    assert finished.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in finished.stderr
