"""``python -m rl_bridge.train``: train one run per listed seed and save each in a run folder.

    python -m rl_bridge.train --recipe grid-easy-2x4 --seeds 0 --out runs/          # a named recipe
    python -m rl_bridge.train --recipe alloc-10 --algo mappo --seeds 0,1 --out runs/
    python -m rl_bridge.train --algo steer --game penalty --k -100 --seeds 0,1,2,3,4 --out runs/
    python -m rl_bridge.train --algo mappo --task grid --size 2x2 --difficulty easy --seeds 0 --out runs/
    python -m rl_bridge.train --algo steer --task alloc --agents 10 --seeds 0 --out runs/
    python -m rl_bridge.train --algo steer --task football --scenario academy_3_vs_1_with_keeper --budget-minutes 15 --seeds 0 --out runs/

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
from rl_bridge.recipes import Recipe, recipe, shipped_policy
from rl_bridge.rollout import collect
from rl_bridge.run_folder import TrainingRecord, save_run
from rl_bridge.vec_env import network_shape
from tasks.base import TaskError
from tasks.matrix import GAMES


def run_label(algo: str, cfg: PPOConfig, net_options: dict[str, Any] | None = None) -> str:
    """The algorithm's name plus every variant that departs from it, e.g. ``steer-no-otb``,
    ``steer-prio-random``, ``steer-lt0.1``, ``steer-lt0.1-ff0.25``: the report shows each label as its own row."""
    options = net_options or {}
    parts = [algo]
    parts += [f"no-{block}" for block in ("itb", "otb") if options.get(block) is False]
    if options.get("priority", "fixed") != "fixed":
        parts.append(f"prio-{options['priority']}")
    if cfg.leader_timescale != 1.0:
        parts.append(f"lt{cfg.leader_timescale:g}")
    if cfg.follower_first > 0:
        parts.append(f"ff{cfg.follower_first:g}")
    return "-".join(parts)


def run_folder(out: Path, spec: EnvSpec, label: str, seed: int) -> Path:
    """Where one seed's run lands under ``--out``."""
    return out / spec.name / label / f"seed{seed}"


def train_run(algo_name: str, spec: EnvSpec, seed: int, cfg: PPOConfig, out: Path | None, eval_every: int = 10,
              net_options: dict[str, Any] | None = None, log: bool = True, budget_s: float | None = None,
              recipe: dict[str, Any] | None = None, evaluate_at_end: bool = True,
              init_from: Path | None = None, select_on: str | None = None) -> tuple[Any, TrainingRecord]:
    """Train one seed; save the run folder under ``out`` (unless None). Returns (algorithm, config).

    ``budget_s`` stops training at the first update that ends past that many seconds of wall time;
    ``recipe`` (the resolved recipe, if the run follows one) is recorded in config.json;
    ``evaluate_at_end=False`` (quick tests) skips the greedy evaluations after the last update;
    ``init_from`` (a run folder) warm-starts the network (``warm_start``: a curriculum over sizes);
    ``select_on`` (a metric of the greedy evaluation) keeps the network that scored best on it over the
    validation instances (``EnvSpec.validation_task``), checked at the start and every ``eval_every`` updates,
    instead of the last one: early stopping for a task where PPO drifts away from a good policy."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    env = spec.vec_env(cfg.n_envs, seed, cfg.gamma)
    priority = (net_options or {}).get("priority", "fixed")
    if priority != "fixed":
        env = PriorityVecEnv(env, priority, seed)
    algo = build(algo_name, network_shape(env, net_options), cfg, seed)
    if init_from is not None:
        from rl_bridge.warm_start import warm_start

        kept = warm_start(algo, init_from)
        if log:
            print(f"  warm start from {init_from}" + (f"; fresh: {', '.join(kept)}" if kept else ""), flush=True)
    label = run_label(algo_name, cfg, net_options)
    chosen = Checkpoints(algo, spec, select_on) if select_on else None
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
            "greedy_score": float("nan"),
            **stats,
        }
        if spec.kind != "matrix":
            row["train_success"] = float(np.mean([f.success for f in finished])) if finished else float("nan")
        over_budget = budget_s is not None and row["wall_s"] >= budget_s
        last = update + 1 == cfg.n_updates or over_budget
        if chosen is not None and ((update + 1) % eval_every == 0 or last):
            row["validation"] = chosen.offer(update + 1, row["env_steps"])
        if (update + 1) % eval_every == 0 or (last and evaluate_at_end):
            row.update({k: v for k, v in evaluate(algo, spec).items() if not isinstance(v, str)})
            if log and out is not None and spec.kind != "matrix":
                print(f"  {spec.name} {label} seed {seed}: {row['env_steps']} steps, {row['wall_s']:.0f} s, "
                      f"greedy score {row['greedy_score']:.2f}, success {row.get('success', float('nan')):.0%}", flush=True)
        curve.append(row)
        if over_budget:
            break
    if chosen is not None:
        chosen.restore()
    final = {**(evaluate(algo, spec) if evaluate_at_end else {}), "env_steps": curve[-1]["env_steps"], "wall_s": curve[-1]["wall_s"],
             "env_steps_per_s": curve[-1]["env_steps"] / max(curve[-1]["wall_s"], 1e-9)}
    if spec.kind not in ("matrix", "football") and evaluate_at_end:
        final["fresh"] = {k: v for k, v in evaluate(algo, spec, fresh=True).items() if not isinstance(v, str)}
    if init_from is not None:
        final["warm_start"] = str(init_from)
    final["eval_every"] = eval_every  # with the budget: what the run's command line said (recipe_report rewrites it)
    if budget_s is not None:
        final["budget_s"] = budget_s
    if chosen is not None:
        final["selected"] = chosen.record()
    config = TrainingRecord(algo=algo_name, label=label, env=spec, seed=seed, shape=algo.shape(), ppo=cfg, final=final,
                            recipe=recipe)
    if out is not None:
        folder = run_folder(out, spec, label, seed)
        save_run(folder, algo, config, curve)
        if log:
            solved = f", success {final['success']:.0%} golden / {final['fresh']['success']:.0%} fresh" if "fresh" in final else ""
            print(f"{spec.name} {label} seed {seed}: greedy score {final.get('greedy_score', float('nan')):.2f}{solved} "
                  f"({final['env_steps']} steps, {final['wall_s']:.0f} s) -> {folder}", flush=True)
    return algo, config


class Checkpoints:
    """The best network so far by ``metric`` on the validation instances (the first offer is the network
    before any update, so a warm start that PPO only makes worse is kept)."""

    def __init__(self, algo: Any, spec: EnvSpec, metric: str) -> None:
        self.algo, self.spec, self.metric = algo, spec, metric
        self.best: tuple[float, int, int] | None = None
        self.weights: dict[str, dict[str, torch.Tensor]] = {}
        self.offer(0, 0)

    def offer(self, update: int, env_steps: int) -> float:
        score = float(evaluate(self.algo, self.spec, validation=True)[self.metric])
        if self.best is None or score > self.best[0]:
            self.best = (score, update, env_steps)
            self.weights = {name: {k: v.detach().clone() for k, v in m.state_dict().items()}
                            for name, m in self.algo.modules().items()}
        return score

    def restore(self) -> None:
        for name, module in self.algo.modules().items():
            module.load_state_dict(self.weights[name])

    def record(self) -> dict[str, Any]:
        assert self.best is not None
        score, update, env_steps = self.best
        return {"on": "validation", "metric": self.metric, "score": score, "update": update, "env_steps": env_steps}


def train_recipe(which: str | Recipe, seed: int, out: Path | None, algo: str | None = None,
                 overrides: dict[str, Any] | None = None, budget_s: float | None = None,
                 eval_every: int = 10, log: bool = True, evaluate_at_end: bool = True) -> tuple[Any, Any]:
    """Train one seed of a recipe; ``overrides`` replace PPO settings (tiny budgets in tests),
    ``budget_s`` the recipe's wall-time budget. Returns (algorithm, RunConfig)."""
    r = which if isinstance(which, Recipe) else recipe(which, algo)
    cfg = replace(r.ppo_config(), **(overrides or {}))
    budget = r.budget_minutes * 60 if budget_s is None else budget_s
    init_from = None
    if r.warm_start is not None:
        init_from = shipped_policy(r.warm_start, r.algo, seed) or shipped_policy(r.warm_start, r.algo, 0)
        if init_from is None and out is not None:
            # the curriculum's smaller recipe, trained first under the same --out (or found there from a run before)
            if log:
                print(f"  no {r.algo} policy of {r.warm_start} is shipped: training it first under {out}", flush=True)
            init_from = policy_for(r.warm_start, r.algo, seed, out, log=log, eval_every=eval_every)
        elif init_from is None and log:
            print(f"  no {r.algo} policy of {r.warm_start} is shipped: training {r.name} from scratch", flush=True)
    return train_run(r.algo, r.env_spec(), seed, cfg, out, eval_every, dict(r.network), log=log,
                     budget_s=budget, recipe=r.model_dump(mode="json"), evaluate_at_end=evaluate_at_end,
                     init_from=init_from, select_on=r.target.metric if r.select == "validation" else None)


def policy_for(name: str, algo: str = "steer", seed: int = 0, out: Path | None = None, log: bool = False,
               eval_every: int = 10) -> Path:
    """A trained policy for the recipe: the shipped one, else the one under ``out`` (trained now if absent)."""
    shipped = shipped_policy(name, algo, seed)
    if shipped is not None:
        return shipped
    if out is None:
        raise RLUsageError(f"no {algo} policy is shipped for recipe {name} seed {seed}; give a folder to train one in")
    r = recipe(name, algo)
    folder = run_folder(out, r.env_spec(), algo, seed)
    if not (folder / "model.pt").is_file():
        train_recipe(r, seed, out, log=log, eval_every=eval_every)
    return folder


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
    p.add_argument("--recipe", help="a named recipe (rl_bridge/recipes.toml): task, encoding, shaping, "
                   "network, PPO settings and budget; --steps etc. still override it")
    p.add_argument("--algo", choices=ALGOS, help="the algorithm (a recipe's default: steer)")
    p.add_argument("--budget-minutes", type=number("--budget-minutes", low=0, low_open=True), help="stop training after this much wall time (a recipe's own by default)")
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
    p.add_argument("--leader-timescale", type=number("--leader-timescale", low=0, low_open=True), default=1.0,
                   help="[ours] scale agent i's policy loss by this ** (n-1-i); 1 = the authors' STEER")
    p.add_argument("--follower-first", type=number("--follower-first", low=0, high=0.9), default=0.0,
                   help="[ours, STEER] followers best-respond first: for this share of --steps the leader acts "
                        "uniformly and its policy loss is off (with n agents agent i waits share * (n-1-i)/(n-1)); "
                        "0 = the authors'")
    p.add_argument("--state-token", choices=("learned", "state"), default="learned", help="STEER's t_0")
    p.add_argument("--ppo-epochs", type=number("--ppo-epochs", low=1, whole=True), help="PPO epochs per update")
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


def ppo_overrides(args: argparse.Namespace) -> dict[str, Any]:
    given = {"total_steps": args.steps, "n_envs": args.n_envs, "episode_length": args.episode_length,
             "entropy_coef": args.entropy, "lr": args.lr, "ppo_epochs": args.ppo_epochs}
    return {k: v for k, v in given.items() if v is not None}


def config_from_args(args: argparse.Namespace) -> tuple[EnvSpec, PPOConfig]:
    if args.algo is None:
        raise RLUsageError("give --algo (or --recipe NAME)")
    if (args.game is None) == (args.task is None):
        raise RLUsageError("give exactly one of --game or --task")
    if args.game is not None:
        spec = EnvSpec("matrix", game=args.game, k=args.k if args.game == "penalty" else 0.0)
    else:
        spec = EnvSpec(args.task, size=args.size, difficulty=args.difficulty, agents=args.agents,
                       game=args.scenario if args.task == "football" else "")
    if args.follower_first > 0 and (args.algo != "steer" or args.priority != "fixed"):
        raise RLUsageError("--follower-first schedules STEER's agents in the fixed priority order; "
                           "use it with --algo steer and --priority fixed")
    cfg = replace(PPOConfig(), **spec.ppo_defaults(), leader_timescale=args.leader_timescale,
                  follower_first=args.follower_first, distinct_inputs=not args.every_sample)
    cfg = replace(cfg, **ppo_overrides(args))
    check_one_update(cfg)
    return spec, cfg


def check_one_update(cfg: PPOConfig) -> None:
    per_update = cfg.n_envs * cfg.episode_length
    if cfg.total_steps < per_update:
        raise RLUsageError(f"--steps {cfg.total_steps} is less than one update's {per_update} steps "
                           f"(--n-envs {cfg.n_envs} x --episode-length {cfg.episode_length}); raise --steps or lower those")


def train_recipes(args: argparse.Namespace, seeds: list[int]) -> int:
    if args.game is not None or args.task is not None:
        raise RLUsageError("--recipe names the task itself; drop --game/--task")
    r = recipe(args.recipe, args.algo)
    overrides = ppo_overrides(args)
    check_one_update(replace(r.ppo_config(), **overrides))
    if args.budget_minutes is not None and args.budget_minutes <= 0:
        raise RLUsageError("--budget-minutes must be positive")
    writable_folder(args.out)
    label = run_label(r.algo, r.ppo_config())
    if not args.overwrite:
        refuse_overwrite([run_folder(args.out, r.env_spec(), label, seed) for seed in seeds])
    budget = None if args.budget_minutes is None else args.budget_minutes * 60
    for seed in seeds:
        train_recipe(r, seed, args.out, overrides=overrides, budget_s=budget, eval_every=args.eval_every)
    return 0


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
        if args.recipe is not None:
            return train_recipes(args, seeds)
        spec, cfg = config_from_args(args)
        options = net_options(args)
        if spec.kind == "football":
            from rl_bridge.football import SCENARIOS

            if spec.game not in SCENARIOS:
                raise RLUsageError(f"unknown football scenario {spec.game!r}; choose one of {', '.join(SCENARIOS)}")
        else:
            spec.task()  # fail early on a bad task
        writable_folder(args.out)
        if not args.overwrite:
            refuse_overwrite([run_folder(args.out, spec, run_label(args.algo, cfg, options), seed) for seed in seeds])
        budget = None if args.budget_minutes is None else args.budget_minutes * 60
        for seed in seeds:
            train_run(args.algo, spec, seed, cfg, args.out, args.eval_every, options, budget_s=budget)
    except (RLUsageError, TaskError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
