"""The answer-size estimate that sets a structured call's output cap."""

from __future__ import annotations

from graphs.plan_answers import schema
from graphs.prompts.critics import pair_schema
from llamac.runtime.tokens import estimate_answer_tokens, estimate_tokens
from tasks.catalog import alloc_task, grid_task


def test_the_estimate_covers_the_longest_answer_written_out_in_full() -> None:
    task = alloc_task(50, 0)
    plan = schema(task, task.initial_state())
    longest = "{\n" + ",\n".join(f'    "{a}": 100' for a in task.agents) + "\n}"
    assert estimate_answer_tokens(plan) >= estimate_tokens(longest)
    assert estimate_answer_tokens(pair_schema(plan)) >= 2 * estimate_tokens(longest)


def test_the_estimate_grows_with_the_agents_and_stays_small_for_small_plans() -> None:
    small, large = alloc_task(3, 0), alloc_task(50, 0)
    assert estimate_answer_tokens(schema(small, small.initial_state())) < 512  # the default cap stands
    assert estimate_answer_tokens(pair_schema(schema(large, large.initial_state()))) > 1_000
    grid = grid_task("2x2", "easy", instance=0)
    assert estimate_answer_tokens(pair_schema(schema(grid, grid.initial_state(), numbers=True))) < 512
