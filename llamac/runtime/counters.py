"""Every counter a decision reports, declared once: the graphs, the episode summary, the run table, the
results files and the sweep's table all read this list.

A coordinator's ``Decision.counters`` names counters from here (absent = 0); the episode loop sums them;
``summary`` counters are top-level fields of every episode summary and columns of the results tables,
the others stay under the summary's ``counters``; ``shown`` ones are rows of the table a run prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Counter:
    name: str
    meaning: str
    label: str = ""
    """Row header in the printed table (empty: not printed)."""
    short: str = ""
    """Column header when episodes are rows."""
    summary: bool = True


COUNTERS: tuple[Counter, ...] = (
    # printed in this order (the run table's rows)
    Counter("feedback", "the paper's Feedback: +1 per objection round, +1 per syntax-repair episode of the first plan",
            "Feedback", "Feedback"),
    Counter("llm_calls", "LLM calls made (retries not counted)", "LLM calls", "Calls"),
    Counter("gate_skips", "actor calls skipped because the rule gate agreed", "Gate skips", "Skips"),
    Counter("gate_fixes", "executed plan lines the actors' rule gate wrote (--actor-gate apply)", "Gate fixes applied",
            "Fixes"),
    Counter("assessor_skips", "assessor calls skipped because both critics agreed", "Assessor calls skipped",
            "No assessor"),
    Counter("invalid_answers", "answers that were not a usable plan or reply", "Invalid answers", "Invalid"),
    Counter("retries", "provider retries (transient failures)", "Retries", "Retries"),
    Counter("cached_tokens", "prompt tokens served from the provider's prefix cache", "Cached prompt tokens", "Cached"),
    # summary fields, not printed
    Counter("prompt_tokens", "prompt tokens the provider billed"),
    Counter("completion_tokens", "completion tokens the provider billed"),
    Counter("plan_lines", "executed plan lines (gate_fixes / plan_lines: the rules' share of a plan)"),
    Counter("plan_rounds", "plans asked for (first plans, repairs and revisions)"),
    # under the summary's "counters" only
    Counter("syntax_repairs", "re-prompts after the syntax check refused a plan", summary=False),
    Counter("dropped_lines", "plan lines the syntax check dropped instead of re-prompting (--syntax-repair drop)",
            summary=False),
    Counter("objection_rounds", "plan-confirmation rounds with an objection (external feedback)", summary=False),
    Counter("first_plan_repairs", "steps whose first plan needed syntax repair (internal feedback)", summary=False),
    Counter("usage_estimated", "calls whose usage was missing or impossible, charged at their reservation",
            summary=False),
    Counter("policy_calls", "decisions of a trained policy", summary=False),
)

NAMES: tuple[str, ...] = tuple(c.name for c in COUNTERS)
SUMMARY_FIELDS: tuple[str, ...] = tuple(c.name for c in COUNTERS if c.summary)
SHOWN: tuple[Counter, ...] = tuple(c for c in COUNTERS if c.label)


def add_counters(left: Mapping[str, float] | None, right: Mapping[str, float] | None) -> dict[str, float]:
    """Counters of concurrent branches, or of successive decisions, add up (a LangGraph reducer)."""
    out = dict(left or {})
    for key, value in (right or {}).items():
        out[key] = out.get(key, 0) + value
    return out
