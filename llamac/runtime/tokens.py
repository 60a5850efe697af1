"""The one token estimate of llamac, for when no tokenizer is at hand: the memory window of the prompts,
the budget's reservations, and the scripted test model's usage all count with it.

About three characters a token: the Qwen tokenizer averaged that on the grid views (brackets, commas,
short words), measured on the local server, so the estimate errs high on prose and stays close on plans.
"""

from __future__ import annotations

import json
from typing import Any

CHARS_PER_TOKEN = 3.0


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


ANSWER_SLACK_TOKENS = 64
"""Room for what a schema does not fix: braces, whitespace a grammar allows, a model's line breaks."""

ANSWER_MARGIN = 1.5
"""The character estimate runs low on JSON plans: the 0.5B model's merged critic answer for allocation with
50 agents took 1,070 tokens where the estimate says 878 (2026-12-04)."""


def estimate_answer_tokens(schema: dict[str, Any]) -> int:
    """Tokens of the longest answer a JSON schema admits, as ``estimate_tokens`` counts them, each object
    property written out on its own indented line: how many output tokens a structured call must be allowed
    so that a complete answer is never cut off (allocation with 50 agents asks for 50 amounts; the merged
    critic call for two whole plans)."""

    def longest(node: dict[str, Any]) -> int:
        if node.get("properties"):
            return sum(estimate_tokens(f'\n    {json.dumps(key)}: ,') + longest(sub)
                       for key, sub in node["properties"].items())
        if "enum" in node:
            return max((estimate_tokens(json.dumps(v)) for v in node["enum"]), default=1)
        if "maximum" in node:
            return estimate_tokens(json.dumps(node["maximum"]))
        return 8  # a free value: a short string or number

    return int(ANSWER_MARGIN * longest(schema)) + ANSWER_SLACK_TOKENS
