"""The command line: one subcommand per task family, plus ``resume`` and ``graph``.

Every parse error is one line on stderr and exit code 2 (argparse's own usage dump is replaced),
because bad input is the user's to fix, not a crash to debug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from llamac.runtime.shipped_models import SHIPPED
from tasks.matrix import GAMES

RL_COORDINATORS = ("steer", "mappo", "happo", "mat", "step", "student")
COORDINATORS = ("greedy", "llamac", "hmas2", *RL_COORDINATORS)
DEFAULT_COORDINATOR = "llamac"


class UsageError(ValueError):
    """A command line the user has to correct (one line, exit 2)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that raises instead of printing a usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _int_at_least(low: int, what: str) -> Callable[[str], int]:
    """An argparse type for whole numbers >= ``low``; ``what`` names them in the error."""

    def parse(text: str) -> int:
        try:
            value: int | None = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonnegative_int = _int_at_least(0, "an integer >= 0")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def add_knob_flags(p: argparse.ArgumentParser) -> None:
    """``--preset`` and one flag per knob of the LLM coordinators (``graphs.context.KNOBS``), each None
    unless given, so a flag overrides the preset's value and nothing else."""
    from graphs.context import DEFAULT_PRESET, KNOBS, PRESETS

    p.add_argument("--preset", choices=tuple(PRESETS), default=None,
                   help=f"LLaMAC's knobs together (default: {DEFAULT_PRESET}): lean (ours: one merged critic call, the "
                        "assessor only when the critics disagree, actors that take their rule gate's fix and idle actors that "
                        "volunteer their gate's move, a gate that sends each box to its paired target (allocation: the "
                        "total to the hill climber's next probe; Hard: a line whose box another agent must move becomes the agent's own useful move, else is withdrawn), so "
                        "most executed moves are the rules'; plans answered with "
                        "action numbers; solves the grids with the small local model) or paper (the "
                        "authors' LLaMAC as their code runs it: one critic call for both plans, the assessor every "
                        "step, actors asked when their rule gate doubts their line, each with its own view; in the "
                        "compact notation with agents named by their squares, numbered plans and the last step as "
                        "memory: --notation compact names the agents, --notation authors "
                        "--answer-format actions give the authors' wording); a single knob flag overrides its value")
    for knob in KNOBS:
        default = knob.default_help or f"{knob.default}, or the preset's"
        p.add_argument(f"--{knob.key.replace('_', '-')}", choices=knob.choices,
                       type=None if knob.choices else _nonnegative_int, default=None,
                       help=f"{knob.help} (default: {default})")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--coordinator", choices=COORDINATORS, default=DEFAULT_COORDINATOR,
                   help=f"who decides each step (default: {DEFAULT_COORDINATOR})")
    p.add_argument("--policy", metavar="RUN_DIR", help=f"trained policy folder for {'|'.join(RL_COORDINATORS)}")
    add_knob_flags(p)
    p.add_argument("--max-steps", type=_positive_int, default=None, help="stop an episode after this many steps")
    p.add_argument("--episodes", type=_positive_int, default=1,
                   help="episodes on consecutive instances (grid) or seeds (grid --seed, alloc)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<timestamp>-<task>-<coordinator>)")
    p.add_argument("--budget", type=_positive_int, metavar="TOKENS", default=None,
                   help="token budget of the run (prompt + completion); the run stops cleanly when spent "
                        "(default: LLAMAC_BUDGET_TOKENS, else unlimited)")
    p.add_argument("--local-model", choices=tuple(SHIPPED), default=None,
                   help="local model when no API key is set (default: LLAMAC_LOCAL_MODEL, qwen-0.5b)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true",
                   help="print each step's executed plan, each line marked with who wrote it (the plan or the rule gate)")


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m llamac.run",
                           description="Run LLaMAC, HMAS-2, greedy or RL coordinators on a task, or sweep them all.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    grid = sub.add_parser("grid", help="Grid Transportation (Easy/Hard)")
    grid.add_argument("--size", required=True, metavar="RxC", help="grid size, e.g. 2x2, 2x4, 4x8")
    grid.add_argument("--difficulty", choices=("easy", "hard"), default="easy")
    which = grid.add_mutually_exclusive_group()
    which.add_argument("--instance", type=_nonnegative_int, metavar="K", help="golden instance K (0..9; default 0)")
    which.add_argument("--seed", type=_nonnegative_int, metavar="S", help="a new instance from seed S")
    _common(grid)

    alloc = sub.add_parser("alloc", help="System Resource Allocation (Gaussian squeeze)")
    alloc.add_argument("--agents", type=_positive_int, default=5, metavar="N")
    alloc.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S")
    _common(alloc)

    matrix = sub.add_parser("matrix", help="STEER matrix games")
    matrix.add_argument("--game", required=True, choices=GAMES)
    matrix.add_argument("--k", type=_number, default=None, help="Penalty game's k (e.g. -100)")
    _common(matrix)

    resume = sub.add_parser("resume", help="continue an interrupted run from its last completed step")
    resume.add_argument("run_dir", metavar="RUN_DIR")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    resume.add_argument("--verbose", action="store_true", help="print each step's executed plan and who wrote each line")

    sweep = sub.add_parser("sweep", help="run every coordinator of a spec on the same task instances "
                                         "(running it again continues it)")
    sweep.add_argument("spec", metavar="SPEC.toml", help="the sweep spec (see examples/)")
    sweep.add_argument("--out", metavar="DIR", help="sweep folder (default: runs/<spec name>)")
    sweep.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local: LLM cells as coroutines, CPU-bound jobs in a process pool; ray: every job a "
                            "Ray task (needs the ray extra)")
    sweep.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="processes for CPU-bound jobs (local) or CPUs of the local Ray instance "
                            "(default: the CPUs this process may use)")
    sweep.add_argument("--ray-address", metavar="ADDR", default=None,
                       help="an existing Ray cluster (e.g. ray://host:10001 or auto); default: a local instance")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")

    report = sub.add_parser("report", help="tables and figures of a sweep folder: report.md, report.html, PNGs")
    report.add_argument("sweep_dir", metavar="DIR", nargs="+",
                        help="a sweep folder, or several parts of one comparison (their cells reported together)")
    report.add_argument("--out", metavar="OUT", default=None,
                        help="where the report goes (default: the one DIR); with several DIRs, a folder that also "
                             "gets their merged results.parquet / results.csv")

    graph = sub.add_parser("graph", help="print a coordinator graph as Mermaid")
    graph.add_argument("which", choices=("llamac", "hmas2", "episode"))
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "matrix":
        if args.game == "penalty" and args.k is None:
            raise UsageError("matrix: --game penalty needs --k (e.g. --k -100)")
        if args.game != "penalty" and args.k is not None:
            raise UsageError(f"matrix: --k applies to the penalty game only, not {args.game}")
    if args.command in ("grid", "alloc", "matrix"):
        if args.policy and args.coordinator not in RL_COORDINATORS:
            raise UsageError(f"--policy applies to {'|'.join(RL_COORDINATORS)}, not {args.coordinator}")
        if args.coordinator in RL_COORDINATORS and not args.policy:
            raise UsageError(f"--coordinator {args.coordinator} needs --policy RUN_DIR (a trained policy)")
    return args
