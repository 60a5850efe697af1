"""Planning a sweep run: which cells are left, which policies they need, what budget is left.

A sweep folder holds everything: the spec it was run with (``sweep.toml``), one run folder per cell
(``cells/<task>/<coordinator>/s<seed>``), the policies the sweep trained (``policies/<entry>/...``), the
event log (``sweep_log.jsonl``: one line per job started or ended) and the table. Planning reads
that folder only, so running a sweep again continues it: finished cells are skipped, a cell with a
checkpoint continues from it, and the budget left is the spec's minus what the cells' own call logs
say was spent.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llamac.app.sweep.jobs import CellJob, PolicyJob, PolicySource, cell_folder, cell_summary, policy_source
from llamac.app.sweep.spec import Cell, SweepSpec

SPEC_COPY = "sweep.toml"
EVENTS = "sweep_log.jsonl"


@dataclass(frozen=True)
class PendingCell:
    job: CellJob
    policy: PolicySource
    started_before: bool
    """The cell's folder exists from an earlier run: it continues from its checkpoint."""


@dataclass
class SweepPlan:
    spec: SweepSpec
    out: Path
    cells: list[Cell]
    pending: list[PendingCell]
    budget_left: int | None
    spent_before: int
    events: Path = field(init=False)

    def __post_init__(self) -> None:
        self.events = self.out / EVENTS

    @property
    def finished(self) -> int:
        return len(self.cells) - len(self.pending)

    def policy_jobs(self) -> list[PolicyJob]:
        """Every policy job the pending cells need, teachers first, each once."""
        jobs: dict[str, PolicyJob] = {}

        def add(source: PolicySource) -> None:
            if isinstance(source, PolicyJob) and source.key not in jobs:
                add(source.teacher)
                jobs[source.key] = source

        for pending in self.pending:
            add(pending.policy)
        return list(jobs.values())

    def log(self, event: str, **fields: Any) -> None:
        """Append one event line (flushed at once: a killed sweep keeps every line it wrote)."""
        line = {"event": event, "time": round(time.time(), 3), "pid": os.getpid(), **fields}
        with self.events.open("a") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")


def spent_tokens(cells: list[Cell], out: Path) -> int:
    """Tokens every LLM cell of the sweep has spent, from the cells' own call logs (interrupted
    decisions included), so a sweep run again starts from what is really left."""
    from llamac.app.execute import calls_log_totals
    from llamac.app.run_folder import RunFolder

    total = 0
    for cell in cells:
        folder = cell_folder(out, cell)
        if cell.is_llm and folder.is_dir():
            totals = calls_log_totals(RunFolder(folder))
            total += totals["tokens"] if totals else 0
    return total


def plan_sweep(spec: SweepSpec, spec_text: str, spec_dir: Path, out: Path) -> SweepPlan:
    """Everything this run must do; a named policy that is missing is refused here, before any work."""
    out.mkdir(parents=True, exist_ok=True)
    (out / SPEC_COPY).write_text(spec_text)
    cells = spec.cells()
    pending = []
    for cell in cells:
        folder = cell_folder(out, cell)
        if cell_summary(folder) is not None:
            continue
        job = CellJob(cell, folder, spec.name, spec.checkpoint)
        source = policy_source(cell, out, spec.coordinators, spec_dir)
        pending.append(PendingCell(job, source, (folder / "config.json").is_file()))
    spent = spent_tokens(cells, out)
    left = None if spec.budget_tokens is None else max(0, spec.budget_tokens - spent)
    return SweepPlan(spec, out, cells, pending, left, spent)
