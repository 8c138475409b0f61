"""Drive fakes running in another process (`python -m voxflow.fakes`) over their /__fake API."""

from __future__ import annotations

import time
from typing import Any

import requests

CONTROL_TIMEOUT = (2.0, 30.0)  # webhooks the fake sends can take a while to be answered


class FakeControlError(Exception):
    """The control API refused a request; the message is the fake's explanation."""


class FakeControl:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    @property
    def base_urls(self) -> dict[str, str]:
        return {provider: f"{self.url}/{provider}" for provider in ("groq", "deepgram", "twilio")}

    def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Poll /__fake/health until it answers; raise TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.url}/__fake/health", timeout=(0.5, 2.0)).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the fakes at {self.url} did not answer within {timeout} s")
            time.sleep(0.02)

    def requests(self, provider: str | None = None) -> list[dict[str, Any]]:
        params = {"provider": provider} if provider else None
        return list(self._call("GET", "/requests", params=params)["requests"])

    def reset(self) -> None:
        self._call("POST", "/reset")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Same settings as FakeProviders.configure; returns the whole config afterwards."""
        return self._call("POST", "/config", json=changes)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def calls(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/twilio/calls")["calls"])

    def answer_call(self, sid: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/twilio/calls/{sid}/answer", json={})["webhook"])

    def gather(self, sid: str, speech: str, confidence: float = 0.92) -> dict[str, Any]:
        body = {"speech": speech, "confidence": confidence}
        return dict(self._call("POST", f"/twilio/calls/{sid}/gather", json=body)["webhook"])

    def complete_call(
        self, sid: str, duration_seconds: int, status: str = "completed"
    ) -> dict[str, Any] | None:
        body = {"duration_seconds": duration_seconds, "status": status}
        webhook = self._call("POST", f"/twilio/calls/{sid}/complete", json=body)["webhook"]
        return None if webhook is None else dict(webhook)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = requests.request(
            method, f"{self.url}/__fake{path}", timeout=CONTROL_TIMEOUT, **kwargs
        )
        body = response.json()
        if not response.ok:
            raise FakeControlError(f"{method} /__fake{path}: {body.get('error', response.text)}")
        if not isinstance(body, dict):
            raise FakeControlError(f"{method} /__fake{path}: expected a JSON object")
        return body
