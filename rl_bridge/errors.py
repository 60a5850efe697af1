"""The RL side's user errors (kept out of ``__init__`` so every import path finds them)."""


class RLUsageError(ValueError):
    """Bad input a user can cause (unknown algorithm, malformed seed list, missing run folder)."""
