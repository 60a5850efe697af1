"""The task seam: one object per task instance serves the LLM coordinators and the RL trainers alike.

A task object is an *instance* (a grid with its boxes, an allocation problem with its hidden mu/sigma,
a matrix game with its payoffs). States are immutable values, so a coordinator, a checkpointer or a
trainer can keep, compare and replay them freely. Every coordinator (LLaMAC, HMAS-2, the greedy
planner, STEER, a distilled student) sees exactly these dynamics: the PettingZoo wrapper in
``tasks/pz.py`` and the RL array view are thin faces over the same ``step``.

Layering: this package is the ground floor. It knows no LLM, no graph and no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

AgentId = str
"""An agent's name as the LLM sees it, e.g. ``Agent[0, 1]``, ``Agent[0.5, 1.5]``, ``Agent[3]``."""

JointAction = Mapping[AgentId, str]
"""Agent -> action string. Insertion order is application order (the grid applies plans in order)."""


class TaskError(ValueError):
    """Bad task parameters a user can cause (size 0x3, unknown game, missing instance file)."""


# --------------------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Outcome:
    """What one environment step returns.

    ``feedback`` holds the environment's text for skipped or illegal assignments; it is what an LLM
    coordinator's memory records as external feedback. ``failure`` names why a terminated episode
    failed (``collision``, ``step_limit``, ...); it is ``None`` on success or while running.
    """

    state: Any
    rewards: Mapping[AgentId, float]
    done: bool
    success: bool
    failure: str | None = None
    feedback: tuple[str, ...] = ()
    info: Mapping[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ plans
class PlanErrorKind(StrEnum):
    """Typed reasons a plan is refused, so a coordinator can feed them back and count them."""

    NOT_JSON = "not_json"
    UNKNOWN_AGENT = "unknown_agent"
    MALFORMED_ACTION = "malformed_action"
    NOT_DOABLE = "not_doable"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class PlanError:
    kind: PlanErrorKind
    detail: str
    agent: AgentId | None = None

    def message(self) -> str:
        """One line an LLM can act on."""
        who = f"{self.agent}: " if self.agent else ""
        return f"{who}{self.detail} ({self.kind.value})"


@dataclass(frozen=True)
class Plan:
    """An ordered joint plan: ``assignments`` keeps the order the model wrote it in."""

    assignments: tuple[tuple[AgentId, str], ...]

    def as_dict(self) -> dict[AgentId, str]:
        return dict(self.assignments)

    @property
    def agents(self) -> tuple[AgentId, ...]:
        return tuple(a for a, _ in self.assignments)

    def __len__(self) -> int:
        return len(self.assignments)


# ------------------------------------------------------------------------------------ rule gate
@dataclass(frozen=True)
class Agree:
    """The actor's rule check finds nothing wrong: no LLM call needed."""


@dataclass(frozen=True)
class Suspicious:
    """The rule check finds the line doubtful: the actor asks its LLM, quoting ``reason``."""

    reason: str
    fix: str | None = None
    """An action the rule check knows beats the line, when it knows one (``WITHDRAW``: no action of this
    agent does). The paper's actor still asks its LLM; with LLaMAC's ``actor_gate="direct"`` the actor
    objects with this fix instead, and with ``actor_gate="apply"`` it takes the fix itself."""


WITHDRAW = ""
"""The fix of a line no action of its agent can better: take the line out, the agent does nothing this step
(Grid Hard's ``paired`` gate, when another agent must move the box and this one has no other useful move)."""


@dataclass(frozen=True)
class DirectFeedback:
    """The rule check knows the fix itself: the objection is sent without an LLM call."""

    text: str


GateVerdict = Agree | Suspicious | DirectFeedback

GateGoal = Literal["nearest", "paired"]
"""What a rule gate measures a plan against (LLaMAC's ``gate_goal`` knob). Grids: any target of the box's
colour (``nearest``, the paper's) or the target the box is paired with (``paired``, ours); on Hard grids
``paired`` answers a box the agent cannot bring closer with a fix instead of direct feedback. Allocation:
the paper-style check of the last move (``nearest``) or the total a hill climber would try next
(``paired``). Tasks without such a goal ignore it."""


# ------------------------------------------------------------------------------------- RL face
@dataclass(frozen=True)
class ArrayView:
    """The RL face of a state: per-agent observations, one global state, per-agent action masks."""

    obs: np.ndarray  # float32 [n_agents, obs_dim]
    state: np.ndarray  # float32 [state_dim]
    mask: np.ndarray  # bool [n_agents, n_actions]; True = available


# ------------------------------------------------------------------------------------ the task
@runtime_checkable
class Task(Protocol):
    """One task instance. ``family`` is ``grid_easy``, ``grid_hard``, ``alloc`` or ``matrix``."""

    family: str
    name: str
    agents: tuple[AgentId, ...]
    step_limit: int
    n_actions: int
    obs_dim: int
    state_dim: int

    # dynamics
    def initial_state(self) -> Any: ...
    def doable(self, state: Any) -> dict[AgentId, list[str]]: ...
    def step(self, state: Any, joint: JointAction) -> Outcome: ...

    # LLM face
    def rules_text(self) -> str:
        """Task rules shared by every role (first in every prompt, so prefix caches reuse it)."""
        ...

    def state_text(self, state: Any) -> str:
        """Compact state description used in memory and views."""
        ...

    def planner_view(self, state: Any, numbered: bool = False) -> str:
        """The state and every agent's doable actions; ``numbered``: each action with its number (from 1),
        for plans that name numbers (only tasks whose plans are action strings use it)."""
        ...
    def actor_view(self, state: Any, agent: AgentId, plan: Plan) -> str: ...
    def parse_plan(self, text: str) -> Plan | PlanError: ...
    def validate_plan(self, state: Any, plan: Plan) -> tuple[PlanError, ...]:
        """The planner-side syntax check against the step-start state (doable list, conflicts)."""
        ...

    def rule_gate(self, state: Any, plan: Plan, agent: AgentId, goal: GateGoal = "nearest") -> GateVerdict: ...
    def plan_json_schema(self) -> dict[str, Any]:
        """JSON schema of a plan object, for structured output."""
        ...

    # RL face
    def arrays(self, state: Any) -> ArrayView: ...
    def actions_from_indices(self, state: Any, idx: Sequence[int] | np.ndarray) -> JointAction: ...

    # metrics
    def episode_metrics(self, states: Sequence[Any], outcomes: Sequence[Outcome]) -> dict[str, float]:
        """Task-specific metrics of a finished (or stopped) episode beyond Success/Steps."""
        ...
