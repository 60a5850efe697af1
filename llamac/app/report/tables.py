"""The report's tables, computed from the sweep's results rows (``results.parquet``).

Layout of the papers: Success as a rate over the episodes; Steps, Feedback and Tokens as mean (std)
over the *successful* episodes (population std), with the papers' own figures beside ours where they
report the same task. Then what the papers do not show: steps over the greedy planner's on the same
instance, tokens per solved episode, the share of executed plan lines the actors' rule gate wrote,
allocation's normalised reward, the matrix games' scores, and the RL policies used.

Every number is formatted here and rows are sorted by fixed keys, so the same rows always give the
same text.
"""

from __future__ import annotations

import math
import statistics
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

Row = dict[str, Any]

KIND_ORDER = ("greedy", "llamac", "hmas2", "steer", "student", "mappo", "happo", "mat", "step")
PAPER_NAMES = {"llamac": "LLaMAC", "hmas2": "HMAS-2", "steer": "STEER", "step": "STEP", "mat": "MAT",
               "happo": "HAPPO", "mappo": "MAPPO"}


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    key: str = field(default="", compare=False)


def reported() -> dict[str, Any]:
    """The papers' figures shipped with the package (``llamac/data/reported.toml``, with sources)."""
    return tomllib.loads(resources.files("llamac").joinpath("data/reported.toml").read_text())


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def mean_std(values: Sequence[float], digits: int = 1, scale: float = 1.0) -> str:
    """``mean (std)`` with the population std, as the papers' tables; ``-`` for no values."""
    if not values:
        return "-"
    xs = [v / scale for v in values]
    std = statistics.pstdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.fmean(xs):,.{digits}f} ({std:,.{digits}f})"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}% ({part}/{whole})" if whole else "-"


def coordinator_order(rows: Iterable[Row]) -> dict[str, tuple[int, str]]:
    """Coordinators sorted by kind (greedy, LLM, STEER, students, baselines), then by name."""
    kinds = {r["coordinator"]: r["kind"] for r in rows}
    return {name: (KIND_ORDER.index(kind) if kind in KIND_ORDER else 99, name) for name, kind in kinds.items()}


def _size_key(size: str | None) -> tuple[int, str]:
    if not size:
        return (0, "")
    r, c = size.split("x")
    return (int(r) * int(c), size)


def _groups(rows: Sequence[Row], key: Callable[[Row], tuple[Any, ...]], order: Callable[[tuple[Any, ...]], Any]) -> list[tuple[tuple[Any, ...], list[Row]]]:
    out: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        out.setdefault(key(row), []).append(row)
    return sorted(out.items(), key=lambda kv: order(kv[0]))


def _by_coordinator(rows: Sequence[Row], keep: Callable[[Row], bool], *keys: str) -> list[tuple[tuple[Any, ...], list[Row]]]:
    """The kept rows grouped by ``keys`` then coordinator, in the report's order (grid sizes by cells,
    coordinators by kind); empty when no row is kept."""
    kept = [r for r in rows if keep(r)]
    order = coordinator_order(kept)

    def sort(k: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*(_size_key(v) if key == "size" else v for key, v in zip(keys, k, strict=False)), order[k[-1]])

    return _groups(kept, lambda r: (*(r[key] for key in keys), r["coordinator"]), sort)


def _is_grid(row: Row) -> bool:
    return row["family"].startswith("grid")


def grid_table(rows: Sequence[Row]) -> Table | None:
    groups = _by_coordinator(rows, _is_grid, "difficulty", "size")
    if not groups:
        return None
    paper = {(g["difficulty"], g["size"], g["method"]): g for g in reported()["grid"]}
    table = []
    for (difficulty, size, name), group in groups:
        won = [r for r in group if r["success"]]
        kind = group[0]["kind"]
        ref = paper.get((difficulty, size, kind))
        table.append([
            difficulty.capitalize(), size, name, _pct(len(won), len(group)),
            mean_std([r["steps"] for r in won]), mean_std([r["feedback"] for r in won]),
            mean_std([r["tokens"] for r in won], scale=1000.0) if kind in ("llamac", "hmas2") else "-",
            f"{ref['success']}%" if ref else "",
            mean_std_given(ref, "steps"), mean_std_given(ref, "feedback"), mean_std_given(ref, "tokens_k"),
        ])
    return Table(
        "Grid Transportation: ours beside the paper's",
        ["task", "size", "coordinator", "Success", "Steps", "Feedback", "Tokens (x1k)",
         "paper Success", "paper Steps", "paper Feedback", "paper Tokens (x1k)"],
        table,
        "Steps, Feedback and Tokens: mean (std) over successful episodes. The paper's columns are GPT-4's "
        "LLaMAC/HMAS-2 (same task and instance generator); ours ran with the model named in the header.",
        "grid",
    )


def mean_std_given(ref: dict[str, Any] | None, key: str) -> str:
    if not ref or key not in ref:
        return ""
    mean, std = ref[key]
    return f"{mean:g} ({std:g})"


def greedy_bound_table(rows: Sequence[Row]) -> Table | None:
    groups = _by_coordinator(rows, _is_grid, "difficulty", "size")
    if not groups:
        return None
    table = []
    for (difficulty, size, name), group in groups:
        won = [r for r in group if r["success"]]
        ratios = [r["steps"] / r["greedy_steps"] for r in won if r.get("greedy_steps")]
        kind = group[0]["kind"]
        llm = kind in ("llamac", "hmas2")
        tokens = sum(r["tokens"] for r in group)
        steps = sum(r["steps"] for r in group)
        lines = sum(r["plan_lines"] for r in group)
        table.append([
            difficulty.capitalize(), size, name, f"{len(won)}/{len(group)}", mean_std(ratios, 2),
            (_num(tokens / len(won), 0) if won else "none solved") if llm else "-",
            _num(sum(r["llm_calls"] for r in group) / steps, 1) if llm and steps else "-",
            f"{100 * sum(r['gate_fixes'] for r in group) / lines:.0f}%" if kind == "llamac" and lines else "-",
        ])
    return Table(
        "Against the greedy planner, and what the tokens bought",
        ["task", "size", "coordinator", "solved", "steps / greedy steps", "tokens per solved episode",
         "LLM calls per step", "plan lines by the rule gate"],
        table,
        "Steps over the greedy planner's steps on the same instance (mean (std) over solved episodes). Tokens "
        "per solved episode: every token of the group over its solved episodes. Plan lines by the rule gate: "
        "executed plan lines that the actors' rule gate wrote (--actor-gate apply) rather than the model.",
        "bound",
    )


def alloc_table(rows: Sequence[Row]) -> Table | None:
    groups = _by_coordinator(rows, lambda r: r["family"] == "alloc", "agents")
    if not groups:
        return None
    table = []
    for (n, name), group in groups:
        won = [r for r in group if r["success"]]
        llm = group[0]["kind"] in ("llamac", "hmas2")
        table.append([
            str(n), name, _pct(len(won), len(group)),
            mean_std([r["normalised_mean"] for r in group], 3), mean_std([r["normalised_last"] for r in group], 3),
            mean_std([r["steps_to_095"] for r in won]), mean_std([r["regret"] for r in group], 2),
            mean_std([r["tokens"] for r in group], scale=1000.0) if llm else "-",
        ])
    return Table(
        "System Resource Allocation",
        ["agents", "coordinator", "reached 0.95", "normalised reward, mean over steps", "normalised reward, last step",
         "steps to 0.95", "regret", "Tokens (x1k)"],
        table,
        "Normalised reward G(x_t)/G(x*) per step (T = 20). Success = it reached 0.95 within T; steps to 0.95 over "
        "those episodes; regret = sum over steps of 1 - G/G*. Mean (std) over episodes.",
        "alloc",
    )


def matrix_table(rows: Sequence[Row]) -> Table | None:
    groups = _by_coordinator(rows, lambda r: r["family"] == "matrix", "task")
    if not groups:
        return None
    paper = reported()["matrix"]
    table = []
    for (task, name), group in groups:
        game = task.removeprefix("matrix-").replace("-k", "_k")
        ref = paper.get(group[0]["kind"], {}).get(game)
        table.append([game, name, str(len(group)), mean_std([r["score"] for r in group], 2),
                      f"{sum(r['success'] for r in group)}/{len(group)}",
                      f"{ref['score'][0]:g} ({ref['score'][1]:g})" if ref else "", f"{ref['se']}%" if ref else ""])
    return Table("Matrix games", ["game", "coordinator", "episodes", "score", "at the SE", "paper score", "paper SE share"],
                 table, "Score: mean over agents of the episode return of the greedy joint policy.", "matrix")


def policy_table(rows: Sequence[Row]) -> Table | None:
    used = sorted({(r["coordinator"], r["task"], r["seed"], r["policy"], r["policy_env_steps"], r["policy_train_wall_s"])
                   for r in rows if r.get("policy")}, key=lambda t: (t[1], t[0], t[2]))
    if not used:
        return None
    return Table(
        "RL policies used",
        ["coordinator", "task", "seed", "policy folder", "training env steps", "training wall (s)"],
        [[c, t, str(s), p, _num(e, 0), _num(w, 0)] for c, t, s, p, e, w in used],
        "Trained on random instances of the task's size (never the evaluation instances); students are "
        "distilled from the STEER teacher of the same seed (the teacher's training is shown).",
        "policies",
    )


def end_reasons_table(rows: Sequence[Row]) -> Table:
    order = coordinator_order(rows)
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["coordinator"], r["end_reason"] or "-")
        counts[key] = counts.get(key, 0) + 1
    table = [[name, reason, str(n)] for (name, reason), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))]
    return Table("How episodes ended", ["coordinator", "end reason", "episodes"], table, "", "ends")


def all_tables(rows: Sequence[Row]) -> list[Table]:
    made = [grid_table(rows), greedy_bound_table(rows), alloc_table(rows), matrix_table(rows), policy_table(rows)]
    return [t for t in made if t is not None] + [end_reasons_table(rows)]
