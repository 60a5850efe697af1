"""The shared token budget: reserve worst case, settle to usage, never overspend, ledger sums exactly."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from llamac.runtime.budget import BudgetLedger, InProcessBudget, RedisBudget, budget_from_settings
from llamac.runtime.stops import BudgetExhausted


@pytest.fixture(params=["in_process", pytest.param("redis", marks=pytest.mark.redis)])
def make_budget(request):

    def build(total: int | None, run: str | None = None):
        run = run or f"budget-{uuid.uuid4().hex}"
        if request.param == "in_process":
            budget = InProcessBudget(run, total)
        else:
            budget = RedisBudget.from_url(request.getfixturevalue("redis_url"), run, total, ttl_s=120)
        return budget

    return build


def identity_holds(ledger: BudgetLedger) -> bool:
    return ledger.reserved + ledger.excess == ledger.settled + ledger.refunded + ledger.outstanding


async def test_settle_refunds_the_unused_part(make_budget):
    budget = make_budget(1000)
    r = await budget.reserve(300)
    assert (await budget.ledger()).outstanding == 300
    assert (await budget.ledger()).remaining == 700
    await budget.settle(r, 120)
    ledger = await budget.ledger()
    assert (ledger.reserved, ledger.settled, ledger.refunded, ledger.outstanding) == (300, 120, 180, 0)
    assert ledger.remaining == 880
    assert identity_holds(ledger)
    await budget.aclose()


async def test_refuses_a_reservation_it_cannot_cover(make_budget):
    budget = make_budget(500)
    r = await budget.reserve(400)
    with pytest.raises(BudgetExhausted, match="exhausted"):
        await budget.reserve(101)
    await budget.settle(r, 50)
    again = await budget.reserve(450)  # the refund made room
    await budget.settle(again, 450)
    ledger = await budget.ledger()
    assert ledger.refusals == 1 and ledger.remaining == 0
    await budget.aclose()


async def test_usage_above_the_reservation_is_charged_as_excess(make_budget):
    budget = make_budget(1000)
    r = await budget.reserve(100)
    await budget.settle(r, 130)
    ledger = await budget.ledger()
    assert (ledger.settled, ledger.excess, ledger.refunded) == (130, 30, 0)
    assert identity_holds(ledger)
    await budget.aclose()


async def test_a_reservation_settles_once(make_budget):
    budget = make_budget(1000)
    r = await budget.reserve(10)
    await budget.settle(r, 5)
    with pytest.raises(KeyError):
        await budget.settle(r, 5)
    await budget.aclose()


async def test_unlimited_budget_keeps_a_ledger(make_budget):
    budget = make_budget(None)
    r = await budget.reserve(10**9)
    await budget.settle(r, 7)
    ledger = await budget.ledger()
    assert ledger.total is None and ledger.remaining is None and ledger.settled == 7
    await budget.aclose()


async def test_fifty_concurrent_reservations_never_overspend(make_budget):
    """50 agents reserve, wait a little, settle a random share: the spend stays within the budget."""
    total = 5000
    budget = make_budget(total)
    rng = random.Random(7)
    worst = [rng.randint(150, 400) for _ in range(50)]
    use = [rng.randint(0, w) for w in worst]
    held_peak = 0

    async def agent(i: int) -> bool:
        nonlocal held_peak
        try:
            r = await budget.reserve(worst[i])
        except BudgetExhausted:
            return False
        ledger = await budget.ledger()
        held_peak = max(held_peak, ledger.settled + ledger.outstanding)
        await asyncio.sleep(rng.random() * 0.02)
        await budget.settle(r, use[i])
        return True

    granted = await asyncio.gather(*(agent(i) for i in range(50)))
    ledger = await budget.ledger()
    assert ledger.reservations == sum(granted)
    assert ledger.refusals == 50 - sum(granted)
    assert ledger.refusals > 0  # the load really pressed against the budget
    assert held_peak <= total
    assert ledger.settled <= total + max(worst)  # never overspent beyond one reservation
    assert ledger.settled == sum(u for u, ok in zip(use, granted, strict=True) if ok)
    assert ledger.reserved == sum(w for w, ok in zip(worst, granted, strict=True) if ok)
    assert ledger.outstanding == 0
    assert identity_holds(ledger)
    await budget.aclose()


@pytest.mark.redis
async def test_two_runs_on_one_redis_are_isolated(redis_url):
    a = RedisBudget.from_url(redis_url, f"a-{uuid.uuid4().hex}", 100, ttl_s=60)
    b = RedisBudget.from_url(redis_url, f"b-{uuid.uuid4().hex}", 100, ttl_s=60)
    ra = await a.reserve(100)
    rb = await b.reserve(100)  # a's full reservation does not touch b
    with pytest.raises(BudgetExhausted):
        await a.reserve(1)
    await a.settle(ra, 100)
    await b.settle(rb, 10)
    assert (await a.ledger()).settled == 100
    assert (await b.ledger()).settled == 10
    # A second process joining run a shares its budget (and keeps the first total).
    a2 = RedisBudget.from_url(redis_url, a.run_id, 10**6, ttl_s=60)
    with pytest.raises(BudgetExhausted):
        await a2.reserve(1)
    for budget in (a, b, a2):
        await budget.aclose()


@pytest.mark.redis
async def test_redis_budget_is_shared_between_clients_under_load(redis_url):
    run = f"shared-{uuid.uuid4().hex}"
    clients = [RedisBudget.from_url(redis_url, run, 1000, ttl_s=60) for _ in range(5)]

    async def agent(i: int) -> int:
        try:
            r = await clients[i % 5].reserve(100)
        except BudgetExhausted:
            return 0
        await clients[(i + 1) % 5].settle(r, 100)
        return 1

    granted = sum(await asyncio.gather(*(agent(i) for i in range(50))))
    ledger = await clients[0].ledger()
    assert granted == 10 and ledger.settled == 1000 and ledger.refusals == 40
    for c in clients:
        await c.aclose()


def test_factory_picks_backend_from_settings(make_settings):
    assert isinstance(budget_from_settings(make_settings(budget_tokens=10), "r", 10), InProcessBudget)
    assert isinstance(budget_from_settings(make_settings(redis_url="redis://127.0.0.1:1/0"), "r", None), RedisBudget)
