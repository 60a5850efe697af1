"""The compact notations of Easy grids (``compact``, and ``squares``, the paper preset's): the prompts write every
doable action once, by its number, and every box and target of the state, so nothing the model was told
in the authors' notation is lost; the task's dynamics are the same in both."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphs import plan_answers
from graphs.context import PRESETS, LLaMACConfig, coordinator_config, resolve_knobs
from graphs.llamac import LLaMACCoordinator
from graphs.prompts.shared import shared_prefix
from llamac.runtime.contract import Role
from tasks.base import Plan, TaskError
from tasks.catalog import grid_task
from tasks.coordinator import StepMemory
from tasks.grid_easy import GridEasy
from tests.graphs.scripted_gateway import scripted_gateway
from tests.graphs.test_plan_answers import random_state

STEP = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def actions_read_back(task: GridEasy, agent: str, line: str) -> list[str]:
    """The action strings a compact view line lists for its agent, in the order of their numbers."""
    i, j = task.ij(task.agents.index(agent))
    numbered: dict[int, str] = {}
    for box, moves in re.findall(r"(\w+)(?: x\d+)? \(([^)]*)\)", line.partition(" boxes ")[2]):
        for number, dest in re.findall(r"(\d+) (match|up|down|left|right)", moves):
            di, dj = STEP.get(dest, (0, 0))
            where = f"target_{box}" if dest == "match" else f"square[{i + di}, {j + dj}]"
            numbered[int(number)] = f"move(box_{box}, {where})"
    assert sorted(numbered) == list(range(1, len(numbered) + 1)), line
    return [numbered[n] for n in sorted(numbered)]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["2x2", "2x4", "4x8"]), st.integers(0, 9), st.integers(0, 1000), st.sampled_from(["compact", "squares"]))
def test_the_compact_view_names_every_doable_action_once_by_its_number(size, instance, seed, notation):
    task = grid_task(size, "easy", instance=instance).with_notation(notation)
    state = random_state(task, seed, most=4)
    view = task.planner_view(state)
    assert "move(" not in view and "square[" not in view  # the state is written once, in the notation
    assert not re.search(r"\d \[", view)  # destinations are directions, not coordinates
    keys = plan_answers.schema(task, state, numbers=True)["properties"]
    for agent, acts in task.doable(state).items():
        square = "[{},{}]".format(*task.ij(task.agents.index(agent)))
        key = task.agent_key(agent)  # squares: each agent is named by its square, in the view and in the plan
        assert key == (square if notation == "squares" else agent) and task.agent_of_key(key) == agent
        lines = [x for x in view.splitlines() if x.startswith(f"{square} ") and " boxes " in x]
        for x in lines:  # compact: the line names its agent; squares: its square does
            assert (f"{agent} boxes " in x) if notation == "compact" else ("Agent[" not in x)
        if not acts:
            assert not lines and key not in keys
            continue
        (line,) = lines
        assert actions_read_back(task, agent, line) == acts
        assert keys[key]["enum"] == list(range(1, len(acts) + 1))  # the schema allows exactly these numbers
        for number, action in enumerate(acts, start=1):  # each number parses as its action and passes the check
            parsed = task.parse_plan(plan_answers.as_actions(task, state, json.dumps({key: number})))
            assert isinstance(parsed, Plan) and parsed.as_dict() == {agent: action}
            assert task.validate_plan(state, parsed) == ()
            assert plan_answers.as_numbers(task, state, parsed.as_dict()) == {key: number}
        for wrong in (0, len(acts) + 1):
            parsed = task.parse_plan(plan_answers.as_actions(task, state, json.dumps({key: wrong})))
            assert not isinstance(parsed, Plan) or task.validate_plan(state, parsed) != ()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 8), st.integers(0, 10_000), st.integers(0, 1000))
def test_the_compact_state_keeps_every_box_and_target_of_every_square(rows, cols, draw, seed):
    task = GridEasy.from_seed(rows, cols, draw).with_notation("compact")
    state = random_state(task, seed, most=4)
    text = task.state_text(state)
    assert "Step" not in text  # memory lines say the step once
    read: dict[tuple[int, int], Counter] = {}
    for i, j, body in re.findall(r"\[(\d+),(\d+)\] ([^;]*)", text):
        items: Counter = Counter()
        for kind, words in re.findall(r"(targets|boxes) ([\w ]+?)(?:,|$)", body):
            for colour, count in re.findall(r"(\w+)(?: x(\d+))?", words):
                if colour.isalpha() and not colour.startswith("x"):
                    items[f"{kind[:-1] if kind == 'targets' else 'box'}_{colour}"] += int(count or 1)
        read[(int(i), int(j))] = items
    expected = {task.ij(c): Counter(p) for c, p in enumerate(state.places) if p}
    assert read == expected


def test_the_notation_changes_the_text_and_nothing_else():
    authors = grid_task("2x4", "easy", instance=3)
    compact = authors.with_notation("compact")
    assert compact.notation == "compact" and authors.notation == "authors"  # a copy; the original is untouched
    assert compact.with_notation("compact") is compact and compact.with_notation("authors").notation == "authors"
    state = authors.initial_state()
    joint = {a: acts[0] for a, acts in authors.doable(state).items() if acts}
    assert authors.step(state, joint) == compact.step(state, joint)
    assert authors.doable(state) == compact.doable(state) and authors.arrays(state).obs.tobytes() == compact.arrays(state).obs.tobytes()
    assert len(compact.planner_view(state)) < 0.6 * len(authors.planner_view(state, numbered=True))
    hard = grid_task("2x2", "hard", instance=0)
    assert hard.with_notation("compact") is hard  # Hard grids keep their own text
    with pytest.raises(TaskError, match="unknown notation"):
        authors.with_notation("terse")


NAMES = {"compact": ("Agent[0, 0]", "Agent[1, 1]", "You are Agent[0, 0]"),
         "squares": ("[0,0]", "[1,1]", "You are the agent of square [0,0]")}
"""How each compact notation names Agent[0, 0] and Agent[1, 1] in a plan, and addresses Agent[0, 0]'s actor."""


@pytest.mark.parametrize("notation", ["compact", "squares"])
def test_memory_shows_past_states_and_plans_in_the_tasks_notation(notation):
    task = grid_task("2x2", "easy", instance=0).with_notation(notation)
    state = task.initial_state()
    agent, acts = next((a, acts) for a, acts in task.doable(state).items() if acts)
    out = task.step(state, {agent: acts[-1]})
    history = [StepMemory(t=0, state_text=task.state_text(state), plan={agent: acts[-1]}, rewards=dict(out.rewards))]
    prefix = shared_prefix(task, out.state, history, 300, numbered=True)
    box = acts[-1].removeprefix("move(box_").partition(",")[0]
    (i, j), dest_ij = task.ij(task.agents.index(agent)), tuple(int(x) for x in re.findall(r"\d+", acts[-1].partition(", ")[2]))
    dest = "match" if "target_" in acts[-1] else next(w for w, (di, dj) in STEP.items() if (i + di, j + dj) == dest_ij)
    name = agent if notation == "compact" else f"[{i},{j}]"
    assert f"step 0: {task.state_text(state)} | plan {{{name}: {box} {dest}}}" in prefix
    assert "move(" not in prefix


@pytest.mark.parametrize("notation", ["compact", "squares"])
async def test_the_paper_preset_plays_a_compact_grid_with_numbered_plans_and_local_actors(notation):
    task = grid_task("2x2", "easy", instance=0).with_notation(notation)
    state = task.initial_state()
    config = coordinator_config("llamac", resolve_knobs("llamac", "paper", {"notation": notation}))
    assert config == LLaMACConfig(**{**{k.replace("-", "_"): v for k, v in PRESETS["paper"].items()}, "notation": notation})
    key, _, addressed = NAMES[notation]
    acts = task.doable(state)["Agent[0, 0]"]
    wrong = 1  # purple down to [1,0]: away from the purple target in its own square, so the gate asks the actor
    seen: dict[Role, list[str]] = {}

    def answer(role, who, messages):
        seen.setdefault(role, []).append("\n".join(str(m.content) for m in messages))
        if role == Role.CRITIC_PAIR:
            return json.dumps({"far_sighted": {key: wrong}, "current": {key: wrong}})
        if role == Role.ASSESSOR:
            return json.dumps({key: wrong})
        return "I Agree"

    decision = await LLaMACCoordinator(scripted_gateway(answer), config).decide(task, state, [])
    assert decision.end_reason is None and decision.joint_action == {"Agent[0, 0]": acts[wrong - 1]}
    assert set(seen) == {Role.CRITIC_PAIR, Role.ASSESSOR, Role.ACTOR}  # the authors' calls: one critic pair
    line = "[0,0] targets blue green purple; " + ("Agent[0, 0] " if notation == "compact" else "") + "boxes purple (1 down 2 right 3 match)"
    planners = seen[Role.CRITIC_PAIR] + seen[Role.ASSESSOR]
    assert all(line in p for p in planners)
    keys_wording = "keys are the squares [i,j] of the agents that act" if notation == "squares" else "keys are agent names"
    assert all(keys_wording in p for p in planners)
    # the assessor weighs the critics' plans as it must answer: numbers of the view's moves
    assert f'current gain: {{"{key}": 1}}' in seen[Role.ASSESSOR][0]
    (actor,) = seen[Role.ACTOR]
    assert actor.startswith(task.rules_text()) and "red x2 (3 up 4 right)" not in actor  # local: its own view only
    assert "The plan's line for you: 1 purple down." in actor and addressed in actor
    if notation == "squares":
        assert all("Agent[" not in p.rpartition("[role=")[0] for p in planners + [actor])


@pytest.mark.parametrize("notation", ["compact", "squares"])
async def test_a_rule_fix_is_written_as_the_number_the_assessor_answers_with(notation):
    """With the direct gate the objection names the fix in the compact notation, number first, and gives it
    as the plan line to write: the assessor answers numbers, so an action string there would have to be
    translated back (the 1.5B model did not), and told only the move it kept its old line."""
    task = grid_task("2x2", "easy", instance=0).with_notation(notation)
    state = task.initial_state()
    config = coordinator_config("llamac", resolve_knobs("llamac", "paper", {"actor_gate": "direct", "notation": notation}))
    key, _, _ = NAMES[notation]
    revisions: list[str] = []

    def answer(role, who, messages):
        if role == Role.CRITIC_PAIR:
            return json.dumps({"far_sighted": {key: 1}, "current": {key: 1}})
        if role == Role.ASSESSOR:
            if len(messages) > 2:
                revisions.append(str(messages[-1].content))
                return json.dumps({key: 3})
            return json.dumps({key: 1})
        raise AssertionError(f"no actor is asked under the direct gate: {role}")

    decision = await LLaMACCoordinator(scripted_gateway(answer), config).decide(task, state, [])
    assert decision.joint_action == {"Agent[0, 0]": "move(box_purple, target_purple)"}
    (revision,) = revisions
    assert f"{key}: 1 purple down: " in revision and "take 3 purple match instead" in revision
    assert f'Their fixes as plan lines: "{key}": 3\n' in revision  # the line to write, as it is written
    assert "move(" not in revision


async def test_fixes_as_plan_lines_only_in_the_compact_notation():
    """The authors' wording keeps the authors' revision request: no plan lines are added to it."""
    task = grid_task("2x2", "easy", instance=0)
    state = task.initial_state()
    config = coordinator_config("llamac", resolve_knobs("llamac", "paper", {"actor_gate": "direct", "notation": "authors"}))
    revisions: list[str] = []

    def answer(role, who, messages):
        if role == Role.CRITIC_PAIR:
            return json.dumps({"far_sighted": {"Agent[0, 0]": 1}, "current": {"Agent[0, 0]": 1}})
        if len(messages) > 2:
            revisions.append(str(messages[-1].content))
            return json.dumps({"Agent[0, 0]": 3})
        return json.dumps({"Agent[0, 0]": 1})

    await LLaMACCoordinator(scripted_gateway(answer), config).decide(task, state, [])
    (revision,) = revisions
    assert "take move(box_purple, target_purple) instead" in revision and "plan lines" not in revision


@pytest.mark.parametrize("notation", ["compact", "squares"])
async def test_hmas2_plays_a_compact_grid_in_the_same_notation(notation):
    """The notation is a knob of both LLM coordinators: HMAS-2's planner answers numbers and its agents see
    the whole plan written compactly."""
    from graphs.context import HMAS2Config
    from graphs.hmas2 import HMAS2Coordinator

    task = grid_task("2x2", "easy", instance=0).with_notation(notation)
    state = task.initial_state()
    first, second, addressed = NAMES[notation]
    agent_prompts: list[str] = []

    def answer(role, who, messages):
        if role == Role.PLANNER:
            return json.dumps({first: 3, second: 6})
        agent_prompts.append(str(messages[-1].content))
        return "I Agree"

    decision = await HMAS2Coordinator(scripted_gateway(answer), HMAS2Config(notation=notation)).decide(task, state, [])
    assert decision.joint_action == {"Agent[0, 0]": "move(box_purple, target_purple)",
                                     "Agent[1, 1]": "move(box_orange, target_orange)"}
    assert len(agent_prompts) == 2
    assert all(f"whole plan: {{{first}: 3 purple match; {second}: 6 orange match}}" in p for p in agent_prompts)
    assert addressed in {p.partition(".")[0] for p in agent_prompts}


@pytest.mark.parametrize(("notation", "numbers"), [("authors", False), ("authors", True), ("compact", True), ("squares", True)])
def test_the_plan_schema_describes_the_keys_and_values_the_answer_takes(notation, numbers):
    """An endpoint with structured outputs shows the schema's description to the model: it must not ask for
    action strings where the enum holds numbers, nor for agent names where the keys are squares."""
    task = grid_task("2x2", "easy", instance=0).with_notation(notation)
    state = task.initial_state()
    schema = plan_answers.schema(task, state, numbers=numbers)
    text, (key, allowed) = schema["description"], next(iter(schema["properties"].items()))
    if numbers:
        assert "number" in text and "action string" not in text and allowed["type"] == "integer"
    else:
        assert "action string" in text and allowed["type"] == "string"
    assert ("squares [i,j]" in text) == (notation == "squares") and ("agent name" in text) == (notation != "squares")
    assert plan_answers.agent_of(task, key) in task.agents
