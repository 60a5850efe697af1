"""``python -m rl_bridge.football.table DIR``: teacher vs students vs the paper on the academy scenarios.

Reads the STEER run folders (``DIR/football_<scenario>/steer/seed<N>``) and the students distilled
from them (``.../student-<variant>/seed<N>``) and writes a Markdown table: the teacher's and the
students' greedy score (share of the evaluation episodes we score in) and how many episodes each
was scored on (teacher / students), the paper's figures, the
environment steps the teacher reached, their share of the paper's 4e6, wall time and env steps/s.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rl_bridge.football.scenarios import SCENARIOS

PAPER_STEPS = 4_000_000


def rows(root: Path) -> list[str]:
    """One row per teacher and each student distilled from it (a teacher without students: one row)."""
    lines = ["| scenario (teacher seed) | teacher: STEER | students (variant, teacher steps) | evaluation episodes | paper: STEER "
             "| paper: students | env steps (share of 4e6) | training wall time | env steps/s | students' argmax agreement |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, scenario in SCENARIOS.items():
        task = root / f"football_{name.removeprefix('academy_')}"
        for teacher in sorted(task.glob("steer/seed*/config.json")):
            final = json.loads(teacher.read_text())["final"]
            seed = teacher.parent.name
            students = [json.loads(f.read_text())["final"] for f in sorted(task.glob(f"student-*/{seed}/config.json"))]
            for student in students or [None]:
                if student:
                    d = student["distill"]
                    student_score = f"{student['student']['greedy_score']:.3f} ({d['variant']}, {d['teacher_steps']:,})"
                    agreement = f"{student['argmax_agreement']:.3f}"
                    episodes = f"{final['episodes']:.0f} / {student['student']['episodes']:.0f}"
                else:
                    student_score, agreement, episodes = "-", "-", f"{final['episodes']:.0f}"
                lines.append(f"| {name} ({seed}) | {final['greedy_score']:.3f} | {student_score} | {episodes} | "
                             f"{scenario.paper_teacher:.3f} | {scenario.paper_student:.3f} | {final['env_steps']:,} "
                             f"({final['env_steps'] / PAPER_STEPS:.1%}) | {final['wall_s'] / 60:.1f} min | "
                             f"{final['env_steps_per_s']:.0f} | {agreement} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rl_bridge.football.table", description=__doc__.splitlines()[0])
    p.add_argument("dir", type=Path)
    p.add_argument("--md", type=Path)
    args = p.parse_args(argv)
    text = "\n".join(rows(args.dir)) + "\n"
    print(text, end="")
    if args.md:
        args.md.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
