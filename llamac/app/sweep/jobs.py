"""What a sweep executes: train a policy, distil students, play one cell.

Each job is a frozen, picklable value and each runner a plain function of it, so the local process
pool and Ray run the very same code (and results cannot depend on the executor). Runners are
idempotent: a policy already in its folder is not trained again, and a cell with a summary is not
played again (a cell with only a checkpoint continues from it: ``llamac.app.execute`` resumes).
torch is imported only inside the RL runners.
"""

from __future__ import annotations

import asyncio
import json
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llamac.app.run_config import EpisodeSpec, RunConfig, TaskSpec
from llamac.app.run_folder import RunFolder
from llamac.app.sweep.spec import Cell, CoordinatorEntry, DistillBlock, TrainBlock
from llamac.runtime.settings import Settings
from llamac.runtime.stops import RESUMABLE_END_REASONS


class SweepError(RuntimeError):
    """A sweep that cannot go on as asked (a conflicting cell folder, a missing policy): one line."""


class JobFailed(RuntimeError):
    """A job raised; the message is one line and the traceback is in the job's ``error.txt``."""


def shape_label(task: TaskSpec) -> str:
    """The task without its instance: what a policy is trained for (agents, observations, actions)."""
    if task.family == "grid":
        return f"grid-{task.difficulty}-{task.rows}x{task.cols}"
    if task.family == "alloc":
        return f"alloc-n{task.agents}"
    return f"matrix-{task.game}" + (f"-k{task.k:g}" if task.k is not None else "")


def env_fields(task: TaskSpec) -> dict[str, Any]:
    """The fields of ``rl_bridge.envs.EnvSpec`` that identify the task's shape (what a policy fits)."""
    if task.family == "grid":
        return {"kind": "grid", "size": f"{task.rows}x{task.cols}", "difficulty": task.difficulty}
    if task.family == "alloc":
        return {"kind": "alloc", "agents": task.agents}
    return {"kind": "matrix", "game": task.game, "k": task.k if task.k is not None else 0.0}


def env_spec(task: TaskSpec) -> Any:
    """The task's ``rl_bridge.envs.EnvSpec`` (that module needs no torch)."""
    from rl_bridge.envs import EnvSpec

    return EnvSpec(**env_fields(task))


def _fits(env: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(env.get(k) == v for k, v in wanted.items())


def find_policy(root: Path, algo: str, task: TaskSpec, seed: int) -> Path | None:
    """The trained run under ``root`` of this algorithm, task shape and seed (read from config.json
    files, so the driver needs no torch). Several candidates (say ``steer`` and ``steer-lt0.1``): the
    one labelled with the bare algorithm name, else an error naming them."""
    if not root.is_dir():
        return None
    wanted = env_fields(task)
    found = []
    for config in sorted(root.rglob("config.json")):
        try:
            data = json.loads(config.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if (data.get("algo") == algo and data.get("seed") == seed and isinstance(data.get("env"), dict)
                and _fits(data["env"], wanted) and (config.parent / "model.pt").is_file()):
            found.append((data.get("label", algo), config.parent))
    if len(found) > 1:
        plain = [path for label, path in found if label == algo]
        if len(plain) == 1:
            return plain[0]
        raise SweepError(f"{root} holds {len(found)} {algo} runs for {shape_label(task)} seed {seed} "
                         f"({', '.join(str(p) for _, p in found)}); keep one")
    return found[0][1] if found else None


# ------------------------------------------------------------------------------------ policies
@dataclass(frozen=True)
class PolicyJob:
    """Train (``train``) or distil (``teacher``) the policy of one coordinator entry for one task shape
    and seed, into ``root`` (``OUT/policies/<entry>``). A teacher is a folder given by the spec or the
    job that trains it."""

    coordinator: str
    algo: str
    task: TaskSpec
    seed: int
    root: Path
    train: TrainBlock | None = None
    teacher: Path | PolicyJob | None = None
    distill: DistillBlock | None = None

    @property
    def key(self) -> str:
        return f"{self.coordinator}/{shape_label(self.task)}/s{self.seed}"

    def done(self) -> Path | None:
        return find_policy(self.root, self.algo, self.task, self.seed)


PolicySource = Path | PolicyJob | None
"""Where a cell's policy comes from: a folder the spec names, a job of the sweep, or none (not RL)."""


def policy_source(cell: Cell, out: Path, entries: dict[str, CoordinatorEntry], spec_dir: Path) -> PolicySource:
    """Resolve the cell's policy; a folder the spec names must hold it now (checked before any cell runs)."""
    entry = cell.entry
    if entry.kind in ("greedy", "llamac", "hmas2"):
        return None
    if entry.policies is not None:
        root = (spec_dir / entry.policies).resolve()
        found = find_policy(root, entry.kind, cell.task, cell.seed)
        if found is None:
            raise SweepError(f"coordinators.{cell.coordinator}.policies: no {entry.kind} run for "
                             f"{shape_label(cell.task)} seed {cell.seed} under {root}")
        return found
    root = out.resolve() / "policies" / cell.coordinator
    if entry.train is not None:
        return PolicyJob(cell.coordinator, entry.kind, cell.task, cell.seed, root, train=entry.train)
    assert entry.teacher is not None
    teacher = policy_source(Cell(cell.task, entry.teacher, entries[entry.teacher], cell.seed), out, entries, spec_dir)
    assert teacher is not None
    return PolicyJob(cell.coordinator, "student", cell.task, cell.seed, root, teacher=teacher, distill=entry.distill)


def configure_torch_worker() -> None:
    from rl_bridge.cli import configure_torch

    configure_torch()


def train_policy(job: PolicyJob) -> str:
    """Train one seed with ``rl_bridge.train`` on random instances of the task's shape (never the
    evaluation instances: ``EnvSpec.training_task`` draws from seeds of 1,000,000 up)."""
    done = job.done()
    if done is not None:
        return str(done)
    configure_torch_worker()
    from dataclasses import replace

    from rl_bridge.algorithms.ppo import PPOConfig
    from rl_bridge.train import train_run

    assert job.train is not None
    spec = env_spec(job.task)
    overrides = {k: v for k, v in {"total_steps": job.train.steps, "n_envs": job.train.n_envs,
                                   "episode_length": job.train.episode_length}.items() if v is not None}
    budget_s = None if job.train.minutes is None else job.train.minutes * 60
    if job.train.recipe is not None:
        from rl_bridge.recipes import recipe_for
        from rl_bridge.train import train_recipe

        name = recipe_for(spec) if job.train.recipe == "auto" else job.train.recipe
        if name is None:
            raise SweepError(f"{job.key}: no rl_bridge recipe trains {shape_label(job.task)}; name one or drop recipe")
        train_recipe(name, job.seed, job.root, algo=job.algo, overrides=overrides, log=False, budget_s=budget_s)
        return _must_find(job)
    cfg = replace(replace(PPOConfig(), **spec.ppo_defaults()), **overrides)
    train_run(job.algo, spec, job.seed, cfg, job.root, log=False, budget_s=budget_s)
    return _must_find(job)


def distill_policy(job: PolicyJob, teacher_dir: str) -> str:
    """Distil the teacher's run into per-agent students (``rl_bridge.distill``), seeded like the cell."""
    done = job.done()
    if done is not None:
        return str(done)
    configure_torch_worker()
    from rl_bridge.distill import DistillConfig, distill

    assert job.distill is not None
    cfg = DistillConfig(variant=job.distill.variant, teacher_steps=job.distill.teacher_steps,
                        epochs=job.distill.epochs, seed=job.seed)
    distill(teacher_dir, cfg, job.root / env_spec(job.task).name / f"student-{cfg.variant}" / f"seed{job.seed}")
    return _must_find(job)


def _must_find(job: PolicyJob) -> str:
    found = job.done()
    if found is None:
        raise SweepError(f"{job.key}: no run folder under {job.root} after training")
    return str(found)


# --------------------------------------------------------------------------------------- cells
@dataclass(frozen=True)
class CellJob:
    """Play one cell into its run folder ``OUT/cells/<task>/<coordinator>/s<seed>``."""

    cell: Cell
    folder: Path
    sweep: str
    checkpoint: str = "sqlite"

    def config(self, policy: str | None) -> RunConfig:
        run_id = f"{self.sweep}-{self.cell.id.replace('/', '-')}-{uuid.uuid4().hex[:8]}"
        return RunConfig(
            run_id=run_id,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            argv=["sweep", self.sweep, "cell", self.cell.id],
            coordinator=self.cell.entry.coordinator_spec(policy),
            episodes=[EpisodeSpec(index=0, task=self.cell.task, thread_id=f"{run_id}/ep000")],
            max_steps=self.cell.entry.max_steps,
            budget=None,
            checkpoint=self.checkpoint,  # type: ignore[arg-type]
        )


def cell_folder(out: Path, cell: Cell) -> Path:
    return out / "cells" / cell.task.label() / cell.coordinator / f"s{cell.seed}"


def cell_summary(folder: Path) -> dict[str, Any] | None:
    """The cell's episode summary when it has finished, else None (also when a provider or Redis failure
    stopped it: the next sweep run continues it)."""
    path = folder / "episodes" / "000" / "summary.json"
    if not path.is_file():
        return None
    summary = json.loads(path.read_text())
    return None if summary.get("end_reason") in RESUMABLE_END_REASONS else summary


def _same_cell(stored: dict[str, Any], wanted: RunConfig) -> str | None:
    """What differs between a cell folder's config.json and the cell the spec asks for (policy paths
    aside: a moved sweep folder is still the same sweep)."""
    have = RunConfig.model_validate(stored)
    if have.episodes[0].task != wanted.episodes[0].task:
        return "the task"
    same = {"policy": None, "preset": None}  # the resolved knobs decide; the preset is only their name
    if have.coordinator.model_copy(update=same) != wanted.coordinator.model_copy(update=same):
        return "the coordinator's settings"
    if have.max_steps != wanted.max_steps:
        return "max_steps"
    return None


def open_cell(job: CellJob, policy: str | None) -> tuple[RunConfig, RunFolder]:
    """The cell's run folder: made with a fresh config.json, or reopened when the same cell was started
    before (a conflicting one is refused, never overwritten)."""
    wanted = job.config(str(Path(policy).resolve()) if policy else None)
    if (job.folder / "config.json").is_file():
        folder = RunFolder.open(job.folder)
        differs = _same_cell(folder.read_config(), wanted)
        if differs is not None:
            raise SweepError(f"{job.folder} holds cell {job.cell.id} run with other settings ({differs} differs); "
                             "remove that folder or use another --out")
        return RunConfig.model_validate(folder.read_config()), folder
    folder = RunFolder.create(job.folder)
    folder.write_config(wanted.model_dump(mode="json"))
    return wanted, folder


async def play_cell(job: CellJob, policy: str | None, settings: Settings, *, shared_budget: Any = None,
                    server_url: str | None = None) -> dict[str, Any]:
    """Run (or continue) the cell's episode; returns its summary. A failure leaves the traceback in the
    cell's ``error.txt`` and its checkpoint, so the next sweep run continues the cell."""
    from rich.console import Console

    from llamac.app.execute import run_episodes

    config, folder = open_cell(job, policy)
    try:
        summaries = await run_episodes(config, folder, settings, Console(stderr=True, quiet=True), quiet=True,
                                       shared_budget=shared_budget, server_url=server_url)
    except Exception as exc:
        (folder.path / "error.txt").write_text(traceback.format_exc())
        text = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise JobFailed(f"{job.cell.id}: {type(exc).__name__}: {text} (details in {folder.path / 'error.txt'})") from None
    return summaries[0]


def play_cell_blocking(job: CellJob, policy: str | None, *, shared_budget: Any = None,
                       server_url: str | None = None) -> dict[str, Any]:
    """``play_cell`` in a worker process of its own (process pool or Ray task)."""
    if job.cell.entry.kind not in ("greedy", "llamac", "hmas2"):
        configure_torch_worker()
    return asyncio.run(play_cell(job, policy, Settings(), shared_budget=shared_budget, server_url=server_url))
