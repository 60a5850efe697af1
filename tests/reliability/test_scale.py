"""Sizes: the allocation rule gate is linear in the agents, and sizes beyond what the machine can hold are
refused in one line, by the CLI and by the RL trainer alike."""

from __future__ import annotations

import pytest

from llamac.app.cli import main
from tasks.alloc import MAX_AGENTS, ResourceAllocation
from tasks.base import Plan


def test_gating_every_agent_of_a_plan_reads_the_plan_once(monkeypatch: pytest.MonkeyPatch) -> None:
    task = ResourceAllocation(2000, 0)
    state = task.initial_state()
    for total in (3000, 5000):  # two executed steps, so the gate looks at the history
        state = task.step(state, {a: str(total // 2000) for a in task.agents}).state
    plan = Plan(tuple((a, "4") for a in task.agents))
    reads = []
    original = ResourceAllocation.plan_amounts
    monkeypatch.setattr(ResourceAllocation, "plan_amounts",
                        lambda self, s, p: reads.append(1) or original(self, s, p))
    verdicts = [task.rule_gate(state, plan, agent) for agent in task.agents]
    assert len(reads) == 1 and len(verdicts) == 2000  # O(N) for the N gates, not O(N^2)
    other = Plan(tuple((a, "1") for a in task.agents))
    task.rule_gate(state, other, task.agents[0])
    assert len(reads) == 2  # a new plan is read again


def test_too_many_agents_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["alloc", "--agents", str(MAX_AGENTS * 10), "--coordinator", "greedy", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"at most {MAX_AGENTS:,}" in err


@pytest.mark.torch
def test_the_rl_trainer_refuses_too_many_agents_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    pytest.importorskip("torch")
    from rl_bridge.train import main as train

    assert train(["--algo", "steer", "--task", "alloc", "--agents", "100000", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"at most {MAX_AGENTS:,}" in err and not any(tmp_path.iterdir())
