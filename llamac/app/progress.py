"""What a person watching a run sees: a rich progress bar while it runs, a rich table when it ends.

The bar shows the step of the current episode, its plan rounds, the run's LLM calls and tokens and
the budget left. Steps and rounds come from the episode loop's ``StepReport`` (duck-typed here, so
the runtime does not import the graphs); calls and tokens are read live from the run's metering
while a step is still thinking, since one LLM step can take minutes on a local model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from llamac.app.run_folder import aggregate
from llamac.runtime.counters import SHOWN

LiveTotals = Callable[[], tuple[int, int]]
"""Returns (LLM calls, tokens) the run has spent so far in this process."""


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


class _SpendColumn(ProgressColumn):
    def __init__(self, owner: RunProgress) -> None:
        super().__init__()
        self.owner = owner

    def render(self, task: Task) -> Text:
        calls, tokens = self.owner.spent()
        left = "no budget" if self.owner.budget is None else f"budget left {_fmt(max(0, self.owner.budget - tokens))}"
        rounds = task.fields.get("rounds", "0")
        gate = task.fields.get("gate", "")
        return Text(f"rounds {rounds} | calls {_fmt(calls)} | tokens {_fmt(tokens)} | {left}{gate}")


def written_by(line: Mapping[str, Any]) -> dict[str, str]:
    """Agent -> who wrote its executed action: ``rule gate`` (an applied fix) or ``plan`` (the coordinator's
    plan: the model's for LLM coordinators)."""
    fixed = {entry.split(": ", 1)[0] for entry in line.get("notes", {}).get("applied_fixes", [])}
    return {agent: "rule gate" if agent in fixed else "plan" for agent in line.get("joint_action", {})}


class RunProgress:
    """Context manager around one run's progress bar (one bar row per episode).

    ``spent_before``: tokens and calls of this run in earlier processes (a resumed run), so the
    budget left is the run's, not the process's. ``live``: the metering's running totals.
    """

    def __init__(self, console: Console, *, budget: int | None = None, enabled: bool = True,
                 live: LiveTotals | None = None, spent_before: tuple[int, int] = (0, 0),
                 verbose: bool = False) -> None:
        self.console = console
        self.verbose = verbose
        self.budget = budget
        self.live = live
        self.spent_before = spent_before
        self._from_steps = (0, 0)  # calls, tokens reported by finished steps (when nothing is metered)
        self._done_episodes = (0, 0)
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            _SpendColumn(self),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._bar: Any = None

    def spent(self) -> tuple[int, int]:
        if self.live is not None:
            calls, tokens = self.live()
        else:
            calls = self._done_episodes[0] + self._from_steps[0]
            tokens = self._done_episodes[1] + self._from_steps[1]
        return self.spent_before[0] + calls, self.spent_before[1] + tokens

    def __enter__(self) -> RunProgress:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def start_episode(self, label: str, step_limit: int, done_steps: int = 0) -> None:
        self._from_steps = (0, 0)
        self._bar = self._progress.add_task(label, total=step_limit, completed=done_steps, rounds="0", gate="")

    def on_step(self, report: Any) -> None:
        """Listener for ``graphs.episode.StepReport``."""
        if self._bar is None:
            return
        c: Mapping[str, float] = report.counters
        self._from_steps = (int(c.get("llm_calls", 0)), int(c.get("prompt_tokens", 0) + c.get("completion_tokens", 0)))
        lines = c.get("plan_lines", 0.0)
        gate = f" | gate wrote {100 * c.get('gate_fixes', 0.0) / lines:.0f}% of lines" if lines else ""
        self._progress.update(self._bar, completed=report.t, rounds=_fmt(c.get("plan_rounds", 0.0)), gate=gate)
        if self.verbose and report.line:
            self._print_step(report.line)

    def _print_step(self, line: Mapping[str, Any]) -> None:
        """``--verbose``: the executed plan of the step, each line with who wrote it."""
        who = written_by(line)
        executed = "executed" if line.get("executed") else f"not executed ({line.get('end_reason')})"
        self._progress.console.print(f"step {line['t']}: {executed}", highlight=False)
        for agent, action in line.get("joint_action", {}).items():
            self._progress.console.print(f"  {agent}: {action}  [{who[agent]}]", highlight=False, markup=False)
        for text in line.get("feedback", []):
            self._progress.console.print(f"  feedback: {text}", highlight=False, markup=False)

    def end_episode(self, summary: Mapping[str, Any]) -> None:
        if self._bar is None:
            return
        self._done_episodes = (self._done_episodes[0] + int(summary.get("llm_calls", 0)),
                               self._done_episodes[1] + int(summary.get("tokens", 0)))
        self._from_steps = (0, 0)
        status = "success" if summary.get("success") else (summary.get("end_reason") or "stopped")
        task = self._progress.tasks[-1]
        self._progress.update(self._bar, completed=summary.get("steps", task.completed),
                              description=f"{task.description} ({status})")


SUMMARY_ROWS = (
    ("Success", "Success", "success"),
    ("Steps", "Steps", "steps"),
    ("Tokens", "Tokens", "tokens"),
    *((c.label, c.short, c.name) for c in SHOWN),
    ("Wall time (s)", "Wall s", "wall_s"),
    ("End", "End", "end_reason"),
)
"""(row header, column header when episodes are rows, summary key) of each metric in the table."""


TASK_METRIC_ROWS = (
    ("Normalised reward (mean)", "Norm. reward", "normalised_mean"),
    ("Normalised reward (last)", "Last", "normalised_last"),
    ("Steps to 0.95", "To 0.95", "steps_to_095"),
    ("Regret", "Regret", "regret"),
    ("Score", "Score", "score"),
)
"""Rows of a task's own metrics (``summary["task_metrics"]``), shown when every episode has them."""
TASK_METRICS = frozenset(key for _, _, key in TASK_METRIC_ROWS)


def _rows_for(episodes: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    own = [row for row in TASK_METRIC_ROWS if all(row[2] in e.get("task_metrics", {}) for e in episodes)]
    return [*SUMMARY_ROWS[:-2], *own, *SUMMARY_ROWS[-2:]]


def _value(episode: Mapping[str, Any], key: str) -> Any:
    return episode[key] if key in episode else episode.get("task_metrics", {}).get(key)


def _cell(key: str, value: Any) -> str:
    if key == "success":
        return "yes" if value else "no"
    if key == "wall_s":
        return f"{float(value or 0):.2f}"
    if key == "end_reason":
        return str(value or "-")
    if key.startswith("normalised") and value is not None:
        return f"{float(value):.3f}"
    return _fmt(value)


WIDE_AFTER = 3
"""Up to this many episodes, one column per episode; more, and each episode becomes a row."""


def _mean_cells(episodes: Sequence[Mapping[str, Any]], rows: Sequence[tuple[str, str, str]]) -> dict[str, str]:
    """Means over the successful episodes (as the paper reports them), as the run's summary.json has them."""
    run = aggregate(list(episodes))
    wins = [e for e in episodes if e.get("success")]
    cells = {}
    for _, _, key in rows:
        if key == "success":
            cells[key] = f"{len(wins)}/{len(episodes)}"
        elif key in TASK_METRICS:
            values = [float(_value(e, key)) for e in wins]
            cells[key] = _cell(key, sum(values) / len(values)) if values else "-"
        else:
            mean = run["over_successful"].get(key)
            cells[key] = "-" if mean is None else _cell(key, mean["mean"])
    return cells


def summary_table(episodes: Sequence[Mapping[str, Any]], *, title: str) -> Table:
    """A few episodes: metrics as rows, one column per episode (narrow terminals stay readable). Many
    episodes: one row per episode. With several, a mean over the successful ones, as the paper reports.
    A task's own metrics (allocation's normalised reward, steps to 0.95, regret) get rows of their own."""
    rows = _rows_for(episodes)
    several = len(episodes) > 1
    means = _mean_cells(episodes, rows) if several else {}
    table = Table(title=title)
    if len(episodes) > WIDE_AFTER:
        table.add_column("Episode", no_wrap=True)
        for _, short, _ in rows:
            table.add_column(short, justify="right", min_width=len(short))
        for ep in episodes:
            table.add_row(f"{ep.get('episode', '')}: {ep.get('task', '')}",
                          *(_cell(key, _value(ep, key)) for _, _, key in rows))
        table.add_row("mean (successful)", *(means[key] for _, _, key in rows), end_section=True)
        return table
    table.add_column("Metric", no_wrap=True)
    for ep in episodes:
        table.add_column(f"{ep.get('episode', '')}: {ep.get('task', '')}", justify="right")
    if several:
        table.add_column("mean\n(successful)", justify="right")
    for header, _, key in rows:
        row = [_cell(key, _value(ep, key)) for ep in episodes]
        if several:
            row.append(means[key])
        table.add_row(header, *row)
    return table


def print_summary(console: Console, episodes: Sequence[Mapping[str, Any]], run_dir: Path, *, title: str) -> None:
    console.print(summary_table(episodes, title=title))
    console.print(f"results: {run_dir}", soft_wrap=True, highlight=False)
