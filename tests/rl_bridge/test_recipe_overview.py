"""The recipe overview: one matrix, recipe by algorithm, merged from the tables earlier reports wrote."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from rl_bridge.recipe_report import main as report

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["recipe", "algo", "seed", "wall_min", "env_steps", "golden_success", "golden_steps",
           "golden_planner_steps", "fresh_success", "fresh_steps", "fresh_planner_steps", "target", "met",
           "golden_normalised_last", "golden_normalised_mean", "fresh_normalised_last", "fresh_normalised_mean"]


def table(path: Path, *rows: dict[str, str]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def grid_row(algo: str, solved: int, minutes: float, met: str, steps: int = 299_008) -> dict[str, str]:
    return {"recipe": "grid-hard-2x4", "algo": algo, "seed": "0", "wall_min": str(minutes), "env_steps": str(steps),
            "golden_success": f"{solved}.0", "golden_steps": "8.2", "golden_planner_steps": "4.6",
            "fresh_success": "9.0", "fresh_steps": "9.2", "fresh_planner_steps": "4.1",
            "target": "success >= 0.8 within 30 min", "met": met}


def test_a_later_table_replaces_an_earlier_run_in_the_matrix_and_both_stay_listed(tmp_path: Path) -> None:
    # STEP's first run was stopped by a 5-minute cap at 56k of the recipe's 300k steps; MAPPO ran them all in 2.9
    old = table(tmp_path / "old.csv", grid_row("step", 7, 5.1, "no", steps=56_320), grid_row("mappo", 10, 2.9, "yes"))
    alloc = {"recipe": "alloc-50", "algo": "steer", "seed": "0", "wall_min": "16.1", "env_steps": "101120",
             "golden_success": "10.0", "fresh_success": "10.0", "target": "normalised_last >= 0.9 within 60 min",
             "met": "yes", "golden_normalised_last": "0.947", "fresh_normalised_last": "0.944"}
    new = table(tmp_path / "new.csv", grid_row("step", 9, 27.0, "yes"), alloc)
    assert report(["--tables", str(old), str(new), "--out", str(tmp_path / "overview")]) == 0
    text = (tmp_path / "overview.md").read_text()
    head = text.split("Every run")[0]  # the matrix; every run is listed below it
    matrix = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in head.splitlines()
              if line.startswith(("| grid-", "| alloc-"))}
    hard = matrix["grid-hard-2x4"]  # recipe, target, STEER, MAPPO, HAPPO, MAT, STEP
    assert hard[2] == "" and hard[3].startswith("10/10 (9/10)") and hard[6].startswith("9/10 (9/10)")
    assert "27.0 min; **met**" in hard[6] and "2.9 min; **met**" in hard[3]
    assert matrix["alloc-50"][2].startswith("0.947 (0.944); 16.1 min; **met**")
    listed = [line for line in text.splitlines() if line.startswith("| grid-hard-2x4 | step |")]
    assert len(listed) == 2 and "not met" in listed[0] and "(shown)" not in listed[0]
    assert "5.1 min (cut short: the recipe allows 30)" in listed[0] and "cut short" not in listed[1]
    assert "(shown)" in listed[1] and "[new.csv](new.md)" in listed[1]
    merged = list(csv.DictReader((tmp_path / "overview.csv").open()))
    assert {(r["algo"], r["golden_success"], r["table"]) for r in merged if r["recipe"] == "grid-hard-2x4"} == {
        ("step", "9.0", "new.csv"), ("mappo", "10.0", "old.csv")}


def test_a_run_that_solved_nothing_shows_no_steps_per_solved_episode(tmp_path: Path) -> None:
    nothing = {**grid_row("step", 0, 60.2, "no"), "golden_steps": "nan", "golden_planner_steps": "nan"}
    assert report(["--tables", str(table(tmp_path / "t.csv", nothing)), "--out", str(tmp_path / "overview")]) == 0
    text = (tmp_path / "overview.md").read_text()
    assert "0/10 (9/10); 60.2 min; not met" in text and "nan" not in text


def test_a_file_that_is_not_a_report_table_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert report(["--tables", str(other), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "other.csv" in err and "recipe_report" in err
    assert report(["--tables", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert not (tmp_path / "o.md").exists()


def test_the_committed_overview_regenerates_from_the_committed_tables(tmp_path: Path) -> None:
    committed = ROOT / "results" / "rl_recipes_overview.md"
    line = next(line for line in committed.read_text().splitlines() if line.startswith("Regenerate:"))
    tables = re.search(r"--tables (.*?) --out", line).group(1).split()
    assert report(["--tables", *[str(ROOT / t) for t in tables], "--out", str(tmp_path / "rl_recipes_overview")]) == 0
    fresh = (tmp_path / "rl_recipes_overview.md").read_text().replace(str(ROOT) + "/", "")
    assert fresh.replace(str(tmp_path / "rl_recipes_overview"), "results/rl_recipes_overview") == committed.read_text()
