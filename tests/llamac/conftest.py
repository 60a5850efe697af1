"""Fixtures of the runtime tests that talk HTTP to a real loopback server (``fake_endpoint``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.llamac.fake_endpoint import serve


@pytest.fixture
def endpoint_factory() -> Iterator[Callable[[Any], Any]]:
    """Starts loopback endpoints answering from ``replies``; every one is stopped after the test."""
    stops = []

    def start(replies: Any) -> Any:
        endpoint, stop = serve(replies)
        stops.append(stop)
        return endpoint

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def scripted_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The scripted loopback endpoint as the OpenAI-compatible provider of every LLM call (sweep tests)."""
    from tests.llamac.sweep_support import scripted_provider_env

    yield from scripted_provider_env(monkeypatch)
