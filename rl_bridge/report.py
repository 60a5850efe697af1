"""``python -m rl_bridge.report DIR...``: our matrix-game results next to the figures the paper reports.

For every (game, method) found in the run folders: the greedy score as mean (std) over seeds (std with
ddof=0) and how many seeds end at the Stackelberg equilibrium, beside the paper's score and SE share
(``spec/reported.md``) and, for STEER, what the authors' own code reaches here (``spec/steer.md`` s. 7).
Printed as a rich table; ``--md``/``--csv`` write Markdown/CSV, ``--png`` a figure. Grid and
allocation runs get their own table (greedy success rate and steps on the evaluation instances).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from rl_bridge.errors import RLUsageError

GAME_ORDER = ("penalty_k0", "penalty_k-100", "penalty_k-1000", "mixing", "coordination", "cooperation")
GAME_TITLES = {"penalty_k0": "Penalty k=0", "penalty_k-100": "Penalty k=-100", "penalty_k-1000": "Penalty k=-1000",
               "mixing": "Mixing", "coordination": "Coordination", "cooperation": "Cooperation"}
METHOD_ORDER = ("steer", "steer-lt0.1", "steer-lt0.1-ff0.2", "steer-no-itb", "steer-no-otb", "steer-prio-random", "steer-prio-rotate",
                "step", "mat", "happo", "mappo")

# The paper's figures (spec/reported.md): score mean, std, SE share in %.
REPORTED: dict[str, dict[str, tuple[float, float, float]]] = {
    "steer": {"penalty_k0": (10.0, 0, 100), "penalty_k-100": (10.0, 0, 100), "penalty_k-1000": (8.0, 3.39, 72),
              "mixing": (2.5, 0, 100), "coordination": (26.0, 2.42, 95), "cooperation": (12.88, 0.58, 96)},
    "step": {"penalty_k0": (10.0, 0, 100), "penalty_k-100": (9.44, 2.04, 93), "penalty_k-1000": (5.52, 3.97, 44),
             "mixing": (2.5, 0, 100), "coordination": (25.9, 2.37, 94), "cooperation": (12.69, 0.89, 90)},
    "mat": {"penalty_k0": (10.0, 0, 100), "penalty_k-100": (2.0, 0, 0), "penalty_k-1000": (2.0, 0, 0),
            "mixing": (-2.68, 0.25, 0), "coordination": (21.32, 4.94, 46), "cooperation": (10.15, 0.65, 5)},
    "happo": {"penalty_k0": (10.0, 0, 100), "penalty_k-100": (2.0, 0, 0), "penalty_k-1000": (2.0, 0, 0),
              "mixing": (-0.74, 2.33, 28), "coordination": (17.62, 2.94, 6), "cooperation": (10.57, 1.18, 19)},
    "mappo": {"penalty_k0": (9.90, 0.43, 95), "penalty_k-100": (2.0, 0, 0), "penalty_k-1000": (2.0, 0, 0),
              "mixing": (0.72, 2.33, 63), "coordination": (19.17, 4.05, 14), "cooperation": (11.95, 1.43, 65)},
}
# The authors' unmodified ``steer`` run here (spec/steer.md section 7): score mean, std, runs at SE, runs.
AUTHORS_CODE = {"penalty_k0": (10.0, 0, 10, 10), "penalty_k-100": (2.0, 0, 0, 10), "penalty_k-1000": (2.0, 0, 0, 10),
                "mixing": (2.5, 0, 10, 10), "coordination": (18.5, 4.47, 1, 5), "cooperation": (13.0, 0, 3, 3)}


def load_finals(roots: list[str]) -> list[dict[str, Any]]:
    from rl_bridge.run_folder import find_runs

    rows = []
    llm_folders = 0
    for folder in find_runs(*roots):
        try:
            data = json.loads((folder / "config.json").read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise RLUsageError(f"{folder / 'config.json'} is not valid JSON ({err}); remove or restore that file") from None
        if not isinstance(data, dict) or "algo" not in data:
            llm_folders += "coordinator" in data if isinstance(data, dict) else 0
            continue  # an LLM run folder (a sweep holds both kinds) or some other config.json
        if data["algo"] == "student":
            continue
        env = data["env"]
        name = (f"penalty_k{env['k']:g}" if env["game"] == "penalty" else env["game"]) if env["kind"] == "matrix" else (
            f"grid_{env['difficulty']}_{env['size']}" if env["kind"] == "grid" else
            f"football_{env['game'].removeprefix('academy_')}" if env["kind"] == "football" else f"alloc_n{env['agents']}")
        rows.append({"task": name, "kind": env["kind"], "method": data.get("label", data["algo"]), "seed": data["seed"],
                     **data["final"], "budget": data["ppo"]["total_steps"]})
    if not rows and llm_folders:
        raise RLUsageError(f"{' '.join(roots)} holds {llm_folders} LLM run folder(s) and no training runs; "
                           "report those with python -m llamac.run report")
    return rows


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["task"], row["method"])].append(row)

    def order(key: tuple[str, str]) -> tuple[int, str, int, str]:
        task, method = key
        return (GAME_ORDER.index(task) if task in GAME_ORDER else 99, task,
                METHOD_ORDER.index(method) if method in METHOD_ORDER else 99, method)

    table = []
    for (task, method) in sorted(groups, key=order):
        runs = groups[(task, method)]
        scores = np.array([r["greedy_score"] for r in runs])
        entry: dict[str, Any] = {"task": task, "method": method, "seeds": ",".join(str(r["seed"]) for r in sorted(runs, key=lambda r: r["seed"])),
                                 "n": len(runs), "budget": runs[0]["budget"], "score_mean": float(scores.mean()), "score_std": float(scores.std())}
        if runs[0]["kind"] == "matrix":
            entry["se_runs"] = int(sum(r["at_se"] for r in runs))
            paper = REPORTED.get(method.split("-")[0], {}).get(task)
            entry.update({"paper_mean": paper[0], "paper_std": paper[1], "paper_se_pct": paper[2]} if paper else {})
            if method.startswith("steer") and task in AUTHORS_CODE:
                a = AUTHORS_CODE[task]
                entry["authors_code"] = f"{a[0]:.2f} ({a[1]:.2f}), {a[2]}/{a[3]}"
        else:
            entry["success_mean"] = float(np.mean([r["success"] for r in runs]))
            entry["steps_mean"] = float(np.mean([r["steps"] for r in runs]))
            for key in ("normalised_mean", "regret"):  # allocation's own metrics
                if all(key in r for r in runs):
                    entry[key] = float(np.mean([r[key] for r in runs]))
        table.append(entry)
    return table


def markdown(table: list[dict[str, Any]]) -> str:
    matrix = [e for e in table if "se_runs" in e]
    lines = ["| game | method | ours: score mean (std) | ours: runs at SE | paper: score mean (std) | paper: SE share | authors' code here |",
             "|---|---|---|---|---|---|---|"] if matrix else []
    for e in matrix:
        paper = f"{e['paper_mean']:.2f} ({e['paper_std']:.2f})" if "paper_mean" in e else "-"
        share = f"{e['paper_se_pct']:g} %" if "paper_mean" in e else "-"
        lines.append(f"| {GAME_TITLES.get(e['task'], e['task'])} | {e['method']} | {e['score_mean']:.2f} ({e['score_std']:.2f}) | "
                     f"{e['se_runs']}/{e['n']} | {paper} | {share} | {e.get('authors_code', '')} |")
    others = [e for e in table if "se_runs" not in e]
    if others:
        lines += [""] if lines else []
        lines += ["| task | method | seeds | env steps | greedy success (10 eval instances) | greedy steps | return | normalised reward | regret |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for e in others:
            extra = " | ".join(f"{e[k]:.3f}" if k in e else "-" for k in ("normalised_mean", "regret"))
            lines.append(f"| {e['task']} | {e['method']} | {e['seeds']} | {e['budget']} | {e['success_mean']:.2f} | "
                         f"{e['steps_mean']:.1f} | {e['score_mean']:.2f} ({e['score_std']:.2f}) | {extra} |")
    return "\n".join(lines) + "\n"


def write_csv(path: Path, table: list[dict[str, Any]]) -> None:
    fields = sorted({k for e in table for k in e}, key=lambda k: list(table[0]).index(k) if k in table[0] else 99)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(table)


def figure(path: Path, table: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = [e for e in table if "se_runs" in e]
    games = [g for g in GAME_ORDER if any(e["task"] == g for e in matrix)]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, game in zip(axes.flat, games, strict=False):
        rows = [e for e in matrix if e["task"] == game]
        x = np.arange(len(rows))
        ax.bar(x, [e["score_mean"] for e in rows], yerr=[e["score_std"] for e in rows], color="tab:blue", alpha=0.8, label="ours (mean, std)")
        paper = [(i, e["paper_mean"]) for i, e in enumerate(rows) if "paper_mean" in e]
        ax.plot([p[0] for p in paper], [p[1] for p in paper], "r_", ms=22, mew=3, label="paper")
        for i, e in enumerate(rows):
            ax.annotate(f"{e['se_runs']}/{e['n']}", (i, e["score_mean"]), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [e["method"] for e in rows], rotation=30, fontsize=8)
        ax.set_title(f"{GAME_TITLES[game]} (label: runs at SE)", fontsize=9)
    axes.flat[0].legend(fontsize=8)
    for ax in list(axes.flat)[len(games):]:
        ax.axis("off")
    fig.suptitle("STEER matrix games: greedy score per method, ours vs the paper")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_rich(table: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="Matrix games: ours vs reported")
    for col in ("game", "method", "ours score", "ours at SE", "paper score", "paper SE", "authors' code here"):
        t.add_column(col)
    for e in (e for e in table if "se_runs" in e):
        t.add_row(GAME_TITLES.get(e["task"], e["task"]), e["method"], f"{e['score_mean']:.2f} ({e['score_std']:.2f})",
                  f"{e['se_runs']}/{e['n']}", f"{e['paper_mean']:.2f} ({e['paper_std']:.2f})" if "paper_mean" in e else "-",
                  f"{e['paper_se_pct']:g} %" if "paper_mean" in e else "-", e.get("authors_code", ""))
    console = Console()
    if t.row_count:
        console.print(t)
    others = [e for e in table if "se_runs" not in e]
    if others:
        o = Table(title="Grid / allocation (greedy on the 10 evaluation instances)")
        for col in ("task", "method", "seeds", "env steps", "success", "steps", "return"):
            o.add_column(col)
        for e in others:
            o.add_row(e["task"], e["method"], e["seeds"], str(e["budget"]), f"{e['success_mean']:.2f}", f"{e['steps_mean']:.1f}",
                      f"{e['score_mean']:.2f} ({e['score_std']:.2f})")
        console.print(o)


def main(argv: list[str] | None = None) -> int:
    from rl_bridge.cli import OneLineParser

    p: argparse.ArgumentParser = OneLineParser(prog="python -m rl_bridge.report", description=__doc__.splitlines()[0])
    p.add_argument("dirs", nargs="+", help="folders holding run folders")
    p.add_argument("--md", type=Path)
    p.add_argument("--csv", type=Path)
    p.add_argument("--png", type=Path)
    try:
        args = p.parse_args(argv)
        rows = load_finals(args.dirs)
        if not rows:
            raise RLUsageError(f"no training runs under {' '.join(args.dirs)}")
    except RLUsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    table = summarise(rows)
    print_rich(table)
    if args.md:
        args.md.write_text(markdown(table))
    if args.csv:
        write_csv(args.csv, table)
    if args.png:
        figure(args.png, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
