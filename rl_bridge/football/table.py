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
    lines = ["| scenario (teacher seed) | teacher: STEER | students | evaluation episodes | paper: STEER | paper: students | env steps (share of 4e6) "
             "| training wall time | env steps/s | students' argmax agreement |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, scenario in SCENARIOS.items():
        task = root / f"football_{name.removeprefix('academy_')}"
        for teacher in sorted(task.glob("steer/seed*/config.json")):
            final = json.loads(teacher.read_text())["final"]
            seed = teacher.parent.name
            found = sorted(task.glob(f"student-*/{seed}/config.json"))
            student = json.loads(found[0].read_text())["final"] if found else None
            student_score = f"{student['student']['greedy_score']:.3f}" if student else "-"
            agreement = f"{student['argmax_agreement']:.3f}" if student else "-"
            episodes = f"{final['episodes']:.0f}" + (f" / {student['student']['episodes']:.0f}" if student else "")
            lines.append(f"| {name} ({seed}) | {final['greedy_score']:.3f} | {student_score} | {episodes} | {scenario.paper_teacher:.3f} | "
                         f"{scenario.paper_student:.3f} | {final['env_steps']:,} ({final['env_steps'] / PAPER_STEPS:.1%}) | "
                         f"{final['wall_s'] / 60:.1f} min | {final['env_steps_per_s']:.0f} | {agreement} |")
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
