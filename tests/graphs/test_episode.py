"""The episode loop: stepping, stopping, counters, step lines and summaries, whatever the coordinator."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphs.episode import EpisodeContext, StepReport, build_episode_graph, play_episode
from llamac.app.run_folder import RunFolder
from llamac.runtime.memory import InProcessMemory
from tests.checkpointing import memory_saver
from tests.graphs.line_walk import LineWalkTask, WalkRightCoordinator


async def _play(tmp_path: Path, task=None, coordinator=None, **kw):
    folder = RunFolder.create(tmp_path / "run")
    ctx = EpisodeContext(task=task or LineWalkTask(), coordinator=coordinator or WalkRightCoordinator(),
                         files=folder.episode(0), **kw)
    summary = await play_episode(ctx, checkpointer=memory_saver(), thread_id="t")
    return summary, folder.episode(0)


async def test_episode_runs_to_success_and_sums_counters(tmp_path):
    summary, files = await _play(tmp_path)
    # agents start at 0 and 1, goal 4: four steps of "right"
    assert summary["success"] is True and summary["end_reason"] == "success"
    assert summary["steps"] == 4
    assert summary["llm_calls"] == 8
    assert summary["prompt_tokens"] == 100 + 101 + 102 + 103
    assert summary["tokens"] == summary["prompt_tokens"] + 4 * 10
    assert summary["plan_rounds"] == 4
    assert summary["task_metrics"] == {"distance_left": 0.0}
    assert summary["wall_s"] > 0
    lines = files.read_steps()
    assert [x["t"] for x in lines] == [0, 1, 2, 3]
    assert lines[-1]["done"] and lines[-1]["success"] and lines[-1]["state_text"] == "positions=[4, 4]"
    assert lines[0]["notes"] == {"plan_text": "everyone right", "objections": []}
    assert files.read_summary() == summary


async def test_feedback_of_the_task_is_recorded_in_step_lines(tmp_path):
    summary, files = await _play(tmp_path)
    # Agent[1] reaches the goal after 3 steps and is told so when it pushes right again on step 3
    assert files.read_steps()[3]["feedback"] == ["Agent[1] already at the goal"]


async def test_decision_end_reason_stops_without_executing_and_keeps_partial_results(tmp_path):
    summary, files = await _play(tmp_path, coordinator=WalkRightCoordinator(end_at=2))
    assert summary["end_reason"] == "budget_exhausted"
    assert summary["success"] is False
    assert summary["steps"] == 2  # steps 0 and 1 executed, step 2 stopped
    assert summary["llm_calls"] == 6  # the stopped decision's spending still counts
    lines = files.read_steps()
    assert [x["executed"] for x in lines] == [True, True, False]
    assert lines[-1]["end_reason"] == "budget_exhausted"
    assert summary["task_metrics"] == {"distance_left": 2.0 + 1.0}


async def test_task_step_limit_ends_episode_as_failure(tmp_path):
    summary, files = await _play(tmp_path, task=LineWalkTask(goal=30, step_limit=5))
    assert summary["success"] is False
    assert summary["end_reason"] == "step_limit"
    assert summary["steps"] == 5 and len(files.read_steps()) == 5


async def test_max_steps_caps_the_episode_below_the_task_limit(tmp_path):
    summary, _ = await _play(tmp_path, task=LineWalkTask(goal=30), max_steps=3)
    assert (summary["steps"], summary["end_reason"], summary["success"]) == (3, "max_steps", False)


async def test_memory_is_mirrored_and_progress_reported(tmp_path):
    memory = InProcessMemory("run-x")
    reports: list[StepReport] = []
    summary, files = await _play(tmp_path, memory=memory, on_step=reports.append)
    steps = await memory.all_steps()
    assert [m.t for m in steps] == [0, 1, 2, 3]
    assert steps[0].plan == {"Agent[0]": "right", "Agent[1]": "right"}
    assert steps[0].state_text == "positions=[0, 1]"
    assert [r.t for r in reports] == [1, 2, 3, 4]
    assert reports[-1].done and reports[-1].success
    assert reports[-1].counters["llm_calls"] == 8


async def test_coordinator_error_propagates(tmp_path):
    with pytest.raises(ValueError, match="scripted"):
        await _play(tmp_path, coordinator=WalkRightCoordinator(fail_at=1, exc=ValueError))


def test_episode_graph_is_the_loop_edge_for_edge():
    graph = build_episode_graph().compile().get_graph()
    edges = {(e.source, e.target, e.conditional) for e in graph.edges}
    assert edges == {
        ("__start__", "observe", False),
        ("observe", "decide", True), ("observe", "finish", True),  # step budget left?
        ("decide", "execute", True), ("decide", "remember", True),  # a coordinator's end reason skips execution
        ("execute", "remember", False),
        ("remember", "observe", True), ("remember", "finish", True),  # done?
        ("finish", "__end__", False),
    }
