"""The one token estimate of llamac, for when no tokenizer is at hand: the memory window of the prompts,
the budget's reservations, and the scripted test model's usage all count with it.

About three characters a token: the Qwen tokenizer averaged that on the grid views (brackets, commas,
short words), measured on the local server, so the estimate errs high on prose and stays close on plans.
"""

from __future__ import annotations

CHARS_PER_TOKEN = 3.0


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1
