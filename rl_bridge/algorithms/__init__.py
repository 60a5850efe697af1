"""One module per algorithm (STEER, MAPPO, HAPPO, MAT, STEP) on the shared PPO machinery of ``ppo``.

``build`` turns an algorithm name and the environment's sizes into a ready trainer; every trainer
has the same face (``Algorithm``), so rollouts, the training loop, checkpoints and coordinators treat
them alike.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Protocol

import torch

from rl_bridge.algorithms.ppo import PPOConfig
from rl_bridge.rollout import Rollout

ALGOS = ("steer", "mappo", "happo", "mat", "step")


class Algorithm(Protocol):
    name: str

    def act(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...
    def update(self, rollout: Rollout) -> dict[str, float]: ...
    def modules(self) -> dict[str, torch.nn.Module]: ...
    def shape(self) -> dict[str, Any]: ...


def build(algo: str, shape: dict[str, Any], cfg: PPOConfig, seed: int = 0) -> Algorithm:
    """``shape`` holds n_agents, obs_dim, state_dim, n_actions plus optional network options."""
    from rl_bridge.algorithms.happo import HAPPO
    from rl_bridge.algorithms.mappo import MAPPO, MLPShape
    from rl_bridge.algorithms.mat import MAT
    from rl_bridge.algorithms.steer import Steer
    from rl_bridge.algorithms.step import STEP
    from rl_bridge.networks.hyper import HyperShape
    from rl_bridge.networks.mat import MATShape
    from rl_bridge.networks.steer import SteerShape

    def pick(cls: Any) -> Any:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in shape.items() if k in names})

    if algo == "steer":
        return Steer(pick(SteerShape), cfg, seed)
    if algo == "mappo":
        return MAPPO(pick(MLPShape), cfg, seed)
    if algo == "happo":
        return HAPPO(pick(MLPShape), cfg, seed)
    if algo == "mat":
        return MAT(pick(MATShape), cfg, seed)
    if algo == "step":
        return STEP(pick(HyperShape), shape["state_dim"], cfg, seed)
    if algo == "student":
        from rl_bridge.algorithms.student import StudentPolicy

        return StudentPolicy(**shape)  # type: ignore[return-value]
    raise ValueError(f"unknown algorithm {algo!r}; choose one of {', '.join(ALGOS)}")
