"""Distillation of a trained STEER teacher into decentralised per-agent students (spec ``steer.md`` s. 6).

One MLP per agent reads only its own observation ``o_i`` and imitates the teacher, which saw the global
state and its superiors' actions:

    L = sqrt( (1/n) sum_i (log pi_stu(a_i | o_i) - log pi_STEER(a_i | s, a_<i))^2 ) - eta * sum_i H(pi_stu(. | o_i))

[ours] Data: rollouts of the trained teacher; ``a_i`` is the teacher's sampled action (``sampled``
variant), or every available action (``full`` variant: the RMSE runs over agents and actions).
After training each student acts alone: no state, no communication.

    python -m rl_bridge.distill --teacher RUN_DIR --out DIR [--variant sampled|full] [--eta 0.01]
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from rl_bridge.algorithms.steer import Steer
from rl_bridge.algorithms.student import StudentPolicy
from rl_bridge.cli import OneLineParser, configure_torch, number, refuse_overwrite, writable_folder
from rl_bridge.errors import RLUsageError
from rl_bridge.evaluate import evaluate
from rl_bridge.rollout import collect
from rl_bridge.run_folder import TrainingRecord, load_run, save_run
from tasks.base import TaskError


@dataclass(frozen=True)
class DistillConfig:
    variant: str = "sampled"
    """``sampled``: the teacher's sampled action only; ``full``: every available action."""
    eta: float = 0.01
    """Entropy bonus weight on the students."""
    teacher_steps: int = 20_000
    """Environment steps of teacher rollouts collected as the data set."""
    n_envs: int = 16
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    hidden: int = 64
    seed: int = 0


def distill_loss(student_logp: torch.Tensor, teacher_logp: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor, variant: str, eta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-space RMSE to the teacher minus ``eta`` times the students' summed entropy.

    Inputs are log-probabilities [B, n, A]; masked actions are left out of the ``full`` variant.
    Returns (loss, rmse), both means over the batch.
    """
    if variant == "sampled":
        pick = actions.long().unsqueeze(-1)
        diff = (student_logp.gather(-1, pick) - teacher_logp.gather(-1, pick)).squeeze(-1)
        rmse = (diff.pow(2).mean(-1) + 1e-12).sqrt()
    elif variant == "full":
        sq = (student_logp - teacher_logp).pow(2) * mask
        rmse = (sq.sum((-1, -2)) / mask.sum((-1, -2)).clamp(min=1) + 1e-12).sqrt()
    else:
        raise RLUsageError(f"unknown distillation variant {variant!r}; use sampled or full")
    entropy = -(student_logp.exp() * student_logp * mask).sum(-1).sum(-1)
    return (rmse - eta * entropy).mean(), rmse.mean()


def teacher_data(teacher: Steer, config: TrainingRecord, cfg: DistillConfig) -> dict[str, torch.Tensor]:
    """Roll out the teacher (sampling, as in training) and label every state with its log-policy."""
    env = config.env.vec_env(cfg.n_envs, cfg.seed)
    steps = max(1, cfg.teacher_steps // cfg.n_envs)
    rollout, _, _ = collect(teacher.act, env, env.reset(cfg.seed), steps)
    data = {k: rollout.flat()[k] for k in ("obs", "state", "mask", "actions")}
    with torch.no_grad():
        data["teacher_logp"] = teacher.net.log_policy(data["obs"], data["state"], data["actions"], data["mask"])
        data["teacher_greedy"], _, _ = teacher.net.decode(data["obs"], data["state"], data["mask"], deterministic=True)
    return data


def argmax_agreement(student: StudentPolicy, data: dict[str, torch.Tensor]) -> float:
    """Share of (state, agent) where the student's argmax is the teacher's greedy decoded action."""
    actions, _, _ = student.act(data["obs"], None, data["mask"], deterministic=True)
    return float((actions == data["teacher_greedy"]).float().mean())


def distill(teacher_dir: str | Path, cfg: DistillConfig, out: Path | None = None) -> tuple[StudentPolicy, TrainingRecord, list[dict[str, float]]]:
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    teacher, tconfig = load_run(teacher_dir)
    if not isinstance(teacher, Steer):
        raise RLUsageError(f"the teacher must be a STEER run, {teacher_dir} is {tconfig.algo}")
    data = teacher_data(teacher, tconfig, cfg)
    shape = tconfig.shape
    student = StudentPolicy(shape["n_agents"], shape["obs_dim"], shape["n_actions"], cfg.hidden)
    optimizer = torch.optim.Adam(student.students.parameters(), lr=cfg.lr)
    generator = torch.Generator().manual_seed(cfg.seed)
    size = data["obs"].shape[0]
    curve: list[dict[str, float]] = []
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        losses, rmses = [], []
        for idx in torch.randperm(size, generator=generator).split(cfg.batch_size):
            logp = torch.log_softmax(student.students(data["obs"][idx], data["mask"][idx]), dim=-1)
            loss, rmse = distill_loss(logp, data["teacher_logp"][idx], data["actions"][idx], data["mask"][idx], cfg.variant, cfg.eta)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            rmses.append(rmse.item())
        curve.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "rmse": float(np.mean(rmses)),
                      "argmax_agreement": argmax_agreement(student, data), "wall_s": time.perf_counter() - start})
    final = {
        "student": evaluate(student, tconfig.env),  # type: ignore[arg-type]
        "teacher": evaluate(teacher, tconfig.env),
        "argmax_agreement": curve[-1]["argmax_agreement"],
        "rmse": curve[-1]["rmse"],
        "teacher_dir": str(teacher_dir),
        "distill": asdict(cfg),
    }
    config = TrainingRecord(algo="student", label=f"student-{cfg.variant}", env=tconfig.env, seed=cfg.seed,
                       shape=student.shape(), ppo=tconfig.ppo, final=final)
    if out is not None:
        save_distilled(out, student, config, curve)
    return student, config, curve


def save_distilled(out: Path, student: StudentPolicy, config: TrainingRecord, curve: list[dict[str, float]]) -> None:
    import csv

    save_run(out, student, config, [])  # type: ignore[arg-type]
    with (out / "curve.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(curve[0].keys()))
        writer.writeheader()
        writer.writerows(curve)


def main(argv: list[str] | None = None) -> int:
    configure_torch()
    p = OneLineParser(prog="python -m rl_bridge.distill", description="Distil a STEER run into per-agent students.")
    p.add_argument("--teacher", required=True, type=Path, help="a STEER run folder")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--variant", choices=("sampled", "full"), default="sampled")
    p.add_argument("--eta", type=number("--eta", low=0), default=DistillConfig.eta)
    p.add_argument("--teacher-steps", type=number("--teacher-steps", low=1, whole=True), default=DistillConfig.teacher_steps)
    p.add_argument("--epochs", type=number("--epochs", low=1, whole=True), default=DistillConfig.epochs)
    p.add_argument("--seed", type=number("--seed", low=0, whole=True), default=0)
    p.add_argument("--n-envs", type=number("--n-envs", low=1, whole=True), default=DistillConfig.n_envs,
                   help="environments the teacher's data rollouts step together")
    p.add_argument("--overwrite", action="store_true", help="replace a trained run already in --out (refused otherwise)")
    try:
        args = p.parse_args(argv)
        writable_folder(args.out)
        if args.out.resolve() == args.teacher.resolve():
            raise RLUsageError(f"--out {args.out} is the teacher's own folder; choose another --out")
        if not args.overwrite:
            refuse_overwrite([args.out])
        cfg = replace(DistillConfig(), variant=args.variant, eta=args.eta, teacher_steps=args.teacher_steps,
                      epochs=args.epochs, seed=args.seed, n_envs=args.n_envs)
        _, config, _ = distill(args.teacher, cfg, args.out)
    except (RLUsageError, TaskError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    f = config.final
    print(f"students ({cfg.variant}): greedy score {f['student']['greedy_score']:.3f} vs teacher "
          f"{f['teacher']['greedy_score']:.3f}; argmax agreement {f['argmax_agreement']:.3f}; rmse {f['rmse']:.3f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
