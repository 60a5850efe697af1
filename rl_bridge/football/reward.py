"""The STEER authors' shaped football reward, per controlled player and step:

    5 x (win margin at the end of the game) + 5 x (goal reward: +1 we score, -1 they score)
    + 0.003 x (value of the ball's zone: -2 our box ... +2 their box)
    + (their new yellow cards - ours) - 0.003 x (our outfield players' closest distance to a ball we do not hold)

The score the tables report is the unshaped one: goals per episode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rl_bridge.football.features import ZONE_REWARD, ball_zone

GOAL_WEIGHT, WIN_WEIGHT, ZONE_WEIGHT, CHASE_WEIGHT = 5.0, 5.0, 0.003, 0.003


def win_margin(obs: dict[str, Any]) -> float:
    mine, theirs = obs["score"]
    return float(mine - theirs) if obs["steps_left"] == 0 and mine > theirs else 0.0


def chase_distance(obs: dict[str, Any]) -> float:
    """How far our closest outfield player is from a ball we do not hold (0 while we hold it)."""
    if obs["ball_owned_team"] == 0:
        return 0.0
    outfield = np.asarray(obs["left_team"])[1:]
    return float(np.min(np.linalg.norm(outfield - np.asarray(obs["ball"][:2]), axis=1)))


def yellow_cards(previous: dict[str, Any], obs: dict[str, Any]) -> float:
    ours = np.sum(obs["left_team_yellow_card"]) - np.sum(previous["left_team_yellow_card"])
    theirs = np.sum(obs["right_team_yellow_card"]) - np.sum(previous["right_team_yellow_card"])
    return float(theirs - ours)


def shaped_reward(goal: float, previous: dict[str, Any], obs: dict[str, Any]) -> float:
    """``goal``: gfootball's scoring reward for this step (+1, -1 or 0)."""
    zone = ZONE_REWARD[ball_zone(obs["ball"][0], obs["ball"][1])]
    return (WIN_WEIGHT * win_margin(obs) + GOAL_WEIGHT * goal + ZONE_WEIGHT * zone
            + yellow_cards(previous, obs) - CHASE_WEIGHT * chase_distance(obs))
