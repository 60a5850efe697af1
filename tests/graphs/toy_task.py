"""ToyLineTask: a tiny Task for unit tests of the coordinator graphs (not a product task).

Agents sit on a line and each can ``step`` or ``wait``; the rule gate is whatever a test wants it to be,
so the graphs' control flow (gate skips, objections, repairs) can be driven precisely. The real tasks run
through the same graphs in the cassette tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tasks.base import Agree, ArrayView, GateGoal, GateVerdict, Outcome, Plan, PlanError, PlanErrorKind
from tasks.plans import extract_json_object

ACTIONS = ("step", "wait")


@dataclass
class ToyLineTask:
    n_agents: int = 2
    family: str = "grid_easy"
    gate: Callable[[str], GateVerdict] = field(default=lambda agent: Agree())
    name: str = "toy"
    step_limit: int = 5
    n_actions: int = 2
    obs_dim: int = 1
    state_dim: int = 1

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(f"Agent[{i}]" for i in range(self.n_agents))

    def initial_state(self) -> tuple[int, ...]:
        return (0,) * self.n_agents

    def doable(self, state: Any) -> dict[str, list[str]]:
        return {a: list(ACTIONS) for a in self.agents}

    def step(self, state: tuple[int, ...], joint: Mapping[str, str]) -> Outcome:
        nxt = tuple(s + (joint.get(a) == "step") for a, s in zip(self.agents, state, strict=True))
        done = all(s >= 3 for s in nxt)
        return Outcome(nxt, {a: 1.0 for a in joint}, done, done)

    def rules_text(self) -> str:
        return "Agents on a line each step or wait; all must reach 3."

    def state_text(self, state: Any) -> str:
        return " ".join(f"{a}@{s}" for a, s in zip(self.agents, state, strict=True))

    def planner_view(self, state: Any) -> str:
        return "\n".join(
            f"{a} at {s}, can do {list(ACTIONS)}" for a, s in zip(self.agents, state, strict=True)
        )

    def actor_view(self, state: Any, agent: str, plan: Plan) -> str:
        return f"{agent} at {state[self.agents.index(agent)]}; plan says {plan.as_dict().get(agent)}"

    def parse_plan(self, text: str) -> Plan | PlanError:
        obj = extract_json_object(text)
        if isinstance(obj, PlanError):
            return obj
        return Plan(tuple((str(k), str(v)) for k, v in obj.items()))

    def validate_plan(self, state: Any, plan: Plan) -> tuple[PlanError, ...]:
        errors = []
        for agent, action in plan.assignments:
            if agent not in self.agents:
                errors.append(PlanError(PlanErrorKind.UNKNOWN_AGENT, "no such agent", agent))
            elif action not in ACTIONS:
                errors.append(PlanError(PlanErrorKind.NOT_DOABLE, f"{action} is not doable", agent))
        return tuple(errors)

    def rule_gate(self, state: Any, plan: Plan, agent: str, goal: GateGoal = "nearest") -> GateVerdict:
        return self.gate(agent)

    def plan_json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {a: {"type": "string", "enum": list(ACTIONS)} for a in self.agents},
            "additionalProperties": False,
        }

    def arrays(self, state: Any) -> ArrayView:
        n = self.n_agents
        return ArrayView(np.zeros((n, 1), np.float32), np.zeros(1, np.float32), np.ones((n, 2), bool))

    def actions_from_indices(self, state: Any, idx: Sequence[int] | np.ndarray) -> dict[str, str]:
        return {a: ACTIONS[int(i)] for a, i in zip(self.agents, idx, strict=True)}

    def episode_metrics(self, states: Sequence[Any], outcomes: Sequence[Outcome]) -> dict[str, float]:
        return {}
