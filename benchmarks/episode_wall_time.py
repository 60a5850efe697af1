"""Claim (c): one Easy 2x2 LLaMAC episode on the local default model takes under 3 minutes on 2 cores.

Runs the real path: the shipped Qwen2.5-Coder-0.5B on llama.cpp's server (started here, or the one at
LLAMAC_LOCAL_URL), the gateway with its budget, the LLaMAC step graph inside the episode graph.
Prints wall time, steps, success, calls and tokens of the episode.

    .venv/bin/python benchmarks/episode_wall_time.py [--instance 0] [--size 2x2] [--coordinator llamac]
        [--preset paper|lean] [--critics split|merged] [--actor-context shared|local]
        [--actor-gate ask|direct|apply] [--assessor always|on-disagreement] [--max-steps N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from graphs.context import HMAS2Config, LLaMACConfig, coordinator_config, resolve_knobs
from graphs.episode import EpisodeContext, play_episode
from graphs.hmas2 import HMAS2Coordinator
from graphs.llamac import LLaMACCoordinator
from graphs.state_codec import TaskStateSerializer
from llamac.app.parser import add_knob_flags
from llamac.app.run_config import knob_values
from llamac.runtime.budget import InProcessBudget
from llamac.runtime.contract import CallRecord
from llamac.runtime.gateway import LLMGateway
from llamac.runtime.local_model import LocalModelServer
from llamac.runtime.logs import configure_logging
from llamac.runtime.settings import Settings
from tasks.grid_easy import GridEasy

TARGET_S = 180.0
EVALUATED = re.compile(r"prompt eval time = .*/\s*(\d+) tokens")


def evaluated_per_call(log: Path | None) -> list[int]:
    """The server's evaluated (not prefix-cached) prompt tokens of every request it logged, in order."""
    if log is None or not log.exists():
        return []
    return [int(m.group(1)) for m in EVALUATED.finditer(log.read_text(errors="replace"))]


class ByRole:
    """A ``CallSink`` summing calls and tokens per role (critic pair, assessor, actors...): where an
    episode's output tokens go, e.g. per plan the assessor writes."""

    def __init__(self) -> None:
        self.totals: dict[str, dict[str, int]] = {}

    def record(self, record: CallRecord) -> None:
        role = self.totals.setdefault(record.role, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0})
        role["calls"] += 1
        role["prompt_tokens"] += record.prompt_tokens
        role["completion_tokens"] += record.completion_tokens


async def play(
    settings: Settings,
    url: str | None,
    coordinator: str,
    task: Any,
    run: str,
    max_steps: int | None,
    config: LLaMACConfig | None = None,
) -> dict:
    """One episode through the episode graph; the summary plus its wall time."""
    by_role = ByRole()
    gateway = LLMGateway(settings, run, budget=InProcessBudget(run, settings.budget_tokens), metering=by_role, base_url=url)
    decider = (
        LLaMACCoordinator(gateway, config or LLaMACConfig())
        if coordinator == "llamac"
        else HMAS2Coordinator(gateway, HMAS2Config())
    )
    started = time.perf_counter()
    ctx = EpisodeContext(task=task, coordinator=decider, max_steps=max_steps)
    summary = await play_episode(ctx, checkpointer=InMemorySaver(serde=TaskStateSerializer()), thread_id=run)
    return {**summary, "episode_wall_s": round(time.perf_counter() - started, 2), "by_role": by_role.totals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="2x2")
    parser.add_argument("--instance", type=int, default=0)
    parser.add_argument("--coordinator", choices=("llamac", "hmas2"), default="llamac")
    add_knob_flags(parser)
    parser.add_argument("--max-steps", type=int, default=None, help="stop early (per-step figures only)")
    args = parser.parse_args()
    config = coordinator_config("llamac", resolve_knobs("llamac", args.preset, knob_values(args)))
    settings = Settings()
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    rows, cols = (int(x) for x in args.size.lower().split("x"))
    task = GridEasy.from_instance(rows, cols, args.instance)
    with LocalModelServer.from_settings(settings) as server:
        summary = asyncio.run(
            play(settings, server.url, args.coordinator, task, "wall-time", args.max_steps, config)
        )
        evaluated = evaluated_per_call(server.log_path)  # none when the server is LLAMAC_LOCAL_URL's
    wall = summary["episode_wall_s"]
    print(f"config: {config}")
    keys = (
        "task",
        "coordinator",
        "success",
        "steps",
        "end_reason",
        "feedback",
        "llm_calls",
        "gate_skips",
        "gate_fixes",
        "assessor_skips",
        "plan_lines",
        "prompt_tokens",
        "completion_tokens",
        "tokens",
    )
    print(json.dumps({k: summary.get(k) for k in keys}))
    print(
        f"episode wall time {wall:.1f} s (target < {TARGET_S:.0f} s: {'met' if wall < TARGET_S else 'missed'}); "
        f"{wall / max(summary['steps'], 1):.1f} s per step, {summary['llm_calls'] / max(summary['steps'], 1):.1f} calls per step, "
        f"{summary['prompt_tokens'] / max(summary['steps'], 1):.0f} prompt tokens per step"
        + (f" ({sum(evaluated) / max(summary['steps'], 1):.0f} uncached: evaluated by the server, "
           f"{len(evaluated)} requests)" if evaluated else "")
    )


if __name__ == "__main__":
    main()
