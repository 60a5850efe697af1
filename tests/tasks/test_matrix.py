"""The STEER matrix games: payoffs, dynamics and the equilibria data checked by independent induction."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.base import Agree, Plan, PlanError, PlanErrorKind, TaskError
from tasks.baselines.matrix_oracle import MatrixGreedy
from tasks.matrix import GAMES, MatrixGame
from tests.tasks.task_protocol import behaves_as_a_task, plain

PENALTY_KS = (0, -25, -50, -75, -100, -1000)
ALL = [MatrixGame("penalty", k) for k in PENALTY_KS] + [MatrixGame(g) for g in GAMES[1:]]


def ids(game: MatrixGame) -> str:
    return game.name


def joint(a0: int, a1: int) -> dict[str, str]:
    return {"Agent[0]": str(a0), "Agent[1]": str(a1)}


def follower_reply(q: np.ndarray, a0: int) -> int:
    """Follower's best response to a0; ties broken in the leader's favour (strong Stackelberg)."""
    best = q[1, a0].max()
    candidates = [a1 for a1 in range(q.shape[-1]) if q[1, a0, a1] == best]
    return max(candidates, key=lambda a1: q[0, a0, a1])


def backward_induction(game: MatrixGame) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Stackelberg values (leader = agent 0) of the whole game and the equilibrium path from step 0.

    Uses only the game's transition (``batch_step``) on every (step, branch, joint), so it checks the
    equilibria written in the module against the payoffs rather than against themselves.
    """
    n = game.n_actions
    value: dict[tuple[int, int], np.ndarray] = {}
    policy: dict[tuple[int, int], tuple[int, int]] = {}
    for t in reversed(range(game.steps)):
        for b in (0, 1):
            q = np.zeros((2, n, n))
            for a0, a1 in itertools.product(range(n), range(n)):
                r, nb, done = game.batch_step(np.array([t]), np.array([b]), np.array([a0]), np.array([a1]))
                later = np.zeros(2) if done[0] else value[(t + 1, int(nb[0]))]
                q[:, a0, a1] = r[0] + later
            replies = [follower_reply(q, a0) for a0 in range(n)]
            lead = max(range(n), key=lambda a0: q[0, a0, replies[a0]])
            policy[(t, b)] = (lead, replies[lead])
            value[(t, b)] = q[:, lead, replies[lead]]
    path, state = [], game.initial_state()
    while not state.done:
        path.append(policy[(state.t, state.branch)])
        state = game.step(state, joint(*path[-1])).state
    return value[(0, 0)], path


def best_mean_return(game: MatrixGame) -> float:
    n, best = game.n_actions, {}
    for t in reversed(range(game.steps)):
        for b in (0, 1):
            options = []
            for a0, a1 in itertools.product(range(n), range(n)):
                r, nb, done = game.batch_step(np.array([t]), np.array([b]), np.array([a0]), np.array([a1]))
                options.append(r[0].mean() + (0.0 if done[0] else best[(t + 1, int(nb[0]))]))
            best[(t, b)] = max(options)
    return float(best[(0, 0)])


def pure_nash(payoff: np.ndarray) -> set[tuple[int, int]]:
    n = payoff.shape[-1]
    return {
        (a0, a1)
        for a0, a1 in itertools.product(range(n), range(n))
        if payoff[0, a0, a1] >= payoff[0, :, a1].max() and payoff[1, a0, a1] >= payoff[1, a0, :].max()
    }


@pytest.mark.parametrize("game", ALL, ids=ids)
def test_stackelberg_data_matches_backward_induction(game: MatrixGame) -> None:
    value, path = backward_induction(game)
    assert tuple(value) == pytest.approx(game.se_returns)
    assert path[-1] == game.stackelberg
    assert game.se_value == pytest.approx(float(np.mean(value)))


@pytest.mark.parametrize("game", ALL, ids=ids)
def test_se_path_reaches_se_returns_and_counts_as_converged(game: MatrixGame) -> None:
    state = game.initial_state()
    for a in game.se_path:
        outcome = game.step(state, joint(*a))
        state = outcome.state
    assert state.done and outcome.success
    assert state.returns == pytest.approx(game.se_returns)
    assert game.episode_metrics([game.initial_state()], [outcome])["score"] == pytest.approx(game.se_value)


@pytest.mark.parametrize("game", ALL, ids=ids)
def test_pure_nash_and_optimum_data_match_payoffs(game: MatrixGame) -> None:
    assert pure_nash(game.payoff) == set(game.pure_nash)
    means = game.payoff.mean(axis=0)
    assert {tuple(map(int, c)) for c in np.argwhere(means == means.max())} == set(game.optimum)
    assert best_mean_return(game) == pytest.approx(game.optimum_value)


def test_spec_values() -> None:
    """The numbers tasks.md states, so a payoff typo cannot hide behind self-consistent data."""
    assert MatrixGame("penalty", -100).payoff[0].tolist() == [[-100, 0, 10], [0, 2, 0], [8, 0, -100]]
    assert MatrixGame("penalty", -1000).se_value == 10
    assert MatrixGame("mixing").se_value == 2.5
    assert MatrixGame("mixing").pure_nash == ((1, 1),)
    assert float(MatrixGame("mixing").payoff[:, 1, 1].mean()) == -2.5
    coordination = MatrixGame("coordination")
    assert coordination.se_returns == (29.0, 24.0) and coordination.optimum_value == 26.5
    assert coordination.stackelberg == (2, 0)
    assert MatrixGame("cooperation").optimum_value == 13
    assert MatrixGame("penalty", -0.0).name == "penalty_k0"


def test_cooperation_greedy_trap_returns_ten() -> None:
    game = MatrixGame("cooperation")
    result = game.greedy_joint_return(lambda view: (0, 0))
    assert result.returns == (10.0, 10.0) and not result.at_se
    assert len(result.joints) == 10


def test_greedy_joint_return_recognises_coordination_se() -> None:
    game = MatrixGame("coordination")
    result = game.greedy_joint_return(lambda view: (2, 0) if view.obs[0, 9] == 1 else (2, 2))
    assert result.at_se and result.returns == (29.0, 24.0) and result.score == 26.5
    early = game.greedy_joint_return(lambda view: (2, 0))
    assert not early.at_se and early.joints == ((2, 0),) and early.returns == (0.0, 0.0)


def test_step_zero_off_branch_ends_episode() -> None:
    game = MatrixGame("coordination")
    outcome = game.step(game.initial_state(), joint(0, 2))
    assert outcome.done and not outcome.success and outcome.failure == "early_end"
    assert outcome.state.branch == 2


def test_zero_reward_ends_multi_step_episode_early() -> None:
    game = MatrixGame("coordination")
    state = game.step(game.initial_state(), joint(2, 2)).state
    assert state.branch == 1 and not state.done
    state = game.step(state, joint(2, 2)).state
    outcome = game.step(state, joint(0, 0))  # branch 1 pays only (2, 2)
    assert outcome.done and outcome.state.t == 3 and outcome.state.returns == (2.0, 2.0)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["coordination", "cooperation"]), st.data())
def test_batch_step_matches_step_on_random_play(name: str, data: st.DataObject) -> None:
    game = MatrixGame(name)
    state = game.initial_state()
    actions = st.integers(0, game.n_actions - 1)
    while not state.done:
        a0, a1 = data.draw(actions), data.draw(actions)
        before = state
        state = game.step(state, joint(a0, a1)).state
        r, nb, done = game.batch_step(np.array([before.t]), np.array([before.branch]), np.array([a0]), np.array([a1]))
        assert tuple(r[0]) == pytest.approx(np.subtract(state.returns, before.returns))
        assert int(nb[0]) == state.branch and bool(done[0]) == state.done
        assert state.t <= game.steps


def test_batch_step_is_vectorised() -> None:
    game = MatrixGame("coordination")
    rewards, branch, done = game.batch_step(
        np.array([0, 0, 0, 9]), np.array([0, 0, 0, 1]), np.array([0, 2, 1, 2]), np.array([0, 2, 1, 0])
    )
    assert rewards.tolist() == [[1, 1], [1, 1], [0, 0], [20, 15]]
    assert branch.tolist() == [0, 1, 2, 1]
    assert done.tolist() == [False, False, True, True]


def test_observation_layout() -> None:
    game = MatrixGame("coordination")
    state = game.step(game.step(game.initial_state(), joint(2, 2)).state, joint(2, 2)).state
    view = game.arrays(state)
    assert view.obs.shape == (2, 15) and view.state.shape == (15,) and view.mask.all()
    assert np.flatnonzero(view.obs[0]).tolist() == [2, 11 + 1]
    single = MatrixGame("mixing").arrays(MatrixGame("mixing").initial_state())
    assert single.obs.tolist() == [[1.0, 0.0], [1.0, 0.0]]


@pytest.mark.parametrize(
    ("game", "k", "words"),
    [("chess", 0, "unknown matrix game"), ("penalty", 5, "<= 0"), ("mixing", -100, "only to the penalty"),
     ("penalty", float("nan"), "finite number"), ("penalty", "x", "finite number")],
)
def test_bad_games_raise_task_error(game: str, k: object, words: str) -> None:
    with pytest.raises(TaskError, match=words):
        MatrixGame(game, k)  # type: ignore[arg-type]


def test_out_of_range_action_is_refused() -> None:
    game = MatrixGame("cooperation")
    with pytest.raises(TaskError):
        game.step(game.initial_state(), joint(0, 2))
    errors = game.validate_plan(game.initial_state(), Plan((("Agent[0]", "2"),)))
    assert {e.kind for e in errors} == {PlanErrorKind.NOT_DOABLE, PlanErrorKind.MALFORMED_ACTION}


def test_text_face_and_protocol() -> None:
    game = MatrixGame("penalty", -100)
    behaves_as_a_task(game)
    assert "(0, 0) -> (-100, -100)" in game.rules_text()
    plan = Plan((("Agent[0]", "0"), ("Agent[1]", "2")))
    assert game.validate_plan(game.initial_state(), plan) == ()
    assert game.rule_gate(game.initial_state(), plan, "Agent[1]") == Agree()
    assert game.plan_json_schema()["properties"]["Agent[0]"]["enum"] == ["0", "1", "2"]


def test_parse_plan_accepts_numbers_and_numeric_strings() -> None:
    game = MatrixGame("penalty")
    plan = game.parse_plan('```json\n{"Agent[0]": 2, "Agent[1]": " 0"}\n```')
    assert isinstance(plan, Plan) and plan.as_dict() == {"Agent[0]": "2", "Agent[1]": "0"}
    assert isinstance(game.parse_plan("I pick 2"), PlanError)
    unknown = game.parse_plan('{"Agent[5]": "1"}')
    assert isinstance(unknown, PlanError) and unknown.kind is PlanErrorKind.UNKNOWN_AGENT
    bad = game.parse_plan('{"Agent[0]": "up"}')
    assert isinstance(bad, PlanError) and bad.kind is PlanErrorKind.MALFORMED_ACTION


@pytest.mark.parametrize("game", ALL, ids=ids)
def test_matrix_greedy_oracle_reaches_se(game: MatrixGame) -> None:
    coordinator, state = MatrixGreedy(), game.initial_state()
    while not state.done:
        decision = asyncio.run(coordinator.decide(game, state, ()))
        state = game.step(state, decision.joint_action).state
    assert state.returns == pytest.approx(game.se_returns)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-1e5, max_value=0, allow_nan=False))
def test_penalty_equilibria_hold_for_any_k(k: float) -> None:
    game = MatrixGame("penalty", k)
    value, path = backward_induction(game)
    assert path == [game.stackelberg] and tuple(value) == pytest.approx(game.se_returns)
    assert pure_nash(game.payoff) == set(game.pure_nash)


@pytest.mark.parametrize("game", ALL[-3:], ids=ids)
def test_states_and_outcomes_hold_only_builtin_types(game: MatrixGame) -> None:
    outcome = game.step(game.initial_state(), joint(0, 0))
    assert plain(outcome) and plain(game.episode_metrics([], [outcome]))


def test_matrix_oracle_plays_only_the_matrix_games() -> None:
    from tasks.alloc import ResourceAllocation

    task = ResourceAllocation(3, 0)
    with pytest.raises(TaskError, match="matrix games only"):
        asyncio.run(MatrixGreedy().decide(task, task.initial_state(), []))
