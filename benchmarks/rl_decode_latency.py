"""Claim: a distilled student decides a 32-agent step in at most 1/10 of STEER's decode time.

STEER decodes agent by agent (the OTB runs 32 times per step); the students are 32 independent MLPs on
their own observations. Both are timed on Grid Easy 4x8 array views (32 agents, 26 actions), batch of
one state, one torch thread, greedy actions, after warm-up. Networks are freshly initialised: latency
does not depend on the weights.

    .venv/bin/python benchmarks/rl_decode_latency.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from rl_bridge.algorithms.student import StudentPolicy
from rl_bridge.cli import configure_torch
from rl_bridge.networks.steer import SteerNet, SteerShape
from tasks.catalog import grid_task


def per_call_ms(fn, repeats: int) -> float:
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=200)
    args = p.parse_args()
    configure_torch()
    task = grid_task("4x8", "easy", instance=0)
    view = task.arrays(task.initial_state())
    n, obs_dim = view.obs.shape
    obs = torch.from_numpy(view.obs[None])
    state = torch.from_numpy(view.state[None])
    mask = torch.from_numpy(np.asarray(view.mask)[None])
    torch.manual_seed(0)
    steer = SteerNet(SteerShape(n, obs_dim, task.n_actions, len(view.state), state_token="learned"))
    students = StudentPolicy(n, obs_dim, task.n_actions)
    steer_ms = per_call_ms(lambda: steer.decode(obs, state, mask, deterministic=True), args.repeats)
    student_ms = per_call_ms(lambda: students.act(obs, None, mask, deterministic=True), args.repeats)
    print(f"N={n} agents, {task.n_actions} actions, obs {obs_dim}: one decision, batch 1, 1 thread (median of {args.repeats})")
    print(f"  STEER autoregressive decode : {steer_ms:8.3f} ms")
    print(f"  32 students (own obs only)  : {student_ms:8.3f} ms")
    print(f"  student / STEER             : {student_ms / steer_ms:8.3f}  (target <= 0.100)")


if __name__ == "__main__":
    main()
