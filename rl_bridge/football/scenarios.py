"""The three academy scenarios the STEER paper distils students on, with what the paper reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    """gfootball's scenario name."""
    controlled: int
    """Left-team players our agents control (the keeper is left to the game's AI)."""
    paper_teacher: float
    """STEER's score in the paper (mean goals per episode)."""
    paper_student: float
    """The distilled students' score in the paper."""


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("academy_pass_and_shoot_with_keeper", 2, 0.934, 0.943),
        Scenario("academy_3_vs_1_with_keeper", 3, 0.964, 0.942),
        Scenario("academy_counterattack_easy", 4, 0.918, 0.903),
    )
}
