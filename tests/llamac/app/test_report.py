"""``python -m llamac.run report DIR``: tables beside the papers' figures, figures, byte-identical regeneration."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llamac.app.cli import main
from llamac.app.report import write_report
from llamac.app.report.tables import reported
from llamac.app.sweep import run_sweep
from tests.llamac.sweep_support import write

SPEC = """
name = "report-test"
[coordinators.greedy]
kind = "greedy"
[coordinators.llamac]
kind = "llamac"
max_steps = 2
[[experiments]]
coordinators = ["greedy"]
tasks = [{ family = "grid", difficulty = ["easy", "hard"], sizes = ["2x2", "2x4"], instances = [0, 1] }]
[[experiments]]
coordinators = ["greedy", "llamac"]
tasks = [{ family = "grid", sizes = ["2x2"], instances = [0] }, { family = "alloc", agents = [3], seeds = [0, 1] }]
"""


@pytest.fixture
def swept(tmp_path: Path, scripted_provider: object) -> Path:
    out = tmp_path / "sweep"
    report = run_sweep(write(tmp_path, SPEC), out, workers=1, quiet=True)
    assert not report.outcome.failed
    return out


def _files(folder: Path) -> dict[str, bytes]:
    names = ["report.md", "report.html"] + [f"figures/{p.name}" for p in sorted((folder / "figures").glob("*.png"))]
    return {name: (folder / name).read_bytes() for name in names}


def test_report_regenerates_byte_identically_also_from_a_moved_folder(swept: Path, tmp_path: Path) -> None:
    first = write_report(swept)
    before = _files(swept)
    assert {p.name for p in first.figures} == {"success_vs_size.png", "tokens_vs_size.png", "steps_vs_greedy.png",
                                              "alloc_normalised.png"}
    write_report(swept)
    assert _files(swept) == before
    moved = tmp_path / "elsewhere" / "sweep"
    shutil.copytree(swept, moved.parent / "sweep")
    for path in (moved / "figures").glob("*.png"):
        path.unlink()
    write_report(moved)
    assert _files(moved) == before


def test_report_sets_the_papers_figures_beside_ours(swept: Path) -> None:
    write_report(swept)
    md = (swept / "report.md").read_text()
    easy_2x2 = next(g for g in reported()["grid"] if (g["difficulty"], g["size"], g["method"]) == ("easy", "2x2", "llamac"))
    row = next(line for line in md.splitlines() if line.startswith("| Easy | 2x2 | llamac |"))
    assert f"{easy_2x2['steps'][0]:g} ({easy_2x2['steps'][1]:g})" in row and "100%" in row
    greedy = next(line for line in md.splitlines() if line.startswith("| Easy | 2x2 | greedy |"))
    assert "100% (2/2)" in greedy  # the greedy planner solves both golden instances
    assert "| 3 | greedy |" in md  # allocation table
    assert "arXiv 2311.13884" in md and "<table>" in (swept / "report.html").read_text()


def test_report_on_a_folder_without_sweep_results_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "holds no sweep results" in err
