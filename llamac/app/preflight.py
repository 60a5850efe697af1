"""Settings and services checked before a run starts, so a bad value costs a second, not a run.

Every problem is one line naming the environment variable to fix (``SettingsError``, exit 2), raised
before a run folder is made. Services get short connection timeouts: a closed port, a port that is not
PostgreSQL or a URL that is not a URL is refused at once instead of hanging a run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from llamac.runtime.settings import Settings

CONNECT_TIMEOUT_S = 3


class SettingsError(ValueError):
    """A setting the user has to correct (one line naming its environment variable)."""


def env_name(field: str) -> str:
    """The environment variable that sets a ``Settings`` field."""
    info = Settings.model_fields.get(field)
    alias = getattr(info, "validation_alias", None) if info is not None else None
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    return f"LLAMAC_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """``Settings()`` from the environment and ``.env``; a bad value is named by its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        value = first.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float) and field != "openai_api_key" else ""
        raise SettingsError(f"{env_name(field)}: {first['msg']}{shown}") from None


def _http_url(value: str, variable: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{variable}: not an http(s) URL: {value!r} (e.g. http://127.0.0.1:8080/v1)")
    return value


def check_local_url(url: str) -> None:
    import httpx

    _http_url(url, "LLAMAC_LOCAL_URL")
    try:
        response = httpx.get(url.rstrip("/") + "/models", timeout=CONNECT_TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise SettingsError(f"LLAMAC_LOCAL_URL: no model server answers at {url} ({type(exc).__name__}); start one "
                            "(python -m llamac.runtime.local_model serve) or unset it") from None


def check_redis(url: str) -> None:
    import redis
    from redis.exceptions import RedisError

    from llamac.runtime.budget import redact_url

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S)
    except ValueError as exc:
        raise SettingsError(f"REDIS_URL: not a Redis URL: {redact_url(url)!r} ({exc})") from None
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        raise SettingsError(f"REDIS_URL: no Redis answers at {redact_url(url)} ({type(exc).__name__}: {exc}); "
                            "start one (README: Services) or unset it") from None
    finally:
        client.close()


def check_postgres(url: str) -> None:
    from llamac.runtime.budget import redact_url

    if urlsplit(url).scheme not in ("postgresql", "postgres"):
        raise SettingsError(f"LLAMAC_CHECKPOINT_URL: not a PostgreSQL URL: {redact_url(url)!r} "
                            "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        first = " ".join(str(exc).split())[:200]
        raise SettingsError(f"LLAMAC_CHECKPOINT_URL: cannot use PostgreSQL at {redact_url(url)} ({first}); start it "
                            "or unset the variable (checkpoints then go to SQLite in the run folder)") from None


def check_services(settings: Settings, *, llm: bool) -> None:
    """Everything a run will talk to, checked now. ``llm``: the run makes LLM calls (provider, local
    model server, Redis for memory and budget); the checkpointer is checked for every run."""
    if settings.checkpoint_url:
        check_postgres(settings.checkpoint_url)
    if not llm:
        return
    if settings.openai_base_url:
        _http_url(settings.openai_base_url, "OPENAI_BASE_URL")
    if settings.resolved_provider() == "local" and settings.local_url:
        check_local_url(settings.local_url)
    if settings.redis_url:
        check_redis(settings.redis_url)
