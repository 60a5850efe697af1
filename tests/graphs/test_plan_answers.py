"""Plans answered with numbers (``answer_format="numbers"``): every doable action can be named, the
numbers name exactly the doable ones, and the graphs execute the same plan as with action strings."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphs import plan_answers
from graphs.context import LLaMACConfig
from graphs.llamac import LLaMACCoordinator
from llamac.runtime.contract import Role
from tasks.base import Plan
from tasks.catalog import alloc_task, grid_task
from tests.graphs.scripted_gateway import scripted_gateway


def random_state(task, seed: int, most: int = 3):
    """A state up to ``most`` random doable steps into the episode."""
    rng, state = random.Random(seed), task.initial_state()
    for _ in range(rng.randrange(most + 1)):
        joint = {a: rng.choice(acts) for a, acts in task.doable(state).items() if acts and rng.random() < 0.5}
        out = task.step(state, joint)
        if out.done:
            break
        state = out.state
    return state


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["easy", "hard"]), st.sampled_from(["2x2", "2x4", "4x8"]), st.integers(0, 9), st.integers(0, 1000))
def test_every_doable_action_has_a_number_and_the_numbers_name_exactly_the_doable_ones(difficulty, size, instance, seed):
    task = grid_task(size, difficulty, instance=instance)
    state = random_state(task, seed)
    doable = task.doable(state)
    schema = plan_answers.schema(task, state, numbers=True)
    assert set(schema["properties"]) == {a for a, acts in doable.items() if acts}
    view = task.planner_view(state, numbered=True)
    for agent, acts in doable.items():
        if not acts:
            continue
        assert schema["properties"][agent]["enum"] == list(range(1, len(acts) + 1))
        line = next(x for x in view.splitlines() if x.startswith(f"{agent}: "))
        for number, action in enumerate(acts, start=1):  # each action shown once, with its number
            item, _, dest = action.removeprefix("move(").removesuffix(")").partition(", ")
            assert f"{number} {dest}" in line and f"{item} -> " in line
        for number, action in enumerate(acts, start=1):  # each number is that action, and parses as it
            text = plan_answers.as_actions(task, state, json.dumps({agent: number}))
            parsed = task.parse_plan(text)
            assert isinstance(parsed, Plan) and parsed.as_dict() == {agent: action}
            assert task.validate_plan(state, parsed) == ()
        for wrong in (0, len(acts) + 1):  # a number no action has is refused by the syntax check
            parsed = task.parse_plan(plan_answers.as_actions(task, state, json.dumps({agent: wrong})))
            assert not isinstance(parsed, Plan) or task.validate_plan(state, parsed) != ()


def test_tasks_whose_plans_are_numbers_already_keep_their_schema():
    task = alloc_task(3, 0)
    assert not plan_answers.numbered(task)
    assert plan_answers.schema(task, task.initial_state(), numbers=True) == task.plan_json_schema()


def test_wording_is_swapped_only_for_numbers():
    from graphs.prompts.shared import PLAN_FORMAT

    assert plan_answers.worded(PLAN_FORMAT, numbers=False) == PLAN_FORMAT
    assert "the number of one of that agent's doable actions" in plan_answers.worded(PLAN_FORMAT, numbers=True)


@pytest.mark.parametrize("answer_format", ["actions", "numbers"])
async def test_llamac_executes_the_same_plan_in_either_format(answer_format):
    task = grid_task("2x2", "easy", instance=2)
    state = task.initial_state()
    agent, acts = next((a, acts) for a, acts in task.doable(state).items() if acts)
    chosen = acts[-1]
    prompts: list[str] = []

    def answer(role, who, messages):
        prompts.append(str(messages[0].content))
        value = len(acts) if answer_format == "numbers" else chosen
        if role == Role.CRITIC_PAIR:
            return json.dumps({"far_sighted": {agent: value}, "current": {agent: value}})
        if role in (Role.ASSESSOR, Role.EXPLORE_CRITIC, Role.EXPLOIT_CRITIC):
            return json.dumps({agent: value})
        return "I Agree"

    config = LLaMACConfig(critics="merged", answer_format=answer_format)
    decision = await LLaMACCoordinator(scripted_gateway(answer), config).decide(task, state, [])
    assert decision.end_reason is None and decision.joint_action == {agent: chosen}
    assert ("Doable actions by number" in prompts[0]) == (answer_format == "numbers")
