"""What a task object must do, checked by using it (a runtime_checkable Protocol only checks that names
exist): every face of ``tasks.base.Task`` is called and its answer checked against the others."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tasks.base import Agree, ArrayView, DirectFeedback, Outcome, Plan, PlanError, Suspicious


def plain(value: object) -> bool:
    """Only builtin types (JSON-able states and outcomes)."""
    if isinstance(value, dict):
        return all(plain(k) and plain(v) for k, v in value.items())
    if isinstance(value, tuple | list):
        return all(plain(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return all(plain(getattr(value, f)) for f in value.__dataclass_fields__)
    return value is None or type(value) in (bool, int, float, str)


def behaves_as_a_task(task: Any) -> None:
    """Drive every face of the task once from its initial state; fail on the first inconsistency."""
    state = task.initial_state()
    doable = task.doable(state)
    assert set(doable) == set(task.agents) and all(isinstance(a, str) for acts in doable.values() for a in acts)
    assert task.rules_text().strip() and task.state_text(state).strip() and task.planner_view(state).strip()
    first = {agent: acts[0] for agent, acts in doable.items() if acts}
    plan = Plan(tuple(first.items()))
    assert isinstance(task.parse_plan(json.dumps(first)), Plan)
    assert isinstance(task.parse_plan("not a plan"), PlanError)
    assert all(isinstance(e, PlanError) for e in task.validate_plan(state, plan))
    for agent in plan.agents:
        assert task.actor_view(state, agent, plan).strip()
        assert isinstance(task.rule_gate(state, plan, agent), Agree | Suspicious | DirectFeedback)
    assert isinstance(task.plan_json_schema(), dict)
    view = task.arrays(state)
    assert isinstance(view, ArrayView)
    assert view.obs.shape == (len(task.agents), task.obs_dim) and view.state.shape == (task.state_dim,)
    assert view.mask.shape == (len(task.agents), task.n_actions) and view.mask.any(axis=1).all()
    chosen = np.argmax(view.mask, axis=1)
    joint = task.actions_from_indices(state, chosen)
    assert all(action in doable[agent] for agent, action in joint.items())
    outcome = task.step(state, joint)
    assert isinstance(outcome, Outcome) and set(outcome.rewards) <= set(task.agents)
    metrics = task.episode_metrics([state, outcome.state], [outcome])
    assert all(isinstance(v, int | float) for v in metrics.values())
