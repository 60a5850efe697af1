"""The 'targets' encoding: one width for every grid size, and its per-action features say truly how
much a move brings its box closer to a target."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rl_bridge.observations import observe, squeeze_reading  # noqa: E402
from tasks.catalog import alloc_task, grid_task  # noqa: E402
from tasks.grid_common import COLOURS  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_targets_encoding_has_one_width_for_every_grid_size(difficulty: str) -> None:
    widths = {observe("targets", t, t.initial_state()).obs.shape[1]
              for t in (grid_task(size, difficulty, instance=0) for size in ("2x2", "2x4", "4x8"))}
    assert len(widths) == 1


@pytest.mark.parametrize("seed", range(5))
def test_easy_push_features_equal_the_change_in_distance_to_the_nearest_target(seed: int) -> None:
    task = grid_task("2x4", "easy", seed=seed)
    state = task.initial_state()
    obs = observe("targets", task, state).obs
    for cell in range(len(task.agents)):
        for ci, colour in enumerate(COLOURS):
            targets = task.target_cells(state, colour)
            if not targets:
                continue
            before = min(task.distance(cell, t) for t in targets)
            for d in range(4):
                i, j = divmod(cell, task.cols)
                di, dj = ((-1, 0), (1, 0), (0, -1), (0, 1))[d]
                if not (0 <= i + di < task.rows and 0 <= j + dj < task.cols):
                    assert obs[cell, ci * 8 + 3 + d] == 0.0
                    continue
                after = min(task.distance((i + di) * task.cols + j + dj, t) for t in targets)
                assert obs[cell, ci * 8 + 3 + d] == before - after


def test_squeeze_reading_names_the_true_optimum_among_its_two_candidates() -> None:
    task = alloc_task(10, 3)
    for total in (5, 20, 40, 60):
        _, _, lo, hi = squeeze_reading(total, float(task.reward(total)), task.max_total)
        assert min(abs(lo - task.x_star / task.max_total), abs(hi - task.x_star / task.max_total)) < 1e-6 or hi == 1.5
    assert np.isfinite(observe("targets", task, task.initial_state()).obs).all()
