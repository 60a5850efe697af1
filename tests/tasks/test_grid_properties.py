"""Hypothesis properties of the grid dynamics, on random instances and random (often bad) plans."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.base import Agree, Plan
from tasks.grid_common import COLOURS, GridTask
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard

SETTINGS = settings(max_examples=80, deadline=None)


@st.composite
def scenes(draw, cls: type[GridTask] | None = None):
    """A task mid-episode (a few random doable steps in) and a random joint action."""
    cls = cls or draw(st.sampled_from([GridEasy, GridHard]))
    task = cls.from_seed(draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(0, 10_000)))
    state = task.initial_state()
    for _ in range(draw(st.integers(0, 3))):
        doable = {a: acts for a, acts in task.doable(state).items() if acts}
        if not doable:
            break
        agent = draw(st.sampled_from(sorted(doable)))
        out = task.step(state, {agent: draw(st.sampled_from(doable[agent]))})
        if out.done:
            break
        state = out.state
    return task, state, draw(joints(task, state))


def joints(task: GridTask, state) -> st.SearchStrategy[dict[str, str]]:
    """Mixtures of doable actions, plausible-but-wrong moves, junk and off-grid agents."""
    doable = [(a, x) for a, acts in task.doable(state).items() for x in acts]
    n = max(task.rows, task.cols) + 1
    colour = st.sampled_from(COLOURS)
    if isinstance(task, GridEasy):
        place = st.builds(lambda i, j: f"square[{i}, {j}]", st.integers(-1, n), st.integers(-1, n))
        key = st.builds(lambda i, j: f"Agent[{i}, {j}]", st.integers(-1, n), st.integers(-1, n))
    else:
        place = st.builds(lambda x, y: f"position({float(x)}, {float(y)})", st.integers(-1, n), st.integers(-1, n))
        key = st.builds(lambda i, j: f"Agent[{i + 0.5}, {j + 0.5}]", st.integers(-1, n), st.integers(-1, n))
    wrong = st.builds(lambda c, p, t: f"move(box_{c}, {p})" if t else f"move(box_{c}, target_{c})", colour, place,
                      st.booleans())
    junk = st.sampled_from(["stay", "move(box_red,square[0, 1])", "move(target_red, target_red)", ""])
    entry = st.tuples(st.sampled_from(task.agents), st.one_of(wrong, junk)) | st.tuples(key, wrong)
    if doable:
        entry = entry | st.sampled_from(doable) | st.sampled_from(doable)
    return st.lists(entry, max_size=8).map(dict)


@SETTINGS
@given(scenes())
def test_boxes_and_targets_only_disappear_in_matched_pairs(scene) -> None:
    task, state, joint = scene
    out = task.step(state, joint)
    after = out.state
    if out.failure == "collision":
        assert after.places == state.places
        return
    def count(s, item: str) -> int:
        return sum(p.count(item) for p in s.places)

    for colour in COLOURS:
        lost_boxes = count(state, f"box_{colour}") - count(after, f"box_{colour}")
        assert lost_boxes >= 0
        assert lost_boxes == count(state, f"target_{colour}") - count(after, f"target_{colour}")
    assert out.info["matched"] == state.boxes() - after.boxes()
    assert after.t == state.t + 1


@SETTINGS
@given(scenes(GridEasy))
def test_easy_actions_outside_the_doable_list_never_change_the_state(scene) -> None:
    task, state, joint = scene
    doable = task.doable(state)
    outside = {a: x for a, x in joint.items() if x not in doable.get(a, [])}
    out = task.step(state, outside)
    assert out.state.places == state.places
    assert len(out.feedback) == len(outside)


@SETTINGS
@given(scenes(GridHard))
def test_hard_collisions_end_the_episode_and_committed_boards_never_stack_boxes(scene) -> None:
    task, state, joint = scene
    out = task.step(state, joint)
    tr = task.transition(state, joint)
    stacked = any(len(p) > 1 for p in tr.places[task.rows * task.cols:])
    if out.failure == "collision":
        assert out.done and not out.success and out.state.places == state.places
        assert stacked and out.feedback[-1].startswith("Cannot move")
    else:
        assert not stacked
        assert all(len(p) <= 1 for p in out.state.places[task.rows * task.cols:])


@SETTINGS
@given(scenes(GridHard))
def test_hard_doable_moves_of_distinct_boxes_to_distinct_corners_never_collide(scene) -> None:
    task, state, _ = scene
    joint, boxes, places = {}, set(), set()
    for agent, acts in task.doable(state).items():
        for act in acts:
            box, dest = act[5:].split(", ", 1)
            if box not in boxes and dest not in places:
                joint[agent] = act
                boxes.add(box)
                places.add(dest)
                break
    assert not task.validate_plan(state, Plan(tuple(joint.items())))
    out = task.step(state, joint)
    assert out.failure != "collision" and not out.feedback


@SETTINGS
@given(scenes())
def test_validate_plan_never_raises_and_blames_named_agents(scene) -> None:
    task, state, joint = scene
    errors = task.validate_plan(state, Plan(tuple(joint.items())))
    assert all(e.agent in joint or e.agent is None for e in errors)
    doable = task.doable(state)
    if all(x in doable.get(a, []) for a, x in joint.items()) and isinstance(task, GridEasy):
        assert not errors  # Easy: every doable line passes the check
    for agent in joint:
        if agent in task.agents:
            task.rule_gate(state, Plan(tuple(joint.items())), agent)


@SETTINGS
@given(scenes())
def test_rl_mask_is_exactly_the_doable_list(scene) -> None:
    task, state, _ = scene
    view = task.arrays(state)
    n = len(task.agents)
    assert view.obs.shape == (n, task.obs_dim) and view.state.shape == (task.state_dim,)
    assert view.mask.shape == (n, task.n_actions) and view.mask[:, 0].all()
    doable = task.doable(state)
    picked: dict[str, list[str]] = {a: [] for a in task.agents}
    for a in range(1, task.n_actions):
        joint = task.actions_from_indices(state, [a] * n)  # agents map indices independently
        for c, agent in enumerate(task.agents):
            assert (agent in joint) == bool(view.mask[c, a])
            picked[agent] += [joint[agent]] if agent in joint else []
    assert {a: sorted(x) for a, x in picked.items()} == {a: sorted(x) for a, x in doable.items()}


def test_step_limit_and_success_before_the_last_step() -> None:
    task = GridEasy.from_state_dict(1, 2, {"0_0": ["box_red", "target_red"], "0_1": []}, step_limit=3)
    finish = {"Agent[0, 0]": "move(box_red, target_red)"}
    assert task.step(task.state_from_dict(task.state_dict(task.initial_state()), t=1), finish).success
    late = task.step(task.state_from_dict(task.state_dict(task.initial_state()), t=2), finish)
    assert late.done and not late.success and late.failure == "step_limit"
    idle = task.step(task.state_from_dict(task.state_dict(task.initial_state()), t=2), {})
    assert idle.done and idle.failure == "step_limit"
    assert not task.step(task.initial_state(), {}).done


@SETTINGS
@given(scenes())
def test_gate_fix_is_doable_and_passes_the_gate(scene) -> None:
    task, state, _ = scene
    doable = task.doable(state)
    for agent, actions in doable.items():
        for line in actions:
            verdict = task.rule_gate(state, Plan(((agent, line),)), agent)
            fix = getattr(verdict, "fix", None)
            if fix is not None:
                assert fix in actions, (agent, line, fix)
                assert isinstance(task.rule_gate(state, Plan(((agent, fix),)), agent), Agree)


@given(scenes())
def test_an_idle_agents_volunteered_move_is_doable_and_brings_its_box_closer(scene) -> None:
    task, state, _ = scene
    doable = task.doable(state)
    for agent in task.agents:
        move = task.idle_move(state, agent)
        if move is None:
            continue
        assert move in doable[agent]
        # the gate agrees with it as the agent's only line: it matches or brings the box strictly closer
        assert isinstance(task.rule_gate(state, Plan(((agent, move),)), agent), Agree)
        assert task.validate_plan(state, Plan(((agent, move),))) == ()
