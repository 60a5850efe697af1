"""The run folder: step lines, summaries, resumable cut-back, aggregates as the paper reports them."""

from __future__ import annotations

import json
import math

import pytest

from llamac.app.run_folder import RunFolder, RunFolderError, aggregate


def test_create_refuses_a_folder_that_holds_a_run(tmp_path):
    folder = RunFolder.create(tmp_path / "r")
    folder.write_config({"run_id": "x"})
    with pytest.raises(RunFolderError, match="already holds a run"):
        RunFolder.create(tmp_path / "r")


def test_open_needs_a_config(tmp_path):
    with pytest.raises(RunFolderError, match="no run folder"):
        RunFolder.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match="not a llamac run folder"):
        RunFolder.open(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text("{oops")
    with pytest.raises(RunFolderError, match="not valid JSON"):
        RunFolder.open(tmp_path / "empty").read_config()


def test_step_lines_append_and_cut_back_to_a_checkpointed_step(tmp_path):
    ep = RunFolder.create(tmp_path / "r").episode(3)
    assert ep.folder == tmp_path / "r" / "episodes" / "003"
    for t in range(4):
        ep.append_step({"t": t, "joint_action": {"Agent[0]": "stay"}})
    ep.keep_steps_before(2)
    assert [x["t"] for x in ep.read_steps()] == [0, 1]
    assert ep.steps.read_text().count("\n") == 2


def test_summary_is_written_whole(tmp_path):
    ep = RunFolder.create(tmp_path / "r").episode(0)
    assert ep.read_summary() is None
    ep.write_summary({"success": True, "steps": 5})
    assert ep.read_summary() == {"success": True, "steps": 5}
    assert not list(ep.folder.glob("*.tmp"))


def test_aggregate_reports_means_over_successful_and_all_episodes():
    eps = [
        {"success": True, "steps": 4, "tokens": 100},
        {"success": True, "steps": 6, "tokens": 300},
        {"success": False, "steps": 30, "tokens": 900},
    ]
    agg = aggregate(eps)
    assert agg["success_rate"] == pytest.approx(2 / 3)
    assert agg["over_successful"]["steps"] == {"mean": 5.0, "std": 1.0}
    assert agg["over_all"]["tokens"]["mean"] == pytest.approx(1300 / 3)
    assert agg["over_successful"]["feedback"] == {"mean": 0.0, "std": 0.0}  # absent counters are 0
    json.dumps(agg)


def test_aggregate_of_no_success_has_no_successful_means():
    agg = aggregate([{"success": False, "steps": 30}])
    assert agg["success_rate"] == 0.0 and agg["over_successful"]["steps"] is None
    assert math.isnan(aggregate([])["success_rate"])
