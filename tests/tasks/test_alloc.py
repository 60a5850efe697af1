"""System Resource Allocation: the Gaussian squeeze, its instance draw, metrics, plans and rule gate."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.alloc import AllocState, ResourceAllocation, hill_climb_total, spread_total
from tasks.base import Agree, DirectFeedback, Plan, PlanError, PlanErrorKind, Suspicious, TaskError
from tasks.baselines.alloc_hill_climber import AllocHillClimber
from tests.tasks.task_protocol import behaves_as_a_task, plain


def play(task: ResourceAllocation, totals: list[int]) -> tuple[AllocState, list]:
    state, outcomes = task.initial_state(), []
    for total in totals:
        amounts = spread_total(total, task.n_agents)
        outcome = task.step(state, {a: str(x) for a, x in zip(task.agents, amounts, strict=True)})
        outcomes.append(outcome)
        state = outcome.state
    return state, outcomes


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 80), st.integers(0, 2**32 - 1))
def test_g_peaks_at_x_star_within_the_action_range(n: int, seed: int) -> None:
    task = ResourceAllocation(n, seed)
    assert 0.2 * 9 * n <= task.mu <= 0.8 * 9 * n and task.sigma == pytest.approx(task.mu / 2)
    assert 0 < task.x_star <= task.max_total
    xs = np.arange(task.max_total + 1)
    g = task.reward(xs)
    assert g.max() <= task.g_star * (1 + 1e-12)
    assert int(np.argmax(g)) in (math.floor(task.x_star), math.ceil(task.x_star))
    fine = np.linspace(0, task.max_total, 4001)  # x* is the continuous argmax too, not just near it
    assert task.reward(fine).max() <= task.g_star * (1 + 1e-12)


def test_instance_is_determined_by_its_seed() -> None:
    a, b, c = ResourceAllocation(10, 7), ResourceAllocation(10, 7), ResourceAllocation(10, 8)
    assert (a.mu, a.sigma, a.x_star) == (b.mu, b.sigma, b.x_star)
    assert a.mu != c.mu
    assert a.rho == float(np.random.default_rng(7).uniform(0.2, 0.8))
    totals = [45, 30, 60, 52]
    sa, _ = play(a, totals)
    sb, _ = play(b, totals)
    assert sa == sb


def test_everyone_gets_the_shared_reward_of_the_total() -> None:
    task = ResourceAllocation(3, 0)
    outcome = task.step(task.initial_state(), {"Agent[0]": "9", "Agent[1]": "4", "Agent[2]": "0"})
    g = 13 * math.exp(-((13 - task.mu) ** 2) / task.sigma**2)
    assert outcome.rewards == {agent: pytest.approx(g) for agent in task.agents}
    assert outcome.state.history == ((13, pytest.approx(g)),) and outcome.state.amounts == (9, 4, 0)
    assert outcome.info["normalised"] == pytest.approx(g / task.g_star)


def test_missing_agents_repeat_last_amount_and_bad_amounts_are_skipped() -> None:
    task = ResourceAllocation(3, 0)
    state = task.step(task.initial_state(), {"Agent[0]": "5", "Agent[1]": "5", "Agent[2]": "5"}).state
    outcome = task.step(state, {"Agent[1]": "12", "Agent[2]": "1"})
    assert outcome.state.amounts == (5, 5, 1) and outcome.state.last_total == 11
    assert len(outcome.feedback) == 1 and "Agent[1]" in outcome.feedback[0]


def test_episode_runs_twenty_steps_and_scores_success_steps_and_regret() -> None:
    task = ResourceAllocation(5, 3)
    best = int(np.argmax(task.reward(np.arange(task.max_total + 1))))
    totals = [0, 0, 0, best] + [best] * 16
    state, outcomes = play(task, totals)
    assert state.done and state.t == 20 and outcomes[-1].done
    assert not any(o.done for o in outcomes[:-1])
    assert outcomes[-1].success and outcomes[-1].failure is None
    metrics = task.episode_metrics([task.initial_state()], outcomes)
    assert metrics["success"] == 1.0 and metrics["steps_to_095"] == 4.0
    curve = [task.normalised(x) for x in totals]
    assert metrics["regret"] == pytest.approx(sum(1 - c for c in curve))
    assert metrics["regret"] > 3.0  # three wasted steps at x = 0
    with pytest.raises(TaskError):
        task.step(state, {})


def test_never_reaching_the_level_is_a_failure() -> None:
    task = ResourceAllocation(5, 3)
    _, outcomes = play(task, [task.max_total] * 20)
    metrics = task.episode_metrics([], outcomes)
    assert not outcomes[-1].success and outcomes[-1].failure == "not_reached"
    assert metrics["success"] == 0.0 and metrics["regret"] > 19


def test_array_view_scales_observations_into_unit_range() -> None:
    task = ResourceAllocation(4, 2)
    state = task.step(task.initial_state(), {"Agent[0]": "9", "Agent[1]": "3"}).state
    view = task.arrays(state)
    assert view.obs.shape == (4, 4) and view.state.shape == (3 + 4,) and view.mask.shape == (4, 10)
    assert view.obs[0].tolist() == pytest.approx([1 / 20, 1.0, 12 / 36, state.last_reward / 36])
    assert view.obs[1, 1] == pytest.approx(3 / 9)
    assert 0.0 <= view.obs.min() and view.obs.max() <= 1.0
    assert task.actions_from_indices(state, [1, 2, 3, 4]) == {f"Agent[{i}]": str(i + 1) for i in range(4)}


def test_parse_plan_reads_ints_and_numeric_strings() -> None:
    task = ResourceAllocation(3, 0)
    plan = task.parse_plan('Here: ```json\n{"Agent[0]": 3, "Agent[1]": "4", "Agent[ 2 ]": 5.0}\n```')
    assert isinstance(plan, Plan) and plan.as_dict() == {"Agent[0]": "3", "Agent[1]": "4", "Agent[2]": "5"}
    for text, kind in [
        ("three please", PlanErrorKind.NOT_JSON),
        ('{"Agent[7]": 3}', PlanErrorKind.UNKNOWN_AGENT),
        ('{"Agent[0]": "a lot"}', PlanErrorKind.MALFORMED_ACTION),
        ('{"Agent[0]": 2.5}', PlanErrorKind.MALFORMED_ACTION),
        ('{"Agent[0]": true}', PlanErrorKind.MALFORMED_ACTION),
    ]:
        error = task.parse_plan(text)
        assert isinstance(error, PlanError) and error.kind is kind, text


def test_validate_plan_flags_out_of_range_amounts_only() -> None:
    task = ResourceAllocation(3, 0)
    state = task.initial_state()
    plan = task.parse_plan('{"Agent[0]": 10, "Agent[1]": -1}')
    assert isinstance(plan, Plan)
    errors = task.validate_plan(state, plan)
    assert [(e.agent, e.kind) for e in errors] == [("Agent[0]", PlanErrorKind.NOT_DOABLE),
                                                    ("Agent[1]", PlanErrorKind.NOT_DOABLE)]
    assert task.validate_plan(state, Plan((("Agent[2]", "9"),))) == ()


def test_rule_gate_questions_repeating_a_move_that_lowered_the_reward() -> None:
    task = ResourceAllocation(2, 0)
    best = int(np.argmax(task.reward(np.arange(task.max_total + 1))))
    high = min(task.max_total, best + 4)
    state, _ = play(task, [best, high])  # raising the total past the peak lowered the reward
    assert state.history[1][1] < state.history[0][1]
    more = Plan((("Agent[0]", str(state.amounts[0] + 1)), ("Agent[1]", str(state.amounts[1]))))
    assert isinstance(task.rule_gate(state, more, "Agent[0]"), Suspicious)
    assert task.rule_gate(state, more, "Agent[1]") == Agree()  # its own line did not move
    back = Plan((("Agent[0]", str(max(0, state.amounts[0] - 2))),))
    assert task.rule_gate(state, back, "Agent[0]") == Agree()
    wild = Plan((("Agent[0]", "11"),))
    assert isinstance(task.rule_gate(state, wild, "Agent[0]"), DirectFeedback)


def _stuck(state: AllocState, task: ResourceAllocation) -> Plan:
    """The plan a small model keeps giving: every agent repeats its last amount."""
    return Plan(tuple((a, str(x)) for a, x in zip(task.agents, state.amounts, strict=True)))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), seed=st.integers(0, 10_000), totals=st.lists(st.integers(0, 9 * 60), max_size=6))
def test_paired_gate_fixes_a_plan_that_does_not_move_to_the_hill_climbers_next_total(n: int, seed: int, totals: list[int]) -> None:
    task = ResourceAllocation(n, seed)
    state, _ = play(task, [min(x, task.max_total) for x in totals])
    probe = hill_climb_total(state.history, task.max_total)
    verdicts = {a: task.rule_gate(state, _stuck(state, task), a, "paired") for a in task.agents}
    fixed = [int(v.fix) if isinstance(v, Suspicious) and v.fix is not None else x
             for v, x in zip(verdicts.values(), state.amounts, strict=True)]
    if state.last_total == probe:  # the plan already stays on the total to try: nothing to fix
        assert all(v == Agree() for v in verdicts.values())
    else:  # every actor computes the same split, so the fixed plan's total is the probe itself
        assert any(isinstance(v, Suspicious) for v in verdicts.values())
        assert sum(fixed) == probe and fixed == spread_total(probe, n)
    assert all(not isinstance(v, DirectFeedback) for v in verdicts.values())


def test_paired_gate_agrees_with_a_plan_that_moves_towards_the_next_total_and_keeps_the_range_check() -> None:
    task = ResourceAllocation(10, 3)
    state, _ = play(task, [20])
    probe = hill_climb_total(state.history, task.max_total)
    assert probe > 20
    closer = Plan(tuple((a, str(x)) for a, x in zip(task.agents, spread_total(min(probe, 20 + 5), 10), strict=True)))
    assert all(task.rule_gate(state, closer, a, "paired") == Agree() for a in task.agents)
    away = Plan(tuple((a, str(x)) for a, x in zip(task.agents, spread_total(10, 10), strict=True)))
    verdict = task.rule_gate(state, away, "Agent[0]", "paired")
    assert isinstance(verdict, Suspicious) and verdict.fix == str(spread_total(probe, 10)[0])
    assert "towards" in verdict.reason
    wild = Plan((("Agent[0]", "11"),))
    assert isinstance(task.rule_gate(state, wild, "Agent[0]", "paired"), DirectFeedback)


def test_hill_climb_total_does_not_count_a_repeat_of_the_best_total_as_a_failed_probe() -> None:
    # alloc N=5 seed 2 in the comparison sweep: the model's plan kept going back to its first total, 25
    history = [(25, 7.249), (36, 0.076)]  # the probe up did worse: next, 25 - 11 below
    assert hill_climb_total(history, 45) == 14
    assert hill_climb_total([*history, (25, 7.249)], 45) == 14  # the repeat says nothing about 14


def test_rules_text_hides_mu_and_sigma() -> None:
    task = ResourceAllocation(5, 1)
    text = task.rules_text() + task.planner_view(task.initial_state())
    assert f"{task.mu:.3g}" not in text and "mu" not in text and "sigma" not in text
    behaves_as_a_task(task)


@pytest.mark.parametrize(("n", "seed"), [(0, 0), (-3, 0), (2, -1), ("5", 0), (2, 1.5)])
def test_bad_parameters_raise_task_error(n: object, seed: object) -> None:
    with pytest.raises(TaskError):
        ResourceAllocation(n, seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [5, 50])
def test_hill_climber_baseline_reaches_the_level_on_most_seeds(n: int) -> None:
    """A weak bar on purpose: the point is that the baseline climbs, not a tuned figure."""
    climber, reached = AllocHillClimber(), 0
    for seed in range(20):
        task = ResourceAllocation(n, seed)
        state, outcomes = task.initial_state(), []
        while not state.done:
            decision = asyncio.run(climber.decide(task, state, ()))
            outcomes.append(task.step(state, decision.joint_action))
            state = outcomes[-1].state
        reached += task.episode_metrics([], outcomes)["success"]
    assert reached >= 18


def test_spread_total_is_even_and_exact() -> None:
    assert spread_total(23, 5) == [5, 5, 5, 4, 4]
    assert sum(spread_total(449, 50)) == 449 and max(spread_total(449, 50)) <= 9


def test_states_and_outcomes_hold_only_builtin_types() -> None:
    task = ResourceAllocation(5, 0)
    _, outcomes = play(task, [22, 30])
    assert all(plain(o) for o in outcomes)
    assert plain(task.episode_metrics([], outcomes))


def test_hill_climber_plays_only_the_allocation_task() -> None:
    from tasks.matrix import MatrixGame

    game = MatrixGame("mixing")
    with pytest.raises(TaskError, match="allocation task only"):
        asyncio.run(AllocHillClimber().decide(game, game.initial_state(), []))
