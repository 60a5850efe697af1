"""STEER matrix games: Penalty(k), Mixing, Coordination and Cooperation, with their equilibria as data.

Two agents, ``Agent[0]`` leads (acts first) and ``Agent[1]`` follows; each gets its own reward
``r_i = payoff_i[a_0][a_1]`` (``spec/tasks.md`` section 3; payoffs as in the authors'
``matrix_env.py`` and ``nstep_matrix.py``).

- **Penalty(k)** and **Mixing** are single-step games. Observation: one-hot(step, 2), constant.
- **Coordination** (3 actions) and **Cooperation** (2 actions) last 10 steps. Step 0 picks a branch:
  joint (0, 0) -> branch 0, (2, 2) -> branch 1, anything else -> branch 2, which ends the episode.
  The episode also ends early when either reward is <= 0 (all multi-step rewards are >= 0, so this is
  the spec's "reward is 0"; ``<= 0`` is the authors' test). Observation: one-hot(step, 11) +
  one-hot(branch, 4).

The whole game is data (``payoff_table``) plus one vectorised transition (``batch_step``) so the RL
trainers can step thousands of episodes at once with numpy; ``step`` (the Task protocol) runs the
very same function on a batch of one. The equilibria (``stackelberg``, ``se_path``, ``se_returns``,
``optimum``, ``pure_nash``) are written down here as literals, not computed, so the tests can check
them against an independent backward induction on the payoffs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.base import (
    AgentId,
    Agree,
    ArrayView,
    GateGoal,
    GateVerdict,
    JointAction,
    Outcome,
    Plan,
    PlanError,
    PlanErrorKind,
    TaskError,
)
from tasks.plans import every_agent_chooses, every_agent_schema, parse_integer_plan

GAMES = ("penalty", "mixing", "coordination", "cooperation")
AGENTS: tuple[AgentId, ...] = ("Agent[0]", "Agent[1]")
N_BRANCHES = 4
"""Branch slots in the observation (the authors' layout): 0 and 1 continue, 2 ends, 3 is unused."""

Joint = tuple[int, int]


@dataclass(frozen=True)
class MatrixState:
    """``t`` steps played, ``branch`` chosen at step 0, per-agent ``returns`` so far, ``joints`` played."""

    t: int = 0
    branch: int = 0
    returns: tuple[float, float] = (0.0, 0.0)
    joints: tuple[Joint, ...] = ()
    done: bool = False


@dataclass(frozen=True)
class GreedyReturn:
    """What the greedy (argmax) joint policy does in one episode: the score and whether it is the SE."""

    returns: tuple[float, float]
    score: float
    joints: tuple[Joint, ...]
    at_se: bool


def _penalty_payoff(k: float) -> np.ndarray:
    table = np.array([[k, 0, 10], [0, 2, 0], [8, 0, k]], dtype=np.float64)
    return np.stack([table, table])


def _multi_step_table(game: str) -> np.ndarray:
    """Payoffs ``[branch(2), step(10), agent(2), A, A]`` exactly as the authors' ``NStepMatrixGame``."""
    steps = 10
    if game == "coordination":
        first = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 1]])
        stay = [np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0]]), np.array([[0, 0, 0], [0, 0, 0], [0, 0, 1]])]
        last = [np.array([[0, 0, 5], [30, 10, 0], [20, 0, 0]]), np.array([[0, 0, 10], [0, 5, 0], [15, 0, 0]])]
        last_by_branch = [last, last]
    else:  # cooperation: branch 1 needs joint (2, 2), which two actions cannot reach
        first = np.array([[1, 0], [0, 1]])
        stay = [np.array([[1, 0], [0, 0]]), np.array([[0, 0], [0, 1]])]
        last_by_branch = [[np.array([[1, 1], [1, 4]])] * 2, [np.ones((2, 2))] * 2]
    a = first.shape[0]
    table = np.zeros((2, steps, 2, a, a))
    for b in range(2):
        table[b, 0] = first
        table[b, 1 : steps - 1] = stay[b]
        table[b, steps - 1] = np.stack(last_by_branch[b])
    return table


class MatrixGame:
    """One STEER matrix game as a Task (``family = "matrix"``); ``k`` is Penalty's miscoordination cost."""

    family = "matrix"
    agents = AGENTS
    obs_bounds = (0.0, 1.0)
    """Every observation entry lies in [0, 1] (read by the PettingZoo wrapper's Box spaces)."""

    def __init__(self, game: str, k: float = 0) -> None:
        if game not in GAMES:
            raise TaskError(f"unknown matrix game {game!r}; choose one of {', '.join(GAMES)}")
        if isinstance(k, bool) or not isinstance(k, int | float) or not math.isfinite(k):
            raise TaskError(f"k must be a finite number, got {k!r}")
        if game != "penalty" and k != 0:
            raise TaskError(f"k applies only to the penalty game, not {game}")
        if k > 0:
            raise TaskError(f"penalty k must be <= 0 (the paper uses 0, -100, -1000), got {k:g}")
        self.game = game
        self.k = float(k) + 0.0  # -0.0 -> 0.0, so the name reads penalty_k0
        self.name = f"penalty_k{self.k:g}" if game == "penalty" else game
        if game in ("penalty", "mixing"):
            self.steps = 1
            payoff = _penalty_payoff(self.k) if game == "penalty" else np.array(
                [
                    [[0, -10, -8], [-5, -5, -15], [5, -10, -10]],
                    [[5, -5, 4], [-10, 0, -5], [0, -5, 5]],
                ],
                dtype=np.float64,
            )
            self.payoff_table = np.stack([payoff, payoff])[:, None]  # [branch, step=1, agent, A, A]
        else:
            self.steps = 10
            self.payoff_table = _multi_step_table(game)
        self.payoff_table.setflags(write=False)
        self.n_actions = int(self.payoff_table.shape[-1])
        self.step_limit = self.steps
        self.obs_dim = self.steps + 1 + (N_BRANCHES if self.steps > 1 else 0)
        self.state_dim = self.obs_dim
        self._set_equilibria()

    # ------------------------------------------------------------------------------ equilibria
    def _set_equilibria(self) -> None:
        """The spec's equilibria, written down (tests re-derive them by backward induction)."""
        g = self.game
        if g == "penalty":
            self.stackelberg: Joint = (0, 2)
            self.se_path: tuple[Joint, ...] = ((0, 2),)
            self.se_returns: tuple[float, float] = (10.0, 10.0)
            self.optimum: tuple[Joint, ...] = ((0, 2),)
            self.optimum_value = 10.0
            self.pure_nash: tuple[Joint, ...] = ((0, 2), (1, 1), (2, 0))
        elif g == "mixing":
            self.stackelberg, self.se_path, self.se_returns = (0, 0), ((0, 0),), (0.0, 5.0)
            self.optimum, self.optimum_value = ((0, 0), (2, 0)), 2.5
            self.pure_nash = ((1, 1),)
        elif g == "coordination":
            # SE final action (2, 0) pays (20, 15) after 1 + 8 coordinated steps: (29, 24), mean 26.5.
            self.stackelberg, self.se_path, self.se_returns = (2, 0), ((0, 0),) * 9 + ((2, 0),), (29.0, 24.0)
            self.optimum, self.optimum_value = ((2, 0),), 26.5
            self.pure_nash = ((0, 2), (1, 1))  # of the final stage game
        else:
            self.stackelberg, self.se_path, self.se_returns = (1, 1), ((0, 0),) * 9 + ((1, 1),), (13.0, 13.0)
            self.optimum, self.optimum_value = ((1, 1),), 13.0
            self.pure_nash = ((0, 0), (1, 1))  # of the final stage game (weak NE included)

    @property
    def se_value(self) -> float:
        """Mean over agents of the SE return (the score a converged STEER run reaches)."""
        return float(np.mean(self.se_returns))

    @property
    def payoff(self) -> np.ndarray:
        """``[agent, A, A]``: the single-step game, or the final stage of a multi-step game."""
        return self.payoff_table[0, -1]

    def at_se(self, joints: Sequence[Joint], returns: Sequence[float]) -> bool:
        """The spec's SE-convergence test: Penalty (0,2), Mixing (0,0), Coordination final (2,0),
        Cooperation return 13."""
        if self.game == "cooperation":
            return bool(np.isclose(returns[0], self.se_returns[0]))
        if len(joints) != self.steps:
            return False
        return tuple(joints[-1]) == self.stackelberg

    # ------------------------------------------------------------------------- vectorised core
    def batch_obs(self, t: np.ndarray, branch: np.ndarray) -> np.ndarray:
        """Observations ``[B, obs_dim]`` float32 (identical for both agents)."""
        t = np.asarray(t, dtype=np.int64)
        obs = np.zeros((t.shape[0], self.obs_dim), dtype=np.float32)
        rows = np.arange(t.shape[0])
        obs[rows, np.minimum(t, self.steps)] = 1.0
        if self.steps > 1:
            obs[rows, self.steps + 1 + np.asarray(branch, dtype=np.int64)] = 1.0
        return obs

    def batch_step(
        self, t: np.ndarray, branch: np.ndarray, a0: np.ndarray, a1: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One step of B independent episodes at steps ``t`` in ``branch``.

        Returns ``rewards [B, 2]`` float32, ``next_branch [B]`` int64 and ``done [B]`` bool; the next
        step index is ``t + 1``. Pure: no state is kept, so callers reset finished rows themselves.
        """
        t, branch = np.asarray(t, dtype=np.int64), np.asarray(branch, dtype=np.int64)
        a0, a1 = np.asarray(a0, dtype=np.int64), np.asarray(a1, dtype=np.int64)
        if self.steps == 1:
            table_branch = np.zeros_like(branch)
            next_branch = branch.copy()
        else:
            picked = np.where((a0 == 0) & (a1 == 0), 0, np.where((a0 == 2) & (a1 == 2), 1, 2))
            next_branch = np.where(t == 0, picked, branch)
            table_branch = np.where(t == 0, 0, np.minimum(branch, 1))
        rewards = self.payoff_table[table_branch, t, :, a0, a1].astype(np.float32)  # [B, 2]
        done = (t + 1 >= self.steps) | (rewards <= 0).any(axis=1) | (next_branch == 2)
        return rewards, next_branch, done

    # ------------------------------------------------------------------------------ dynamics
    def initial_state(self) -> MatrixState:
        return MatrixState()

    def doable(self, state: MatrixState) -> dict[AgentId, list[str]]:
        return every_agent_chooses(self.agents, self.n_actions, state.done)

    def step(self, state: MatrixState, joint: JointAction) -> Outcome:
        if state.done:
            raise TaskError("the matrix game episode is over")
        a = [self._action_index(joint.get(agent), agent) for agent in self.agents]
        rewards, branch, done = self.batch_step(
            np.array([state.t]), np.array([state.branch]), np.array([a[0]]), np.array([a[1]])
        )
        r = (float(rewards[0, 0]), float(rewards[0, 1]))
        joints = state.joints + ((a[0], a[1]),)
        returns = (state.returns[0] + r[0], state.returns[1] + r[1])
        nxt = MatrixState(t=state.t + 1, branch=int(branch[0]), returns=returns, joints=joints, done=bool(done[0]))
        success = nxt.done and self.at_se(joints, returns)
        failure = None
        if nxt.done and not success:
            failure = "early_end" if nxt.t < self.steps else "not_se"
        return Outcome(
            state=nxt,
            rewards=dict(zip(self.agents, r, strict=True)),
            done=nxt.done,
            success=success,
            failure=failure,
            info={"t": float(nxt.t), "branch": float(nxt.branch)},
        )

    def _action_index(self, action: str | None, agent: AgentId) -> int:
        if action is None or not str(action).strip().isdigit() or int(action) >= self.n_actions:
            raise TaskError(f"{agent}: action must be one of 0..{self.n_actions - 1}, got {action!r}")
        return int(action)

    # ------------------------------------------------------------------------------- LLM face
    def rules_text(self) -> str:
        n = self.n_actions
        lines = [
            f"Two agents, Agent[0] (the leader) and Agent[1] (the follower), play the {self.game} "
            f"matrix game for {self.steps} step(s). Each step each agent picks an action 0..{n - 1}; "
            "the leader chooses first and the follower may respond to it. Each agent receives its own "
            "reward and wants to maximise its own total.",
        ]
        if self.steps > 1:
            second = "(2, 2) -> branch 1, " if self.n_actions > 2 else ""
            lines.append(
                f"Step 0 chooses a branch: joint (0, 0) -> branch 0, {second}anything else ends the episode. "
                "The episode also ends as soon as either reward is 0."
            )
        lines.append(self._table_text(0, 0))
        if self.steps > 1:
            lines.append(f"Steps 1..{self.steps - 2}, branch 0: " + self._table_text(0, 1))
            if self.n_actions > 2:
                lines.append(f"Steps 1..{self.steps - 2}, branch 1: " + self._table_text(1, 1))
            lines.append(f"Last step {self.steps - 1}, branch 0: " + self._table_text(0, self.steps - 1))
        return "\n".join(lines)

    def _table_text(self, branch: int, t: int) -> str:
        p = self.payoff_table[branch, t]
        cells = [
            f"({a0}, {a1}) -> ({p[0, a0, a1]:g}, {p[1, a0, a1]:g})"
            for a0 in range(self.n_actions)
            for a1 in range(self.n_actions)
        ]
        return "payoffs (Agent[0], Agent[1]) by joint action: " + "; ".join(cells)

    def state_text(self, state: MatrixState) -> str:
        played = ", ".join(f"({a}, {b})" for a, b in state.joints) or "none"
        branch = f", branch {state.branch}" if self.steps > 1 and state.t > 0 else ""
        return (
            f"step {state.t} of {self.steps}{branch}; joint actions so far: {played}; "
            f"returns Agent[0] {state.returns[0]:g}, Agent[1] {state.returns[1]:g}"
        )

    def planner_view(self, state: MatrixState, numbered: bool = False) -> str:
        return (
            f"{self.state_text(state)}\nChoose an action 0..{self.n_actions - 1} for each agent. Answer with "
            'JSON like {"Agent[0]": "0", "Agent[1]": "0"}.'
        )

    def actor_view(self, state: MatrixState, agent: AgentId, plan: Plan) -> str:
        mine = plan.as_dict().get(agent, "(none)")
        return f"You are {agent}. {self.state_text(state)}\nThe plan gives you action {mine}."

    def parse_plan(self, text: str) -> Plan | PlanError:
        return parse_integer_plan(text, self.agents)

    def validate_plan(self, state: MatrixState, plan: Plan) -> tuple[PlanError, ...]:
        errors: list[PlanError] = []
        given = plan.as_dict()
        for agent in self.agents:
            action = given.get(agent)
            if action is None:
                errors.append(PlanError(PlanErrorKind.MALFORMED_ACTION, "the plan has no action for it", agent))
            elif not action.isdigit() or int(action) >= self.n_actions:
                errors.append(
                    PlanError(PlanErrorKind.NOT_DOABLE, f"action {action} is not in 0..{self.n_actions - 1}", agent)
                )
        return tuple(errors)

    def rule_gate(self, state: MatrixState, plan: Plan, agent: AgentId, goal: GateGoal = "nearest") -> GateVerdict:
        """Every in-range action is legal in a matrix game; whether it is wise is the LLM's call."""
        return Agree()

    def plan_json_schema(self) -> dict[str, Any]:
        return every_agent_schema(self.agents, {"type": "string", "enum": [str(a) for a in range(self.n_actions)]})

    # -------------------------------------------------------------------------------- RL face
    def arrays(self, state: MatrixState) -> ArrayView:
        obs = self.batch_obs(np.array([state.t]), np.array([state.branch]))[0]
        return ArrayView(
            obs=np.stack([obs, obs]),
            state=obs.copy(),
            mask=np.ones((2, self.n_actions), dtype=bool),
        )

    def actions_from_indices(self, state: MatrixState, idx: Sequence[int] | np.ndarray) -> JointAction:
        return {agent: str(int(i)) for agent, i in zip(self.agents, idx, strict=True)}

    # -------------------------------------------------------------------------------- metrics
    def episode_metrics(self, states: Sequence[Any], outcomes: Sequence[Outcome]) -> dict[str, float]:
        """``score`` is the mean over agents of the episode return, as the STEER tables report it."""
        returns = states[-1].returns if states else (0.0, 0.0)
        if outcomes:
            returns = outcomes[-1].state.returns
        return {
            "score": float(np.mean(returns)),
            "return_agent0": float(returns[0]),
            "return_agent1": float(returns[1]),
            "at_se": float(bool(outcomes) and outcomes[-1].success),
        }

    def greedy_joint_return(self, act: Callable[[ArrayView], Sequence[int]]) -> GreedyReturn:
        """Play one episode with a deterministic joint policy ``act`` (the argmax joint action for an
        array view: leader's argmax, then the follower's argmax given it) and score it."""
        state = self.initial_state()
        while not state.done:
            joint = self.actions_from_indices(state, act(self.arrays(state)))
            state = self.step(state, joint).state
        return GreedyReturn(
            returns=state.returns,
            score=float(np.mean(state.returns)),
            joints=state.joints,
            at_se=self.at_se(state.joints, state.returns),
        )
