"""Pins for each deviation listed in the grid module docstrings, and for the views, gates and metrics."""

from __future__ import annotations

import pytest

from tasks.base import WITHDRAW, Agree, DirectFeedback, Plan, PlanErrorKind, Suspicious, TaskError
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tests.tasks.task_protocol import behaves_as_a_task

SMALL_EASY = {"0_0": ["box_red", "target_red", "target_blue"], "0_1": [], "1_0": ["box_blue"], "1_1": []}


def easy(d: dict | None = None, rows: int = 2, cols: int = 2) -> tuple[GridEasy, object]:
    task = GridEasy.from_state_dict(rows, cols, d or SMALL_EASY)
    return task, task.initial_state()


def hard(boxes: dict[str, str], targets: dict[str, str], rows: int = 2, cols: int = 2):
    places = {f"{i + 0.5}_{j + 0.5}": [] for i in range(rows) for j in range(cols)}
    places.update({f"{float(x)}_{float(y)}": [] for x in range(rows + 1) for y in range(cols + 1)})
    for key, box in boxes.items():
        places[key].append(box)
    for key, target in targets.items():
        places[key].append(target)
    task = GridHard.from_state_dict(rows, cols, places)
    return task, task.initial_state()


def errors_of(task, state, joint: dict) -> dict:
    return {e.agent: e.kind for e in task.validate_plan(state, Plan(tuple(joint.items())))}


# ------------------------------------------------------------------------------ Easy deviations
def test_easy_target_is_never_moved() -> None:
    task, state = easy()
    out = task.step(state, {"Agent[0, 0]": "move(target_blue, square[1, 0])"})
    assert out.state.places == state.places and out.feedback == ("Your assigned task for 0_0 is not in the doable action list; ",)
    assert errors_of(task, state, {"Agent[0, 0]": "move(target_blue, square[1, 0])"}) == {"Agent[0, 0]": PlanErrorKind.NOT_DOABLE}


def test_easy_half_coordinates_do_not_act_on_another_square() -> None:
    task = GridEasy.from_instance(4, 8, 0)
    state = task.initial_state()
    out = task.step(state, {"Agent[0.5, 0.5]": "move(box_green, square[0, 6])"})
    assert out.state.places == state.places and len(out.feedback) == 1 and not out.done
    joint = {"Agent[0, 4]": "move(box_blue, square[0.5, 1.5])"}
    assert task.step(state, joint).state.places == state.places
    assert errors_of(task, state, {"Agent[0.5, 0.5]": "move(box_green, square[0, 6])"}) == {
        "Agent[0.5, 0.5]": PlanErrorKind.UNKNOWN_AGENT}


def test_easy_off_grid_agent_is_feedback_not_a_crash() -> None:
    task, state = easy()
    for key in ("Agent[2, 0]", "Agent[0, 7]", "Agent[-1, 0]", "nobody"):
        out = task.step(state, {key: "move(box_red, square[1, 0])"})
        assert out.state.places == state.places and len(out.feedback) == 1 and not out.done
        assert errors_of(task, state, {key: "move(box_red, square[1, 0])"}) == {key: PlanErrorKind.UNKNOWN_AGENT}
    edge = task.step(state, {"Agent[0, 1]": "move(box_red, square[0, 2])"})  # off-grid destination
    assert edge.state.places == state.places and len(edge.feedback) == 1


def test_easy_multi_digit_coordinates_work_on_a_10x12_grid() -> None:
    d = {f"{i}_{j}": [] for i in range(10) for j in range(12)}
    d["9_10"] = ["box_red"]
    d["9_11"] = ["target_red"]
    task, state = easy(d, 10, 12)
    assert task.doable(state)["Agent[9, 10]"] == ["move(box_red, square[8, 10])", "move(box_red, square[9, 9])",
                                                  "move(box_red, square[9, 11])"]
    plan = task.parse_plan('{"Agent[9, 10]": "move(box_red, square[9, 11])"}')
    out = task.step(state, plan.as_dict())
    assert out.state.places[9 * 12 + 11] == ("target_red", "box_red")
    assert task.step(out.state, {"Agent[9, 11]": "move(box_red, target_red)"}).success


def test_malformed_entries_get_feedback_instead_of_being_dropped() -> None:
    task, state = easy()
    out = task.step(state, {"Agent[0, 0]": "stay", "Agent[1, 0]": "move(box_blue, square[1, 1])"})
    assert out.feedback == ("Your assigned task for 0_0 is not in the doable action list; ",)
    assert out.state.places[3] == ("box_blue",)
    task_h, state_h = hard({"1.0_1.0": "box_blue"}, {"1.5_1.5": "target_blue"})
    out = task_h.step(state_h, {"Agent[0.5, 0.5]": "stay"})
    assert out.feedback == ("Your assigned task for 0.5_0.5 is not in the doable action list; ",)
    assert errors_of(task_h, state_h, {"Agent[0.5, 0.5]": "stay"}) == {"Agent[0.5, 0.5]": PlanErrorKind.MALFORMED_ACTION}


def test_easy_doable_lists_each_action_once() -> None:
    task, state = easy({"0_0": ["box_red", "box_red", "target_red"], "0_1": [], "1_0": [], "1_1": []})
    assert task.doable(state)["Agent[0, 0]"] == ["move(box_red, square[1, 0])", "move(box_red, square[0, 1])",
                                                 "move(box_red, target_red)"]
    assert task.authors_doable_text(state).count("move(box_red, target_red)") == 2


# ------------------------------------------------------------------------------ Hard deviations
def test_hard_single_coordinate_position_is_feedback_not_a_crash() -> None:
    task, state = hard({"1.0_1.0": "box_blue"}, {"1.5_1.5": "target_blue"})
    out = task.step(state, {"Agent[0.5, 0.5]": "move(box_blue, position[1.0])"})
    assert out.state.places == state.places and len(out.feedback) == 1 and not out.done
    assert errors_of(task, state, {"Agent[0.5, 0.5]": "move(box_blue, position[1.0])"}) == {
        "Agent[0.5, 0.5]": PlanErrorKind.MALFORMED_ACTION}


def test_hard_check_reports_box_not_on_corners_and_one_box_moved_twice() -> None:
    task, state = hard({"1.0_1.0": "box_blue"}, {"1.5_1.5": "target_blue"})
    assert errors_of(task, state, {"Agent[0.5, 1.5]": "move(box_red, position(0.0, 1.0))"}) == {
        "Agent[0.5, 1.5]": PlanErrorKind.NOT_DOABLE}
    twice = {"Agent[0.5, 0.5]": "move(box_blue, position(1.0, 0.0))", "Agent[1.5, 0.5]": "move(box_blue, position(2.0, 0.0))"}
    assert errors_of(task, state, twice) == {"Agent[1.5, 0.5]": PlanErrorKind.CONFLICT}
    # the environment itself follows the authors: sequential, so the box moves twice
    assert task.step(state, twice).state.places[task.corner_index(2, 0)] == ("box_blue",)


def test_hard_occupied_corner_is_a_collision_unless_vacated_in_the_same_step() -> None:
    task, state = hard({"0.0_0.0": "box_red", "1.0_1.0": "box_blue"}, {})
    into = {"Agent[0.5, 0.5]": "move(box_red, position(1.0, 1.0))"}
    assert "move(box_red, position(1.0, 1.0))" not in task.doable(state)["Agent[0.5, 0.5]"]
    out = task.step(state, into)
    assert out.done and out.failure == "collision" and out.state.places == state.places
    assert errors_of(task, state, into) == {None: PlanErrorKind.CONFLICT}
    vacate = {**into, "Agent[1.5, 1.5]": "move(box_blue, position(2.0, 2.0))"}
    assert not task.step(state, vacate).done and not errors_of(task, state, vacate)


def test_hard_direct_feedback_never_names_an_agent_outside_the_grid() -> None:
    # The authors' candidates for corner (2, 2) of a 2x2 grid start with Agent[2.5, 2.5] (outside).
    task, state = hard({"2.0_2.0": "box_red", "1.0_2.0": "box_blue", "2.0_1.0": "box_green", "1.0_1.0": "box_orange"},
                       {"1.5_1.5": "target_purple"})
    assert task.best_agent((2.0, 2.0), []) == "Agent[1.5, 1.5]"
    assert task.best_agent((0.0, 0.0), [(1.5, 1.5)]) == "Agent[0.5, 0.5]"
    line = Plan((("Agent[1.5, 1.5]", "move(box_red, position(1.0, 1.0))"),))
    gate = task.rule_gate(state, line, "Agent[1.5, 1.5]")  # no target_red anywhere
    assert isinstance(gate, Suspicious) and "no target_red" in gate.reason
    task, state = hard({"2.0_2.0": "box_red", "1.0_2.0": "box_blue", "2.0_1.0": "box_green", "1.0_1.0": "box_orange"},
                       {"0.5_0.5": "target_red"})
    gate = task.rule_gate(state, line, "Agent[1.5, 1.5]")  # every corner of this cell is taken
    assert isinstance(gate, DirectFeedback)
    assert gate.text.endswith("Let Agent[1.5, 1.5] move the box to achieve the goal.")
    # the lean preset's paired gate says the same as a fix: here no other move of its own helps, so it withdraws
    paired = task.rule_gate(state, line, "Agent[1.5, 1.5]", "paired")
    assert paired == Suspicious(gate.text, WITHDRAW)


# ------------------------------------------------------------------------------------ rule gate
def test_easy_rule_gate_agrees_only_with_progress() -> None:
    task, state = easy({"0_0": [], "0_1": ["box_red"], "1_0": [], "1_1": ["target_red", "box_blue", "target_blue"]})
    gate = lambda line, agent: task.rule_gate(state, Plan(((agent, line),)), agent)  # noqa: E731
    assert isinstance(gate("move(box_red, square[1, 1])", "Agent[0, 1]"), Agree)
    assert isinstance(gate("move(box_red, square[0, 0])", "Agent[0, 1]"), Suspicious)
    assert isinstance(gate("move(box_blue, target_blue)", "Agent[1, 1]"), Agree)
    assert isinstance(gate("move(box_blue, square[0, 1])", "Agent[1, 1]"), Suspicious)
    assert isinstance(gate("move(box_green, square[0, 1])", "Agent[1, 1]"), Suspicious)
    assert isinstance(task.rule_gate(state, Plan(()), "Agent[0, 0]"), Agree)


def test_easy_rule_gate_fix_is_the_same_boxs_match_or_a_move_closer() -> None:
    task, state = easy({"0_0": ["box_green"], "0_1": ["box_red"], "1_0": [],
                        "1_1": ["target_red", "box_blue", "target_blue"]})
    gate = lambda line, agent: task.rule_gate(state, Plan(((agent, line),)), agent)  # noqa: E731
    away = gate("move(box_blue, square[0, 1])", "Agent[1, 1]")  # target_blue is in its own square
    assert isinstance(away, Suspicious) and away.fix == "move(box_blue, target_blue)"
    assert "distance 0 -> 1" in away.reason
    astray = gate("move(box_red, square[0, 0])", "Agent[0, 1]")  # the red target is below, not left
    assert isinstance(astray, Suspicious) and astray.fix == "move(box_red, square[1, 1])"
    assert isinstance(gate(astray.fix, "Agent[0, 1]"), Agree)
    nowhere = gate("move(box_green, square[1, 0])", "Agent[0, 0]")  # no green target on the board
    assert isinstance(nowhere, Suspicious) and nowhere.fix is None


def test_hard_rule_gate_flags_a_local_collision() -> None:
    task, state = hard({"0.0_0.0": "box_red", "2.0_0.0": "box_green"}, {"1.5_1.5": "target_red", "0.5_1.5": "target_green"})
    plan = Plan((("Agent[0.5, 0.5]", "move(box_red, position(1.0, 1.0))"),
                 ("Agent[1.5, 0.5]", "move(box_green, position(1.0, 1.0))")))
    gate = task.rule_gate(state, plan, "Agent[0.5, 0.5]")
    assert isinstance(gate, Suspicious) and "multiple boxes" in gate.reason
    alone = Plan(plan.assignments[:1])
    assert isinstance(task.rule_gate(state, alone, "Agent[0.5, 0.5]"), Agree)


def test_hard_rule_gate_fix_is_the_nearest_free_corner() -> None:
    task, state = hard({"1.0_0.0": "box_red"}, {"1.5_1.5": "target_red"})
    gate = lambda line: task.rule_gate(state, Plan((("Agent[0.5, 0.5]", line),)), "Agent[0.5, 0.5]")  # noqa: E731
    astray = gate("move(box_red, position(0.0, 0.0))")  # away from the target at (1.5, 1.5)
    assert isinstance(astray, Suspicious) and astray.fix == "move(box_red, position(1.0, 1.0))"
    assert astray.fix in task.doable(state)["Agent[0.5, 0.5]"]
    assert isinstance(gate(astray.fix), Agree)


# ---------------------------------------------------------------------------- views and others
@pytest.mark.parametrize("cls", [GridEasy, GridHard])
def test_views_are_compact_and_complete(cls) -> None:
    task = cls.from_instance(4, 8, 0)
    state = task.initial_state()
    behaves_as_a_task(task)
    view = task.planner_view(state)
    doable = task.doable(state)
    for agent, acts in doable.items():
        assert (f"{agent}: " in view) == bool(acts)
        assert all(a in view for a in acts)
    assert len(view) < len(task.authors_doable_text(state))
    agent = next(a for a, acts in doable.items() if acts)
    plan = Plan(((agent, doable[agent][0]),))
    actor = task.actor_view(state, agent, plan)
    assert agent in actor and doable[agent][0] in actor and "target_" in actor
    assert str(task.step_limit) in task.rules_text() and task.state_text(state).startswith("Step 0/40.")


def test_instances_sizes_and_limits() -> None:
    assert GridEasy.from_instance(2, 4, 3).step_limit == 30 and GridHard.from_instance(4, 8, 9).step_limit == 40
    assert GridEasy.from_seed(4, 4, 1).step_limit == 30 and GridHard.from_seed(10, 12, 1).step_limit == 40
    assert GridEasy.from_instance(2, 2, 0).agents[:2] == ("Agent[0, 0]", "Agent[0, 1]")
    assert GridHard.from_instance(2, 2, 0).agents[-1] == "Agent[1.5, 1.5]"
    with pytest.raises(TaskError, match="no golden instance"):
        GridEasy.from_instance(3, 3, 0)
    with pytest.raises(TaskError, match="no golden instance"):
        GridHard.from_instance(2, 2, 10)
    with pytest.raises(TaskError, match="at least 1x1"):
        GridEasy.from_seed(0, 3, 1)
    with pytest.raises(TaskError, match="does not fit"):
        GridEasy.from_state_dict(2, 3, SMALL_EASY)
    assert GridHard.from_instance(2, 2, 6).initial_state().boxes() == 4  # the generator dropped orange


def test_episode_metrics_count_boxes_and_skips() -> None:
    task, state = easy()
    outs = [task.step(state, {"Agent[0, 0]": "move(box_red, target_red)", "Agent[1, 1]": "stay"})]
    m = task.episode_metrics([state, outs[0].state], outs)
    assert m["boxes_initial"] == 2 and m["boxes_left"] == 1 and m["boxes_matched"] == 1
    assert m["skipped_assignments"] == 1 and m["collisions"] == 0
    assert outs[0].rewards["Agent[0, 1]"] > 0


def test_easy_paired_gate_sends_each_box_to_its_own_target() -> None:
    """Two red boxes, two red targets: the paper's gate lets the second box head for the first box's
    target (nearest); the paired gate sends it to the other one, as the greedy planner pairs them."""
    task, state = easy({"0_0": ["target_red"], "0_1": ["box_red"], "0_2": ["box_red"], "0_3": [], "0_4": [],
                        "0_5": ["target_red"]}, rows=1, cols=6)
    assert task.goal_cells(state, 2, "red", "nearest") == [0, 5]
    assert task.goal_cells(state, 2, "red", "paired") == [5] and task.goal_cells(state, 1, "red", "paired") == [0]
    left = Plan((("Agent[0, 2]", "move(box_red, square[0, 1])"),))
    assert isinstance(task.rule_gate(state, left, "Agent[0, 2]"), Agree)
    doubt = task.rule_gate(state, left, "Agent[0, 2]", "paired")
    assert isinstance(doubt, Suspicious) and doubt.fix == "move(box_red, square[0, 3])"
    assert "its paired red target" in doubt.reason
    assert task.idle_move(state, "Agent[0, 2]") == "move(box_red, square[0, 1])"
    assert task.idle_move(state, "Agent[0, 2]", "paired") == "move(box_red, square[0, 3])"


def test_easy_paired_volunteer_moves_the_box_with_the_longest_way_first() -> None:
    task, state = easy({"0_0": ["target_blue"], "0_1": ["box_red", "box_blue"], "0_2": [], "0_3": [],
                        "0_4": ["target_red"]}, rows=1, cols=5)
    assert task.idle_move(state, "Agent[0, 1]") == "move(box_blue, square[0, 0])"  # nearest job first
    assert task.idle_move(state, "Agent[0, 1]", "paired") == "move(box_red, square[0, 2])"


@pytest.mark.parametrize("goal, slower", [("nearest", True), ("paired", False)])
def test_gate_only_play_on_easy_4x8_0_against_the_greedy_planner(goal: str, slower: bool) -> None:
    """Every agent plays its own volunteer move each step (the rules without a model): with nearest goals
    two green boxes chase one target and the episode needs more steps than the greedy planner's; with
    paired goals it needs no more."""
    from tasks.baselines.grid_planner import run_greedy

    task = GridEasy.from_instance(4, 8, 0)
    state, steps = task.initial_state(), 0
    while state.boxes() and steps < task.step_limit:
        joint = {a: m for a in task.agents if (m := task.idle_move(state, a, goal)) is not None}
        state, steps = task.step(state, joint).state, steps + 1
    greedy = run_greedy(GridEasy.from_instance(4, 8, 0))[1]
    assert state.boxes() == 0
    assert (steps > greedy) is slower, (steps, greedy)


@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (2, 4), (4, 8)])
def test_gate_only_play_solves_every_hard_golden_instance(rows: int, cols: int) -> None:
    """Hard's volunteers alone (each idle agent's own move, kept in agent order while the plan passes the
    check, as ``actor_gate="apply"`` keeps them) solve the 10 golden instances without a collision: what the
    lean preset falls back on when it withdraws the model's useless lines."""
    for instance in range(10):
        task = GridHard.from_instance(rows, cols, instance)
        state, outcome = task.initial_state(), None
        for _ in range(task.step_limit):
            plan = Plan(())
            for agent in task.agents:
                move = task.idle_move(state, agent)
                longer = Plan(plan.assignments + ((agent, move),)) if move is not None else plan
                if move is not None and not task.validate_plan(state, longer):
                    plan = longer
            assert plan.assignments, f"Hard {rows}x{cols} #{instance}: no volunteer while boxes are left"
            outcome = task.step(state, dict(plan.assignments))
            state = outcome.state
            if outcome.done:
                break
        assert outcome is not None and outcome.success, (rows, cols, instance)
