"""``python -m llamac.run``: run a coordinator on a task, resume a run, or print a coordinator graph.

    python -m llamac.run grid --size 4x8                       # LLaMAC on Easy 4x8, golden instance 0
    python -m llamac.run grid --size 2x2 --coordinator greedy  # the greedy planner (about a second)
    python -m llamac.run grid --size 2x4 --difficulty hard --seed 7 --coordinator hmas2
    python -m llamac.run alloc --agents 50
    python -m llamac.run matrix --game penalty --k -100 --coordinator steer --policy runs/steer-penalty
    python -m llamac.run resume runs/20260101-120000-...       # continue an interrupted run
    python -m llamac.run graph llamac                          # Mermaid of the LLaMAC step graph
    python -m llamac.run sweep examples/compare_small.toml     # every coordinator on the same instances
    python -m llamac.run report runs/compare_small             # tables and figures of a sweep
    python -m llamac.run report runs/a runs/b --out runs/ab    # several parts of one comparison, one report

Exit codes: 0 done, 2 bad input (one line on stderr), 1 an unexpected error during a run (one line;
the partial results and checkpoints stay in the run folder, so ``resume`` continues), 130 Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import traceback
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from llamac.app.execute import finished_summaries, run_episodes
from llamac.app.parser import RL_COORDINATORS, UsageError, parse_args
from llamac.app.progress import print_summary
from llamac.app.run_config import CoordinatorSpec, RunConfig, default_out, new_config, task_specs
from llamac.app.run_folder import RunFolder, RunFolderError
from llamac.runtime.settings import Settings
from llamac.runtime.stops import RESUMABLE_END_REASONS
from tasks.base import TaskError
from tasks.catalog import parse_size


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def _user_errors() -> tuple[type[BaseException], ...]:
    """Imported only once something failed: greedy and ``graph`` runs never load the LLM runtime."""
    from graphs.episode import ResumeRefused
    from llamac.app.preflight import SettingsError
    from llamac.app.report import ReportError
    from llamac.app.sweep.jobs import SweepError
    from llamac.app.sweep.spec import SpecError
    from llamac.runtime.contract import GatewayConfigError
    from llamac.runtime.jsonlines import DamagedFile
    from llamac.runtime.local_model import LocalModelError, ModelPartsMissing

    return (UsageError, TaskError, RunFolderError, ValidationError, FileNotFoundError, GatewayConfigError,
            ModelPartsMissing, SpecError, SweepError, ReportError, DamagedFile, SettingsError, LocalModelError, ResumeRefused)


def mermaid(which: str) -> str:
    """The diagram drawn from the compiled graph itself, so it cannot drift from the code."""
    if which == "llamac":
        from graphs.llamac import build_llamac_graph

        return build_llamac_graph().get_graph().draw_mermaid()
    if which == "hmas2":
        from graphs.hmas2 import build_hmas2_graph

        return build_hmas2_graph().get_graph().draw_mermaid()
    from graphs.episode import build_episode_graph

    return build_episode_graph().compile().get_graph().draw_mermaid()


def _settings(local_model: str | None = None) -> Settings:
    from llamac.app.preflight import load_settings

    settings = load_settings()
    if local_model:
        settings = settings.model_copy(update={"local_model": local_model})
    return settings


def _configure_logs(settings: Settings, folder: RunFolder) -> None:
    """Logs go to the run folder: the terminal belongs to the progress bar and the table."""
    from llamac.runtime.logs import configure_logging

    configure_logging(settings, stream=(folder.path / "log.jsonl").open("a", encoding="utf-8"))


def _prepare_new(args, argv: list[str], settings: Settings) -> tuple[RunConfig, RunFolder]:
    rows_cols = parse_size(args.size) if args.command == "grid" else None
    specs = task_specs(args, rows_cols)
    from llamac.app.build import LLM_COORDINATORS, build_coordinator, build_task

    tasks = [build_task(spec) for spec in specs]  # refuse bad parameters before a folder is made
    if args.coordinator in RL_COORDINATORS:  # and a policy that does not fit the task
        build_coordinator(CoordinatorSpec(name=args.coordinator, policy=args.policy), tasks[0], None)
    if args.coordinator in LLM_COORDINATORS and settings.resolved_provider() == "local" and not settings.local_url:
        from llamac.runtime.local_model import LocalModelError, model_file

        try:
            model_file(settings, quiet=False)  # a missing or wrong model is refused here, not mid-run
        except LocalModelError as exc:
            raise UsageError(str(exc)) from None
    from llamac.app.preflight import check_services

    check_services(settings, llm=args.coordinator in LLM_COORDINATORS)  # before a folder exists
    out = Path(args.out) if args.out else default_out(settings.runs_dir, specs[0], args.coordinator)
    folder = RunFolder.create(out)
    config = new_config(args, argv, specs, folder.path, settings)
    folder.write_config(config.model_dump(mode="json"))
    return config, folder


def _open_existing(run_dir: str) -> tuple[RunConfig, RunFolder]:
    folder = RunFolder.open(run_dir)
    try:
        return RunConfig.model_validate(folder.read_config()), folder
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise RunFolderError(f"{folder.path}/config.json is not a llamac run config: {where}: "
                             f"{first['msg'].removeprefix('Value error, ')}") from None


def _title(config: RunConfig) -> str:
    more = len(config.episodes) - 1
    return f"{config.coordinator.name} on {config.episodes[0].task.label()}" + (f" (+{more} more)" if more else "")


def _print_graph(which: str) -> int:
    """A reader that stops early (``graph llamac | head``) is not an error: no BrokenPipeError line.
    (The summary table is printed by rich, which handles a closed pipe itself.)"""
    try:
        print(mermaid(which))
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor a second error at exit
    return 0


def _sweep(args, out: Console, err: Console) -> int:
    """Exit 0 when every cell finished, 1 when some failed (each named; the others' results stand)."""
    from llamac.app.sweep import run_sweep

    spec = Path(args.spec)
    try:
        report = run_sweep(spec, Path(args.out) if args.out else None, executor=args.executor, workers=args.workers,
                           ray_address=args.ray_address, console=err, quiet=args.quiet)
    except KeyboardInterrupt:
        print(f"interrupted; the finished cells' table is written; run the same command again to continue the sweep: "
              f"python -m llamac.run sweep {spec}"
              + (f" --out {args.out}" if args.out else ""), file=sys.stderr)
        return 130
    o = report.outcome
    budget = f" of {report.budget:,}" if report.budget is not None else ""
    print(f"sweep {report.out}: {report.cells} cells; ran {len(o.ran)}, continued {len(o.resumed)}, "
          f"already finished {report.finished_before}, failed {len(o.failed)}, "
          f"not started (budget spent) {len(o.not_started)}; trained {len(o.policies)} policies; "
          f"{report.tokens:,}{budget} tokens spent")
    print(f"table: {report.out / 'results.parquet'} ({report.rows} rows); "
          f"report: python -m llamac.run report {report.out}")
    for cell, why in sorted(o.failed.items()):
        print(f"failed: {cell}: {why}", file=sys.stderr)
    return 1 if o.failed else 0


def _report(args, out: Console) -> int:
    from llamac.app.report import write_report

    parts = [Path(d) for d in args.sweep_dir]
    written = write_report(parts[0] if len(parts) == 1 else parts, Path(args.out) if args.out else None)
    print(f"report: {written.md} and {written.html} ({len(written.figures)} figures)")
    return 0


def _terminated(signum: int, frame: object) -> None:
    """``kill PID`` ends a run like Ctrl-C: partial results kept, the resume command printed, the local
    model server stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str]) -> int:
    out = Console()
    err = Console(stderr=True)
    folder: RunFolder | None = None
    try:
        args = parse_args(argv)
        if args.command == "graph":
            return _print_graph(args.which)
        if args.command == "sweep":
            return _sweep(args, out, err)
        if args.command == "report":
            return _report(args, out)
        if args.command == "resume":
            config, folder = _open_existing(args.run_dir)
            settings = _settings(config.coordinator.local_model)
            done = finished_summaries(config, folder)
            if done is not None:
                err.print(f"run {folder.path} is already finished; not re-running")
                print_summary(out, done, folder.path.resolve(), title=_title(config))
                return 0
            from llamac.app.build import LLM_COORDINATORS
            from llamac.app.preflight import check_services

            check_services(settings, llm=config.coordinator.name in LLM_COORDINATORS)
        else:
            settings = _settings(args.local_model)
            config, folder = _prepare_new(args, argv, settings)
        _configure_logs(settings, folder)
        summaries = asyncio.run(run_episodes(config, folder, settings, err, quiet=args.quiet, verbose=args.verbose))
        print_summary(out, summaries, folder.path.resolve(), title=_title(config))
        stopped = summaries[-1].get("end_reason") if summaries else None
        if stopped in RESUMABLE_END_REASONS:
            print(f"stopped: {stopped} in episode {summaries[-1]['episode']} (see {folder.path / 'log.jsonl'}); "
                  f"partial results kept; resume with: python -m llamac.run resume {folder.path}", file=sys.stderr)
            return 1
        return 0
    except _user_errors() as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        where = f"; resume with: python -m llamac.run resume {folder.path}" if folder else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback; the checkpoint keeps the run resumable
        where = ""
        if folder is not None:
            (folder.path / "error.txt").write_text(traceback.format_exc())  # the details, for a bug report
            where = f" (partial results and error.txt in {folder.path}; resume with: python -m llamac.run resume {folder.path})"
        print(f"error: {type(exc).__name__}: {_one_line(exc)}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
