"""Claim: prompts built shared-part-first let the local server reuse >= 60 % of prompt tokens across the
critic, critic, assessor calls of a step.

Runs ``--steps`` LLaMAC-shaped steps through ``LLMGateway`` (so the requests carry the real label
placement) against a local server it starts: each step's three prompts share rules, memory and the
step's state, and differ in the role instruction at the end; the state changes every step. The two
critics are sent concurrently, as the LLaMAC graph does. llama-cpp-python reports no cached tokens in
its usage, so the reused prefix is read from the server's own log lines
(``Llama.generate: N prefix-match hit, remaining M prompt tokens to eval``), one per request.
Share = reused tokens / prompt tokens, over all calls, and over the 2nd and 3rd call of each step.

    .venv/bin/python benchmarks/prefix_cache.py [--steps 3] [--state-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

from llamac.runtime.gateway import ChatMessage, LLMGateway, Role
from llamac.runtime.local_model import LocalModelServer
from llamac.runtime.metering import Metering
from llamac.runtime.settings import Settings

RULES = (
    "You coordinate agents moving boxes on a grid. Each step every agent either moves a box it stands "
    "next to into an adjacent free cell or stays. Two boxes may not occupy one cell; an agent may only "
    "push boxes it can reach. A box that reaches its goal leaves the grid and earns +10; every move "
    "costs -0.1; an impossible action earns -1 and is fed back. "
) * 4
HIT = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")
INSTRUCTIONS = {
    Role.EXPLORE_CRITIC: "As the exploration critic, propose a plan that tries something not tried before. JSON.",
    Role.EXPLOIT_CRITIC: "As the exploitation critic, propose the plan with the best known outcome. JSON.",
    Role.ASSESSOR: "As the assessor, weigh the two critics' plans and give the final joint plan as JSON.",
}
SCHEMA = {"type": "object", "properties": {f"agent_{i}": {"type": "string"} for i in range(4)}}


def shared_part(step: int) -> str:
    memory = "\n".join(
        f"Step {t}: plan agent_0 right, agent_1 up, agent_2 stay, agent_3 left; reward {-0.4 + t:.1f}; "
        f"feedback: agent_{t % 4} blocked by a box." for t in range(max(0, step - 4), step)
    )
    grid = "\n".join(
        " ".join("B" if (r * 7 + c + step) % 11 == 0 else ("A" if (r + c + step) % 9 == 0 else ".") for c in range(6))
        for r in range(6)
    )
    return f"{RULES}\nMemory of the last steps:\n{memory or '(none)'}\nCurrent state (step {step}):\n{grid}"


async def run(steps: int, state_cache: bool) -> None:
    settings = Settings(max_output_tokens=48, local_state_cache=state_cache)
    log = Path(tempfile.mkstemp(prefix="llamac-prefix-", suffix=".log")[1])
    with LocalModelServer.from_settings(settings.model_copy(update={"local_url": None}), log_path=log) as server:
        metering = Metering("prefix-bench")
        gateway = LLMGateway(settings, "prefix-bench", metering=metering, base_url=server.url)

        def messages(step: int, role: Role) -> list[ChatMessage]:
            return [ChatMessage("system", shared_part(step)), ChatMessage("user", INSTRUCTIONS[role])]

        started = time.perf_counter()
        for step in range(steps):
            await asyncio.gather(
                *(gateway.call(role=r, agent=None, messages=messages(step, r), step=step, schema=SCHEMA)
                  for r in (Role.EXPLORE_CRITIC, Role.EXPLOIT_CRITIC))
            )
            await gateway.call(role=Role.ASSESSOR, agent=None, messages=messages(step, Role.ASSESSOR),
                               step=step, schema=SCHEMA)
        wall = time.perf_counter() - started
        time.sleep(0.5)
    text = log.read_text(errors="replace")
    log.unlink()
    records = metering.records
    # One "prefix-match hit" line per request that reused anything; match them to the calls in order
    # of the server's log (requests are served one at a time).
    evaluations = [line for line in text.splitlines() if "prefix-match hit" in line or "POST /v1/chat" in line]
    reused: list[int] = []
    pending = 0
    for line in evaluations:
        if m := HIT.search(line):
            pending = int(m.group(1))
        else:  # the access-log line closing a request
            reused.append(pending)
            pending = 0
    prompt = [r.prompt_tokens for r in sorted(records, key=lambda r: r.step)]
    if len(reused) != len(records):
        raise SystemExit(f"could not match log lines ({len(reused)}) to calls ({len(records)})")
    total_share = sum(reused) / sum(prompt)
    within = [i for i in range(len(reused)) if i % 3 != 0]
    within_share = sum(reused[i] for i in within) / sum(prompt[i] for i in within)
    print(f"{steps} steps x (critic, critic, assessor), server state cache {'on' if state_cache else 'off'}")
    print("per call (reused/prompt tokens): " + ", ".join(f"{a}/{b}" for a, b in zip(reused, prompt, strict=True)))
    print(f"share of prompt tokens served from the prefix cache, all calls:          {total_share:.1%}")
    print(f"share within a step (2nd and 3rd call, same state):                     {within_share:.1%}")
    print(f"target >= 60 %: {'met' if total_share >= 0.6 else 'NOT met'} over all calls; wall {wall:.1f} s, "
          f"mean latency {sum(r.latency_s for r in records) / len(records):.1f} s per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--state-cache", action="store_true", help="also run the server with --cache True")
    args = parser.parse_args()
    asyncio.run(run(args.steps, args.state_cache))


if __name__ == "__main__":
    main()
