"""E gfootball games stepped together, with the ``VecEnv`` face of ``rl_bridge.vec_env``.

Each game is a gfootball environment in ``raw`` representation controlling the scenario's left
players; every step, each controlled player's raw observation becomes its features and mask
(``features``) and its reward is the authors' shaped one (``reward``). The global state is the
concatenation of the agents' features (STEER's learned state token does not read it). Finished games
reset at once; each ended episode is recorded with its shaped returns and ``success`` = we scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rl_bridge.errors import RLUsageError
from rl_bridge.football.features import N_ACTIONS, encode
from rl_bridge.football.reward import shaped_reward
from rl_bridge.football.scenarios import SCENARIOS
from rl_bridge.vec_env import Arrays, EpisodeEnd


def make_game(scenario: str, seed: int) -> Any:
    """One gfootball environment (raw observations, scoring reward), seeded."""
    try:
        import gfootball.env as football_env
    except ImportError as err:
        raise RLUsageError("Google Research Football is not installed: run scripts/install_football.sh "
                           "(or LLAMAC_FOOTBALL=1 bash setup.sh)") from err
    return football_env.create_environment(
        env_name=scenario, representation="raw", rewards="scoring",
        number_of_left_players_agent_controls=SCENARIOS[scenario].controlled,
        other_config_options={"game_engine_random_seed": int(seed)},
    )


class FootballVecEnv:
    def __init__(self, scenario: str, n_envs: int, seed: int = 0):
        if scenario not in SCENARIOS:
            raise RLUsageError(f"unknown football scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
        self.scenario, self.n_envs = scenario, n_envs
        self.n_agents, self.n_actions = SCENARIOS[scenario].controlled, N_ACTIONS
        self.games = [make_game(scenario, seed * 1000 + e) for e in range(n_envs)]
        self.finished: list[EpisodeEnd] = []
        first = self.games[0].reset()
        self.obs_dim = len(encode(first[0])[0])
        self.state_dim = self.obs_dim * self.n_agents

    def _arrays(self) -> Arrays:
        encoded = [[encode(o) for o in raw] for raw in self.raw]
        obs = np.stack([np.stack([f for f, _ in game]) for game in encoded])
        mask = np.stack([np.stack([m for _, m in game]) for game in encoded])
        return Arrays(obs=obs, state=obs.reshape(self.n_envs, -1), mask=mask)

    def reset(self, seed: int | None = None) -> Arrays:
        self.raw = [game.reset() for game in self.games]
        self.returns = np.zeros((self.n_envs, self.n_agents))
        self.goals = np.zeros(self.n_envs)
        self.lengths = np.zeros(self.n_envs, dtype=np.int64)
        return self._arrays()

    def step(self, actions: np.ndarray) -> tuple[Arrays, np.ndarray, np.ndarray]:
        rewards = np.zeros((self.n_envs, self.n_agents), dtype=np.float32)
        done = np.zeros(self.n_envs, dtype=bool)
        for e, game in enumerate(self.games):
            raw, goal, over, info = game.step([int(a) for a in actions[e]])
            goal = np.broadcast_to(np.asarray(goal, dtype=np.float64), (self.n_agents,))
            rewards[e] = [shaped_reward(float(goal[i]), self.raw[e][i], raw[i]) for i in range(self.n_agents)]
            self.returns[e] += rewards[e]
            self.goals[e] += float(info.get("score_reward", goal[0]))
            self.lengths[e] += 1
            done[e] = over
            if over:
                self.finished.append(EpisodeEnd(self.returns[e].copy(), bool(self.goals[e] > 0), int(self.lengths[e])))
                raw = game.reset()
                self.returns[e], self.goals[e], self.lengths[e] = 0.0, 0.0, 0
            self.raw[e] = raw
        return self._arrays(), rewards, done

    def close(self) -> None:
        for game in self.games:
            game.close()


def play_greedy(act: Any, scenario: str, episodes: int, seed: int, n_envs: int = 8) -> dict[str, float]:
    """Greedy episodes (deterministic actions, as the authors evaluate): score = mean goals per
    episode (academy episodes end at a goal, so this is the share of episodes we score in)."""
    import torch

    n = min(n_envs, episodes)
    per_env = -(-episodes // n)
    env = FootballVecEnv(scenario, n, seed)
    current = env.reset()
    ends: list[list[EpisodeEnd]] = [[] for _ in range(n)]
    # each environment plays its first ``per_env`` episodes: taking the first episodes to end
    # overall would favour short ones, and scoring ends an academy episode early
    while any(len(e) < per_env for e in ends):
        actions, _, _ = act(torch.from_numpy(current.obs), torch.from_numpy(current.state), torch.from_numpy(current.mask), deterministic=True)
        env.finished = []
        current, _, done = env.step(actions.numpy())
        for e, end in zip(np.flatnonzero(done), env.finished, strict=True):
            ends[e].append(end)
    env.close()
    ends = [end for e in ends for end in e[:per_env]]
    share = float(np.mean([e.success for e in ends]))
    return {"greedy_score": share, "success": share, "episodes": float(len(ends)),
            "steps": float(np.mean([e.length for e in ends])), "greedy_return": float(np.mean([e.returns.mean() for e in ends]))}
