"""Turning a run configuration into live objects: tasks, coordinators and, for LLM coordinators, the runtime.

This is the one room that knows every coordinator. ``rl_bridge`` (and so torch) is imported only
when an RL coordinator is asked for, so the LLM side runs without torch installed.
"""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llamac.app.parser import UsageError
from llamac.app.run_config import CoordinatorSpec, TaskSpec
from llamac.runtime.settings import Settings
from tasks.base import Task
from tasks.coordinator import Coordinator

LLM_COORDINATORS = ("llamac", "hmas2")


def build_task(spec: TaskSpec, notation: str = "authors") -> Task:
    """One task instance through the task catalog (which raises ``TaskError`` on bad parameters), written
    in the prompts' ``notation`` (the LLM coordinators' knob; a task without that notation keeps its own)."""
    from tasks import catalog

    if spec.family == "grid":  # TaskSpec's validator guarantees each family's fields
        size = (spec.rows or 0, spec.cols or 0)
        grid = catalog.grid_task(size, spec.difficulty or "", instance=spec.instance, seed=spec.seed)
        return grid.with_notation(notation)  # type: ignore[attr-defined]
    if spec.family == "alloc":
        return catalog.alloc_task(spec.agents or 0, seed=spec.seed or 0)
    return catalog.matrix_task(spec.game or "", k=spec.k)


@dataclass
class LLMRuntime:
    """Gateway, budget and metering of one run, and the local model server when no key is set.

    The server is a child process for the run's lifetime: stopped on exit, error or Ctrl-C.
    """

    settings: Settings
    run_id: str
    run_dir: Path
    budget_total: int | None
    shared_budget: Any = None
    """A budget several runs draw on (a sweep's); its owner closes it. ``budget_total`` is then unused."""
    server_url: str | None = None
    """A local model server already started for several runs (a sweep's), instead of one of our own."""
    gateway: Any = None
    metering: Any = None
    budget: Any = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def __aenter__(self) -> LLMRuntime:
        from llamac.runtime.budget import budget_from_settings
        from llamac.runtime.gateway import LLMGateway
        from llamac.runtime.metering import Metering

        base_url = self.server_url
        if base_url is None and self.settings.resolved_provider() == "local":
            from llamac.runtime.local_model import LocalModelServer

            server = LocalModelServer.from_settings(self.settings, log_path=self.run_dir / "local-model.log")
            await self._stack.enter_async_context(server)
            base_url = server.url
        if self.shared_budget is not None:
            self.budget = self.shared_budget
        else:
            # A ledger per process of the run, holding what the run's own call log says is left: one lost
            # with Redis's data, or left with open reservations by a killed process, is never re-granted.
            session = f"{self.run_id}:{uuid.uuid4().hex[:8]}"
            self.budget = budget_from_settings(self.settings, session, self.budget_total)
            self._stack.push_async_callback(self.budget.aclose)
        self.metering = Metering(self.run_id, self.run_dir)
        self.gateway = LLMGateway(self.settings, self.run_id, budget=self.budget, metering=self.metering,
                                  base_url=base_url)
        return self

    def live_totals(self) -> tuple[int, int]:
        """(calls, tokens) metered so far by this process, for the progress bar (read at every refresh,
        so from the metering's running totals rather than summed over its records)."""
        if self.metering is None:
            return 0, 0
        total = self.metering.metrics.total
        return total.calls, total.prompt_tokens + total.completion_tokens

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


def build_coordinator(spec: CoordinatorSpec, task: Task, runtime: LLMRuntime | None) -> Coordinator:
    if spec.name == "greedy":
        from tasks import catalog

        return catalog.greedy_coordinator(task)
    if spec.name in LLM_COORDINATORS:
        from graphs.context import coordinator_config
        from graphs.hmas2 import HMAS2Coordinator
        from graphs.llamac import LLaMACCoordinator
        from llamac.app.run_config import knob_values

        if runtime is None:
            raise UsageError("an LLM coordinator needs the LLM runtime")
        kind = LLaMACCoordinator if spec.name == "llamac" else HMAS2Coordinator
        return kind(runtime.gateway, coordinator_config(spec.name, knob_values(spec)))  # type: ignore[arg-type]
    return _rl_coordinator(spec, task)


def _rl_coordinator(spec: CoordinatorSpec, task: Task) -> Coordinator:
    """A trained policy; torch is needed here and only here. Checked before a run folder is made
    (``run`` builds the coordinator once up front) and again at ``resume``, when it may have moved."""
    if spec.policy is None:
        raise UsageError(f"--coordinator {spec.name} needs --policy RUN_DIR (config.json: coordinator.policy)")
    policy = Path(spec.policy)
    if not policy.is_dir():
        raise UsageError(f"--policy {spec.policy}: no such folder")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise UsageError(f"--coordinator {spec.name} needs the rl extra (torch): pip install 'llamac[rl]'") from None
    from rl_bridge import RLUsageError
    from rl_bridge.coordinator import load_coordinator

    try:
        return load_coordinator(spec.name, policy, task)
    except RLUsageError as exc:  # wrong kind of run, or trained on another task shape
        raise UsageError(str(exc)) from None
