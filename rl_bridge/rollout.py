"""Vectorised rollouts: T steps of E environments at once, stored as [T, E, ...] tensors.

One policy call per time step decides the joint actions of all E environments (for STEER that call
decodes agent by agent inside); one ``env.step`` advances all of them. The last step's values are
decoded too, so GAE can bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import torch

from rl_bridge.vec_env import Arrays, EpisodeEnd, VecEnv

Act = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
"""``act(obs, state, mask) -> (actions, log-probs, values)``, all [E, n]; sampling, no grad."""


@dataclass
class Rollout:
    obs: torch.Tensor  # [T, E, n, d]
    state: torch.Tensor  # [T, E, d_s]
    mask: torch.Tensor  # [T, E, n, A] bool
    actions: torch.Tensor  # [T, E, n] long
    logp: torch.Tensor  # [T, E, n]
    values: torch.Tensor  # [T, E, n], as the critic predicts them (normalised)
    rewards: torch.Tensor  # [T, E, n]
    dones: torch.Tensor  # [T, E] bool
    last_values: torch.Tensor  # [E, n]

    def flat(self) -> dict[str, torch.Tensor]:
        """Every per-step field with T and E merged into one batch axis."""
        return {f.name: getattr(self, f.name).flatten(0, 1) for f in fields(self) if f.name != "last_values"}


def input_keys(*parts: torch.Tensor) -> np.ndarray:
    """One opaque value per sample (row of each part): its fields' float32 bytes, so equal inputs get
    equal keys. ``np.unique`` sorts them; ``.tolist()`` gives hashable ``bytes``."""
    rows = np.ascontiguousarray(np.concatenate([p.flatten(1).numpy().astype(np.float32) for p in parts], axis=1))
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


def as_tensors(arrays: Arrays) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(arrays.obs), torch.from_numpy(arrays.state), torch.from_numpy(arrays.mask)


def collect(act: Act, env: VecEnv, current: Arrays, steps: int) -> tuple[Rollout, Arrays, list[EpisodeEnd]]:
    """Step ``env`` ``steps`` times from ``current``; returns the rollout, the arrays to continue
    from, and the episodes that ended meanwhile."""
    env.finished = []
    buf: dict[str, list[torch.Tensor]] = {k: [] for k in ("obs", "state", "mask", "actions", "logp", "values", "rewards", "dones")}
    for _ in range(steps):
        obs, state, mask = as_tensors(current)
        actions, logp, values = act(obs, state, mask)
        current, rewards, done = env.step(actions.numpy())
        for key, value in zip(buf, (obs, state, mask, actions, logp, values, torch.from_numpy(np.asarray(rewards, dtype=np.float32)), torch.from_numpy(done)), strict=True):
            buf[key].append(value)
    _, _, last_values = act(*as_tensors(current))
    rollout = Rollout(**{k: torch.stack(v) for k, v in buf.items()}, last_values=last_values)
    return rollout, current, list(env.finished)
