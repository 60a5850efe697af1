"""Ten thousand generated bad answers through the plan parser and the graph's repair path: no crash, and
every answer is accounted for (a re-prompt, or a plan the syntax check accepted)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphs.context import HMAS2Config
from graphs.hmas2 import HMAS2Coordinator
from llamac.runtime.logs import configure_logging
from llamac.runtime.settings import Settings
from tasks.base import Plan, PlanError
from tasks.catalog import alloc_task, grid_task
from tests.graphs.scripted_gateway import scripted_gateway

EXAMPLES = 200
ANSWERS_PER_EXAMPLE = 50  # 10,000 answers in all

AGENTS = ["Agent[0, 0]", "Agent[0, 1]", "Agent[1, 0]", "Agent[1, 1]", "Agent[2, 2]", "Agent[0.5, 0.5]", "agent_0_1"]
ACTIONS = ["move(box_red, square[0, 1])", "move(box_blue, target_blue)", "move(box_red, square[5, 5])",
           "move(target_red, square[0, 1])", "stay", "fly", "", "move(box_red,", None, 3, [1, 2], {"x": 1}]

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=6)
plan_like = st.dictionaries(st.sampled_from(AGENTS) | st.text(max_size=12), st.sampled_from(ACTIONS) | json_values,
                            max_size=5).map(json.dumps)
bad_answer = st.one_of(
    st.text(max_size=200),  # anything at all
    plan_like,  # JSON objects with wrong agents, actions, types
    plan_like.map(lambda s: s[: max(1, len(s) // 2)]),  # cut off mid-answer
    plan_like.map(lambda s: f"```json\n{s}\n```"),  # fenced, as small models write
    plan_like.map(lambda s: f"Sure! Here is the plan: {s} Hope it helps."),
    st.lists(json_values, max_size=3).map(json.dumps),  # JSON, but not an object
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(bad_answer, min_size=ANSWERS_PER_EXAMPLE, max_size=ANSWERS_PER_EXAMPLE))
def test_generated_answers_never_crash_the_parser_nor_the_repair_path(answers: list[str]) -> None:
    grid, alloc = grid_task("2x2", "easy", instance=0), alloc_task(3, 0)
    for task in (grid, alloc):  # the parser and the syntax check: a plan or a typed error, never an exception
        state = task.initial_state()
        for text in answers:
            parsed = task.parse_plan(text)
            assert isinstance(parsed, Plan | PlanError)
            if isinstance(parsed, Plan):
                assert all(isinstance(e, PlanError) for e in task.validate_plan(state, parsed))

    queue = deque(answers)
    planner_calls = 0

    def answer(role: str, agent: str | None, messages: Any) -> str:
        nonlocal planner_calls
        if role == "planner":
            planner_calls += 1
            return queue.popleft() if queue else "{"  # past the generated ones: one more bad answer
        return "I Agree"

    configure_logging(Settings(_env_file=None, log_level="WARNING"))  # no line per call: 10,000 calls
    gateway = scripted_gateway(answer)
    coordinator = HMAS2Coordinator(gateway, HMAS2Config())
    async def decide_until_spent() -> tuple[int, int, int]:
        asked = refused = accepted = 0
        while queue:
            before = planner_calls
            decision = await coordinator.decide(grid, grid.initial_state(), [])
            calls = planner_calls - before
            repairs = int(decision.counters["syntax_repairs"])
            assert calls == 1 + repairs  # the first plan, then one re-prompt per refused answer
            if decision.end_reason is None:  # the last answer was a plan the syntax check accepted
                accepted += 1
                refused += repairs
                assert grid.validate_plan(grid.initial_state(), Plan(tuple(decision.joint_action.items()))) == ()
            else:  # every answer refused, up to the authors' six re-plans
                assert decision.end_reason == "syntactic_error" and repairs == HMAS2Config().syntax_replans
                refused += calls
            asked += calls
        return asked, refused, accepted

    asked, refused, accepted = asyncio.run(decide_until_spent())
    structlog.reset_defaults()
    assert asked >= len(answers) and asked == refused + accepted  # every answer accounted for
