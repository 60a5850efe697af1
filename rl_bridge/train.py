"""``python -m rl_bridge.train``: train one run per listed seed and save each in a run folder.

    python -m rl_bridge.train --algo steer --game penalty --k -100 --seeds 0,1,2,3,4 --out runs/
    python -m rl_bridge.train --algo mappo --task grid --size 2x2 --difficulty easy --seeds 0 --out runs/
    python -m rl_bridge.train --algo steer --task alloc --agents 10 --seeds 0 --out runs/
    python -m rl_bridge.train --algo steer --task football --scenario academy_3_vs_1_with_keeper --max-minutes 15 --seeds 0 --out runs/

Each run goes to ``OUT/<task>/<label>/seed<N>/`` (see ``run_folder``). The seeds given are used
exactly (torch, numpy and the environments are seeded from them), so any single run can be redone.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rl_bridge.algorithms import ALGOS, build
from rl_bridge.algorithms.ppo import PPOConfig
from rl_bridge.cli import OneLineParser, configure_torch, number, refuse_overwrite, writable_folder
from rl_bridge.envs import EnvSpec
from rl_bridge.errors import RLUsageError
from rl_bridge.evaluate import evaluate
from rl_bridge.policy_table import rollout_act
from rl_bridge.priority import PRIORITIES, PriorityVecEnv
from rl_bridge.rollout import collect
from rl_bridge.run_folder import TrainingRecord, save_run
from tasks.base import TaskError
from tasks.matrix import GAMES


def run_label(algo: str, cfg: PPOConfig, net_options: dict[str, Any] | None = None) -> str:
    """The algorithm's name plus every variant that departs from it, e.g. ``steer-no-otb``,
    ``steer-prio-random``, ``steer-lt0.1``: the report shows each label as its own row."""
    options = net_options or {}
    parts = [algo]
    parts += [f"no-{block}" for block in ("itb", "otb") if options.get(block) is False]
    if options.get("priority", "fixed") != "fixed":
        parts.append(f"prio-{options['priority']}")
    if cfg.leader_timescale != 1.0:
        parts.append(f"lt{cfg.leader_timescale:g}")
    return "-".join(parts)


def run_folder(out: Path, spec: EnvSpec, label: str, seed: int) -> Path:
    """Where one seed's run lands under ``--out``."""
    return out / spec.name / label / f"seed{seed}"


def train_run(algo_name: str, spec: EnvSpec, seed: int, cfg: PPOConfig, out: Path | None, eval_every: int = 10, net_options: dict[str, Any] | None = None, log: bool = True) -> tuple[Any, TrainingRecord]:
    """Train one seed; save the run folder under ``out`` (unless None). Returns (algorithm, config)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    env = spec.vec_env(cfg.n_envs, seed)
    priority = (net_options or {}).get("priority", "fixed")
    if priority != "fixed":
        env = PriorityVecEnv(env, priority, seed)
    shape = {"n_agents": env.n_agents, "obs_dim": env.obs_dim, "state_dim": env.state_dim, "n_actions": env.n_actions, **(net_options or {})}
    algo = build(algo_name, shape, cfg, seed)
    label = run_label(algo_name, cfg, net_options)
    current = env.reset(seed)
    curve: list[dict[str, Any]] = []
    act = None
    start = time.perf_counter()
    for update in range(cfg.n_updates):
        act = rollout_act(algo, env.n_agents, env.n_actions, cfg.distinct_inputs, previous=act)
        rollout, current, finished = collect(act, env, current, cfg.episode_length)
        stats = algo.update(rollout)
        row: dict[str, Any] = {
            "update": update + 1,
            "env_steps": (update + 1) * cfg.n_envs * cfg.episode_length,
            "wall_s": round(time.perf_counter() - start, 3),
            "train_return": float(np.mean([f.returns.mean() for f in finished])) if finished else float("nan"),
            "train_success": float(np.mean([f.success for f in finished])) if finished else float("nan"),
            "greedy_score": float("nan"),
            **stats,
        }
        if (update + 1) % eval_every == 0 or update + 1 == cfg.n_updates:
            row.update({k: v for k, v in evaluate(algo, spec).items() if not isinstance(v, str)})
        curve.append(row)
        if cfg.max_minutes and row["wall_s"] >= 60 * cfg.max_minutes:
            break
    final = {**evaluate(algo, spec), "env_steps": curve[-1]["env_steps"], "wall_s": curve[-1]["wall_s"],
             "env_steps_per_s": curve[-1]["env_steps"] / max(curve[-1]["wall_s"], 1e-9)}
    config = TrainingRecord(algo=algo_name, label=label, env=spec, seed=seed, shape=algo.shape(), ppo=cfg, final=final)
    if out is not None:
        folder = run_folder(out, spec, label, seed)
        save_run(folder, algo, config, curve)
        if log:
            print(f"{spec.name} {label} seed {seed}: greedy score {final['greedy_score']:.2f} "
                  f"({final['env_steps']} steps, {final['wall_s']:.0f} s) -> {folder}", flush=True)
    return algo, config


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip() != ""]
    except ValueError:
        raise RLUsageError(f"--seeds must be whole numbers separated by commas, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise RLUsageError(f"--seeds must list whole numbers >= 0, got {text!r}")
    return seeds


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m rl_bridge.train", description="Train STEER or a baseline, one run per seed.")
    p.add_argument("--algo", required=True, choices=ALGOS)
    p.add_argument("--game", choices=GAMES, help="a STEER matrix game")
    p.add_argument("--k", type=number("--k"), default=0.0, help="Penalty's miscoordination cost (0, -100, -1000)")
    p.add_argument("--task", choices=("grid", "alloc", "football"), help="a shared task or football instead of a matrix game")
    p.add_argument("--scenario", default="academy_3_vs_1_with_keeper", help="football: the academy scenario")
    p.add_argument("--size", default="2x2", help="grid size RxC")
    p.add_argument("--difficulty", default="easy", choices=("easy", "hard"))
    p.add_argument("--agents", type=number("--agents", low=1, whole=True), default=10, help="allocation: number of agents")
    p.add_argument("--seeds", default="0", help="comma-separated, used exactly, e.g. 0,1,2,3,4")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--overwrite", action="store_true", help="replace trained runs already in --out (refused otherwise)")
    p.add_argument("--steps", type=number("--steps", low=1, whole=True), help="total environment steps per run (default: per task)")
    p.add_argument("--n-envs", type=number("--n-envs", low=1, whole=True), help="environments stepped together")
    p.add_argument("--episode-length", type=number("--episode-length", low=1, whole=True), help="steps per environment per update")
    p.add_argument("--entropy", type=number("--entropy", low=0), help="entropy coefficient")
    p.add_argument("--lr", type=number("--lr", low=0, low_open=True, high=1), help="learning rate")
    p.add_argument("--ppo-epochs", type=number("--ppo-epochs", low=1, whole=True), help="PPO epochs per update")
    p.add_argument("--max-minutes", type=number("--max-minutes", low=0, low_open=True),
                   help="stop training after this many minutes of wall time (the run is still evaluated and saved)")
    p.add_argument("--leader-timescale", type=number("--leader-timescale", low=0, low_open=True), default=1.0,
                   help="[ours] scale agent i's policy loss by this ** (n-1-i); 1 = the authors' STEER")
    p.add_argument("--state-token", choices=("learned", "state"), default="learned", help="STEER's t_0")
    p.add_argument("--no-itb", action="store_true", help="STEER ablation: no inner transformer block")
    p.add_argument("--no-otb", action="store_true",
                   help="STEER ablation: no outer block; each agent decides from the state alone, not a_<i")
    p.add_argument("--priority", choices=PRIORITIES, default="fixed",
                   help="STEER's priority order: fixed (agent 0 leads), random per episode, or rotate (round robin)")
    p.add_argument("--eval-every", type=number("--eval-every", low=1, whole=True), default=10, help="updates between greedy evaluations")
    p.add_argument("--every-sample", action="store_true",
                   help="compute the network on every sample, as the authors' code does, instead of once per "
                        "distinct input (same math, slower where inputs repeat, as in the matrix games)")
    return p


def config_from_args(args: argparse.Namespace) -> tuple[EnvSpec, PPOConfig]:
    if (args.game is None) == (args.task is None):
        raise RLUsageError("give exactly one of --game or --task")
    if args.game is not None:
        spec = EnvSpec("matrix", game=args.game, k=args.k if args.game == "penalty" else 0.0)
    else:
        spec = EnvSpec(args.task, size=args.size, difficulty=args.difficulty, agents=args.agents,
                       scenario=args.scenario if args.task == "football" else "")
    cfg = replace(PPOConfig(), **spec.ppo_defaults(), leader_timescale=args.leader_timescale,
                  distinct_inputs=not args.every_sample)
    overrides = {"total_steps": args.steps, "n_envs": args.n_envs, "episode_length": args.episode_length,
                 "entropy_coef": args.entropy, "lr": args.lr, "ppo_epochs": args.ppo_epochs, "max_minutes": args.max_minutes}
    cfg = replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
    per_update = cfg.n_envs * cfg.episode_length
    if cfg.total_steps < per_update:
        raise RLUsageError(f"--steps {cfg.total_steps} is less than one update's {per_update} steps "
                           f"(--n-envs {cfg.n_envs} x --episode-length {cfg.episode_length}); raise --steps or lower those")
    return spec, cfg


def net_options(args: argparse.Namespace) -> dict[str, Any]:
    """Network options from the flags; the ablations exist for STEER only."""
    ablations = args.no_itb or args.no_otb or args.priority != "fixed"
    if ablations and args.algo != "steer":
        raise RLUsageError("--no-itb, --no-otb and --priority are STEER ablations; use them with --algo steer")
    return {"state_token": args.state_token, "itb": not args.no_itb, "otb": not args.no_otb, "priority": args.priority}


def main(argv: list[str] | None = None) -> int:
    configure_torch()
    try:
        args = parser().parse_args(argv)
        seeds = parse_seeds(args.seeds)
        spec, cfg = config_from_args(args)
        options = net_options(args)
        if spec.kind == "football":
            from rl_bridge.football import SCENARIOS

            if spec.scenario not in SCENARIOS:
                raise RLUsageError(f"unknown football scenario {spec.scenario!r}; choose one of {', '.join(SCENARIOS)}")
        else:
            spec.task()  # fail early on a bad task
        writable_folder(args.out)
        if not args.overwrite:
            refuse_overwrite([run_folder(args.out, spec, run_label(args.algo, cfg, options), seed) for seed in seeds])
        for seed in seeds:
            train_run(args.algo, spec, seed, cfg, args.out, args.eval_every, options)
    except (RLUsageError, TaskError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
