"""Run folders written by an earlier llamac stay resumable.

``tests/fixtures/run_folders/`` holds two runs interrupted mid-episode (their provider failed at a
given call) by the code of commit 93f6813's era, before the episode state and the package layout
changed: LLaMAC and HMAS-2 on allocation with 3 agents, 4 steps planned. Made with the scripted
loopback endpoint (``fake_endpoint.schema_answers``); resumed here against the same endpoint.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llamac.app.cli import main
from tests.conftest import ROOT
from tests.llamac.sweep_support import CALL_TOKENS

FIXTURES = ROOT / "tests" / "fixtures" / "run_folders"


@pytest.mark.parametrize("name,steps_before", [("llamac_interrupted", 3), ("hmas2_interrupted", 1)])
def test_a_run_folder_of_the_earlier_layout_resumes_to_the_end(name: str, steps_before: int, tmp_path: Path,
                                                                scripted_provider: object) -> None:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    steps = folder / "episodes" / "000" / "steps.jsonl"
    assert [json.loads(x)["t"] for x in steps.read_text().splitlines()] == list(range(steps_before))
    assert main(["resume", str(folder), "--quiet"]) == 0
    assert [json.loads(x)["t"] for x in steps.read_text().splitlines()] == [0, 1, 2, 3]
    summary = json.loads((folder / "episodes" / "000" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["end_reason"] == "max_steps"
    assert summary["llm_calls"] > 0 and summary["tokens"] == summary["llm_calls"] * CALL_TOKENS
