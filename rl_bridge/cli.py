"""What the RL side's command lines share: one-line errors and the torch settings every command starts with."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

import torch

from rl_bridge.errors import RLUsageError


class OneLineParser(argparse.ArgumentParser):
    """Bad input: one line on stderr, exit 2 (argparse would print the usage block too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise RLUsageError(message)


def configure_torch() -> None:
    """One thread (2 threads were 8x slower on the 2-core machine); no distribution argument checks
    (they are half the cost of a rollout step for these small networks; the math is unchanged)."""
    torch.set_num_threads(1)
    torch.distributions.Distribution.set_default_validate_args(False)


def number(flag: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
           whole: bool = False) -> Callable[[str], float | int]:
    """An argparse ``type`` that accepts only finite numbers in range, so ``--lr nan`` or ``--eta -1`` is
    one line naming the flag instead of a run that trains NaN losses and exits 0."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"<= {high:g}")
    wanted = ("a whole number" if whole else "a finite number") + (" " + " and ".join(parts) if parts else "")

    def parse(text: str) -> float | int:
        try:
            value: float | int = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be {wanted}, got {text!r}") from None
        bad = not math.isfinite(value) or (low is not None and (value <= low if low_open else value < low)) or (
            high is not None and value > high)
        if bad:
            raise argparse.ArgumentTypeError(f"{flag} must be {wanted}, got {text!r}")
        return value

    parse.__name__ = flag  # argparse names the type in its messages
    return parse


def writable_folder(path: Path, flag: str = "--out") -> Path:
    """Fail before any work when ``path`` cannot become a folder (it is a file, or its nearest existing
    parent is not a writable folder)."""
    if path.exists() and not path.is_dir():
        raise RLUsageError(f"{flag} {path} is a file, not a folder; choose a folder")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise RLUsageError(f"{flag} {path}: cannot write under {probe}; choose a writable folder")
    return path


def refuse_overwrite(folders: list[Path], flag: str = "--out") -> None:
    """A trained run is somebody's result: never replace its model.pt/config.json silently."""
    taken = [f for f in folders if (f / "config.json").exists() or (f / "model.pt").exists()]
    if taken:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise RLUsageError(f"{flag}: {taken[0]} already holds a trained run{more}; choose another {flag} or pass --overwrite")
