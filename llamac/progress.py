"""What a person watching a run sees: a rich progress bar while it runs, a rich table when it ends.

The bar shows the step of the current episode, plan rounds, tokens and the budget left; it listens to
the episode loop's ``StepReport`` (duck-typed here, so the runtime does not import the graphs).
Budget left is the run's budget minus the tokens its decisions reported, the same figure the
budget ledger settles to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


class RunProgress:
    """Context manager around one run's progress bar (one bar row per episode)."""

    def __init__(self, console: Console, *, budget: int | None = None, enabled: bool = True) -> None:
        self.console = console
        self.budget = budget
        self.spent_before = 0.0  # tokens of earlier episodes of this run
        self._episode_tokens = 0.0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rounds {task.fields[rounds]}  tokens {task.fields[tokens]}  budget left {task.fields[left]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._bar: Any = None

    def __enter__(self) -> RunProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def start_episode(self, label: str, step_limit: int, done_steps: int = 0) -> None:
        self.spent_before += self._episode_tokens
        self._episode_tokens = 0.0
        self._bar = self._progress.add_task(
            label, total=step_limit, completed=done_steps, rounds="0", tokens="0", left=self._left(0.0)
        )

    def _left(self, episode_tokens: float) -> str:
        if self.budget is None:
            return "unlimited"
        return _fmt(max(0.0, self.budget - self.spent_before - episode_tokens))

    def on_step(self, report: Any) -> None:
        """Listener for ``graphs.episode.StepReport``."""
        if self._bar is None:
            return
        c: Mapping[str, float] = report.counters
        tokens = c.get("prompt_tokens", 0.0) + c.get("completion_tokens", 0.0)
        self._episode_tokens = tokens
        self._progress.update(
            self._bar,
            completed=report.t,
            rounds=_fmt(c.get("plan_rounds", 0.0)),
            tokens=_fmt(tokens),
            left=self._left(tokens),
        )

    def end_episode(self, summary: Mapping[str, Any]) -> None:
        if self._bar is None:
            return
        self._episode_tokens = float(summary.get("tokens", 0.0))
        status = "success" if summary.get("success") else (summary.get("end_reason") or "stopped")
        task = self._progress.tasks[-1]
        self._progress.update(self._bar, description=f"{task.description} [{status}]")


SUMMARY_ROWS = (
    ("Success", "success"),
    ("Steps", "steps"),
    ("Feedback", "feedback"),
    ("Tokens", "tokens"),
    ("LLM calls", "llm_calls"),
    ("Gate skips", "gate_skips"),
    ("Invalid answers", "invalid_answers"),
    ("Retries", "retries"),
    ("Cached prompt tokens", "cached_tokens"),
    ("Wall time (s)", "wall_s"),
    ("End", "end_reason"),
)


def _cell(key: str, value: Any) -> str:
    if key == "success":
        return "yes" if value else "no"
    if key == "wall_s":
        return f"{float(value or 0):.2f}"
    if key == "end_reason":
        return str(value or "-")
    return _fmt(value)


def summary_table(episodes: Sequence[Mapping[str, Any]], *, title: str) -> Table:
    """Metrics as rows, one column per episode (narrow terminals stay readable), and with several
    episodes a column of means over the successful ones, as the paper reports them."""
    table = Table(title=title)
    table.add_column("Metric", no_wrap=True)
    for ep in episodes:
        table.add_column(f"{ep.get('episode', '')}: {ep.get('task', '')}", justify="right")
    wins = [e for e in episodes if e.get("success")]
    several = len(episodes) > 1
    if several:
        table.add_column("mean\n(successful)", justify="right")
    for header, key in SUMMARY_ROWS:
        row = [_cell(key, ep.get(key)) for ep in episodes]
        if several:
            if key == "success":
                row.append(f"{len(wins)}/{len(episodes)}")
            elif key == "end_reason" or not wins:
                row.append("-")
            else:
                vals = [float(e.get(key) or 0) for e in wins]
                row.append(_cell(key, sum(vals) / len(vals)))
        table.add_row(header, *row)
    return table


def print_summary(console: Console, episodes: Sequence[Mapping[str, Any]], run_dir: Path, *, title: str) -> None:
    console.print(summary_table(episodes, title=title))
    console.print(f"results: {run_dir}", soft_wrap=True, highlight=False)
