"""Claim: our trainer steps at least 5x as many environment steps per second as the authors' code.

Two comparisons, both on one torch thread, against what the authors' STEER trainer reached on this
machine (``spec/steer.md`` section 7):

* **as the authors' script runs** (``train_matrix.sh``: ``--use_eval --eval_interval 1``, 10 threads x
  100 steps, 5 epochs, 1 minibatch): their trainer about 240 env steps/s; ours is ``train_run`` with
  a greedy evaluation after every update (``--eval-every 1``), the whole loop timed.
* **PPO iterations alone** (vectorised rollout + update, no evaluation): their trainer about 2,200
  env steps/s on Coordination with evaluation off. Matrix games use the authors' layout (10 x 100)
  and our equivalent one (100 x 10: the same 1,000 samples per update); the grid our grid settings.
  Each is timed twice: evaluating every sample (as the authors' code does; ``distinct_inputs=False``)
  and with the default ``distinct_inputs`` (each distinct network input computed once, in the
  update and, where the joint action space is small, through ``policy_table`` in the rollout).

    .venv/bin/python benchmarks/rl_throughput.py [--updates 10]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from rl_bridge.algorithms import build
from rl_bridge.algorithms.ppo import PPOConfig
from rl_bridge.cli import configure_torch
from rl_bridge.envs import EnvSpec
from rl_bridge.policy_table import rollout_act
from rl_bridge.rollout import collect
from rl_bridge.train import train_run
from rl_bridge.vec_env import network_shape

AUTHORS_STEPS_PER_S = 2200.0
"""The authors' trainer, evaluation off (Coordination)."""
AUTHORS_SCRIPT_STEPS_PER_S = 240.0
"""The authors' trainer as their matrix-game script runs it: evaluation after every update."""


def steps_per_second(algo_name: str, spec: EnvSpec, cfg: PPOConfig, updates: int) -> float:
    """PPO iterations alone (rollout + update), after one warm-up iteration."""
    env = spec.vec_env(cfg.n_envs, 0)
    algo = build(algo_name, network_shape(env), cfg, 0)
    current = env.reset(0)
    act = None
    start = 0.0
    for i in range(updates + 1):
        if i == 1:
            start = time.perf_counter()
        act = rollout_act(algo, env.n_agents, env.n_actions, cfg.distinct_inputs, previous=act)
        rollout, current, _ = collect(act, env, current, cfg.episode_length)
        algo.update(rollout)
    return updates * cfg.n_envs * cfg.episode_length / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=10)
    args = p.parse_args()
    configure_torch()
    authors = PPOConfig()
    print(f"{'as the authors script runs (eval every update)':48} {'env steps/s':>12} {'vs authors 240/s':>17}")
    for name, spec in (("penalty k=-100", EnvSpec("matrix", game="penalty", k=-100)),
                       ("coordination", EnvSpec("matrix", game="coordination"))):
        cfg = replace(authors, total_steps=args.updates * authors.n_envs * authors.episode_length)
        _, run = train_run("steer", spec, 0, cfg, None, eval_every=1, log=False)
        rate = run.final["env_steps_per_s"]
        print(f"{name + ' steer 10x100':48} {rate:12,.0f} {rate / AUTHORS_SCRIPT_STEPS_PER_S:16.1f}x")
    print()
    cases = [
        ("coordination", "10x100", EnvSpec("matrix", game="coordination"), authors),
        ("coordination", "50x20", EnvSpec("matrix", game="coordination"), replace(authors, n_envs=50, episode_length=20)),
        ("penalty k=-100", "10x100", EnvSpec("matrix", game="penalty", k=-100), authors),
        ("penalty k=-100", "100x10", EnvSpec("matrix", game="penalty", k=-100), replace(authors, n_envs=100, episode_length=10)),
        ("grid easy 2x2", "16x64", EnvSpec("grid", size="2x2"), replace(authors, **EnvSpec("grid").ppo_defaults())),
    ]
    print(f"{'task':16} {'layout':7} {'algo':6} {'every sample':>13} {'distinct inputs':>16} {'vs authors 2,200/s':>19}")
    for task, layout, spec, cfg in cases:
        for algo in ("steer", "mappo"):
            if task.startswith("penalty") and layout == "10x100" and algo == "mappo":
                continue
            plain = steps_per_second(algo, spec, replace(cfg, distinct_inputs=False), args.updates)
            rate = steps_per_second(algo, spec, cfg, args.updates)
            print(f"{task:16} {layout:7} {algo:6} {plain:13,.0f} {rate:16,.0f} {plain / AUTHORS_STEPS_PER_S:8.2f}x -> {rate / AUTHORS_STEPS_PER_S:5.2f}x")


if __name__ == "__main__":
    main()
