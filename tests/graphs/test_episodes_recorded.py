"""LLaMAC and HMAS-2 episodes replayed from cassettes recorded against the local model server.

Each episode runs through the episode graph (``graphs/episode.py``) with the real gateway, capped at a
few steps so recording takes minutes. The checks recount from the cassette itself: tokens equal the sum
of the recorded usage, calls equal the recorded requests, and Feedback equals the objection rounds
(revision requests) plus the first-plan syntax-repair episodes (steps with a repair request before any
revision). Every executed plan passed the task's own syntax check on the state it was made for.

Recorded by ``scripts/record_cassettes.sh`` (pytest ``--record-mode=rewrite`` with the local model
server at ``tests.conftest.RECORD_URL``); replayed with record mode ``none`` and no server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from graphs.context import HMAS2Config, LLaMACConfig, coordinator_config, resolve_knobs
from graphs.episode import EpisodeContext, play_episode
from graphs.hmas2 import HMAS2Coordinator
from graphs.llamac import LLaMACCoordinator
from graphs.prompts import feedback
from llamac.runtime.budget import InProcessBudget
from llamac.runtime.gateway import LLMGateway
from tasks.alloc import ResourceAllocation
from tasks.base import Plan
from tasks.coordinator import Decision, StepMemory
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tests.checkpointing import memory_saver
from tests.conftest import RECORD_URL

MAX_STEPS = 3
TASKS = {
    "easy_2x2": lambda: GridEasy.from_instance(2, 2, 0),
    "hard_2x2": lambda: GridHard.from_instance(2, 2, 0),
    "alloc_5": lambda: ResourceAllocation(5, 0),
}
REVISION = feedback.revise([]).split("\n", 1)[0]
REPAIR = feedback.repair([]).split("\n", 1)[0]


class CheckedCoordinator:
    """Passes decisions through, and checks every plan it hands on against the task's syntax check."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.decisions: list[Decision] = []

    async def decide(self, task: Any, state: Any, history: Sequence[StepMemory]) -> Decision:
        decision = await self.inner.decide(task, state, history)
        if decision.end_reason is None:
            plan = Plan(tuple(decision.joint_action.items()))
            assert task.validate_plan(state, plan) == (), decision.notes
        self.decisions.append(decision)
        return decision


def recorded_calls(cassette: Any) -> list[tuple[list[dict[str, str]], dict[str, int]]]:
    """(request messages, response usage) of every interaction of the cassette (loaded from its YAML
    when replaying, or just recorded)."""
    calls = []
    for req, response in cassette.data:
        body = response["body"]["string"]
        body = body.decode() if isinstance(body, bytes) else body
        calls.append((json.loads(req.body)["messages"], json.loads(body)["usage"]))
    return calls


def feedback_recount(calls: list[tuple[list[dict[str, str]], dict[str, int]]]) -> int:
    """Objection rounds (one revision request each) + steps whose first plan needed a repair."""
    revisions = sum(1 for messages, _ in calls if messages[-1]["content"].startswith(REVISION))
    repaired_steps = {
        messages[0]["content"]
        for messages, _ in calls
        if messages[-1]["content"].startswith(REPAIR)
        and not any(m["content"].startswith(REVISION) for m in messages if m["role"] == "user")
    }
    return revisions + len(repaired_steps)


@pytest.mark.vcr
@pytest.mark.parametrize("coordinator", ["llamac", "hmas2"])
@pytest.mark.parametrize("task_key", list(TASKS))
async def test_recorded_episode(coordinator: str, task_key: str, recorded_settings, vcr, record_mode) -> None:
    task = TASKS[task_key]()
    gateway = LLMGateway(recorded_settings, f"{coordinator}-{task_key}", budget=InProcessBudget("rec", None))
    inner = (
        LLaMACCoordinator(gateway, LLaMACConfig())
        if coordinator == "llamac"
        else HMAS2Coordinator(gateway, HMAS2Config())
    )
    checked = CheckedCoordinator(inner)
    ctx = EpisodeContext(task=task, coordinator=checked, max_steps=MAX_STEPS)
    summary = await play_episode(ctx, checkpointer=memory_saver(), thread_id="recorded")

    executed = [d for d in checked.decisions if d.end_reason is None]
    assert summary["steps"] == len(executed) >= 1
    assert all(len(d.joint_action) >= 1 for d in executed)

    calls = recorded_calls(vcr)
    if record_mode == "none":
        assert vcr.all_played  # the episode asked exactly what was recorded, nothing less
    assert summary["llm_calls"] == len(calls)
    assert summary["prompt_tokens"] == sum(u["prompt_tokens"] for _, u in calls)
    assert summary["completion_tokens"] == sum(u["completion_tokens"] for _, u in calls)
    assert summary["feedback"] == feedback_recount(calls)
    counters = summary["counters"]
    first_plan_repairs = summary["feedback"] - counters.get("objection_rounds", 0)
    assert 0 <= first_plan_repairs <= len(checked.decisions)
    roles = {json.dumps(m[-1]["content"].rsplit("\n", 1)[-1]) for m, _ in calls}
    if coordinator == "llamac":
        assert any("explore_critic" in r for r in roles) and any("assessor" in r for r in roles)
    else:
        assert any("planner" in r for r in roles) and not any("critic" in r for r in roles)


LEAN = coordinator_config("llamac", resolve_knobs("llamac", "lean", {}))
"""The lean preset (what the main job runs): one critic-pair call, the assessor only when the two plans differ,
actors that take their rule gate's fix themselves, idle actors that volunteer, plans answered with numbers."""


async def play_recorded(make_settings, vcr, record_mode, task, config, name: str) -> tuple[dict, list, CheckedCoordinator]:
    """One capped LLaMAC episode against the cassette, with room for the pair's two plans (the other recorded
    tests cap answers at 128 tokens); checks the episode's counts against the recorded calls."""
    settings = make_settings(local_url=RECORD_URL, max_output_tokens=384, max_retries=0)
    gateway = LLMGateway(settings, f"llamac-{name}", budget=InProcessBudget("rec", None))
    checked = CheckedCoordinator(LLaMACCoordinator(gateway, config))
    ctx = EpisodeContext(task=task, coordinator=checked, max_steps=MAX_STEPS)
    summary = await play_episode(ctx, checkpointer=memory_saver(), thread_id=f"recorded-{name}")
    calls = recorded_calls(vcr)
    if record_mode == "none":
        assert vcr.all_played
    assert summary["llm_calls"] == len(calls)
    assert summary["prompt_tokens"] == sum(u["prompt_tokens"] for _, u in calls)
    assert summary["completion_tokens"] == sum(u["completion_tokens"] for _, u in calls)
    assert summary["feedback"] == feedback_recount(calls)
    return summary, calls, checked


@pytest.mark.vcr
async def test_recorded_lean_llamac_episode(make_settings, vcr, record_mode) -> None:
    summary, calls, checked = await play_recorded(make_settings, vcr, record_mode, GridEasy.from_instance(2, 2, 2), LEAN, "lean")
    firsts = [m[-1]["content"] for m, _ in calls]
    pair = [c for c in firsts if c.startswith("You are the critic.")]
    assessed = [c for c in firsts if c.startswith("You are the assessor.")]
    assert len(pair) == summary["steps"] == len(checked.decisions)  # one critic-pair call per step
    assert not any("checking your own line" in c for c in firsts)  # no actor was asked
    counters = summary["counters"]
    # the assessor's first request is made exactly in the steps whose two plans differed
    assert len(assessed) == summary["steps"] - counters["assessor_skips"]
    fixes = [line for d in checked.decisions for line in d.notes["applied_fixes"]]
    assert counters["gate_fixes"] == len(fixes)
    for d in checked.decisions:
        for line in d.notes["applied_fixes"]:
            agent, fix = line.split(": ", 1)
            assert d.joint_action[agent] == fix  # the executed line is the actor's fix


PAPER = coordinator_config("llamac", resolve_knobs("llamac", "paper", {}))
"""The paper preset: the authors' calls (one critic-pair call, the assessor every step, the actors their rule
gate doubts, each with its own view) in the compact notation with agents named by their squares, plans
answered with numbers."""


@pytest.mark.vcr
async def test_recorded_paper_llamac_episode(make_settings, vcr, record_mode) -> None:
    task = GridEasy.from_instance(2, 2, 0).with_notation(PAPER.notation)
    summary, calls, _ = await play_recorded(make_settings, vcr, record_mode, task, PAPER, "paper")
    firsts = [m[-1]["content"] for m, _ in calls]
    pair = [c for c in firsts if c.startswith("You are the critic.")]
    assessed = [c for c in firsts if c.startswith("You are the assessor.")]
    actors = [m for m, _ in calls if m[-1]["content"].startswith("You are the agent of square [")]
    assert len(pair) == len(assessed) == summary["steps"] >= 1  # the authors' two planning calls every step
    assert len(actors) >= 1 and all(m[0]["content"] == task.rules_text() for m in actors)  # local actors
    assert PAPER.notation == "squares"
    for messages, _ in calls:  # the compact notation everywhere: no action strings, no agent names
        system = messages[0]["content"]
        assert "move(" not in system and (system == task.rules_text() or "Squares not listed are empty" in system)
        told = "\n".join(m["content"] for m in messages).rpartition("\n[role=")[0]  # the gateway's label line aside
        assert told and "Agent[" not in told
    assert summary["counters"]["gate_fixes"] == 0  # the paper's actors are asked; the gate writes no line
