"""The report's figures (matplotlib, Agg), each drawn from the results rows alone.

PNG files are written without the ``Software`` metadata entry and from sorted data, so the same rows
give byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llamac.app.report.tables import Row, _size_key, coordinator_order

PNG_METADATA: dict[str, Any] = {"Software": None}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7})
    return plt


def _label(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata=PNG_METADATA)
    _plt().close(fig)
    return path


def _grid(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r["family"].startswith("grid")]


def success_vs_size(rows: Sequence[Row], path: Path) -> Path | None:
    grid = _grid(rows)
    if not grid:
        return None
    plt = _plt()
    difficulties = sorted({r["difficulty"] for r in grid})
    order = coordinator_order(grid)
    fig, axes = plt.subplots(1, len(difficulties), figsize=(5 * len(difficulties), 3.4), squeeze=False)
    for ax, difficulty in zip(axes[0], difficulties, strict=True):
        sub = [r for r in grid if r["difficulty"] == difficulty]
        sizes = sorted({r["size"] for r in sub}, key=_size_key)
        for name in sorted({r["coordinator"] for r in sub}, key=order.__getitem__):
            xs, ys = [], []
            for i, size in enumerate(sizes):
                group = [r for r in sub if r["coordinator"] == name and r["size"] == size]
                if group:
                    xs.append(i)
                    ys.append(100 * sum(r["success"] for r in group) / len(group))
            ax.plot(xs, ys, "o-", label=name)
        ax.set_xticks(range(len(sizes)), sizes)
        ax.set_ylim(-5, 105)
        _label(ax, "grid size", "success (%)", f"Grid {difficulty.capitalize()}: success by size")
    return _save(fig, path)


def tokens_vs_size(rows: Sequence[Row], path: Path) -> Path | None:
    grid = [r for r in _grid(rows) if r["kind"] in ("llamac", "hmas2") and r["tokens"] > 0]
    if not grid:
        return None
    plt = _plt()
    order = coordinator_order(grid)
    sizes = sorted({r["size"] for r in grid}, key=_size_key)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for name in sorted({r["coordinator"] for r in grid}, key=order.__getitem__):
        for difficulty, marker in (("easy", "o-"), ("hard", "s--")):
            xs, ys = [], []
            for i, size in enumerate(sizes):
                group = [r["tokens"] for r in grid if r["coordinator"] == name and r["size"] == size
                         and r["difficulty"] == difficulty]
                if group:
                    xs.append(i)
                    ys.append(sum(group) / len(group))
            if xs:
                ax.plot(xs, ys, marker, label=f"{name} ({difficulty})")
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)), sizes)
    _label(ax, "grid size", "tokens per episode (mean, log scale)", "LLM tokens by grid size")
    return _save(fig, path)


def steps_vs_greedy(rows: Sequence[Row], path: Path) -> Path | None:
    won = [r for r in _grid(rows) if r["success"] and r.get("greedy_steps")]
    if not won:
        return None
    plt = _plt()
    order = coordinator_order(won)
    fig, ax = plt.subplots(figsize=(4.8, 4))
    top = max(max(r["steps"] for r in won), max(r["greedy_steps"] for r in won)) + 1
    ax.plot([0, top], [0, top], color="grey", lw=0.8, label="= greedy")
    names = sorted({r["coordinator"] for r in won}, key=order.__getitem__)
    for k, name in enumerate(names):
        pts = sorted((r["greedy_steps"], r["steps"]) for r in won if r["coordinator"] == name)
        jitter = (k - (len(names) - 1) / 2) * 0.08
        ax.scatter([g + jitter for g, _ in pts], [s for _, s in pts], s=12, alpha=0.7, label=name)
    _label(ax, "greedy planner's steps (same instance)", "steps to solve",
           "Solved grid episodes: steps against the greedy bound")
    return _save(fig, path)


def alloc_curves(rows: Sequence[Row], path: Path) -> Path | None:
    alloc = [r for r in rows if r["family"] == "alloc" and r.get("normalised_curve")]
    if not alloc:
        return None
    plt = _plt()
    ns = sorted({r["agents"] for r in alloc})
    order = coordinator_order(alloc)
    fig, axes = plt.subplots(1, len(ns), figsize=(4.2 * len(ns), 3.3), squeeze=False)
    for ax, n in zip(axes[0], ns, strict=True):
        for name in sorted({r["coordinator"] for r in alloc if r["agents"] == n}, key=order.__getitem__):
            curves = [r["normalised_curve"] for r in alloc if r["agents"] == n and r["coordinator"] == name]
            length = max(len(c) for c in curves)
            mean = [sum(c[t] for c in curves if t < len(c)) / sum(1 for c in curves if t < len(c)) for t in range(length)]
            ax.plot(range(1, length + 1), mean, label=f"{name} ({len(curves)})")
        ax.axhline(0.95, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, 1.05)
        _label(ax, "step", "normalised reward G/G*", f"Resource allocation, N = {n}")
    return _save(fig, path)


def training_curves(rows: Sequence[Row], out: Path, path: Path) -> Path | None:
    """Each trained policy's evaluation curve (greedy success on the evaluation instances for grids, the
    greedy return otherwise) from its own ``curve.csv``; students are shown through their teacher."""
    used = sorted({(r["coordinator"], r["task"], r["seed"], r["policy"]) for r in rows
                   if r.get("policy") and r["kind"] != "student"}, key=lambda t: (t[1], t[0], t[2]))
    curves = []
    for name, task, seed, policy in used:
        file = out / policy / "curve.csv"
        if not file.is_file():
            continue
        with file.open() as fh:
            points = [row for row in csv.DictReader(fh)]
        metric = "success" if points and "success" in points[-1] and points[-1]["success"] not in ("", "nan") else "greedy_score"
        xy = [(float(p["env_steps"]), float(p[metric])) for p in points if p.get(metric) not in (None, "", "nan")]
        if xy:
            curves.append((task, f"{name} s{seed}", metric, xy))
    if not curves:
        return None
    plt = _plt()
    tasks = sorted({c[0] for c in curves})
    cols = min(3, len(tasks))
    nrows = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3 * nrows), squeeze=False)
    for ax, task in zip(axes.flat, tasks, strict=False):
        for _, label, metric, xy in (c for c in curves if c[0] == task):
            ax.plot([x for x, _ in xy], [y for _, y in xy], "o-", ms=2, label=label)
            ax.set_ylabel("greedy success (eval instances)" if metric == "success" else "greedy return")
        ax.set_xlabel("environment steps")
        ax.set_title(task)
        ax.legend()
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    return _save(fig, path)


def all_figures(rows: Sequence[Row], out: Path, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = [
        success_vs_size(rows, folder / "success_vs_size.png"),
        tokens_vs_size(rows, folder / "tokens_vs_size.png"),
        steps_vs_greedy(rows, folder / "steps_vs_greedy.png"),
        alloc_curves(rows, folder / "alloc_normalised.png"),
        training_curves(rows, out, folder / "training_curves.png"),
    ]
    return [p for p in made if p is not None]
