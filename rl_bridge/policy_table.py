"""Rollout decoding by table lookup, for tasks with few distinct inputs and few joint actions.

During one rollout the weights are frozen, so agent i's action distribution is a pure function of
its input (observation, state, mask) and, for the Stackelberg and MAT decoders, of the earlier
agents' actions. When the joint action space is small (``A ** n <= MAX_JOINTS``), each distinct
input met in the rollout is evaluated once, teacher-forced over all ``A ** n`` joint actions, and
every later step samples from those stored rows: the same distributions, log-probs and values the
autoregressive decode computes, for a fraction of its per-step cost. The matrix games are the case
(a handful of observations, 9 joint actions); on the grids the joint space is far too large and
``rollout_act`` hands back the algorithm's own ``act``.

An algorithm opts in with ``joint_policy(obs, state, actions, mask) -> (log_policy [B, n, A],
values [B, n])``: its teacher-forced distributions over every action of every agent given the
stored joint action (causal models read only ``actions[:, :i]`` for agent i).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from rl_bridge.rollout import Act, input_keys

MAX_JOINTS = 64
"""Largest joint action space tabulated (A ** n rows per distinct input)."""
MAX_INPUTS = 512
"""Distinct inputs one table holds; past this the inputs do not repeat enough and decoding is
handed back to the algorithm for the rest of the rollout."""

JointPolicy = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class PolicyTable:
    """An ``Act`` for one rollout: looks up (or tabulates) each input, then samples agent by agent.

    The tables are numpy arrays and the per-step work is numpy indexing: at these sizes a numpy
    call costs a fraction of a torch op. The draws come from a numpy generator seeded from torch's,
    so ``torch.manual_seed`` still fixes a run.
    """

    def __init__(self, joint_policy: JointPolicy, fallback: Act, n_agents: int, n_actions: int):
        self.joint_policy, self.fallback = joint_policy, fallback
        self.n, self.a = n_agents, n_actions
        # every joint action, row r = sum_i a_i * A ** (n - 1 - i): [J, n]
        grids = np.meshgrid(*[np.arange(n_actions)] * n_agents, indexing="ij")
        self.joints = np.stack([g.reshape(-1) for g in grids], axis=-1)
        self.place = n_actions ** np.arange(n_agents - 1, -1, -1)
        self.index: dict[bytes, int] = {}
        j = self.joints.shape[0]
        self.log_policy = np.zeros((0, j, n_agents, n_actions), dtype=np.float32)
        self.cdf = self.log_policy.copy()
        self.values = np.zeros((0, j, n_agents), dtype=np.float32)
        self.rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
        self.overflowed = False
        self.inputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        """One (obs, state, mask) per entry, so ``renewed`` can re-tabulate them in one call."""

    def renewed(self) -> PolicyTable:
        """A table for the weights as they are now, holding the same inputs, tabulated in one
        batched call (a rollout meets most of the previous one's inputs)."""
        table = PolicyTable(self.joint_policy, self.fallback, self.n, self.a)
        if self.inputs:
            obs, state, mask = (torch.stack(x) for x in zip(*self.inputs, strict=True))
            table._add(obs, state, mask, list(self.index))  # keys in row order (insertion order)
        return table

    def _rows(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor) -> np.ndarray | None:
        """Table row of every input, tabulating new ones; None once the table is full."""
        keys: list[bytes] = input_keys(obs, state, mask).tolist()
        rows = [self.index.get(k, -1) for k in keys]
        new = {keys[e]: e for e, r in enumerate(rows) if r < 0}
        if new:
            if len(self.index) + len(new) > MAX_INPUTS:
                self.overflowed = True
                return None
            sel = torch.tensor(list(new.values()))
            self._add(obs[sel], state[sel], mask[sel], list(new))
            rows = [self.index[k] for k in keys]
        return np.asarray(rows)

    @torch.no_grad()
    def _add(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, keys: list[bytes]) -> None:
        """Tabulate the inputs ``obs[m], state[m], mask[m]`` (keyed ``keys[m]``) over every joint action."""
        m, j = len(keys), self.joints.shape[0]
        for key, row in zip(keys, zip(obs, state, mask, strict=True), strict=True):
            self.index[key] = len(self.index)
            self.inputs.append(row)

        def repeat(x: torch.Tensor) -> torch.Tensor:
            return x.repeat_interleave(j, dim=0)

        actions = torch.from_numpy(np.tile(self.joints, (m, 1)))
        log_policy, values = self.joint_policy(repeat(obs), repeat(state), actions, repeat(mask))
        log_policy = log_policy.reshape(m, j, self.n, self.a).numpy()
        # cumulative probabilities scaled so the last is exactly 1: an action of probability 0 (a
        # masked one) has an empty interval, and a uniform draw in [0, 1) can never land in it
        cdf = np.cumsum(np.exp(log_policy), axis=-1)
        self.log_policy = np.concatenate([self.log_policy, log_policy])
        self.cdf = np.concatenate([self.cdf, cdf / cdf[..., -1:]])
        self.values = np.concatenate([self.values, values.reshape(m, j, self.n).numpy()])

    def __call__(self, obs: torch.Tensor, state: torch.Tensor, mask: torch.Tensor, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        entry = None if self.overflowed else self._rows(obs, state, mask)
        if entry is None:
            return self.fallback(obs, state, mask, deterministic)  # type: ignore[call-arg]
        joint = np.zeros(len(entry), dtype=np.int64)
        for i in range(self.n):
            # agent i's distribution given the earlier agents' actions (later ones still 0: unread)
            if deterministic:
                a = self.log_policy[entry, joint, i].argmax(-1)
            else:  # inverse-CDF draw
                a = (self.cdf[entry, joint, i] <= self.rng.random((len(entry), 1), dtype=np.float32)).sum(-1)
            joint += a * self.place[i]
        actions = self.joints[joint]
        logp = np.take_along_axis(self.log_policy[entry, joint], actions[..., None], -1)[..., 0]
        return torch.from_numpy(actions), torch.from_numpy(logp), torch.from_numpy(self.values[entry, joint])


def rollout_act(algo: Any, n_agents: int, n_actions: int, enabled: bool = True, previous: Act | None = None) -> Act:
    """What one rollout decodes with: a ``PolicyTable`` when ``enabled``, the algorithm offers
    ``joint_policy`` and the joint action space is small, else the algorithm's ``act``. Call it
    again for every rollout (a table is only valid while the weights do not change), passing the
    last one as ``previous`` so its inputs are re-tabulated at once."""
    joint_policy = getattr(algo, "joint_policy", None)
    if not enabled or joint_policy is None or not getattr(algo, "tabulable", True) or n_actions**n_agents > MAX_JOINTS:
        return algo.act
    if isinstance(previous, PolicyTable):
        # a table that overflowed met too many distinct inputs to pay: decode from then on
        return algo.act if previous.overflowed else previous.renewed()
    return PolicyTable(joint_policy, algo.act, n_agents, n_actions)
