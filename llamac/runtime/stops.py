"""Why a run stops before its episode is done: the exceptions a call raises and the end reasons they
become, in a module of their own so every layer (gateway, budget, graphs, CLI, sweeps) names them alike
without importing the model client.
"""

from __future__ import annotations


class RunStopped(RuntimeError):
    """A call that cannot be made now. The coordinator ends the episode with ``end_reason`` (its summary is
    written); a *resumable* stop leaves the episode to ``resume``, which asks that decision again."""

    end_reason = "stopped"
    resumable = False


class BudgetExhausted(RunStopped):
    """The shared token budget cannot cover the worst case of the next call: stop the run cleanly."""

    end_reason = "budget_exhausted"


class ProviderFailed(RunStopped):
    """The provider gave no usable answer within the retries and the call deadline (5xx, timeouts,
    malformed bodies), or refused the request. The message is one line with every secret cut out."""

    end_reason = "provider_error"
    resumable = True


class RedisUnavailable(RunStopped):
    """Redis (``REDIS_URL``) went away: unreachable, or restarted without the budget's ledger. A budget
    ledger that was lost is never re-granted in full: ``resume`` rebuilds what is left from the run's own
    call log."""

    end_reason = "redis_unavailable"
    resumable = True


RESUMABLE_END_REASONS = frozenset({ProviderFailed.end_reason, RedisUnavailable.end_reason})
"""End reasons that leave an episode unfinished: ``resume`` asks the stopped decision again."""
