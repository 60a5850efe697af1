"""The memory store: short-term records and the long-term window of past steps, one namespace per run.

Short-term memory holds the few records a step needs again (current state, last plan, last
feedback) under string keys. Long-term memory is the run's list of ``StepMemory`` values, of which a
prompt sees the newest ones that fit a token window. Two backends keep the same contract (one test
suite runs against both): in process, and plain Redis 7 (one hash for short-term, one list for the
steps; no modules) so agents in several processes can share a run. Values are stored as JSON.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from llamac.runtime.settings import Settings
from llamac.runtime.stops import RedisUnavailable
from llamac.runtime.tokens import estimate_tokens
from tasks.coordinator import StepMemory

TokenCounter = Callable[[StepMemory], int]


def step_to_json(step: StepMemory) -> str:
    return json.dumps(
        {
            "t": step.t,
            "state_text": step.state_text,
            "plan": dict(step.plan),
            "rewards": dict(step.rewards),
            "feedback": list(step.feedback),
        },
        sort_keys=True,
    )


def step_from_json(text: str | bytes) -> StepMemory:
    data = json.loads(text)
    return StepMemory(
        t=int(data["t"]),
        state_text=data["state_text"],
        plan=dict(data["plan"]),
        rewards={k: float(v) for k, v in data["rewards"].items()},
        feedback=tuple(data["feedback"]),
    )


def estimate_step_tokens(step: StepMemory) -> int:
    """The step's JSON form, counted with the one estimate (``llamac.runtime.tokens``)."""
    return estimate_tokens(step_to_json(step))


def select_window(newest_first: list[StepMemory], token_window: int, count_tokens: TokenCounter) -> list[StepMemory]:
    """The newest steps whose token counts sum to at most ``token_window``, newest first.

    Stops at the first step that does not fit, so the window is always a contiguous recent run.
    """
    chosen: list[StepMemory] = []
    used = 0
    for step in newest_first:
        cost = count_tokens(step)
        if used + cost > token_window:
            break
        chosen.append(step)
        used += cost
    return chosen


@runtime_checkable
class MemoryStore(Protocol):
    """What graphs and the CLI use; ``run_id`` is the namespace."""

    run_id: str

    async def set_short(self, key: str, value: Any) -> None: ...

    async def get_short(self, key: str, default: Any = None) -> Any: ...

    async def append_step(self, step: StepMemory) -> None: ...

    async def recent_steps(
        self, token_window: int, count_tokens: TokenCounter = estimate_step_tokens
    ) -> list[StepMemory]: ...

    async def all_steps(self) -> list[StepMemory]: ...

    async def clear(self) -> None: ...

    async def aclose(self) -> None: ...


class InProcessMemory:
    """Memory for one process; values round-trip through JSON so both backends behave alike."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._short: dict[str, str] = {}
        self._steps: list[str] = []
        self._lock = asyncio.Lock()

    async def set_short(self, key: str, value: Any) -> None:
        self._short[key] = json.dumps(value)

    async def get_short(self, key: str, default: Any = None) -> Any:
        raw = self._short.get(key)
        return default if raw is None else json.loads(raw)

    async def append_step(self, step: StepMemory) -> None:
        async with self._lock:
            self._steps.append(step_to_json(step))

    async def recent_steps(
        self, token_window: int, count_tokens: TokenCounter = estimate_step_tokens
    ) -> list[StepMemory]:
        newest_first = [step_from_json(s) for s in reversed(self._steps)]
        return select_window(newest_first, token_window, count_tokens)

    async def all_steps(self) -> list[StepMemory]:
        return [step_from_json(s) for s in self._steps]

    async def clear(self) -> None:
        self._short.clear()
        self._steps.clear()

    async def aclose(self) -> None:
        return None


class RedisMemory:
    """Memory in Redis: ``llamac:{run}:short`` (hash) and ``llamac:{run}:steps`` (list).

    With ``ttl_s`` every write refreshes the expiry of the run's keys, so an abandoned run's memory
    disappears on its own.
    """

    def __init__(self, client: aioredis.Redis, run_id: str, ttl_s: int | None = None) -> None:
        self.run_id = run_id
        self._redis = client
        self._ttl = ttl_s
        self._short_key = f"llamac:{run_id}:short"
        self._steps_key = f"llamac:{run_id}:steps"

    @classmethod
    def from_url(cls, url: str, run_id: str, ttl_s: int | None = None) -> RedisMemory:
        return cls(aioredis.Redis.from_url(url), run_id, ttl_s)

    def _touch(self, pipe: Any, key: str) -> None:
        if self._ttl:
            pipe.expire(key, self._ttl)

    async def set_short(self, key: str, value: Any) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._short_key, key, json.dumps(value))
            self._touch(pipe, self._short_key)
            await pipe.execute()

    async def get_short(self, key: str, default: Any = None) -> Any:
        raw = await self._redis.hget(self._short_key, key)
        return default if raw is None else json.loads(raw)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Redis errors as ``RedisUnavailable``, so callers name the service instead of a socket error."""
        try:
            yield
        except (RedisError, OSError) as exc:
            raise RedisUnavailable(f"Redis (REDIS_URL) failed for the memory of {self.run_id}: "
                                   f"{type(exc).__name__}: {exc}") from None

    async def append_step(self, step: StepMemory) -> None:
        with self._reachable():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(self._steps_key, step_to_json(step))
                self._touch(pipe, self._steps_key)
                await pipe.execute()

    async def recent_steps(
        self, token_window: int, count_tokens: TokenCounter = estimate_step_tokens
    ) -> list[StepMemory]:
        # Read backwards in pages so a long run does not ship its whole history for a short window.
        chosen: list[StepMemory] = []
        used = 0
        page = 32
        end = -1
        while True:
            raw = await self._redis.lrange(self._steps_key, end - page + 1, end)
            if not raw:
                return chosen
            for item in reversed(raw):
                step = step_from_json(item)
                cost = count_tokens(step)
                if used + cost > token_window:
                    return chosen
                chosen.append(step)
                used += cost
            if len(raw) < page:
                return chosen
            end -= page

    async def all_steps(self) -> list[StepMemory]:
        with self._reachable():
            return [step_from_json(s) for s in await self._redis.lrange(self._steps_key, 0, -1)]

    async def clear(self) -> None:
        with self._reachable():
            await self._redis.delete(self._short_key, self._steps_key)

    async def aclose(self) -> None:
        await self._redis.aclose()


def memory_from_settings(settings: Settings, run_id: str) -> MemoryStore:
    """Redis when ``REDIS_URL`` is set, in process otherwise (the design's rule)."""
    if settings.redis_url:
        return RedisMemory.from_url(settings.redis_url, run_id, settings.memory_ttl_s)
    return InProcessMemory(run_id)
