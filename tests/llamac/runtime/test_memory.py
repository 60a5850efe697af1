"""The memory contract, run against both backends (in process and a real Redis server)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from llamac.runtime.memory import (
    InProcessMemory,
    MemoryStore,
    RedisMemory,
    estimate_step_tokens,
    memory_from_settings,
)
from tasks.coordinator import StepMemory


def step(t: int, text: str = "state") -> StepMemory:
    return StepMemory(t=t, state_text=f"{text} {t}", plan={"a1": "up", "a2": "stay"},
                      rewards={"a1": 1.0, "a2": -0.5}, feedback=(f"fb {t}",))


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request):
    run = f"test-{uuid.uuid4().hex}"
    if request.param == "in_process":
        mem: MemoryStore = InProcessMemory(run)
    else:
        mem = RedisMemory.from_url(request.getfixturevalue("redis_url"), run)
    yield mem
    await mem.clear()
    await mem.aclose()


async def test_short_term_round_trips_json_values(store):
    assert await store.get_short("last_plan") is None
    assert await store.get_short("last_plan", default={}) == {}
    await store.set_short("last_plan", {"a1": "up", "a2": "left"})
    await store.set_short("feedback", ["a1 blocked"])
    await store.set_short("feedback", ["a2 blocked"])
    assert await store.get_short("last_plan") == {"a1": "up", "a2": "left"}
    assert await store.get_short("feedback") == ["a2 blocked"]


async def test_steps_keep_order_and_values(store):
    for t in range(5):
        await store.append_step(step(t))
    steps = await store.all_steps()
    assert [s.t for s in steps] == [0, 1, 2, 3, 4]
    assert steps[3] == step(3)


async def test_recent_steps_are_the_newest_that_fit_the_window_newest_first(store):
    for t in range(40):  # more than one Redis page
        await store.append_step(step(t))
    assert await store.recent_steps(token_window=3, count_tokens=lambda s: 1) == [step(39), step(38), step(37)]
    cost = estimate_step_tokens(step(10))
    window = await store.recent_steps(token_window=cost * 35 + cost // 2)
    assert [s.t for s in window] == list(range(39, 4, -1))
    assert await store.recent_steps(token_window=0) == []
    everything = await store.recent_steps(token_window=10**9)
    assert [s.t for s in everything] == list(range(39, -1, -1))


async def test_window_stops_at_the_first_step_that_does_not_fit(store):
    await store.append_step(step(0, "short"))
    await store.append_step(step(1, "x" * 400))
    await store.append_step(step(2, "short"))
    counted = await store.recent_steps(token_window=50, count_tokens=lambda s: len(s.state_text))
    assert [s.t for s in counted] == [2]


async def test_concurrent_appends_lose_nothing(store):
    await asyncio.gather(*(store.append_step(step(t)) for t in range(30)))
    assert sorted(s.t for s in await store.all_steps()) == list(range(30))


async def test_clear_empties_the_run(store):
    await store.set_short("k", 1)
    await store.append_step(step(0))
    await store.clear()
    assert await store.get_short("k") is None
    assert await store.all_steps() == []


@pytest.mark.redis
async def test_redis_runs_are_namespaced(redis_url):
    a = RedisMemory.from_url(redis_url, f"a-{uuid.uuid4().hex}")
    b = RedisMemory.from_url(redis_url, f"b-{uuid.uuid4().hex}")
    try:
        await a.set_short("state", "A")
        await a.append_step(step(1))
        assert await b.get_short("state") is None
        assert await b.all_steps() == []
        # A second process joining run "a" sees its memory.
        a2 = RedisMemory.from_url(redis_url, a.run_id)
        assert await a2.get_short("state") == "A"
        await a2.aclose()
    finally:
        await a.clear()
        await a.aclose()
        await b.aclose()


@pytest.mark.redis
async def test_redis_ttl_expires_the_run(redis_url):
    run = f"ttl-{uuid.uuid4().hex}"
    mem = RedisMemory.from_url(redis_url, run, ttl_s=30)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        await mem.set_short("state", 1)
        await mem.append_step(step(0))
        assert 0 < await raw.ttl(f"llamac:{run}:short") <= 30
        assert 0 < await raw.ttl(f"llamac:{run}:steps") <= 30
    finally:
        await mem.clear()
        await mem.aclose()
        await raw.aclose()


def test_factory_picks_backend_from_settings(make_settings):
    assert isinstance(memory_from_settings(make_settings(), "r"), InProcessMemory)
    assert isinstance(memory_from_settings(make_settings(redis_url="redis://127.0.0.1:1/0"), "r"), RedisMemory)
