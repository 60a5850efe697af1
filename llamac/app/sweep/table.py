"""The sweep's results table: one row per finished cell, read back from the cells' own run folders.

The table is derived, never appended to: every sweep run rebuilds it from ``OUT/cells/*`` in the
spec's cell order, so it is the same whichever executor ran the cells and however often the sweep
was interrupted. Written as ``results.parquet`` (pyarrow; the alloc curve as a list column) and
``results.csv`` (the curve as JSON text). Wall-time columns (``TIMING_COLUMNS``) are measurements;
every other column is a pure function of the spec, the instances and the coordinators' answers.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llamac.app.sweep.jobs import cell_folder, cell_summary, shape_label
from llamac.app.sweep.spec import Cell
from llamac.runtime.counters import SUMMARY_FIELDS

RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
TIMING_COLUMNS = ("wall_s", "policy_train_wall_s")

COLUMNS: tuple[tuple[str, str], ...] = (
    # identifiers
    ("cell", "string"),
    ("task", "string"),
    ("family", "string"),
    ("difficulty", "string"),
    ("size", "string"),
    ("agents", "int"),
    ("n_agents", "int"),
    ("game", "string"),
    ("instance", "int"),
    ("instance_seed", "int"),
    ("coordinator", "string"),
    ("kind", "string"),
    ("settings", "string"),
    ("seed", "int"),
    # the papers' metrics
    ("success", "bool"),
    ("steps", "int"),
    ("end_reason", "string"),
    ("tokens", "float"),
    *((name, "float") for name in SUMMARY_FIELDS),
    ("gate_share", "float"),
    ("greedy_steps", "int"),
    # allocation's own
    ("normalised_mean", "float"),
    ("normalised_last", "float"),
    ("steps_to_095", "float"),
    ("regret", "float"),
    ("normalised_curve", "list"),
    # matrix games' own
    ("score", "float"),
    # the policy behind an RL cell
    ("policy", "string"),
    ("policy_env_steps", "float"),
    ("policy_train_wall_s", "float"),
    # measured
    ("wall_s", "float"),
)
"""Every column, with its type (``list``: the alloc normalised-reward curve, one value per step)."""


def _settings_text(cell: Cell, stored: dict[str, Any]) -> str:
    """The knobs the cell ran with, as its own config.json records them (not as the spec says now), then
    how its policy was made; one stable string (``preset=lean,critics=merged,...``)."""
    from graphs.context import KNOBS

    coordinator = stored.get("coordinator", {})
    parts = []
    if cell.entry.kind in ("llamac", "hmas2"):
        if coordinator.get("preset"):
            parts.append(f"preset={coordinator['preset']}")
        for knob in KNOBS:
            value = coordinator.get(knob.key, knob.default)
            if value is not None and (cell.entry.kind == "llamac" or not knob.llamac_only):
                parts.append(f"{knob.key}={value}")
    entry = cell.entry
    if entry.train is not None:
        parts += [f"train.{k}={v}" for k, v in entry.train.model_dump(exclude_none=True).items()]
    if entry.teacher is not None:
        parts.append(f"teacher={entry.teacher}")
    if stored.get("max_steps") is not None:
        parts.append(f"max_steps={stored['max_steps']}")
    return ",".join(parts)


def _greedy_steps(cell: Cell) -> int | None:
    """The greedy planner's steps on the same grid instance: the lower-bound reference of the report."""
    if cell.task.family != "grid":
        return None
    from llamac.app.build import build_task
    from tasks.baselines.grid_planner import run_greedy

    success, steps, _ = run_greedy(build_task(cell.task))  # type: ignore[arg-type]
    return steps if success else None


def _policy_facts(folder: Path, out: Path) -> tuple[str | None, float | None, float | None]:
    """(policy folder relative to the sweep folder, its training env steps and wall seconds); a
    student's training is its teacher's."""
    config = json.loads((folder / "config.json").read_text())
    if not config.get("coordinator", {}).get("policy"):
        return None, None, None
    policy = Path(config["coordinator"]["policy"])
    shown = os.path.relpath(policy.resolve(), out.resolve())
    try:
        trained = json.loads((policy / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return shown, None, None
    final = trained.get("final", {})
    if trained.get("algo") == "student":
        teacher = final.get("teacher_dir")
        try:
            final = json.loads((Path(teacher) / "config.json").read_text()).get("final", {}) if teacher else {}
        except (OSError, json.JSONDecodeError):
            final = {}
    return shown, final.get("env_steps"), final.get("wall_s")


def cell_row(cell: Cell, out: Path) -> dict[str, Any] | None:
    """The cell's row, or None while it has not finished."""
    folder = cell_folder(out, cell)
    summary = cell_summary(folder)
    if summary is None:
        return None
    task = cell.task
    metrics = summary.get("task_metrics", {})
    curve = _alloc_curve(folder) if task.family == "alloc" else None
    policy, env_steps, train_wall = _policy_facts(folder, out)
    plan_lines = float(summary.get("plan_lines", 0.0))
    row: dict[str, Any] = {
        "cell": cell.id,
        "task": shape_label(task),
        "family": task.family if task.family != "grid" else f"grid-{task.difficulty}",
        "difficulty": task.difficulty,
        "size": f"{task.rows}x{task.cols}" if task.family == "grid" else None,
        "agents": task.agents,
        "n_agents": task.rows * task.cols if task.family == "grid" else (task.agents or 2),  # type: ignore[operator]
        "game": task.game,
        "instance": task.instance,
        "instance_seed": task.seed,
        "coordinator": cell.coordinator,
        "kind": cell.entry.kind,
        "settings": _settings_text(cell, json.loads((folder / "config.json").read_text())),
        "seed": cell.seed,
        "success": bool(summary["success"]),
        "steps": int(summary["steps"]),
        "end_reason": summary.get("end_reason"),
        "gate_share": (float(summary.get("gate_fixes", 0.0)) / plan_lines) if plan_lines else None,
        "greedy_steps": _greedy_steps(cell),
        "normalised_mean": metrics.get("normalised_mean"),
        "normalised_last": metrics.get("normalised_last"),
        "steps_to_095": metrics.get("steps_to_095"),
        "regret": metrics.get("regret"),
        "normalised_curve": curve,
        "score": metrics.get("score"),
        "policy": policy,
        "policy_env_steps": env_steps,
        "policy_train_wall_s": train_wall,
        "wall_s": float(summary.get("wall_s", 0.0)),
    }
    for key in ("tokens", *SUMMARY_FIELDS):
        row[key] = float(summary.get(key, 0.0))
    return row


def _alloc_curve(folder: Path) -> list[float]:
    """The normalised reward ``G(x_t)/G(x*)`` of every executed step, from the cell's steps file."""
    steps = folder / "episodes" / "000" / "steps.jsonl"
    curve = []
    for line in steps.read_text().splitlines():
        if line.strip():
            step = json.loads(line)
            if step.get("executed") and "normalised" in step.get("info", {}):
                curve.append(float(step["info"]["normalised"]))
    return curve


def collect_rows(cells: Sequence[Cell], out: Path) -> list[dict[str, Any]]:
    rows = [cell_row(cell, out) for cell in cells]
    return [r for r in rows if r is not None]


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
            "list": pa.list_(pa.float64())}[kind]


def write_table(rows: list[dict[str, Any]], out: Path) -> None:
    """``results.parquet`` and ``results.csv``, both written whole to a temporary name and renamed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, _arrow_type(kind)) for name, kind in COLUMNS])
    table = pa.Table.from_pylist([{name: row.get(name) for name, _ in COLUMNS} for row in rows], schema=schema)
    tmp = out / (RESULTS_PARQUET + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(out / RESULTS_PARQUET)
    tmp = out / (RESULTS_CSV + ".tmp")
    with tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([name for name, _ in COLUMNS])
        for row in rows:
            writer.writerow([_csv_value(row.get(name), kind) for name, kind in COLUMNS])
    tmp.replace(out / RESULTS_CSV)


def _csv_value(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "list":
        return json.dumps([round(v, 6) for v in value])
    if kind == "float":
        return "nan" if isinstance(value, float) and math.isnan(value) else repr(round(float(value), 6))
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def read_table(out: Path) -> list[dict[str, Any]]:
    """The rows of ``results.parquet`` as plain dicts (for the report and the notebook)."""
    import pyarrow.parquet as pq

    path = out / RESULTS_PARQUET
    if not path.is_file():
        return []
    return pq.read_table(path).to_pylist()
