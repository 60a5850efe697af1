"""The report puts our runs next to the paper's figures, in rich, Markdown, CSV and PNG."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import csv  # noqa: E402
import json  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rl_bridge.algorithms.ppo import PPOConfig  # noqa: E402
from rl_bridge.envs import EnvSpec  # noqa: E402
from rl_bridge.report import main  # noqa: E402
from rl_bridge.train import train_run  # noqa: E402

pytestmark = pytest.mark.torch


def test_report_summarises_seeds_next_to_the_paper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = replace(PPOConfig(), n_envs=50, episode_length=10, total_steps=1000)
    for seed in (0, 1, 2):
        train_run("mappo", EnvSpec("matrix", game="penalty", k=-100.0), seed, cfg, tmp_path / "runs", log=False)
    finals = [json.loads(p.read_text())["final"] for p in (tmp_path / "runs").rglob("config.json")]
    md, table_csv, png = tmp_path / "r.md", tmp_path / "r.csv", tmp_path / "r.png"
    assert main([str(tmp_path / "runs"), "--md", str(md), "--csv", str(table_csv), "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Matrix games: ours vs reported" in out and "mappo" in out
    row = next(line for line in md.read_text().splitlines() if line.startswith("| Penalty k=-100 | mappo"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    scores = [f["greedy_score"] for f in finals]
    mean = sum(scores) / 3
    std = (sum((s - mean) ** 2 for s in scores) / 3) ** 0.5
    assert cells[2] == f"{mean:.2f} ({std:.2f})"
    assert cells[3] == f"{int(sum(f['at_se'] for f in finals))}/3"
    assert cells[4] == "2.00 (0.00)" and cells[5] == "0 %"  # the paper's MAPPO on k=-100
    rows = list(csv.DictReader(table_csv.open()))
    assert rows[0]["seeds"] == "0,1,2" and rows[0]["method"] == "mappo"
    assert png.stat().st_size > 1000


def test_report_without_runs_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
