"""Claim: our trainer steps at least 5x as many environment steps per second as the authors' code.

Times whole PPO iterations (vectorised rollout + update, no evaluation) of the real trainer on one
torch thread. Reference: the authors' STEER trainer ran at about 2,200 env steps/s on Coordination
with evaluation off (``spec/steer.md`` section 7; 1 torch thread, this machine). Matrix games use the
authors' settings (10 envs x 100 steps per update, 5 epochs, 1 minibatch) and our equivalent layout
(100 x 10: the same 1,000 samples per update); the grid uses our grid settings (16 x 64).

    .venv/bin/python benchmarks/rl_throughput.py [--updates 10]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from rl_bridge.algorithms import build
from rl_bridge.algorithms.ppo import PPOConfig
from rl_bridge.envs import EnvSpec
from rl_bridge.rollout import collect
from rl_bridge.train import configure_torch

AUTHORS_STEPS_PER_S = 2200.0


def steps_per_second(algo_name: str, spec: EnvSpec, cfg: PPOConfig, updates: int) -> float:
    env = spec.vec_env(cfg.n_envs, 0)
    shape = {"n_agents": env.n_agents, "obs_dim": env.obs_dim, "state_dim": env.state_dim, "n_actions": env.n_actions}
    algo = build(algo_name, shape, cfg, 0)
    current = env.reset(0)
    rollout, current, _ = collect(algo.act, env, current, cfg.episode_length)  # warm-up
    algo.update(rollout)
    start = time.perf_counter()
    for _ in range(updates):
        rollout, current, _ = collect(algo.act, env, current, cfg.episode_length)
        algo.update(rollout)
    return updates * cfg.n_envs * cfg.episode_length / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=10)
    args = p.parse_args()
    configure_torch()
    authors = PPOConfig()
    cases = [
        ("coordination", "10x100", EnvSpec("matrix", game="coordination"), authors),
        ("coordination", "50x20", EnvSpec("matrix", game="coordination"), replace(authors, n_envs=50, episode_length=20)),
        ("penalty k=-100", "10x100", EnvSpec("matrix", game="penalty", k=-100), authors),
        ("penalty k=-100", "100x10", EnvSpec("matrix", game="penalty", k=-100), replace(authors, n_envs=100, episode_length=10)),
        ("grid easy 2x2", "16x64", EnvSpec("grid", size="2x2"), replace(authors, **EnvSpec("grid").ppo_defaults())),
    ]
    print(f"{'task':16} {'layout':7} {'algo':6} {'env steps/s':>12} {'vs authors 2,200/s':>19}")
    for task, layout, spec, cfg in cases:
        for algo in ("steer", "mappo"):
            if task.startswith("penalty") and layout == "10x100" and algo == "mappo":
                continue
            rate = steps_per_second(algo, spec, cfg, args.updates)
            print(f"{task:16} {layout:7} {algo:6} {rate:12,.0f} {rate / AUTHORS_STEPS_PER_S:18.2f}x")


if __name__ == "__main__":
    main()
