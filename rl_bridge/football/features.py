"""A controlled player's raw gfootball observation -> the STEER authors' feature vector and mask.

The features (what the authors' football encoder computes; written here from its description):

* the player: position, direction x100, speed x100, role one-hot (10), ball-far flag, tiredness,
  dribbling and sprinting flags (19 values);
* the ball: position (3), pitch zone one-hot (6), position relative to the player (2), direction
  x20 (3), speed x20, distance to the player, owned by anyone, owned by us (18 values);
* each teammate (other than the player) and each opponent: position x2, direction x100, speed x100,
  distance to the player x2, tiredness (7 values each), plus the closest teammate's and the closest
  opponent's 7 values again;
* the available actions (19), which are also the action mask.

Pitch coordinates: x in [-1, 1] (our goal at -1), y in [-0.42, 0.42].
"""

from __future__ import annotations

from typing import Any

import numpy as np

N_ACTIONS = 19
"""gfootball's default action set."""
(NO_OP, LEFT, TOP_LEFT, TOP, TOP_RIGHT, RIGHT, BOTTOM_RIGHT, BOTTOM, BOTTOM_LEFT, LONG_PASS, HIGH_PASS,
 SHORT_PASS, SHOT, SPRINT, RELEASE_MOVE, RELEASE_SPRINT, SLIDE, DRIBBLE, RELEASE_DRIBBLE) = range(N_ACTIONS)
BALL_ACTIONS = (LONG_PASS, HIGH_PASS, SHORT_PASS, SHOT, DRIBBLE)
NEAR_BALL = 0.03
"""A player within this distance of the ball can play it."""
GAME_MODE_NORMAL, GAME_MODE_GOAL_KICK, GAME_MODE_CORNER, GAME_MODE_PENALTY = 0, 2, 4, 6

ZONES = ("own box", "own half", "middle", "their box", "their half", "wide")
MIDDLE_X, BOX_X, END_X, BOX_Y, END_Y = 0.2, 0.64, 1.0, 0.27, 0.42
ZONE_REWARD = np.array([-2.0, -1.0, 0.0, 2.0, 1.0, 0.0])
"""The shaped reward's value of the ball being in each zone (see ``reward``)."""


def ball_zone(x: float, y: float) -> int:
    """Index into ``ZONES``: boxes first, then halves and middle; ``wide`` for the touchlines."""
    if -END_X <= x < -BOX_X and -BOX_Y < y < BOX_Y:
        return 0
    if -END_X <= x < -MIDDLE_X and -END_Y < y < END_Y:
        return 1
    if -MIDDLE_X <= x <= MIDDLE_X and -END_Y < y < END_Y:
        return 2
    if BOX_X < x <= END_X and -BOX_Y < y < BOX_Y:
        return 3
    if MIDDLE_X < x <= END_X and -END_Y < y < END_Y:
        return 4
    return 5


def team_features(positions: np.ndarray, directions: np.ndarray, tired: np.ndarray, me: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of (position x2, direction x100, speed x100, distance to me x2, tiredness) and the
    closest row (zeros for an empty team)."""
    if len(positions) == 0:
        return np.zeros((0, 7)), np.zeros(7)
    distance = np.linalg.norm(positions - me, axis=1, keepdims=True)
    speed = np.linalg.norm(directions, axis=1, keepdims=True)
    rows = np.concatenate([positions * 2, directions * 100, speed * 100, distance * 2, tired.reshape(-1, 1)], axis=1)
    return rows, rows[int(np.argmin(distance))]


def available_actions(obs: dict[str, Any], ball_distance: float) -> np.ndarray:
    """Which of the 19 actions make sense now (the authors' rules): ball actions only near a ball we
    can play, sliding only near a ball they hold, releases only of what is active, shooting only
    from the box region, and the set pieces' forced choices."""
    avail = np.ones(N_ACTIONS, dtype=bool)
    owner, mode = obs["ball_owned_team"], obs["game_mode"]
    far = ball_distance > NEAR_BALL
    if owner == 1:  # they hold the ball
        avail[list(BALL_ACTIONS)] = False
        avail[SLIDE] = not far
    elif owner == -1 and far and mode == GAME_MODE_NORMAL:  # a loose ball away from the player
        avail[list(BALL_ACTIONS)] = False
        avail[SLIDE] = False
    else:  # we hold it (or a set piece)
        avail[SLIDE] = False
        if far:
            avail[list(BALL_ACTIONS)] = False
    sticky = obs["sticky_actions"]
    if sticky[8] == 0:
        avail[RELEASE_SPRINT] = False
    if sticky[9] == 1:
        avail[SLIDE] = False
    else:
        avail[RELEASE_DRIBBLE] = False
    if np.sum(sticky[:8]) == 0:
        avail[RELEASE_MOVE] = False
    ball_x, ball_y, _ = obs["ball"]
    if ball_x < BOX_X or not -BOX_Y <= ball_y <= BOX_Y:
        avail[SHOT] = False
    elif ball_x <= END_X:
        avail[HIGH_PASS] = avail[LONG_PASS] = False
    forced = None
    if mode == GAME_MODE_GOAL_KICK and ball_x < -0.7:
        forced = (NO_OP, LONG_PASS, HIGH_PASS, SHORT_PASS)
    elif mode == GAME_MODE_CORNER and ball_x > 0.9:
        forced = (NO_OP, LONG_PASS, HIGH_PASS, SHORT_PASS)
    elif mode == GAME_MODE_PENALTY and ball_x > 0.6:
        forced = (NO_OP, SHOT)
    if forced is not None:
        avail[:] = False
        avail[list(forced)] = True
    return avail


def encode(obs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(features float32, available actions bool [19]) of the player ``obs['active']``."""
    me_index = obs["active"]
    left, left_dir = np.asarray(obs["left_team"]), np.asarray(obs["left_team_direction"])
    me, direction = left[me_index], left_dir[me_index]
    role = np.zeros(10)
    role[obs["left_team_roles"][me_index]] = 1.0
    sticky = obs["sticky_actions"]
    ball = np.asarray(obs["ball"])
    relative = ball[:2] - me
    ball_distance = float(np.linalg.norm(relative))
    ball_dir = np.asarray(obs["ball_direction"])
    zone = np.zeros(len(ZONES))
    zone[ball_zone(ball[0], ball[1])] = 1.0
    owner = obs["ball_owned_team"]
    player = np.concatenate([me, direction * 100, [np.linalg.norm(direction) * 100], role,
                             [float(ball_distance > NEAR_BALL), obs["left_team_tired_factor"][me_index], sticky[9], sticky[8]]])
    ball_part = np.concatenate([ball, zone, relative, ball_dir * 20,
                                [np.linalg.norm(ball_dir[:2]) * 20, ball_distance, float(owner != -1), float(owner == 0)]])
    others = np.arange(len(left)) != me_index
    mates, closest_mate = team_features(left[others], left_dir[others], np.asarray(obs["left_team_tired_factor"])[others], me)
    them, closest_them = team_features(np.asarray(obs["right_team"]), np.asarray(obs["right_team_direction"]),
                                       np.asarray(obs["right_team_tired_factor"]), me)
    avail = available_actions(obs, ball_distance)
    features = np.concatenate([player, ball_part, mates.ravel(), closest_mate, them.ravel(), closest_them, avail])
    return features.astype(np.float32), avail
