"""System Resource Allocation: N agents request amounts; all share the Gaussian-squeeze reward.

The paper names the task and its reward ``G(x) = x * exp(-(x - mu)^2 / sigma^2)``; the rest is ours
(``spec/tasks.md`` section 2):

- ``N`` agents (1..50 and beyond), ``Agent[0]`` .. ``Agent[N-1]``. Each step every agent picks an
  amount in 0..9; ``x`` is their sum and every agent receives ``G(x)``.
- ``mu = rho * 9N`` with ``rho ~ U(0.2, 0.8)`` drawn from the instance seed (numpy ``Generator``),
  ``sigma = mu / 2``; both hidden from the agents. ``x* = mu/2 + sqrt(mu^2/4 + sigma^2/2)`` is the
  argmax of G, at most ``0.8 * 1.1124 * 9N < 9N``, so always reachable.
- T = 20 steps; the episode always runs all T (regret sums over them). Success: ``G(x_t)/G(x*)``
  reaches 0.95 within T. With one or two agents the integer totals are too coarse for that on some
  seeds (best reachable ratio 0.80 at N=1, 0.94 at N=2); ``reachable_best`` reports it per instance.

Plans are ``{"Agent[0]": 3, ...}`` (ints or numeric strings). **An agent left out of a plan repeats
its last amount** (0 before the first step), so a planner for 50 agents may write only the changes.
An out-of-range amount reaching ``step`` is skipped the same way and reported as feedback, as the
grid skips illegal assignments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.base import (
    AgentId,
    Agree,
    ArrayView,
    DirectFeedback,
    GateGoal,
    GateVerdict,
    JointAction,
    Outcome,
    Plan,
    PlanError,
    PlanErrorKind,
    Suspicious,
    TaskError,
)
from tasks.plans import every_agent_chooses, every_agent_schema, parse_integer_plan

MAX_AMOUNT = 9
HORIZON = 20
MAX_AGENTS = 10_000
"""Most agents an instance may have: every plan lists every agent (an LLM answer of tens of thousands of
tokens beyond this), and the RL transformers attend over every pair of agents of every sample."""
SUCCESS_LEVEL = 0.95


@dataclass(frozen=True)
class AllocState:
    """``amounts`` are the last step's amounts (zeros before the first); ``history`` the (total, reward) pairs."""

    t: int
    amounts: tuple[int, ...]
    history: tuple[tuple[int, float], ...] = ()
    done: bool = False

    @property
    def last_total(self) -> int:
        return self.history[-1][0] if self.history else 0

    @property
    def last_reward(self) -> float:
        return self.history[-1][1] if self.history else 0.0


class ResourceAllocation:
    """One allocation instance (``family = "alloc"``): N agents, hidden mu/sigma from ``seed``."""

    family = "alloc"
    n_actions = MAX_AMOUNT + 1
    obs_dim = 4
    step_limit = HORIZON
    obs_bounds = (0.0, 1.0)
    """Every observation entry lies in [0, 1] (read by the PettingZoo wrapper's Box spaces)."""

    def __init__(self, n_agents: int, seed: int) -> None:
        if isinstance(n_agents, bool) or not isinstance(n_agents, int) or n_agents < 1:
            raise TaskError(f"the number of agents must be a whole number >= 1, got {n_agents!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TaskError(f"the seed must be a whole number >= 0, got {seed!r}")
        if n_agents > MAX_AGENTS:
            raise TaskError(f"{n_agents} agents is more than this machine can hold in a plan "
                            f"(at most {MAX_AGENTS:,})")
        self.n_agents, self.seed = n_agents, seed
        self.name = f"alloc_n{n_agents}_seed{seed}"
        self.agents: tuple[AgentId, ...] = tuple(f"Agent[{i}]" for i in range(n_agents))
        self._index = {agent: i for i, agent in enumerate(self.agents)}
        self._gated: tuple[AllocState, Plan, list[int | None], int | None] | None = None
        self._probed: tuple[AllocState, int] | None = None
        self.state_dim = 3 + n_agents
        self.max_total = MAX_AMOUNT * n_agents
        self.rho = float(np.random.default_rng(seed).uniform(0.2, 0.8))
        self.mu = self.rho * self.max_total
        self.sigma = self.mu / 2
        self.x_star = self.mu / 2 + math.sqrt(self.mu**2 / 4 + self.sigma**2 / 2)
        self.g_star = float(self.reward(self.x_star))

    def reward(self, x: float | np.ndarray) -> Any:
        """The Gaussian squeeze ``G(x)`` (vectorised over numpy arrays)."""
        return x * np.exp(-((x - self.mu) ** 2) / self.sigma**2)

    def normalised(self, x: float | np.ndarray) -> Any:
        return self.reward(x) / self.g_star

    @property
    def reachable_best(self) -> float:
        """Best ``G(x)/G(x*)`` over the integer totals 0..9N (below 1: totals are whole numbers)."""
        return float(self.normalised(np.arange(self.max_total + 1)).max())

    # ------------------------------------------------------------------------------ dynamics
    def initial_state(self) -> AllocState:
        return AllocState(t=0, amounts=(0,) * self.n_agents)

    def doable(self, state: AllocState) -> dict[AgentId, list[str]]:
        return every_agent_chooses(self.agents, self.n_actions, state.done)

    def step(self, state: AllocState, joint: JointAction) -> Outcome:
        if state.done:
            raise TaskError("the allocation episode is over")
        amounts, feedback = list(state.amounts), []
        index = self._index
        for agent, action in joint.items():
            amount = _amount(action)
            if agent not in index:
                feedback.append(f"{agent}: no such agent; ignored")
            elif amount is None:
                i = index[agent]
                feedback.append(f"{agent}: amount {action!r} is not in 0..{MAX_AMOUNT}; kept {amounts[i]}")
            else:
                amounts[index[agent]] = amount
        total = sum(amounts)
        g = float(self.reward(total))
        done = state.t + 1 >= HORIZON
        nxt = AllocState(t=state.t + 1, amounts=tuple(amounts), history=state.history + ((total, g),), done=done)
        success = done and self._first_success(nxt.history) is not None
        return Outcome(
            state=nxt,
            rewards=dict.fromkeys(self.agents, g),
            done=done,
            success=success,
            failure="not_reached" if done and not success else None,
            feedback=tuple(feedback),
            info={"total": float(total), "normalised": g / self.g_star},
        )

    def _first_success(self, history: Iterable[tuple[int, float]]) -> int | None:
        for t, (_, g) in enumerate(history, start=1):
            if g / self.g_star >= SUCCESS_LEVEL:
                return t
        return None

    def plan_amounts(self, state: AllocState, plan: Plan | JointAction) -> list[int | None]:
        """Per-agent amounts a plan asks for (missing agents repeat their last; ``None`` if invalid)."""
        given = plan.as_dict() if isinstance(plan, Plan) else dict(plan)
        return [_amount(given[a]) if a in given else last for a, last in zip(self.agents, state.amounts, strict=True)]

    # ------------------------------------------------------------------------------- LLM face
    def rules_text(self) -> str:
        return (
            f"{self.n_agents} agents (Agent[0]..Agent[{self.n_agents - 1}]) share one resource for "
            f"{HORIZON} steps. Each step every agent requests a whole amount from 0 to {MAX_AMOUNT}; the "
            "total x is the sum of the requests. Every agent receives the same reward G(x): it rises with "
            "x up to an unknown best total and falls steeply beyond it. Nobody knows where the best total "
            "lies; find it from the history of (total, reward) pairs and stay there. An agent missing from "
            "a plan repeats its last amount."
        )

    def state_text(self, state: AllocState) -> str:
        pairs = ", ".join(f"({x}, {g:.4g})" for x, g in state.history) or "none yet"
        amounts = " ".join(str(a) for a in state.amounts)
        return (
            f"step {state.t} of {HORIZON}; history of (total, reward): {pairs}; "
            f"last amounts Agent[0]..Agent[{self.n_agents - 1}]: {amounts}"
        )

    def planner_view(self, state: AllocState, numbered: bool = False) -> str:
        return (
            f"{self.state_text(state)}\nThe total can range from 0 to {self.max_total}. Propose each "
            f'agent\'s amount as JSON, e.g. {{"Agent[0]": 3, "Agent[1]": 4}}.'
        )

    def actor_view(self, state: AllocState, agent: AgentId, plan: Plan) -> str:
        i = self.agents.index(agent)
        proposed = plan.as_dict().get(agent, f"{state.amounts[i]} (unchanged)")
        valid = [a for a in self.plan_amounts(state, plan) if a is not None]
        return (
            f"You are {agent}. {self.state_text(state)}\nYour last amount: {state.amounts[i]}. "
            f"The plan gives you {proposed}; the plan's total is {sum(valid)}."
        )

    def parse_plan(self, text: str) -> Plan | PlanError:
        return parse_integer_plan(text, self.agents)

    def validate_plan(self, state: AllocState, plan: Plan) -> tuple[PlanError, ...]:
        """Missing agents are fine (they repeat their last amount); an amount outside 0..9 is not."""
        return tuple(
            PlanError(PlanErrorKind.NOT_DOABLE, f"amount {action} is not in 0..{MAX_AMOUNT}", agent)
            for agent, action in plan.assignments
            if _amount(action) is None
        )

    def rule_gate(self, state: AllocState, plan: Plan, agent: AgentId, goal: GateGoal = "nearest") -> GateVerdict:
        """The actor's own-line check: range, then the plan's total against the history.

        ``nearest`` (the paper's gate, spec section 2): suspicious when the last change of the total
        lowered the reward, the plan moves the total the same way again, and this agent's own amount moves
        that way too (it shares the blame); the actor's LLM then decides. ``paired`` (ours, the lean
        preset): the plan's total is measured against the total the hill climber would probe next from
        the same history (``hill_climb_total``), as a grid box's move is measured against its paired
        target; a plan that does not bring the total closer to it is suspicious, with this agent's share
        of that total as the fix (``spread_total``: every actor computes the same split, so the fixed
        plan's total is the probe itself).
        """
        i = self._index[agent]
        amounts, proposed = self._plan_totals(state, plan)
        own = amounts[i]
        if own is None:
            return DirectFeedback(f"{agent}: amount {plan.as_dict()[agent]!r} is outside 0..{MAX_AMOUNT}")
        if goal == "paired" and proposed is not None:
            return self._paired_verdict(state, agent, own, proposed)
        if len(state.history) < 2 or proposed is None:
            return Agree()
        (x0, g0), (x1, g1) = state.history[-2], state.history[-1]
        last_move, next_move, own_move = x1 - x0, proposed - x1, own - state.amounts[i]
        if g1 < g0 and last_move * next_move > 0 and last_move * own_move > 0:
            way = "raised" if last_move > 0 else "lowered"
            return Suspicious(
                f"the total was {way} from {x0} to {x1} and the reward fell from {g0:.4g} to {g1:.4g}; "
                f"this plan {way} it again to {proposed}, and {agent} goes from {state.amounts[i]} to {amounts[i]}"
            )
        return Agree()

    def _paired_verdict(self, state: AllocState, agent: AgentId, own: int, proposed: int) -> GateVerdict:
        last, probe = state.last_total, self._probe(state)
        if proposed == probe or abs(proposed - probe) < abs(last - probe):
            return Agree()
        share = share_of(probe, self.n_agents, self._index[agent])
        if own == share:
            return Agree()  # this line is already its share of the probe: the others' lines must move
        best = max(state.history, key=lambda pair: pair[1], default=None)
        seen = f"the best total so far is {best[0]} (reward {best[1]:.4g})" if best else "no total has been tried"
        return Suspicious(
            f"the plan's total {proposed} does not move from {last} towards {probe}, the next total to try "
            f"({seen}); {agent}'s share of {probe} is {share}",
            fix=str(share),
        )

    def _probe(self, state: AllocState) -> int:
        """``hill_climb_total`` of the state's history, once per state (every actor gates the same state)."""
        if self._probed is None or self._probed[0] is not state:
            self._probed = (state, hill_climb_total(state.history, self.max_total))
        return self._probed[1]

    def _plan_totals(self, state: AllocState, plan: Plan) -> tuple[list[int | None], int | None]:
        """The plan's amounts and total (None when an amount is invalid), computed once per (state, plan):
        every actor gates the same plan, so the N gates of a step cost O(N), not O(N^2)."""
        cached = self._gated
        if cached is None or cached[0] is not state or cached[1] is not plan:
            amounts = self.plan_amounts(state, plan)
            total = None if any(a is None for a in amounts) else sum(a for a in amounts if a is not None)
            cached = self._gated = (state, plan, amounts, total)
        return cached[2], cached[3]

    def plan_json_schema(self) -> dict[str, Any]:
        return every_agent_schema(self.agents, {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT})

    # -------------------------------------------------------------------------------- RL face
    def arrays(self, state: AllocState) -> ArrayView:
        """Per agent (step, own last amount, last total, last reward), each scaled into [0, 1]."""
        shared = [state.t / HORIZON, state.last_total / self.max_total, state.last_reward / self.max_total]
        own = np.asarray(state.amounts, dtype=np.float32) / MAX_AMOUNT
        obs = np.empty((self.n_agents, 4), dtype=np.float32)
        obs[:, 0], obs[:, 1], obs[:, 2], obs[:, 3] = shared[0], own, shared[1], shared[2]
        return ArrayView(
            obs=obs,
            state=np.concatenate([np.asarray(shared, dtype=np.float32), own]),
            mask=np.ones((self.n_agents, self.n_actions), dtype=bool),
        )

    def actions_from_indices(self, state: AllocState, idx: Sequence[int] | np.ndarray) -> JointAction:
        return {agent: str(int(i)) for agent, i in zip(self.agents, idx, strict=True)}

    # -------------------------------------------------------------------------------- metrics
    def normalised_curve(self, state: AllocState) -> list[float]:
        return [g / self.g_star for _, g in state.history]

    def episode_metrics(self, states: Sequence[Any], outcomes: Sequence[Outcome]) -> dict[str, float]:
        """Success, steps until ``G/G*`` first reaches 0.95 (the steps played if never), regret.

        The per-step curve is in each Outcome's ``info["normalised"]`` and in ``normalised_curve``.
        """
        final = outcomes[-1].state if outcomes else states[-1]
        curve = self.normalised_curve(final)
        first = self._first_success(final.history)
        return {
            "success": float(first is not None),
            "steps_to_095": float(first if first is not None else len(curve)),
            "regret": float(sum(1.0 - c for c in curve)),
            "normalised_mean": float(np.mean(curve)) if curve else 0.0,
            "normalised_last": curve[-1] if curve else 0.0,
            "reachable_best": self.reachable_best,
        }


def _amount(action: object) -> int | None:
    text = str(action).strip()
    return int(text) if text.isdigit() and int(text) <= MAX_AMOUNT else None


def hill_climb_total(history: Sequence[tuple[int, float]], max_total: int) -> int:
    """The next total a hill climber on the (total, reward) history tries (a pure function of it).

    Starts at half the range, probes one step of a quarter range from the best total seen, turns round
    when a probe does worse, halves the step after failing both ways, and settles on the best total once
    steps of 1 fail both ways. The hill-climber baseline plays it; the ``paired`` rule gate measures plans
    against it. Any history works, not only the climber's own probes (a plan may have moved elsewhere): a
    total equal to the best one so far says nothing about either direction, so it is not counted as a
    failed probe (the climber's own probes never equal its best total, so its play is unchanged).
    """
    if not history:
        return max_total // 2
    step, direction, failures, settled = max(1, max_total // 4), 1, 0, False
    best_x, best_g = history[0]
    for x, g in history[1:]:
        if x == best_x:
            continue
        if g > best_g:
            best_x, best_g, failures = x, g, 0
            continue
        direction, failures = -direction, failures + 1
        if failures == 2:
            settled = step == 1
            step, failures = max(1, step // 2), 0
    if settled:
        return best_x
    probe = min(max(best_x + direction * step, 0), max_total)
    if probe == best_x:  # at an edge of the range: probe inwards
        probe = min(max(best_x - direction * step, 0), max_total)
    return probe


def spread_total(total: int, n_agents: int) -> list[int]:
    """Split a total over agents as evenly as whole amounts allow (first agents take the remainder)."""
    return [share_of(total, n_agents, i) for i in range(n_agents)]


def share_of(total: int, n_agents: int, i: int) -> int:
    """Agent ``i``'s amount in ``spread_total(total, n_agents)``, without building the whole split (each of
    N actors asks for its own share, so a step's gates stay O(N))."""
    base, extra = divmod(total, n_agents)
    return base + (1 if i < extra else 0)
