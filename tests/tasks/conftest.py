"""The golden folder of the authors' grid environment, and the conformance tally printed at the end.

The golden vectors live beside the repository (``../shared/spec/golden``). Missing, they fail the
run under ``CI=true`` and skip elsewhere (``tests.conftest.service_missing``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import service_missing

GOLDEN = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "golden"
TALLY: Counter[str] = Counter()
"""Filled by the conformance tests: ``matched``, ``deviations`` (lines), ``episodes_*``."""


@pytest.fixture(scope="session")
def golden() -> Path:
    if not (GOLDEN / "transitions").is_dir():
        service_missing("golden vectors", f"{GOLDEN} not found (clone ../shared beside the repository)")
    return GOLDEN


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY:
        terminalreporter.write_line(
            f"conformance: {TALLY['matched']} lines matched, {TALLY['deviations']} listed deviations "
            f"(of {TALLY['matched'] + TALLY['deviations']} golden transition lines); run_exp scenarios: "
            f"{TALLY['episodes_matched']} matched, {TALLY['episodes_deviations']} listed deviations")
