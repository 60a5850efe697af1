"""The retry policy of every LLM call: tenacity, bounded, counted, honouring Retry-After.

Transient failures (connection errors, timeouts, HTTP 5xx, HTTP 429) are retried with exponential
backoff and full jitter; a 429 or 503 carrying ``Retry-After`` (seconds, an HTTP date, or OpenAI's
``retry-after-ms``) waits exactly that long instead, capped by ``max_wait_s``. A 429 that says the
account's quota is spent is not transient and is not retried. The openai client's own retries are
switched off (``max_retries=0``) so this is the only retry layer and every retry is counted.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import openai
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    stop_never,
    wait_random_exponential,
)
from tenacity.wait import wait_base

log = structlog.get_logger("llamac.runtime.retries")

TRANSIENT = (openai.APIConnectionError, openai.APITimeoutError, openai.RateLimitError, openai.InternalServerError,
             TimeoutError)
"""Worth another attempt: connection errors, timeouts, 429 and 5xx (a body that was not a chat completion
arrives as a 502: ``llamac.runtime.gateway.CompletionCheck``)."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.RateLimitError):
        body = exc.body if isinstance(exc.body, dict) else {}
        return body.get("code") != "insufficient_quota"
    if isinstance(exc, openai.APIStatusError) and not isinstance(exc, openai.RateLimitError | openai.InternalServerError):
        return exc.status_code in (408, 409) or exc.status_code >= 500  # 503/504 without a class of their own
    return isinstance(exc, TRANSIENT)


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait, if it said so."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if ms := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


class wait_retry_after(wait_base):  # noqa: N801 (tenacity's naming of wait strategies)
    """Wait what ``Retry-After`` says when present, else the fallback backoff; never above ``cap``."""

    def __init__(self, fallback: wait_base, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        asked = retry_after_s(exc)
        if asked is not None:
            return min(asked, self.cap)
        return min(self.fallback(retry_state), self.cap)


def retrying(
    max_retries: int,
    base_s: float,
    max_wait_s: float,
    on_retry: Callable[[RetryCallState], Any] | None = None,
    deadline_s: float | None = None,
) -> AsyncRetrying:
    """An ``AsyncRetrying`` for one call: ``max_retries`` retries after the first attempt, and none that
    would start after ``deadline_s`` (a silent endpoint cannot hold a call for retries x timeout)."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "llm_retry",
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=type(exc).__name__,
        )
        if on_retry is not None:
            on_retry(state)

    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(max_retries + 1) | (stop_after_delay(deadline_s) if deadline_s else stop_never),
        wait=wait_retry_after(wait_random_exponential(multiplier=base_s, max=max_wait_s), cap=max_wait_s),
        before_sleep=before_sleep,
        reraise=True,
    )
