"""The football features, action mask and shaped reward on hand-made raw observations (no gfootball needed)."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rl_bridge.football.features import (  # noqa: E402
    BALL_ACTIONS,
    HIGH_PASS,
    LONG_PASS,
    N_ACTIONS,
    NO_OP,
    SHOT,
    SLIDE,
    ball_zone,
    encode,
)
from rl_bridge.football.reward import shaped_reward  # noqa: E402


def raw(ball: tuple[float, float] = (0.0, 0.0), owner: int = -1, me: tuple[float, float] = (0.0, 0.0),
        game_mode: int = 0, left: int = 4, right: int = 2, **extra: Any) -> dict[str, Any]:
    """A raw gfootball observation: ``left`` players (ours, the active one is 1), ``right`` opponents."""
    left_team = np.zeros((left, 2))
    left_team[0] = (-1.0, 0.0)  # keeper
    left_team[1] = me
    for i in range(2, left):
        left_team[i] = (0.1 * i, 0.2)
    obs = {"active": 1, "left_team": left_team, "left_team_direction": np.zeros((left, 2)),
           "left_team_roles": np.arange(left) % 10, "left_team_tired_factor": np.zeros(left),
           "left_team_yellow_card": np.zeros(left), "right_team": np.full((right, 2), 0.5),
           "right_team_direction": np.zeros((right, 2)), "right_team_tired_factor": np.zeros(right),
           "right_team_yellow_card": np.zeros(right), "ball": np.array([*ball, 0.1]), "ball_direction": np.zeros(3),
           "ball_owned_team": owner, "ball_owned_player": 1 if owner == 0 else -1, "game_mode": game_mode,
           "sticky_actions": np.zeros(10), "score": [0, 0], "steps_left": 100}
    obs.update(extra)
    return obs


@pytest.mark.parametrize("left,right", [(3, 1), (4, 2), (11, 11)])
def test_feature_width_follows_the_team_sizes(left: int, right: int) -> None:
    features, mask = encode(raw(left=left, right=right))
    # player 19 + ball 18 + (teammates + closest) 7 each + (opponents + closest) 7 each + 19 actions
    assert features.shape == (19 + 18 + 7 * (left - 1 + 1) + 7 * (right + 1) + N_ACTIONS,)
    assert features.dtype == np.float32 and mask.dtype == bool and np.isfinite(features).all()
    assert (features[-N_ACTIONS:] == mask).all()


def test_ball_actions_need_the_ball_at_the_players_feet() -> None:
    _, far = encode(raw(ball=(0.5, 0.0), owner=0))
    assert not far[list(BALL_ACTIONS)].any()
    _, near = encode(raw(ball=(0.0, 0.0), owner=0))
    assert near[[LONG_PASS, HIGH_PASS]].all() and not near[SLIDE]


def test_shooting_only_near_their_goal_where_long_balls_stop() -> None:
    _, box = encode(raw(ball=(0.8, 0.0), me=(0.8, 0.0), owner=0))
    assert box[SHOT] and not box[LONG_PASS] and not box[HIGH_PASS]
    _, midfield = encode(raw(ball=(0.1, 0.0), me=(0.1, 0.0), owner=0))
    assert not midfield[SHOT]


def test_opponents_ball_allows_a_slide_only_close_to_it() -> None:
    _, close = encode(raw(ball=(0.0, 0.0), owner=1))
    _, away = encode(raw(ball=(0.3, 0.0), owner=1))
    assert close[SLIDE] and not away[SLIDE] and not close[list(BALL_ACTIONS)].any()


def test_a_penalty_kick_forces_a_shot_or_nothing() -> None:
    _, mask = encode(raw(ball=(0.9, 0.0), me=(0.9, 0.0), owner=0, game_mode=6))
    assert set(np.flatnonzero(mask)) == {NO_OP, SHOT}


def test_zones_cover_the_pitch() -> None:
    assert [ball_zone(x, 0.0) for x in (-0.9, -0.5, 0.0, 0.9, 0.5)] == [0, 1, 2, 3, 4]
    assert ball_zone(0.0, 0.41) == 2 and ball_zone(0.0, 0.5) == 5


def test_shaped_reward_values_a_goal_and_the_balls_zone() -> None:
    before = raw(ball=(0.5, 0.0), owner=0)
    in_their_box = raw(ball=(0.9, 0.0), owner=0)
    assert shaped_reward(1.0, before, in_their_box) == pytest.approx(5.0 + 0.003 * 2)
    assert shaped_reward(0.0, before, raw(ball=(-0.9, 0.0), owner=0)) == pytest.approx(0.003 * -2)
    # a loose ball: minus 0.003 x our closest outfield player's distance to it
    loose = raw(ball=(0.0, -0.3), owner=-1)  # the active player at (0, 0) is closest
    assert shaped_reward(0.0, before, loose) == pytest.approx(-0.003 * 0.3)
