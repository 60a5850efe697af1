"""The Ray executor: every training job, distillation and cell a Ray task with its own ``num_cpus``.

A local Ray instance by default (``--workers`` CPUs), or an existing cluster (``--ray-address``). The
driver passes the llamac/provider environment variables to the workers (Ray's ``runtime_env``), so a
worker's ``Settings()`` is the driver's. Ray retries a task whose worker died (``max_retries``); a
retried cell continues from its checkpoint, a retried training job starts over.

LLM cells share:
* the sweep's token budget: with ``REDIS_URL`` every worker charges the one Redis ledger (the atomic
  Lua budget of ``llamac.runtime.budget``); without Redis, one ``BudgetKeeper`` actor holds it;
* one local model server per machine: a named ``ModelServerHost`` actor pinned to each node that runs
  LLM cells, started once per sweep run (none when a provider or ``LLAMAC_LOCAL_URL`` is configured).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from llamac.app.sweep import jobs
from llamac.app.sweep.executor import Outcome, Scheduler, sweep_budget_id
from llamac.app.sweep.jobs import JobFailed, PolicyJob, SweepError
from llamac.app.sweep.plan import PendingCell, SweepPlan
from llamac.runtime.settings import Settings
from llamac.runtime.stops import BudgetExhausted

CPU_JOB_CPUS = 1.0
"""Training, distillation, greedy and RL cells: one core each (torch runs one thread)."""
LLM_CELL_CPUS = 0.25
"""LLM cells wait on the model most of the time."""
MAX_RETRIES = 2
"""Ray re-runs a task whose worker process died this many times."""
ENV_PREFIXES = ("LLAMAC_", "OPENAI_")
ENV_NAMES = ("REDIS_URL",)


def worker_env() -> dict[str, str]:
    """The variables ``Settings`` reads, as the driver has them (the workers build the same settings)."""
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) or k in ENV_NAMES}


@dataclass(frozen=True)
class BudgetRef:
    """How a worker reaches the sweep's budget: a Redis ledger, or the keeper actor."""

    budget_id: str
    total: int | None
    redis_url: str | None = None
    keeper: Any = None


class ActorBudget:
    """``TokenBudget`` over the ``BudgetKeeper`` actor (the refusal is raised here, in the caller)."""

    def __init__(self, keeper: Any, budget_id: str) -> None:
        self.keeper, self.run_id = keeper, budget_id

    async def reserve(self, tokens: int) -> Any:
        ok, value = await self.keeper.reserve.remote(tokens)
        if not ok:
            raise BudgetExhausted(value)
        return value

    async def settle(self, reservation: Any, used: int) -> None:
        await self.keeper.settle.remote(reservation, used)

    async def ledger(self) -> Any:
        return await self.keeper.ledger.remote()

    async def aclose(self) -> None:
        return None


def _open_budget(ref: BudgetRef | None) -> Any:
    if ref is None:
        return None
    if ref.redis_url:
        from llamac.runtime.budget import RedisBudget

        return RedisBudget.from_url(ref.redis_url, ref.budget_id, ref.total)
    return ActorBudget(ref.keeper, ref.budget_id)


def _model_url(host_name: str | None) -> str | None:
    """The URL of this node's model server (started on first use by its host actor)."""
    if host_name is None:
        return None
    import ray

    node = ray.get_runtime_context().get_node_id()
    return ray.get(ray.get_actor(f"{host_name}-{node}").url.remote())


def _llm_cell(job: Any, policy: str | None, budget: BudgetRef | None, host_name: str | None) -> dict[str, Any]:
    async def play() -> dict[str, Any]:
        shared = _open_budget(budget)
        try:
            return await jobs.play_cell(job, policy, Settings(), shared_budget=shared, server_url=_model_url(host_name))
        finally:
            if shared is not None:
                await shared.aclose()

    return asyncio.run(play())


class RayExecutor:
    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        self.workers, self.address = workers, address

    def _init(self) -> bool:
        """Start (or join) Ray; True when this call started it and so must shut it down."""
        try:
            import ray
        except ImportError:
            raise SweepError("--executor ray needs the ray extra: pip install 'llamac[ray]'") from None
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"runtime_env": {"env_vars": worker_env()}, "include_dashboard": False,
                                   "log_to_driver": False, "configure_logging": False}
        if self.address is None:
            from llamac.app.sweep.executor import default_workers

            options["num_cpus"] = self.workers or default_workers()
        try:
            ray.init(address=self.address, **options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise SweepError(f"--ray-address {self.address}: {exc}") from None
        return True

    async def run(self, plan: SweepPlan, scheduler: Scheduler, settings: Settings) -> Outcome:
        import ray

        started = self._init()
        try:
            return await self._run(ray, plan, scheduler, settings)
        finally:
            if started:
                ray.shutdown()

    async def _run(self, ray: Any, plan: SweepPlan, scheduler: Scheduler, settings: Settings) -> Outcome:
        cpu = {"num_cpus": CPU_JOB_CPUS, "max_retries": MAX_RETRIES}
        train = ray.remote(**cpu)(jobs.train_policy)
        distill = ray.remote(**cpu)(jobs.distill_policy)
        cpu_play = ray.remote(**cpu)(jobs.play_cell_blocking)
        llm_play = ray.remote(num_cpus=LLM_CELL_CPUS, max_retries=MAX_RETRIES)(_llm_cell)

        budget, host_name, actors = None, None, []
        if any(p.job.cell.is_llm for p in plan.pending):
            budget, host_name, actors = self._llm_services(ray, plan, settings, scheduler.run_id)

        async def policy_runner(job: PolicyJob, teacher: str | None) -> str:
            ref = train.remote(job) if job.teacher is None else distill.remote(job, teacher)
            return await _result(ref)

        async def cpu_cell(pending: PendingCell, policy: str | None) -> dict[str, Any]:
            return await _result(cpu_play.remote(pending.job, policy))

        async def llm_cell(pending: PendingCell, policy: str | None) -> dict[str, Any]:
            return await _result(llm_play.remote(pending.job, policy, budget, host_name))

        try:
            slots = plan.spec.llm_concurrency * max(1, len(actors))
            return await scheduler.run_all(policy_runner, cpu_cell, llm_cell, slots)
        finally:
            for actor in actors:  # a server is stopped by its host, never orphaned by a kill
                if hasattr(actor, "stop"):
                    await _result(actor.stop.remote())
                ray.kill(actor)

    def _llm_services(self, ray: Any, plan: SweepPlan, settings: Settings, run_id: str) -> tuple[BudgetRef, str | None, list[Any]]:
        budget_id = sweep_budget_id(plan, run_id)
        actors: list[Any] = []
        if settings.redis_url:
            ref = BudgetRef(budget_id, plan.budget_left, redis_url=settings.redis_url)
        else:
            keeper = ray.remote(num_cpus=0)(BudgetKeeper).remote(budget_id, plan.budget_left)
            actors.append(keeper)
            ref = BudgetRef(budget_id, plan.budget_left, keeper=keeper)
        host_name = None
        if settings.resolved_provider() == "local" and not settings.local_url:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            host_name = f"llamac-model-{run_id}"
            threads = settings.resolved_local_threads()
            host = ray.remote(num_cpus=threads)(ModelServerHost)
            for node in ray.nodes():
                if node.get("Alive") and node.get("Resources", {}).get("CPU", 0) >= threads:
                    actors.append(host.options(
                        name=f"{host_name}-{node['NodeID']}",
                        scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
                    ).remote(str(plan.out / "local-model.log"), threads))
        return ref, host_name, actors


async def _result(ref: Any) -> Any:
    """A task's value; its failure as ``JobFailed`` with our one-line message, not Ray's traceback."""
    import ray

    try:
        return await ref
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if getattr(exc, "cause", None) is not None else exc
        raise JobFailed(" ".join(str(cause).split())[:300]) from None
    except ray.exceptions.RayError as exc:  # a worker that died more often than it was retried
        raise JobFailed(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None


class BudgetKeeper:
    """The sweep's budget in one actor (Ray runs its methods one at a time, so the ledger is exact)."""

    def __init__(self, budget_id: str, total: int | None) -> None:
        from llamac.runtime.budget import InProcessBudget

        self.budget = InProcessBudget(budget_id, total)

    async def reserve(self, tokens: int) -> tuple[bool, Any]:
        try:
            return True, await self.budget.reserve(tokens)
        except BudgetExhausted as exc:
            return False, str(exc)

    async def settle(self, reservation: Any, used: int) -> None:
        await self.budget.settle(reservation, used)

    async def ledger(self) -> Any:
        return await self.budget.ledger()


class ModelServerHost:
    """This node's local model server, started on the first ``url`` call and stopped with the actor."""

    def __init__(self, log_path: str, threads: int) -> None:
        self.log_path = log_path
        self.threads = threads
        """As many llama.cpp threads as Ray reserved CPUs for this actor (measured once, by the driver)."""
        self.server: Any = None

    def url(self) -> str:
        if self.server is None:
            from pathlib import Path

            from llamac.runtime.local_model import LocalModelServer

            settings = Settings().model_copy(update={"local_threads": self.threads})
            self.server = LocalModelServer.from_settings(settings, log_path=Path(self.log_path))
            self.server.start()
        return self.server.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
