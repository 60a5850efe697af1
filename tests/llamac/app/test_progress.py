"""Progress bar and summary table: the figures a person watching a run sees."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from llamac.app.progress import RunProgress, summary_table


def _render(table: object) -> str:
    console, buf = _console()
    console.print(table)
    return buf.getvalue()


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, force_terminal=False), buf


def test_bar_shows_step_rounds_tokens_and_budget_left_including_earlier_processes():
    console, buf = _console()
    with RunProgress(console, budget=10_000, spent_before=(3, 1_000)) as progress:
        progress.start_episode("0: easy_2x2_0", step_limit=30)
        counters = {"plan_rounds": 2, "llm_calls": 4, "prompt_tokens": 1_500, "completion_tokens": 500}
        progress.on_step(SimpleNamespace(t=1, counters=counters))
        assert progress.spent() == (7, 3_000)
        progress.end_episode({"success": True, "steps": 1, "llm_calls": 4, "tokens": 2_000})
    text = buf.getvalue()
    assert "0: easy_2x2_0 (success)" in text
    assert "1/30" in text and "rounds 2 |" in text and "calls 7 |" in text
    assert "tokens 3,000" in text and "budget left 7,000" in text


def test_live_totals_come_from_the_metering_while_a_step_thinks():
    console, _ = _console()
    progress = RunProgress(console, budget=None, live=lambda: (5, 900), spent_before=(1, 100))
    assert progress.spent() == (6, 1_000)


def test_summary_table_has_every_metric_and_a_mean_over_successful_episodes():
    eps = [
        {"episode": 0, "task": "a", "success": True, "steps": 4, "tokens": 100, "wall_s": 1.0, "end_reason": "success"},
        {"episode": 1, "task": "b", "success": True, "steps": 6, "tokens": 300, "wall_s": 2.0, "end_reason": "success"},
        {"episode": 2, "task": "c", "success": False, "steps": 30, "tokens": 900, "wall_s": 9.0,
         "end_reason": "step_limit"},
    ]
    console, buf = _console()
    console.print(summary_table(eps, title="t"))
    text = buf.getvalue()
    for label in ("Success", "Steps", "Feedback", "Tokens", "LLM calls", "Gate skips", "Invalid answers",
                  "Retries", "Cached prompt tokens", "Wall time", "End"):
        assert label in text
    steps_row = next(line for line in text.splitlines() if line.startswith("│ Steps"))
    assert steps_row.split("│")[-2].strip() == "5"  # mean over the two successful episodes only
    success_row = next(line for line in text.splitlines() if line.startswith("│ Success"))
    assert success_row.split("│")[-2].strip() == "2/3"


def test_many_episodes_are_rows_with_a_mean_row_over_the_successful_ones():
    eps = [{"episode": i, "task": f"easy_2x4_{i}", "success": i != 3, "steps": 4 + i, "tokens": 0, "wall_s": 0.1,
            "end_reason": "success" if i != 3 else "step_limit"} for i in range(6)]
    console, buf = _console()
    console.print(summary_table(eps, title="t"))
    lines = buf.getvalue().splitlines()
    assert sum("easy_2x4_" in line for line in lines) == 6
    mean_row = next(line for line in lines if "mean (successful)" in line)
    cells = [c.strip() for c in mean_row.split("│")[1:-1]]
    assert cells[1] == "5/6" and cells[2] == "6.40"  # (4+5+6+8+9)/5


def test_the_table_shows_a_tasks_own_metrics_when_every_episode_has_them():
    from llamac.app.progress import summary_table

    alloc = [{"episode": i, "task": "alloc", "success": i == 0, "steps": 20, "tokens": 0,
              "task_metrics": {"normalised_mean": 0.9 + i / 100, "steps_to_095": 6, "regret": 2.0 + i,
                               "normalised_last": 1.0}} for i in range(2)]
    text = _render(summary_table(alloc, title="t"))
    assert "Normalised reward (mean)" in text and "0.900" in text and "Regret" in text and "Steps to 0.95" in text
    grid = [{"episode": 0, "task": "grid", "success": True, "steps": 5, "tokens": 0, "task_metrics": {}}]
    assert "Regret" not in _render(summary_table(grid, title="t"))


def test_who_wrote_each_executed_line():
    from llamac.app.progress import written_by

    line = {"joint_action": {"Agent[0, 0]": "move(box_red, target_red)", "Agent[0, 1]": "move(box_blue, square[1, 1])"},
            "notes": {"applied_fixes": ["Agent[0, 0]: move(box_red, target_red)"]}}
    assert written_by(line) == {"Agent[0, 0]": "rule gate", "Agent[0, 1]": "plan"}


def test_the_bar_shows_the_rule_gates_share_of_executed_lines():
    console, buf = _console()
    with RunProgress(console) as progress:
        progress.start_episode("0: easy_2x2_0", step_limit=30)
        progress.on_step(SimpleNamespace(t=2, counters={"plan_lines": 4, "gate_fixes": 3, "plan_rounds": 2}, line={}))
    assert "gate wrote 75% of lines" in buf.getvalue()
