"""The football table: one row per teacher and per student distilled from it, from run configs alone."""

from __future__ import annotations

import json
from pathlib import Path

from rl_bridge.football.table import rows


def _config(path: Path, final: dict) -> None:
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"final": final}))


def test_each_student_variant_gets_its_own_row_beside_its_teacher(tmp_path: Path) -> None:
    task = tmp_path / "football_pass_and_shoot_with_keeper"
    _config(task / "steer" / "seed0", {"greedy_score": 0.5, "episodes": 32, "env_steps": 400_000, "wall_s": 600.0,
                                       "env_steps_per_s": 666.7})
    for variant, score, steps in (("full", 0.375, 64_000), ("sampled", 0.25, 16_000)):
        _config(task / f"student-{variant}" / "seed0", {
            "student": {"greedy_score": score, "episodes": 32}, "argmax_agreement": 0.75,
            "distill": {"variant": variant, "teacher_steps": steps}})
    _config(tmp_path / "football_3_vs_1_with_keeper" / "steer" / "seed1",
            {"greedy_score": 0.0, "episodes": 8, "env_steps": 1000, "wall_s": 60.0, "env_steps_per_s": 16.7})

    body = rows(tmp_path)[2:]

    assert len(body) == 3
    assert "| 0.500 | 0.375 (full, 64,000) | 32 / 32 | 0.934 | 0.943 | 400,000 (10.0%) | 10.0 min | 667 | 0.750 |" in body[0]
    assert "0.250 (sampled, 16,000)" in body[1]
    assert body[2].startswith("| academy_3_vs_1_with_keeper (seed1) | 0.000 | - | 8 |")
