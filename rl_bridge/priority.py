"""Priority assignment: which agent leads, which follows, episode by episode.

STEER's agents act in a priority order (agent 0 leads in the authors' code). The paper's priority
study varies how that order is assigned; here it is a rule applied by ``PriorityVecEnv`` at the start
of every episode, and told to each agent as a one-hot of its rank appended to its observation (the
network reads the order from those columns, see ``networks.steer``):

* ``fixed``: agent 0, 1, ..., n-1 always (no wrapper, no extra columns);
* ``random``: a uniformly drawn permutation per episode;
* ``rotate`` [ours, a rule]: round robin, the leader moves one agent on every episode of an
  environment (environment e starts with agent e mod n leading), the rest follow in index order.
"""

from __future__ import annotations

import numpy as np

from rl_bridge.vec_env import Arrays, VecEnv

PRIORITIES = ("fixed", "random", "rotate")


def rotated_order(leader: int, n: int) -> np.ndarray:
    return (leader + np.arange(n)) % n


class PriorityVecEnv:
    """Wraps a vectorised environment; appends each agent's rank (one-hot, n columns) to its
    observation and draws a new order whenever an episode of an environment starts.

    ``obs_dim`` stays the wrapped environment's (the network's observation proper); the arrays it
    returns are ``n_agents`` columns wider.
    """

    def __init__(self, env: VecEnv, rule: str, seed: int = 0):
        if rule not in PRIORITIES[1:]:
            raise ValueError(f"priority rule must be one of {', '.join(PRIORITIES[1:])}, got {rule!r}")
        self.env, self.rule = env, rule
        self.n_agents, self.n_actions = env.n_agents, env.n_actions
        self.obs_dim, self.state_dim, self.n_envs = env.obs_dim, env.state_dim, env.n_envs
        self.rng = np.random.default_rng(seed)
        self.episodes = np.arange(env.n_envs)

    @property
    def finished(self):  # type: ignore[no-untyped-def]
        return self.env.finished

    @finished.setter
    def finished(self, value) -> None:  # type: ignore[no-untyped-def]
        self.env.finished = value

    def _draw(self, envs: np.ndarray) -> None:
        n = self.n_agents
        for e in envs:
            if self.rule == "random":
                order = self.rng.permutation(n)
            else:
                order = rotated_order(int(self.episodes[e]) % n, n)
                self.episodes[e] += 1
            self.order[e] = order

    def _with_ranks(self, arrays: Arrays) -> Arrays:
        rank = self.order.argsort(-1)  # rank[e, i]: decoding position of agent i
        onehot = np.eye(self.n_agents, dtype=np.float32)[rank]
        return Arrays(obs=np.concatenate([arrays.obs, onehot], axis=-1), state=arrays.state, mask=arrays.mask)

    def reset(self, seed: int | None = None) -> Arrays:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
            self.episodes = np.arange(self.n_envs)
        self.order = np.tile(np.arange(self.n_agents), (self.n_envs, 1))
        self._draw(np.arange(self.n_envs))
        return self._with_ranks(self.env.reset(seed))

    def step(self, actions: np.ndarray) -> tuple[Arrays, np.ndarray, np.ndarray]:
        arrays, rewards, done = self.env.step(actions)
        self._draw(np.flatnonzero(done))
        return self._with_ranks(arrays), rewards, done
