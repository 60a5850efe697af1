"""The shared token budget: reserve the worst case before a call, settle to the real usage after.

Concurrent agents draw on one budget. A reservation takes ``estimated prompt + max output`` tokens
up front, so no set of concurrent calls can together spend more than the budget unless a provider
reports more than was reserved (then the excess is charged and shows in the ledger as ``excess``).
Settling charges the reported usage and refunds the rest. When the remaining budget cannot cover a
reservation the gateway raises ``BudgetExhausted`` and the graph stops the run cleanly.

Two backends: in process (an ``asyncio.Lock``) and Redis (a Lua script registered with redis-py's
``register_script``, atomic across processes). The ledger identity, for any moment:
``reserved + excess == settled + refunded + outstanding``.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from llamac.runtime.contract import BudgetLedger, Reservation, TokenBudget  # noqa: F401 (re-exported)
from llamac.runtime.settings import Settings
from llamac.runtime.stops import BudgetExhausted, RedisUnavailable


def _refusal(run_id: str, tokens: int, remaining: int | None) -> BudgetExhausted:
    return BudgetExhausted(
        f"token budget of run {run_id} exhausted: the next call needs up to {tokens} tokens, "
        f"{remaining} remain"
    )


class InProcessBudget:
    """A budget shared by the coroutines of one process (``total=None``: unlimited, ledger kept)."""

    def __init__(self, run_id: str, total: int | None) -> None:
        self.run_id = run_id
        self._total = total
        self._lock = asyncio.Lock()
        self._open: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._flows = dict(reserved=0, settled=0, refunded=0, excess=0, reservations=0, refusals=0)

    async def reserve(self, tokens: int) -> Reservation:
        if tokens <= 0:
            raise ValueError("a reservation needs a positive token count")
        async with self._lock:
            outstanding = sum(self._open.values())
            if self._total is not None and self._flows["settled"] + outstanding + tokens > self._total:
                self._flows["refusals"] += 1
                raise _refusal(self.run_id, tokens, self._total - self._flows["settled"] - outstanding)
            rid = f"{self.run_id}:{next(self._ids)}"
            self._open[rid] = tokens
            self._flows["reserved"] += tokens
            self._flows["reservations"] += 1
            return Reservation(rid, tokens)

    async def settle(self, reservation: Reservation, used: int) -> None:
        async with self._lock:
            held = self._open.pop(reservation.id, None)
            if held is None:
                raise KeyError(f"reservation {reservation.id} is not open (settled twice?)")
            used = max(0, used)
            self._flows["settled"] += used
            self._flows["refunded"] += max(0, held - used)
            self._flows["excess"] += max(0, used - held)

    async def ledger(self) -> BudgetLedger:
        async with self._lock:
            return BudgetLedger(total=self._total, outstanding=sum(self._open.values()), **self._flows)

    async def aclose(self) -> None:
        return None


# KEYS[1]: the run's budget hash, KEYS[2]: its open reservations hash.
# ARGV: tokens, reservation id, total (-1: unlimited), ttl seconds (0: none), "1" when this client has
# reserved before (so the hash must exist: a missing one means Redis lost it, and it is not re-granted).
_RESERVE_LUA = """
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, 0}
end
local total = tonumber(ARGV[3])
redis.call('HSETNX', KEYS[1], 'total', total)
total = tonumber(redis.call('HGET', KEYS[1], 'total'))
local n = tonumber(ARGV[1])
local settled = tonumber(redis.call('HGET', KEYS[1], 'settled') or '0')
local outstanding = tonumber(redis.call('HGET', KEYS[1], 'outstanding') or '0')
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
if total >= 0 and settled + outstanding + n > total then
  redis.call('HINCRBY', KEYS[1], 'refusals', 1)
  return {0, total - settled - outstanding}
end
redis.call('HINCRBY', KEYS[1], 'outstanding', n)
redis.call('HINCRBY', KEYS[1], 'reserved', n)
redis.call('HINCRBY', KEYS[1], 'reservations', 1)
redis.call('HSET', KEYS[2], ARGV[2], n)
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return {1, 0}
"""

# ARGV: reservation id, used tokens.
_SETTLE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
local held = redis.call('HGET', KEYS[2], ARGV[1])
if not held then return -1 end
held = tonumber(held)
local used = math.max(0, tonumber(ARGV[2]))
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'outstanding', -held)
redis.call('HINCRBY', KEYS[1], 'settled', used)
redis.call('HINCRBY', KEYS[1], 'refunded', math.max(0, held - used))
redis.call('HINCRBY', KEYS[1], 'excess', math.max(0, used - held))
return 1
"""


class RedisBudget:
    """A budget shared by every process of a run through Redis keys ``llamac:{run}:budget[:open]``.

    The first reservation fixes the run's total (``HSETNX``); later processes joining the run with
    another total keep the first one. Redis going away stops the run (``RedisUnavailable``, resumable),
    and so does a ledger that vanished after this client used it (Redis restarted without its data):
    it is never granted again in full.
    """

    def __init__(self, client: aioredis.Redis, run_id: str, total: int | None, ttl_s: int | None = None,
                 where: str = "Redis") -> None:
        self.run_id = run_id
        self._redis = client
        self._total = total
        self._ttl = ttl_s or 0
        self._where = where
        self._used = False
        self._keys = [f"llamac:{run_id}:budget", f"llamac:{run_id}:budget:open"]
        self._reserve = client.register_script(_RESERVE_LUA)
        self._settle = client.register_script(_SETTLE_LUA)

    @classmethod
    def from_url(cls, url: str, run_id: str, total: int | None, ttl_s: int | None = None) -> RedisBudget:
        client = aioredis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        return cls(client, run_id, total, ttl_s, where=f"Redis at {redact_url(url)} (REDIS_URL)")

    def _gone(self, why: str) -> RedisUnavailable:
        return RedisUnavailable(f"{self._where}: {why}; the run stops here, resume continues it with the budget "
                                "left by its own call log")

    async def reserve(self, tokens: int) -> Reservation:
        if tokens <= 0:
            raise ValueError("a reservation needs a positive token count")
        rid = uuid.uuid4().hex
        total = -1 if self._total is None else self._total
        try:
            ok, remaining = await self._reserve(keys=self._keys, args=[tokens, rid, total, self._ttl, int(self._used)])
        except (RedisError, OSError) as exc:
            raise self._gone(f"{type(exc).__name__}: {exc}") from None
        if int(ok) == -1:
            raise self._gone("the budget ledger of this run vanished (restarted without its data?)")
        if not int(ok):
            raise _refusal(self.run_id, tokens, int(remaining))
        self._used = True
        return Reservation(rid, tokens)

    async def settle(self, reservation: Reservation, used: int) -> None:
        try:
            done = int(await self._settle(keys=self._keys, args=[reservation.id, int(used)]))
        except (RedisError, OSError) as exc:
            raise self._gone(f"{type(exc).__name__}: {exc}") from None
        if done == -2:
            raise self._gone("the budget ledger of this run vanished (restarted without its data?)")
        if done != 1:
            raise KeyError(f"reservation {reservation.id} is not open (settled twice?)")

    async def ledger(self) -> BudgetLedger:
        raw = await self._redis.hgetall(self._keys[0])
        flows = {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in raw.items()}
        total = flows.get("total", -1 if self._total is None else self._total)
        return BudgetLedger(
            total=None if total < 0 else total,
            reserved=flows.get("reserved", 0),
            settled=flows.get("settled", 0),
            refunded=flows.get("refunded", 0),
            excess=flows.get("excess", 0),
            outstanding=flows.get("outstanding", 0),
            reservations=flows.get("reservations", 0),
            refusals=flows.get("refusals", 0),
        )

    async def aclose(self) -> None:
        await self._redis.aclose()


def redact_url(url: str) -> str:
    """A service URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def budget_from_settings(settings: Settings, run_id: str, total: int | None) -> TokenBudget:
    """Redis when ``REDIS_URL`` is set (shared across processes), in process otherwise.

    ``total`` is passed in rather than read from ``budget_tokens``: the run's config fixes the budget
    (``--budget`` or LLAMAC_BUDGET_TOKENS at start), and a resumed in-process run gets what is left.
    """
    if settings.redis_url:
        return RedisBudget.from_url(settings.redis_url, run_id, total, settings.memory_ttl_s)
    return InProcessBudget(run_id, total)
