"""What config.json records: everything ``resume`` needs to rebuild the tasks and the coordinator.

A run is fully described by its command line (task family and parameters, coordinator and its
knobs) plus the episodes it plans; provider settings (keys, URLs) are deliberately *not* stored:
they come from the environment again at resume, so no secret lands in the run folder.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from graphs.context import DEFAULT_PRESET, KNOBS, PRESETS, Knob, resolve_knobs
from llamac.app.parser import COORDINATORS
from llamac.runtime.settings import Settings


class TaskSpec(BaseModel):
    """One episode's task instance."""

    family: Literal["grid", "alloc", "matrix"]
    rows: int | None = None
    cols: int | None = None
    difficulty: Literal["easy", "hard"] | None = None
    instance: int | None = None
    seed: int | None = None
    agents: int | None = None
    game: str | None = None
    k: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> TaskSpec:
        needs = {"grid": ("rows", "cols", "difficulty"), "alloc": ("agents", "seed"), "matrix": ("game",)}[self.family]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"the {self.family} task needs {', '.join(missing)}")
        return self

    def label(self) -> str:
        if self.family == "grid":
            which = f"i{self.instance}" if self.instance is not None else f"s{self.seed}"
            return f"grid-{self.difficulty}-{self.rows}x{self.cols}-{which}"
        if self.family == "alloc":
            return f"alloc-n{self.agents}-s{self.seed}"
        return f"matrix-{self.game}" + (f"-k{self.k:g}" if self.k is not None else "")


def _knob_annotation(knob: Knob) -> Any:
    return Literal[knob.choices] if knob.choices else int | None  # type: ignore[valid-type]


CoordinatorSpec = create_model(
    "CoordinatorSpec",
    __doc__="The coordinator of a run: its kind, its policy (RL) and every knob (LLM), as config.json keeps them. "
            "The knob fields are derived from ``graphs.context.KNOBS``, where each knob is declared once.",
    name=(Literal[COORDINATORS], ...),  # type: ignore[valid-type]
    policy=(str | None, None),
    preset=(Literal[tuple(PRESETS)] | None, None),  # type: ignore[valid-type]
    **{knob.key: (_knob_annotation(knob), knob.default) for knob in KNOBS},
    local_model=(str | None, None),
)


def knob_values(spec: Any) -> dict[str, Any]:
    """Knob key -> value of a ``CoordinatorSpec`` (or any object with the knob keys as attributes)."""
    return {knob.key: getattr(spec, knob.key) for knob in KNOBS}


class EpisodeSpec(BaseModel):
    index: int
    task: TaskSpec
    thread_id: str


class RunConfig(BaseModel):
    version: int = 1
    run_id: str
    created: str
    argv: list[str] = Field(default_factory=list)
    coordinator: CoordinatorSpec
    episodes: list[EpisodeSpec]
    max_steps: int | None = None
    budget: int | None = None
    checkpoint: Literal["sqlite", "postgres"] = "sqlite"


def task_specs(args: argparse.Namespace, rows_cols: tuple[int, int] | None) -> list[TaskSpec]:
    """The task of each planned episode: consecutive golden instances, or consecutive seeds."""
    n = args.episodes
    if args.command == "grid":
        assert rows_cols is not None
        rows, cols = rows_cols
        if args.seed is not None:
            return [TaskSpec(family="grid", rows=rows, cols=cols, difficulty=args.difficulty, seed=args.seed + i)
                    for i in range(n)]
        first = 0 if args.instance is None else args.instance
        return [TaskSpec(family="grid", rows=rows, cols=cols, difficulty=args.difficulty, instance=first + i)
                for i in range(n)]
    if args.command == "alloc":
        return [TaskSpec(family="alloc", agents=args.agents, seed=args.seed + i) for i in range(n)]
    return [TaskSpec(family="matrix", game=args.game, k=args.k) for _ in range(n)]


def default_out(runs_dir: Path, first: TaskSpec, coordinator: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S-%f")
    return runs_dir / f"{stamp}-{first.label()}-{coordinator}"


def new_config(args: argparse.Namespace, argv: list[str], specs: list[TaskSpec], run_dir: Path,
               settings: Settings) -> RunConfig:
    """The settings fix the checkpointer and the default budget once, at start: ``resume`` keeps them."""
    # unique even when a folder name is reused: PostgreSQL checkpoints outlive deleted folders
    run_id = f"{run_dir.resolve().name}-{uuid.uuid4().hex[:8]}"
    return RunConfig(
        run_id=run_id,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        argv=list(argv),
        coordinator=CoordinatorSpec(name=args.coordinator, policy=args.policy,
                                    preset=(args.preset or DEFAULT_PRESET) if args.coordinator == "llamac" else None,
                                    **resolve_knobs(args.coordinator, args.preset, knob_values(args)),
                                    local_model=args.local_model),
        episodes=[EpisodeSpec(index=i, task=s, thread_id=f"{run_id}/ep{i:03d}") for i, s in enumerate(specs)],
        max_steps=args.max_steps,
        budget=args.budget if args.budget is not None else settings.budget_tokens,
        checkpoint="postgres" if settings.checkpoint_url else "sqlite",
    )
