"""How a sweep's jobs run: the shared scheduling, and the local executor.

Both executors schedule the same dependency graph (a teacher's training before its students'
distillation, a policy before the cells that play it, LLM cells beside everything) through
``Scheduler``, which logs every job to ``sweep_log.jsonl`` and tells the progress display. They
differ only in *where* a job runs:

* ``LocalExecutor``: LLM cells as coroutines of this process (bounded by the spec's
  ``llm_concurrency``; they wait on the model, not the CPU), CPU-bound jobs (training, distillation,
  greedy and RL cells) in a pool of ``--workers`` processes.
* ``RayExecutor`` (``llamac.app.sweep.on_ray``): every job a Ray task with its own ``num_cpus``.

An LLM cell that runs out of the sweep's budget ends with ``budget_exhausted`` (a result, like any
other end reason); the LLM cells not started by then are left for a later run with more budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol

from llamac.app.sweep.jobs import (
    JobFailed,
    PolicyJob,
    SweepError,
    distill_policy,
    play_cell,
    play_cell_blocking,
    train_policy,
)
from llamac.app.sweep.plan import PendingCell, SweepPlan
from llamac.runtime.settings import Settings
from llamac.runtime.stops import RESUMABLE_END_REASONS, BudgetExhausted


class Listener(Protocol):
    def job_started(self, kind: str, name: str) -> None: ...
    def job_ended(self, kind: str, name: str, ok: bool, detail: str = "") -> None: ...


class Outcome:
    """What one sweep run did (counted from the jobs it ran, not from the folder)."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.resumed: list[str] = []
        self.failed: dict[str, str] = {}
        self.not_started: list[str] = []
        self.policies: list[str] = []


RunPolicy = Callable[[PolicyJob, str | None], Awaitable[str]]
RunCell = Callable[[PendingCell, str | None], Awaitable[dict[str, Any]]]


class Scheduler:
    """The dependency graph of one sweep run, with the place each job runs left to the executor."""

    def __init__(self, plan: SweepPlan, run_id: str, executor: str, listener: Listener) -> None:
        self.plan, self.run_id, self.executor, self.listener = plan, run_id, executor, listener
        self.outcome = Outcome()
        self._policies: dict[str, asyncio.Future[str]] = {}
        self.budget_gone = False

    async def policy(self, source: Any, run: RunPolicy) -> str | None:
        """The policy folder of a cell: given, or made once by its job (teacher first)."""
        if source is None:
            return None
        if isinstance(source, Path):
            return str(source)
        assert isinstance(source, PolicyJob)
        if source.key not in self._policies:
            self._policies[source.key] = asyncio.ensure_future(self._make_policy(source, run))
        return await self._policies[source.key]

    async def _make_policy(self, job: PolicyJob, run: RunPolicy) -> str:
        teacher = await self.policy(job.teacher, run) if job.teacher is not None else None
        kind = "distill" if job.teacher is not None else "train"
        done = job.done()
        if done is not None:
            return str(done)
        self.plan.log(f"{kind}_start", run=self.run_id, job=job.key, executor=self.executor)
        self.listener.job_started(kind, job.key)
        try:
            folder = await run(job, teacher)
        except Exception as exc:
            detail = _one_line(exc)
            self.plan.log(f"{kind}_failed", run=self.run_id, job=job.key, error=detail)
            self.listener.job_ended(kind, job.key, False, detail)
            raise JobFailed(f"{job.key}: {detail}") from None
        self.plan.log(f"{kind}_done", run=self.run_id, job=job.key)
        self.listener.job_ended(kind, job.key, True)
        self.outcome.policies.append(job.key)
        return folder

    async def cell(self, pending: PendingCell, policy_runner: RunPolicy, run: RunCell,
                   gate: asyncio.Semaphore | None = None) -> None:
        cell_id = pending.job.cell.id
        try:
            policy = await self.policy(pending.policy, policy_runner)
        except JobFailed as exc:
            self.outcome.failed[cell_id] = f"its policy could not be made: {exc}"
            self.listener.job_ended("cell", cell_id, False, "policy failed")
            return
        async with gate or contextlib.nullcontext():
            if pending.job.cell.is_llm and self.budget_gone:  # spent while this cell waited its turn
                self.outcome.not_started.append(cell_id)
                self.listener.job_ended("cell", cell_id, False, "not started: budget spent")
                return
            self.plan.log("cell_start", run=self.run_id, cell=cell_id, executor=self.executor,
                          resumed=pending.started_before)
            self.listener.job_started("cell", cell_id)
            try:
                summary = await run(pending, policy)
            except Exception as exc:
                detail = _one_line(exc)
                self.plan.log("cell_failed", run=self.run_id, cell=cell_id, error=detail)
                self.outcome.failed[cell_id] = detail
                self.listener.job_ended("cell", cell_id, False, detail)
                return
        if summary.get("end_reason") in RESUMABLE_END_REASONS:
            detail = f"stopped by {summary['end_reason']} (the next sweep run continues it)"
            self.plan.log("cell_failed", run=self.run_id, cell=cell_id, error=detail)
            self.outcome.failed[cell_id] = detail
            self.listener.job_ended("cell", cell_id, False, detail)
            return
        if summary.get("end_reason") == BudgetExhausted.end_reason:
            self.budget_gone = True
        self.plan.log("cell_done", run=self.run_id, cell=cell_id, end_reason=summary.get("end_reason"))
        (self.outcome.resumed if pending.started_before else self.outcome.ran).append(cell_id)
        self.listener.job_ended("cell", cell_id, True, str(summary.get("end_reason")))

    async def run_all(self, policy_runner: RunPolicy, cpu_cell: RunCell, llm_cell: RunCell,
                      llm_slots: int) -> Outcome:
        """Every pending cell at once; LLM cells wait for one of ``llm_slots``, CPU-bound jobs for a
        worker of the executor."""
        slots = asyncio.Semaphore(llm_slots)
        await asyncio.gather(*(
            self.cell(p, policy_runner, llm_cell, slots) if p.job.cell.is_llm else self.cell(p, policy_runner, cpu_cell)
            for p in self.plan.pending
        ))
        return self.outcome


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class LocalExecutor:
    """LLM cells as coroutines here, CPU-bound jobs in a process pool (``spawn``: no fork of a process
    that holds threads and an event loop)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    async def run(self, plan: SweepPlan, scheduler: Scheduler, settings: Settings) -> Outcome:
        loop = asyncio.get_running_loop()
        needs_llm = any(p.job.cell.is_llm for p in plan.pending)
        needs_cpu = any(not p.job.cell.is_llm for p in plan.pending)
        async with AsyncExitStack() as stack:
            pool = None
            if needs_cpu:
                pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))
                stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            budget, server_url = None, None
            if needs_llm:
                budget, server_url = await _llm_services(stack, plan, settings, scheduler.run_id)

            async def policy_runner(job: PolicyJob, teacher: str | None) -> str:
                if job.teacher is None:
                    return await loop.run_in_executor(pool, train_policy, job)
                assert teacher is not None
                return await loop.run_in_executor(pool, distill_policy, job, teacher)

            async def cpu_cell(pending: PendingCell, policy: str | None) -> dict[str, Any]:
                return await loop.run_in_executor(pool, play_cell_blocking, pending.job, policy)

            async def llm_cell(pending: PendingCell, policy: str | None) -> dict[str, Any]:
                return await play_cell(pending.job, policy, settings, shared_budget=budget, server_url=server_url)

            return await scheduler.run_all(policy_runner, cpu_cell, llm_cell, plan.spec.llm_concurrency)


async def _llm_services(stack: AsyncExitStack, plan: SweepPlan, settings: Settings, run_id: str) -> tuple[Any, str | None]:
    """The sweep's one budget (Redis when ``REDIS_URL`` is set) and one local model server for every
    LLM cell of this run (none when a provider or ``LLAMAC_LOCAL_URL`` is configured)."""
    from llamac.runtime.budget import budget_from_settings

    budget = budget_from_settings(settings, sweep_budget_id(plan, run_id), plan.budget_left)
    stack.push_async_callback(budget.aclose)
    server_url = None
    if settings.resolved_provider() == "local" and not settings.local_url:
        from llamac.runtime.local_model import LocalModelError, LocalModelServer

        try:
            server = LocalModelServer.from_settings(settings, log_path=plan.out / "local-model.log")
            await stack.enter_async_context(server)
        except LocalModelError as exc:
            raise SweepError(str(exc)) from None
        server_url = server.url
    return budget, server_url


def sweep_budget_id(plan: SweepPlan, run_id: str) -> str:
    """One budget ledger per sweep run (its total is what the earlier runs left)."""
    return f"sweep-{plan.spec.name}-{run_id}"
