"""Sweeps: every coordinator on the very same task instances, one episode per cell, local or on Ray.

    python -m llamac.run sweep examples/compare_small.toml [--out DIR] [--executor local|ray]
                                                           [--workers N] [--ray-address ADDR]
    python -m llamac.run report DIR

``spec`` reads the TOML spec, ``plan`` works out what is left, ``jobs`` holds what runs (training,
distillation, one cell), ``executor``/``on_ray`` decide where it runs, ``table`` turns the cells' run
folders into ``results.parquet``/``results.csv``. Running a sweep again continues it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from llamac.app.sweep.executor import LocalExecutor, Outcome, Scheduler
from llamac.app.sweep.plan import SweepPlan, plan_sweep, spent_tokens
from llamac.app.sweep.spec import SpecError, SweepSpec, load_spec
from llamac.app.sweep.table import collect_rows, write_table
from llamac.runtime.settings import Settings

__all__ = ["SpecError", "SweepReport", "default_sweep_out", "run_sweep"]


@dataclass(frozen=True)
class SweepReport:
    out: Path
    cells: int
    finished_before: int
    outcome: Outcome
    rows: int
    tokens: int
    budget: int | None


class _Progress:
    """One bar over the cells this run plays; failures are printed as they happen."""

    def __init__(self, console: Console, total: int, enabled: bool) -> None:
        self.console = console
        self.progress = Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console,
                                 disable=not enabled, transient=False)
        self.task = self.progress.add_task("cells", total=total, note="")
        self.running: set[str] = set()

    def job_started(self, kind: str, name: str) -> None:
        self.running.add(f"{kind} {name}")
        self._note()

    def job_ended(self, kind: str, name: str, ok: bool, detail: str = "") -> None:
        self.running.discard(f"{kind} {name}")
        if kind == "cell":
            self.progress.advance(self.task)
        if not ok:
            self.progress.console.print(f"[red]{kind} {name} failed[/red]: {detail}")
        self._note()

    def _note(self) -> None:
        shown = sorted(self.running)[:2]
        more = len(self.running) - len(shown)
        self.progress.update(self.task, note=", ".join(shown) + (f" +{more}" if more > 0 else ""))

    def __enter__(self) -> _Progress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]


def _run_to_end(coro: Coroutine[Any, Any, Outcome]) -> Outcome:
    """``asyncio.run``, also where an event loop already runs (a Jupyter kernel): then in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coro).result()


def default_sweep_out(settings: Settings, spec_path: Path) -> Path:
    """``runs/<spec name>``: the same command continues the same sweep."""
    return settings.runs_dir / spec_path.stem


def _executor(name: str, workers: int | None, ray_address: str | None) -> Any:
    if name == "ray":
        from llamac.app.sweep.on_ray import RayExecutor

        return RayExecutor(workers, ray_address)
    if ray_address is not None:
        raise SpecError("--ray-address applies to --executor ray")
    return LocalExecutor(workers)


def _check_llm_side(plan: SweepPlan, settings: Settings) -> None:
    """A missing or wrong local model is refused before any cell runs, not in the middle."""
    if not any(p.job.cell.is_llm for p in plan.pending):
        return
    if settings.resolved_provider() == "local" and not settings.local_url:
        from llamac.runtime.local_model import LocalModelError, model_file

        try:
            model_file(settings, quiet=True)
        except LocalModelError as exc:
            raise SpecError(str(exc)) from None


def run_sweep(spec_path: Path, out: Path | None, *, executor: str = "local", workers: int | None = None,
              ray_address: str | None = None, settings: Settings | None = None, console: Console | None = None,
              quiet: bool = False) -> SweepReport:
    """Run what is left of the sweep, then rebuild its table from every finished cell."""
    from llamac.app.preflight import check_services, load_settings

    settings = settings or load_settings()
    spec: SweepSpec = load_spec(spec_path)
    out = out or default_sweep_out(settings, spec_path)
    runner = _executor(executor, workers, ray_address)
    plan = plan_sweep(spec, spec_path.read_text(), spec_path.resolve().parent, out)
    _check_llm_side(plan, settings)
    check_services(settings, llm=any(p.job.cell.is_llm for p in plan.pending))
    from llamac.runtime.logs import configure_logging

    configure_logging(settings, stream=(out / "log.jsonl").open("a", encoding="utf-8"))
    run_id = uuid.uuid4().hex[:8]
    plan.log("sweep_start", run=run_id, executor=runner.name, workers=getattr(runner, "workers", None),
             cells=len(plan.cells), pending=len(plan.pending), budget_left=plan.budget_left)
    console = console or Console(stderr=True)
    try:
        with _Progress(console, len(plan.pending), enabled=not quiet and bool(plan.pending)) as progress:
            scheduler = Scheduler(plan, run_id, runner.name, progress)
            outcome = _run_to_end(runner.run(plan, scheduler, settings))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the finished cells' table is written all the same
        write_table(collect_rows(plan.cells, out), out)
        plan.log("sweep_interrupted", run=run_id)
        raise
    rows = collect_rows(plan.cells, out)
    write_table(rows, out)
    tokens = spent_tokens(plan.cells, out)
    plan.log("sweep_end", run=run_id, ran=len(outcome.ran), resumed=len(outcome.resumed),
             failed=len(outcome.failed), not_started=len(outcome.not_started), rows=len(rows), tokens=tokens)
    return SweepReport(out, len(plan.cells), plan.finished, outcome, len(rows), tokens, spec.budget_tokens)
