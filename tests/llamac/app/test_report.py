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


PART_RL = """
name = "report-test-rl"
[coordinators.steer]
kind = "steer"
train = { steps = 256, n_envs = 2, episode_length = 16 }
[[experiments]]
coordinators = ["steer"]
tasks = [{ family = "grid", sizes = ["2x2"], instances = [0, 1] }]
"""


def test_parts_of_one_comparison_report_together_into_a_folder_of_their_own(
        swept: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two sweep folders (say, LLM cells on one machine, RL cells on another) give one report and one
    merged table; the RL part's policy paths are re-pointed so its training curves are found."""
    pytest.importorskip("torch", reason="the rl extra (torch) is not installed")
    from llamac.app.sweep.table import read_table

    rl = tmp_path / "rl"
    assert not run_sweep(write(tmp_path, PART_RL, "rl.toml"), rl, workers=1, quiet=True).outcome.failed
    out = tmp_path / "reports" / "both"
    assert main(["report", str(swept), str(rl), "--out", str(out)]) == 0
    merged = read_table(out)
    assert [r["cell"] for r in merged] == [r["cell"] for r in read_table(swept)] + [r["cell"] for r in read_table(rl)]
    policies = {r["policy"] for r in merged if r["policy"]}
    assert len(policies) == 1 and all((out / p / "config.json").is_file() for p in policies)
    assert (out / "results.csv").is_file() and (out / "figures" / "training_curves.png").is_file()
    md = (out / "report.md").read_text()
    assert f"{len(merged)} episodes (cells) from 2 sweep part(s)" in md and "| Easy | 2x2 | steer |" in md
    before = _files(out)
    assert main(["report", str(swept), str(rl), "--out", str(out)]) == 0
    assert _files(out) == before
    capsys.readouterr()
    for argv, says in ((["report", str(swept), str(swept), "--out", str(tmp_path / "x")], "is in both"),
                       (["report", str(swept), str(rl)], "give --out"),
                       (["report", str(swept), str(rl), "--out", str(rl)], "is one of the parts")):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and says in err, err
