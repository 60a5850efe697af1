"""Probe: does the exploitation critic take the moves that match a box, and does the wording matter?

At step 0 of Easy grid instances, every agent whose doable list holds ``move(box_X, target_X)`` can
make progress now. This asks the exploitation critic once per instance, with the product's prompt and
two variants, and counts how many of those agents the plan gives a matching move:

* ``today``: the product's prompt as it is;
* ``instruction``: the role instruction says outright that a matching move is the largest gain;
* ``rules``: the same sentence appended to the task rules (the shared system prefix) instead.

Each call goes through the product's gateway with the step's plan schema, as the critic's own call
does (role label, output limit, the schema's doable-action enums). The variants are measurements only:
the product's prompts are untouched. The local model is the one the settings choose
(``LLAMAC_LOCAL_MODEL``, ``LLAMAC_LOCAL_THREADS``).

    .venv/bin/python benchmarks/critic_wording.py [--size 2x2] [--instances 5]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from graphs.context import LLaMACConfig
from graphs.prompts import critics
from graphs.prompts.shared import PLAN_FORMAT, messages, shared_prefix
from graphs.syntax_check import plan_schema
from llamac.runtime.gateway import ChatMessage, LLMGateway, Role
from llamac.runtime.local_model import LocalModelServer
from llamac.runtime.logs import configure_logging
from llamac.runtime.metering import Metering
from llamac.runtime.settings import Settings
from tasks.grid_easy import GridEasy

MATCH_RULE = (
    "An action move(box_<colour>, target_<colour>) matches a box now and is the largest gain: every "
    "agent that has such an action in its doable list must take it."
)
INSTRUCTION = (
    "You are the exploitation critic. Propose the joint plan with the largest gain this step. "
    + MATCH_RULE + " " + PLAN_FORMAT
)


def prompt(variant: str, task: GridEasy, state: object, window_tokens: int) -> list[ChatMessage]:
    prefix = shared_prefix(task, state, [], window_tokens)
    instruction = critics.EXPLOITATION
    if variant == "instruction":
        instruction = INSTRUCTION
    elif variant == "rules":
        rules = task.rules_text().strip()
        prefix = prefix.replace(rules, f"{rules} {MATCH_RULE}", 1)
    return messages(prefix, instruction)


async def matches_taken(gateway: LLMGateway, variant: str, rows: int, cols: int, instances: int) -> tuple[int, int]:
    """(agents whose plan line is a matching move, agents that had one) over the instances' step 0."""
    taken = possible = 0
    for k in range(instances):
        task = GridEasy.from_instance(rows, cols, k)
        state = task.initial_state()
        result = await gateway.call(
            role=Role.EXPLOIT_CRITIC, agent=None, step=0, schema=plan_schema(task, state),
            messages=prompt(variant, task, state, LLaMACConfig().memory_window_tokens),
        )
        plan = result.parsed or {}
        for agent, actions in task.doable(state).items():
            matching = [a for a in actions if "target_" in a]
            if matching:
                possible += 1
                taken += plan.get(str(agent)) in matching
    return taken, possible


async def report(gateway: LLMGateway, rows: int, cols: int, instances: int) -> None:
    for variant in ("today", "instruction", "rules"):
        taken, possible = await matches_taken(gateway, variant, rows, cols, instances)
        print(f"{variant:12} matching moves taken {taken}/{possible}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2x2")
    parser.add_argument("--instances", type=int, default=5)
    args = parser.parse_args()
    rows, cols = (int(x) for x in args.size.split("x"))
    settings = Settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    with LocalModelServer.from_settings(settings, log_path=Path("/dev/null")) as server:
        gateway = LLMGateway(settings, "critic-wording", metering=Metering("critic-wording"), base_url=server.url)
        print(f"model {settings.local_model_name()}, {settings.resolved_local_threads()} thread(s), "
              f"Easy {args.size} instances 0-{args.instances - 1}, step 0")
        asyncio.run(report(gateway, rows, cols, args.instances))


if __name__ == "__main__":
    main()
