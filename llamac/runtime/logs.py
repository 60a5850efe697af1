"""structlog set-up: JSON log lines on stderr that never carry a secret.

Every event passes ``redact_secrets`` last before rendering: values under key-like names
(``api_key``, ``authorization``, ...) are masked, and any configured secret value (the provider key)
is cut out of every string, wherever it hides (a URL, an exception message, a header dump).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from llamac.runtime.settings import Settings

MASK = "***"
SECRET_KEY_NAMES = ("api_key", "apikey", "authorization", "password", "secret", "x-api-key")


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {k: (MASK if _is_secret_name(k) else _scrub(v, secrets)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, secrets) for v in value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return _scrub(str(value), secrets)


def _is_secret_name(name: Any) -> bool:
    lowered = str(name).lower()
    return any(part in lowered for part in SECRET_KEY_NAMES)


class RedactSecrets:
    """structlog processor masking secret-named fields and secret values anywhere in an event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s)

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
        return {k: (MASK if _is_secret_name(k) else _scrub(v, self.secrets)) for k, v in event.items()}


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Configure structlog once for the process (the CLI calls this first)."""
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    renderer: Any = structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            RedactSecrets(settings.secrets()),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
