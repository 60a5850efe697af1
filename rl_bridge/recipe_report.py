"""``python -m rl_bridge.recipe_report RUNS... --out results/rl_recipes``: what each recipe's runs reached.

For every run folder that followed a recipe (its config.json records one): the wall time and steps it
trained, greedy success on the 10 golden instances and on 10 fresh seeds, steps per solved episode
beside the greedy planner's on the same instances (grids), the normalised reward (allocation), and
whether the recipe's target was met. Writes ``OUT.md``, ``OUT.csv`` (the table), ``OUT_curves.csv`` and
``OUT_curves.png`` (golden success, or normalised reward, against wall time); ``OUT_notes.md``, written
by hand (what was not reached and why), is appended when it exists.

``python -m rl_bridge.recipe_report --tables OUT1.csv OUT2.csv ... --out results/rl_recipes_overview``:
one matrix, recipe by algorithm, of the tables earlier reports wrote (run folders do not outlive a
machine; their tables are committed). Tables are given oldest first; a later row for the same recipe,
algorithm and seed is the one the matrix shows, and every row stays listed below it with its table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from rl_bridge.errors import RLUsageError

COMMAND = "scripts/rl_recipes.sh"
FLAGS = {"total_steps": "--steps", "n_envs": "--n-envs", "episode_length": "--episode-length",
         "entropy_coef": "--entropy", "lr": "--lr", "ppo_epochs": "--ppo-epochs"}
"""``rl_bridge.train``'s PPO flags (``ppo_overrides``), by the setting each overrides."""


def train_command(data: dict[str, Any], out: Path) -> str:
    """The command that trained a recipe's run under ``out`` (its ``--out``), rebuilt from the run's
    config.json ``data``: the recipe, algorithm and seed, with the flags that changed the recipe's own
    settings (PPO settings, the wall-time budget, ``--eval-every``, which picks a ``select`` recipe's network)."""
    from rl_bridge.recipes import recipe

    r, final = data["recipe"], data["final"]
    parts = ["python -m rl_bridge.train", "--recipe", r["name"], "--algo", r["algo"], "--seeds", str(data["seed"]),
             "--out", str(out)]
    if "eval_every" in final:
        parts += ["--eval-every", str(final["eval_every"])]
    try:
        own = recipe(r["name"], r["algo"]).ppo_config()
    except RLUsageError:  # a recipe renamed since: its settings are the recorded ones
        own = None
    if own is not None:
        parts += [part for field, flag in FLAGS.items() if data["ppo"].get(field) != getattr(own, field)
                  for part in (flag, f"{data['ppo'][field]:g}")]
    if final.get("budget_s") is not None and final["budget_s"] != r["budget_minutes"] * 60:
        parts += ["--budget-minutes", f"{final['budget_s'] / 60:g}"]
    return " ".join(parts)


def planner_steps(task: Any) -> float:
    """Steps the greedy planner (``tasks.baselines``) takes on ``task``; nan when it fails."""
    from tasks.catalog import greedy_coordinator

    coordinator = greedy_coordinator(task)
    state, steps = task.initial_state(), 0
    while steps < task.step_limit:
        decision = asyncio.run(coordinator.decide(task, state, []))
        out = task.step(state, decision.joint_action)
        state, steps = out.state, steps + 1
        if out.done:
            return float(steps) if out.success else float("nan")
    return float("nan")


def replay(folder: Path, n: int = 10) -> dict[str, Any]:
    """Per-instance greedy episodes of a run on the golden and fresh instances."""
    import torch

    from rl_bridge.evaluate import play_episode
    from rl_bridge.run_folder import load_run

    torch.set_num_threads(1)
    algo, config = load_run(folder)
    spec = config.env
    out: dict[str, Any] = {}
    for which, make in (("golden", spec.task), ("fresh", spec.fresh_task)):
        tasks = [make(i) for i in range(n)]
        episodes = [play_episode(algo, task, spec) for task in tasks]
        out[which] = episodes
        if spec.kind == "grid":
            out[f"{which}_planner"] = [planner_steps(task) for task in tasks]
    return out


def summarise(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / "config.json").read_text())
    r = data["recipe"]
    runs = folder.parents[2]  # the run's --out: OUT/<task>/<label>/seedN
    played = replay(folder)
    row: dict[str, Any] = {"recipe": r["name"], "algo": r["algo"], "seed": data["seed"],
                           "wall_min": round(data["final"]["wall_s"] / 60, 1), "env_steps": data["final"]["env_steps"],
                           "command": train_command(data, runs), "runs": str(runs)}
    metric, at_least = r["target"]["metric"], r["target"]["at_least"]
    met = data["final"]["wall_s"] <= r["target"]["minutes"] * 60 * 1.05
    for which in ("golden", "fresh"):
        episodes = played[which]
        row[f"{which}_success"] = sum(e["success"] for e in episodes)
        if data["env"]["kind"] == "grid":
            solved = [(e["steps"], p) for e, p in zip(episodes, played[f"{which}_planner"], strict=True) if e["success"]]
            row[f"{which}_steps"] = round(float(np.mean([s for s, _ in solved])), 1) if solved else float("nan")
            row[f"{which}_planner_steps"] = round(float(np.mean([p for _, p in solved])), 1) if solved else float("nan")
        else:
            for key in ("normalised_last", "normalised_mean"):
                row[f"{which}_{key}"] = round(float(np.mean([e[key] for e in episodes])), 3)
        value = row[f"{which}_success"] / len(episodes) if metric == "success" else row[f"{which}_{metric}"]
        met = met and value >= at_least - 1e-9
    row["target"] = f"{metric} >= {at_least:g} within {r['target']['minutes']:g} min"
    row["met"] = "yes" if met else "no"
    return row


def write(rows: list[dict[str, Any]], curves: dict[str, list[dict[str, str]]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with out.with_suffix(".csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    grid = [r for r in rows if "golden_steps" in r]
    alloc = [r for r in rows if "golden_normalised_last" in r]
    lines = [
        "# RL recipes: what each named recipe reached",
        "",
        "Regenerate: the runs below were trained by",
        "",
        *[f"    {c}" for c in dict.fromkeys(r["command"] for r in rows)],
        f"    python -m rl_bridge.recipe_report {' '.join(dict.fromkeys(r['runs'] for r in rows))} --out {out}",
        "",
        f"(`{COMMAND} [OUT] [RECIPE[:ALGO] ...]` trains a list of recipes one after another.) Greedy (argmax) "
        "policies; golden = the 10 shipped instances, fresh = 10 random instances (seeds 100-109) no training run "
        "draws; steps are per solved episode, beside the greedy planner's on the same solved instances. Wall time is as "
        "measured where the run trained; the notes below say what else shared the machine.",
        "",
    ]
    if grid:
        lines += ["| recipe | algo | seed | wall (min) | env steps | golden solved | fresh solved | steps golden (planner) | steps fresh (planner) | target | met |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['recipe']} | {r['algo']} | {r['seed']} | {r['wall_min']} | {r['env_steps']:,} | {r['golden_success']:g}/10 | "
                  f"{r['fresh_success']:g}/10 | {beside(r['golden_steps'], r['golden_planner_steps'])} | "
                  f"{beside(r['fresh_steps'], r['fresh_planner_steps'])} | {r['target']} | {r['met']} |" for r in grid]
        lines.append("")
    if alloc:
        lines += ["| recipe | algo | seed | wall (min) | env steps | G/G* last step, golden (fresh) | G/G* mean over 20 steps, golden (fresh) | reached 0.95, golden (fresh) | target | met |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['recipe']} | {r['algo']} | {r['seed']} | {r['wall_min']} | {r['env_steps']:,} | {r['golden_normalised_last']} "
                  f"({r['fresh_normalised_last']}) | {r['golden_normalised_mean']} ({r['fresh_normalised_mean']}) | "
                  f"{r['golden_success']:g}/10 ({r['fresh_success']:g}/10) | {r['target']} | {r['met']} |" for r in alloc]
        lines.append("")
    lines += [f"Curves: `{out.name}_curves.png` (data `{out.name}_curves.csv`); each run's own curve is in its run folder.", ""]
    notes = out.parent / f"{out.name}_notes.md"
    if notes.is_file():
        lines += [notes.read_text().rstrip(), ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    plot(curves, out)


def plot(curves: dict[str, list[dict[str, str]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, curve in sorted(curves.items()):
        points = [(float(c["wall_s"]) / 60, float(c.get("normalised_last") or c["success"])) for c in curve
                  if c.get("success") not in (None, "")]
        rows += [{"run": label, "wall_min": round(w, 2), "value": v} for w, v in points]
        if points:
            ax.plot(*zip(*points, strict=True), label=label, lw=1.2)
    ax.set_xlabel("wall time (min)")
    ax.set_ylabel("golden success (grids) / G/G* last step (alloc)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out.parent / f"{out.name}_curves.png", dpi=100)
    plt.close(fig)
    with (out.parent / f"{out.name}_curves.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["run", "wall_min", "value"])
        writer.writeheader()
        writer.writerows(rows)


ALGOS = ("steer", "mappo", "happo", "mat", "step")
"""``rl_bridge.recipes.RECIPE_ALGOS``, the matrix's columns (that module imports torch; a report of tables needs none)."""


def solved_any(steps: object) -> bool:
    """Whether a run has steps per solved episode (a number, or its text in a table); none when nothing was solved."""
    return str(steps) not in ("", "nan")


def beside(steps: object, planner: object) -> str:
    """Steps per solved episode beside the greedy planner's on the same instances, ``-`` when nothing was solved."""
    return f"{steps} ({planner})" if solved_any(steps) else "-"


@cache
def recipes_table() -> dict[str, Any]:
    """recipes.toml's recipes as written, read once and without torch (``rl_bridge.recipes`` validates them)."""
    import tomllib

    return tomllib.loads(Path(__file__).with_name("recipes.toml").read_text())["recipes"]


@cache
def recipe_rank(name: str) -> int:
    """Where a recipe sorts in a table: its place in recipes.toml (unknown names last)."""
    names = list(recipes_table())
    return names.index(name) if name in names else len(names)


def capped(row: dict[str, str]) -> float | None:
    """The recipe's own budget in minutes when ``row``'s run was stopped short of both the recipe's steps and its
    budget (a shorter ``--budget-minutes``); None for a run the recipe itself bounded. Read from recipes.toml as
    it is now."""
    table = recipes_table()
    data = table.get(row["recipe"])
    if data is None:
        return None
    own = data.get("algos", {}).get(row["algo"], {})
    ppo = {**data["ppo"], **own.get("ppo", {})}
    update = ppo["n_envs"] * ppo["episode_length"]  # a run stops at the last whole update within its steps
    budget = float(own.get("budget_minutes", data["budget_minutes"]))
    short = int(float(row["env_steps"])) + update <= ppo["total_steps"] and float(row["wall_min"]) < 0.95 * budget
    return budget if short else None


def cell(row: dict[str, str]) -> str:
    """One run in a matrix cell: golden (fresh) solved and steps beside the planner's (grids) or G/G* at the last
    step (allocation), its wall time (and the recipe's budget when a shorter cap stopped it), and whether it met
    the recipe's target."""
    mark = "**met**" if row["met"] == "yes" else "not met"
    budget = capped(row)
    minutes = f"{row['wall_min']} min" + (f" (cut short: the recipe allows {budget:g})" if budget else "")
    if row.get("golden_normalised_last"):
        head = f"{float(row['golden_normalised_last']):.3f} ({float(row['fresh_normalised_last']):.3f})"
    else:
        head = f"{float(row['golden_success']):g}/10 ({float(row['fresh_success']):g}/10)"
        if solved_any(row["golden_steps"]):
            head += f", {row['golden_steps']} steps ({row['golden_planner_steps']})"
    return f"{head}; {minutes}; {mark}"


def overview(tables: list[Path], out: Path) -> None:
    """The matrix of ``tables`` (oldest first; a later row replaces an earlier one of the same recipe, algorithm
    and seed) and every row with the table it came from: ``OUT.md`` and ``OUT.csv``."""
    rows: list[dict[str, str]] = []
    for table in tables:
        if not table.is_file():
            raise RLUsageError(f"no table {table}: give the .csv files earlier reports wrote")
        with table.open(newline="") as f:
            found = list(csv.DictReader(f))
        if not found or not {"recipe", "algo", "seed", "met"} <= set(found[0]):
            raise RLUsageError(f"{table} is not a table written by rl_bridge.recipe_report")
        rows += [{**row, "table": table.name} for row in found]
    latest = {(r["recipe"], r["algo"], r["seed"]): r for r in rows}
    recipes = sorted({r["recipe"] for r in rows}, key=lambda n: (recipe_rank(n), n))
    seeds = sorted({r["seed"] for r in rows}, key=int)
    lines = ["# RL recipes: every recipe by algorithm, as last measured", "",
             "Regenerate: `python -m rl_bridge.recipe_report --tables "
             + " ".join(str(t) for t in tables) + f" --out {out}` (tables oldest first; each table's own "
             "commands, curves and notes are in its `.md`).", "",
             "A cell is the latest run of the recipe with that algorithm: grids, golden (fresh) instances solved "
             "and steps per solved golden episode (the greedy planner's on the same instances); allocation, G/G* at "
             "the last step on golden (fresh) instances; then the run's wall time (\"cut short\": a shorter "
             "`--budget-minutes` stopped it before the recipe's steps and budget) and whether it met the recipe's "
             "target. Empty: not run under the recipe.", ""]
    for seed in seeds:
        if len(seeds) > 1:
            lines += [f"Seed {seed}:", ""]
        lines += ["| recipe | target | " + " | ".join(a.upper() if a != "steer" else "STEER" for a in ALGOS) + " |",
                  "|---|---|" + "---|" * len(ALGOS)]
        for name in recipes:
            cells = [latest.get((name, algo, seed)) for algo in ALGOS]
            target = next(c["target"] for c in cells if c is not None) if any(cells) else ""
            lines.append(f"| {name} | {target} | " + " | ".join(cell(c) if c else "" for c in cells) + " |")
        lines.append("")
    lines += ["Every run, with the table it is from (the matrix shows the last of a recipe, algorithm and seed):", "",
              "| recipe | algo | seed | result | table |", "|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (recipe_rank(r["recipe"]), r["recipe"], ALGOS.index(r["algo"])
                                         if r["algo"] in ALGOS else 99, int(r["seed"]))):
        shown = " (shown)" if latest[(r["recipe"], r["algo"], r["seed"])] is r else ""
        lines.append(f"| {r['recipe']} | {r['algo']} | {r['seed']} | {cell(r)}{shown} | [{r['table']}]"
                     f"({Path(r['table']).with_suffix('.md').name}) |")
    lines.append("")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(lines))
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with out.with_suffix(".csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(latest.values())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rl_bridge.recipe_report")
    p.add_argument("runs", nargs="*", type=Path, help="run folders (or folders holding them) that followed a recipe")
    p.add_argument("--tables", nargs="+", type=Path, metavar="CSV",
                   help="instead of runs: tables earlier reports wrote (OUT.csv), oldest first, merged into one matrix")
    p.add_argument("--out", type=Path, default=Path("results/rl_recipes"))
    args = p.parse_args(argv)
    try:
        if args.tables:
            if args.runs:
                raise RLUsageError("give run folders or --tables, not both")
            overview(args.tables, args.out)
            print(f"wrote {args.out.with_suffix('.md')}")
            return 0
        if not args.runs:
            raise RLUsageError("give run folders (RUNS) or --tables CSV ...")
        from rl_bridge.run_folder import find_runs

        folders = [f for f in find_runs(*args.runs) if json.loads((f / "config.json").read_text()).get("recipe")]
        if not folders:
            raise RLUsageError("no run folder that followed a recipe under " + ", ".join(map(str, args.runs)))
        rows, curves = [], {}
        for folder in folders:
            row = summarise(folder)
            rows.append(row)
            with (folder / "curve.csv").open() as f:
                curves[f"{row['recipe']} {row['algo']} s{row['seed']}"] = list(csv.DictReader(f))
        rows.sort(key=lambda r: (recipe_rank(r["recipe"]), r["algo"], r["seed"]))
        write(rows, curves, args.out)
    except RLUsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
