"""Claim (a): the coordinator graphs consult many actors concurrently, with little overhead per call.

A ScriptedChatModel (50 ms per call, no real model) answers behind the real gateway (budget and
labels included). One decide step on Resource Allocation with N = 32 and 50 agents, every actor
consulted: HMAS-2 asks every agent by design; LLaMAC runs with a rule gate that finds every line
suspicious. Reported per case: step wall time, the sequential sum (calls x delay: the same calls one
after another), their ratio (target >= 8x), and the overhead per call: (wall - the critical path of 50 ms rounds) / calls,
plus the same step at 0 ms per call (pure orchestration cost / calls). Target: < 2 ms per call.

    .venv/bin/python benchmarks/orchestration.py [--delay-ms 50] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from graphs.context import HMAS2Config, LLaMACConfig
from graphs.hmas2 import HMAS2Coordinator
from graphs.llamac import LLaMACCoordinator
from llamac.runtime.budget import InProcessBudget
from llamac.runtime.gateway import CallResult, LLMGateway
from llamac.runtime.logs import configure_logging
from llamac.runtime.scripted_model import ScriptedChatModel
from llamac.runtime.settings import Settings
from tasks.alloc import ResourceAllocation
from tasks.base import Suspicious

LABEL = re.compile(r"\[role=(\S+) agent=.+\]\s*$")


class EveryLineSuspicious(ResourceAllocation):
    """Allocation whose actors always ask their LLM: the worst case for LLaMAC's actor fan-out."""

    def rule_gate(self, state: Any, plan: Any, agent: str) -> Suspicious:
        return Suspicious("benchmark: every actor is consulted")


@dataclass
class TimedGateway:
    inner: LLMGateway
    latencies: list[float] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.inner.run_id

    async def call(self, **kw: Any) -> CallResult:
        started = time.perf_counter()
        result = await self.inner.call(**kw)
        self.latencies.append(time.perf_counter() - started)
        return result


def script(plan: str):
    def answer(messages: list[Any]) -> str:
        role = LABEL.search(str(messages[-1].content)).group(1)
        return "I Agree" if role in ("actor", "agent") else plan

    return answer


async def one_step(kind: str, n: int, delay_s: float) -> tuple[float, list[float], dict[str, float]]:
    task = EveryLineSuspicious(n, 0) if kind == "llamac" else ResourceAllocation(n, 0)
    plan = json.dumps({agent: 1 for agent in task.agents})
    model = ScriptedChatModel(script=script(plan), delay_s=delay_s)
    gateway = TimedGateway(
        LLMGateway(
            Settings(_env_file=None),
            "bench",
            budget=InProcessBudget("bench", None),
            chat_model_factory=lambda name, role: model,
        )
    )
    coordinator = (
        LLaMACCoordinator(gateway, LLaMACConfig())
        if kind == "llamac"
        else HMAS2Coordinator(gateway, HMAS2Config())
    )
    started = time.perf_counter()
    decision = await coordinator.decide(task, task.initial_state(), [])
    wall = time.perf_counter() - started
    assert decision.end_reason is None and len(decision.joint_action) == n, decision
    return wall, gateway.latencies, dict(decision.counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    configure_logging(Settings(_env_file=None, log_level="WARNING"))  # no per-call log lines in the timing
    rounds = {"llamac": 3, "hmas2": 2}  # critics | assessor | actors ; planner | agents
    print(
        f"{'coordinator':<11} {'N':>3} {'calls':>5} {'wall ms':>8} {'seq-sum ms':>10} {'speed-up':>8} "
        f"{'ovh/call ms':>11} {'0ms-step ms':>11} {'0ms/call ms':>11} {'sum of latencies ms':>19}"
    )
    for kind in ("llamac", "hmas2"):
        for n in (32, 50):
            asyncio.run(one_step(kind, n, 0.0))  # warm-up (imports, graph compile paths)
            walls, sums, zero = [], [], []
            for _ in range(args.repeats):
                wall, lat, counters = asyncio.run(one_step(kind, n, delay))
                walls.append(wall)
                sums.append(sum(lat))
                zero.append(asyncio.run(one_step(kind, n, 0.0))[0])
            calls = int(counters["llm_calls"])
            wall = statistics.median(walls)
            seq = calls * delay  # the same calls one after another (each at least the scripted delay)
            measured = statistics.median(sums)  # concurrent calls' own latencies (include queueing)
            overhead = (wall - rounds[kind] * delay) / calls
            z = statistics.median(zero)
            print(
                f"{kind:<11} {n:>3} {calls:>5} {wall * 1e3:>8.1f} {seq * 1e3:>10.1f} {seq / wall:>7.1f}x "
                f"{overhead * 1e3:>11.2f} {z * 1e3:>11.1f} {z / calls * 1e3:>11.2f} {measured * 1e3:>19.1f}"
            )


if __name__ == "__main__":
    main()
