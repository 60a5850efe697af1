"""What the RL side's command lines share: one-line errors and the torch settings every command starts with."""

from __future__ import annotations

import argparse

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
