"""Probe: does the exploitation critic take the moves that match a box, and does the wording matter?

At step 0 of Easy grid instances, every agent whose doable list holds ``move(box_X, target_X)`` can
make progress now. This asks the exploitation critic once per instance, with the product's prompt and
two variants, and counts how many of those agents the plan gives a matching move:

* ``today``: the product's prompt as it is;
* ``instruction``: the role instruction says outright that a matching move is the largest gain;
* ``rules``: the same sentence appended to the task rules (the shared system prefix) instead.

The variants are measurements only: the product's prompts are untouched. The local model is the one
the settings choose (``LLAMAC_LOCAL_MODEL``, ``LLAMAC_LOCAL_THREADS``).

    .venv/bin/python benchmarks/critic_wording.py [--size 2x2] [--instances 5]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx

from graphs.context import LLaMACConfig
from graphs.prompts import critics
from graphs.prompts.shared import PLAN_FORMAT, messages, shared_prefix
from llamac.local_model import LocalModelServer
from llamac.settings import Settings
from tasks.grid_easy import GridEasy

MATCH_RULE = (
    "An action move(box_<colour>, target_<colour>) matches a box now and is the largest gain: every "
    "agent that has such an action in its doable list must take it."
)
INSTRUCTION = (
    "You are the exploitation critic. Propose the joint plan with the largest gain this step. "
    + MATCH_RULE + " " + PLAN_FORMAT
)


def prompt(variant: str, task: GridEasy, state: object, window_tokens: int) -> list[dict[str, str]]:
    prefix = shared_prefix(task, state, [], window_tokens)
    instruction = critics.EXPLOITATION
    if variant == "instruction":
        instruction = INSTRUCTION
    elif variant == "rules":
        rules, rest = prefix.split("\n\n", 1)
        prefix = f"{rules} {MATCH_RULE}\n\n{rest}"
    return [{"role": m.role, "content": m.content} for m in messages(prefix, instruction)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2x2")
    parser.add_argument("--instances", type=int, default=5)
    args = parser.parse_args()
    rows, cols = (int(x) for x in args.size.split("x"))
    settings = Settings()
    with LocalModelServer.from_settings(settings, log_path=Path("/dev/null")) as server:
        print(f"model {settings.local_model_name()}, {settings.resolved_local_threads()} thread(s), "
              f"Easy {args.size} instances 0-{args.instances - 1}, step 0")
        for variant in ("today", "instruction", "rules"):
            taken = possible = 0
            for k in range(args.instances):
                task = GridEasy.from_instance(rows, cols, k)
                state = task.initial_state()
                body = {
                    "model": settings.local_model_name(), "temperature": 0.0, "repeat_penalty": 1.0,
                    "max_tokens": 40 * rows * cols,
                    "messages": prompt(variant, task, state, LLaMACConfig().memory_window_tokens),
                    "response_format": {"type": "json_object", "schema": task.plan_json_schema()},
                }
                answer = httpx.post(f"{server.url}/chat/completions", json=body, timeout=600).json()
                try:
                    plan = json.loads(answer["choices"][0]["message"]["content"])
                except (json.JSONDecodeError, KeyError, IndexError):
                    plan = {}
                for agent, actions in task.doable(state).items():
                    matching = [a for a in actions if "target_" in a]
                    if matching:
                        possible += 1
                        taken += plan.get(str(agent)) in matching
            print(f"{variant:12} matching moves taken {taken}/{possible}", flush=True)


if __name__ == "__main__":
    main()
