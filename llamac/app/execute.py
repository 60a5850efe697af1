"""Running a configured run: checkpointer, runtime, one episode graph per planned episode, summaries.

New runs and ``resume`` take the same path: an episode with a summary is finished and skipped, an
episode with a checkpoint continues from it, any other starts fresh. So resume is "run again".
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from rich.console import Console

from graphs.episode import EpisodeContext, play_episode
from graphs.state_codec import TaskStateSerializer
from llamac.app.build import LLM_COORDINATORS, LLMRuntime, build_coordinator, build_task
from llamac.app.parser import UsageError
from llamac.app.progress import RunProgress
from llamac.app.run_config import RunConfig
from llamac.app.run_folder import RunFolder
from llamac.runtime.jsonlines import DamagedFile
from llamac.runtime.memory import memory_from_settings
from llamac.runtime.settings import Settings
from llamac.runtime.stops import RESUMABLE_END_REASONS, BudgetExhausted


@asynccontextmanager
async def open_checkpointer(config: RunConfig, folder: RunFolder, settings: Settings) -> AsyncIterator[BaseCheckpointSaver]:
    """SQLite in the run folder, or PostgreSQL when the run was started with LLAMAC_CHECKPOINT_URL."""
    if config.checkpoint == "postgres":
        if not settings.checkpoint_url:
            raise UsageError("this run is checkpointed in PostgreSQL: set LLAMAC_CHECKPOINT_URL to resume it")
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(settings.checkpoint_url, serde=TaskStateSerializer()) as saver:
            await saver.setup()
            yield saver
    else:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with aiosqlite.connect(str(folder.checkpoints)) as conn:
            yield AsyncSqliteSaver(conn, serde=TaskStateSerializer())


def calls_log_totals(folder: RunFolder) -> dict[str, int] | None:
    """Everything the run's calls cost, interrupted decisions included (their counters never reached a
    summary), so the run summary shows what was lost to interruptions rather than hiding it."""
    if not folder.calls.exists():
        return None
    from llamac.runtime.metering import read_calls

    calls = read_calls(folder.calls)
    return {"llm_calls": len(calls), "tokens": sum(r.prompt_tokens + r.completion_tokens for r in calls)}


def finished_summaries(config: RunConfig, folder: RunFolder) -> list[dict[str, Any]] | None:
    """Every episode's summary when the run is complete (all episodes, or stopped by the budget); None
    while an episode has none, or one that a provider or Redis failure stopped (``resume`` continues it)."""
    done = []
    for ep in config.episodes:
        summary = folder.episode(ep.index).read_summary()
        if summary is None or summary.get("end_reason") in RESUMABLE_END_REASONS:
            return None
        done.append(summary)
        if summary.get("end_reason") == BudgetExhausted.end_reason:
            break
    return done


async def run_episodes(config: RunConfig, folder: RunFolder, settings: Settings, progress_console: Console,
                       *, quiet: bool = False, verbose: bool = False, shared_budget: Any = None,
                       server_url: str | None = None) -> list[dict[str, Any]]:
    """``shared_budget`` and ``server_url``: a sweep's budget and local model server, used by many runs."""
    with folder.locked():
        try:
            return await _run_episodes(config, folder, settings, progress_console, quiet=quiet, verbose=verbose,
                                       shared_budget=shared_budget, server_url=server_url)
        except sqlite3.DatabaseError as exc:
            raise DamagedFile(f"{folder.checkpoints} is damaged ({exc}); restore it from a copy (with its -wal "
                              "file) or start a new run") from None


async def _run_episodes(config: RunConfig, folder: RunFolder, settings: Settings, progress_console: Console,
                        *, quiet: bool, verbose: bool, shared_budget: Any,
                        server_url: str | None) -> list[dict[str, Any]]:
    summaries: list[dict[str, Any]] = []
    totals = calls_log_totals(folder) or {"llm_calls": 0, "tokens": 0}
    prior = (totals["llm_calls"], totals["tokens"])  # spent by earlier processes of this run
    budget_left = None
    if config.budget is not None:
        # what the run's own call log says is left, in process or in Redis alike
        budget_left = max(1, config.budget - prior[1])
    async with AsyncExitStack() as stack:
        saver = await stack.enter_async_context(open_checkpointer(config, folder, settings))
        runtime = None
        if config.coordinator.name in LLM_COORDINATORS:
            runtime = await stack.enter_async_context(
                LLMRuntime(settings, config.run_id, folder.path, budget_left, shared_budget=shared_budget,
                           server_url=server_url)
            )
        progress = stack.enter_context(RunProgress(
            progress_console, budget=config.budget, enabled=not quiet, spent_before=prior, verbose=verbose,
            live=runtime.live_totals if runtime is not None else None,
        ))
        for ep in config.episodes:
            files = folder.episode(ep.index)
            summary = files.read_summary()
            if summary is None or summary.get("end_reason") in RESUMABLE_END_REASONS:
                task = build_task(ep.task, getattr(config.coordinator, "notation", "authors"))
                memory = memory_from_settings(settings, ep.thread_id)
                stack.push_async_callback(memory.aclose)
                ctx = EpisodeContext(
                    task=task,
                    coordinator=build_coordinator(config.coordinator, task, runtime),
                    episode=ep.index,
                    files=files,
                    memory=memory,
                    max_steps=config.max_steps,
                    on_step=progress.on_step,
                )
                progress.start_episode(f"{ep.index}: {task.name}", ctx.step_limit, len(files.read_steps()))
                summary = await play_episode(ctx, checkpointer=saver, thread_id=ep.thread_id)
                progress.end_episode(summary)
            summaries.append(summary)
            folder.write_run_summary(summaries, calls_log_totals(folder))
            if summary.get("end_reason") == BudgetExhausted.end_reason:
                break  # the remaining episodes could not spend a token either
            if summary.get("end_reason") in RESUMABLE_END_REASONS:
                break  # the provider (or Redis) failed: resume continues this episode later
    return summaries
