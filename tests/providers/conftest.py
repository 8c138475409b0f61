"""The fake providers, started once in this process on a free port, reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from voxflow.fakes import FakeProviders


@pytest.fixture(scope="session")
def fakes() -> Iterator[FakeProviders]:
    with FakeProviders.start(port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_fakes(fakes: FakeProviders) -> Iterator[None]:
    fakes.reset()
    yield
    fakes.reset()  # also releases any request a test left held by latency
