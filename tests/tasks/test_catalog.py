"""The task factory: good parameters build the right task, bad ones give one-line TaskErrors."""

from __future__ import annotations

import asyncio

import pytest

from tasks.alloc import ResourceAllocation
from tasks.base import Task, TaskError
from tasks.baselines.alloc_hill_climber import AllocHillClimber
from tasks.baselines.matrix_oracle import MatrixGreedy
from tasks.catalog import alloc_task, greedy_coordinator, grid_task, make_task, matrix_task, parse_size
from tasks.coordinator import Coordinator
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard
from tasks.matrix import MatrixGame


@pytest.mark.parametrize(("text", "size"), [("4x8", (4, 8)), ("2X2", (2, 2)), (" 2x4 ", (2, 4)), ("12x10", (12, 10))])
def test_parse_size_reads_rows_and_columns(text: str, size: tuple[int, int]) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0x3", "4x", "x", "4x8x2", "-1x3", "3x-1", "axb", "4*8", "", "4x0", "51x2", "4.5x2"])
def test_parse_size_refuses_bad_sizes_in_one_line(text: str) -> None:
    with pytest.raises(TaskError, match=r"^grid size") as info:
        parse_size(text)
    assert "\n" not in str(info.value)


def test_grid_task_builds_golden_instances_and_seeded_draws() -> None:
    easy = grid_task("2x2", "easy", instance=3)
    assert isinstance(easy, GridEasy) and easy.name == GridEasy.from_instance(2, 2, 3).name
    assert isinstance(grid_task("2x4", "HARD"), GridHard)  # no instance or seed: golden instance 0
    drawn = grid_task((2, 2), "easy", seed="7")
    assert drawn.initial_state() == GridEasy.from_seed(2, 2, 7).initial_state()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"size": "2x2", "difficulty": "medium"}, "unknown difficulty"),
        ({"size": "2x2", "instance": 10}, "out of range"),
        ({"size": "2x2", "instance": -1}, "whole number"),
        ({"size": "2x2", "instance": "two"}, "whole number"),
        ({"size": "2x2", "instance": 1, "seed": 1}, "not both"),
        ({"size": "2x2", "seed": -5}, "whole number"),
        ({"size": "3x3", "instance": 0}, "golden instance"),
        ({"size": "0x3"}, "RxC|out of range"),
    ],
)
def test_grid_task_errors_are_one_line(params: dict, words: str) -> None:
    with pytest.raises(TaskError, match=words) as info:
        grid_task(**params)
    assert "\n" not in str(info.value)


def test_alloc_and_matrix_tasks() -> None:
    alloc = alloc_task("50", seed=2)
    assert isinstance(alloc, ResourceAllocation) and len(alloc.agents) == 50
    assert alloc.mu == ResourceAllocation(50, 2).mu
    game = matrix_task("Penalty", "-100")
    assert isinstance(game, MatrixGame) and game.k == -100 and game.name == "penalty_k-100"
    assert matrix_task("penalty", "-1e3").payoff[0, 0, 0] == -1000
    assert matrix_task("cooperation").steps == 10


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: alloc_task(0), "number of agents"),
        (lambda: alloc_task("many"), "number of agents"),
        (lambda: alloc_task(5, seed=-1), "seed"),
        (lambda: matrix_task("chess"), "unknown matrix game"),
        (lambda: matrix_task("penalty", "abc"), "k must be a number"),
        (lambda: matrix_task("penalty", "inf"), "finite"),
        (lambda: matrix_task("penalty", "5"), "<= 0"),
        (lambda: matrix_task("mixing", "-100"), "only to the penalty"),
        (lambda: make_task("chess"), "unknown task family"),
        (lambda: make_task("alloc", agents=5, colour="red"), "bad parameters for alloc"),
    ],
)
def test_alloc_matrix_and_family_errors_are_one_line(call, words: str) -> None:
    with pytest.raises(TaskError, match=words) as info:
        call()
    assert "\n" not in str(info.value)


def test_make_task_dispatches_by_family() -> None:
    assert isinstance(make_task("grid", size="2x2", difficulty="hard", instance=1), GridHard)
    assert isinstance(make_task("alloc", agents=5, seed=1), ResourceAllocation)
    assert isinstance(make_task("matrix", game="mixing"), MatrixGame)


@pytest.mark.parametrize(
    "task",
    [GridEasy.from_instance(2, 2, 0), GridHard.from_instance(2, 2, 0), ResourceAllocation(5, 0), MatrixGame("mixing")],
    ids=["grid_easy", "grid_hard", "alloc", "matrix"],
)
def test_every_family_has_a_greedy_coordinator_that_plays_legal_steps(task: Task) -> None:
    coordinator = greedy_coordinator(task)
    assert isinstance(coordinator, Coordinator) and coordinator.name == "greedy"
    decision = asyncio.run(coordinator.decide(task, task.initial_state(), ()))
    outcome = task.step(task.initial_state(), decision.joint_action)
    assert not outcome.feedback  # every assignment it made was legal
    assert isinstance(greedy_coordinator(ResourceAllocation(3, 0)), AllocHillClimber)
    assert isinstance(greedy_coordinator(MatrixGame("coordination")), MatrixGreedy)
