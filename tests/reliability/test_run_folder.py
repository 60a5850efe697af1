"""Run folders: one process at a time, nothing replayed or destroyed without its checkpoint, a torn last
line tolerated, real damage named in one line, a hand-edited config refused by its field."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from llamac.app.cli import main
from tests.conftest import ROOT
from tests.llamac.fake_endpoint import schema_answers
from tests.reliability.conftest import run_files

FIXTURES = ROOT / "tests" / "fixtures" / "run_folders"


def interrupted(tmp_path: Path) -> Path:
    """A LLaMAC run stopped after 3 of 4 steps (the fixture of ``test_old_run_folders``)."""
    folder = tmp_path / "run"
    shutil.copytree(FIXTURES / "llamac_interrupted", folder)
    return folder


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_two_processes_cannot_run_one_folder(provider: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = schema_answers()

    def slow(index: int, body: dict[str, Any]) -> Any:
        time.sleep(0.15)
        return answer(index, body)

    provider(slow)
    folder = interrupted(tmp_path)
    first = subprocess.Popen([sys.executable, "-m", "llamac.run", "resume", str(folder), "--quiet"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (folder / ".lock").is_file() or not (folder / ".lock").read_text().strip():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert main(["resume", str(folder), "--quiet"]) == 2
        err = one_error_line(capsys)
        assert "is in use by pid" in err and str(first.pid) in err
    finally:
        assert first.wait(120) == 0, first.stderr.read().decode() if first.stderr else ""
    steps = [json.loads(x)["t"] for x in (folder / "episodes" / "000" / "steps.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3]  # every step once


def test_resume_without_the_checkpoint_file_refuses_and_keeps_every_recorded_step(
        provider: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = provider()
    folder = interrupted(tmp_path)
    (folder / "checkpoints.sqlite").unlink()
    before = run_files(folder)
    assert main(["resume", str(folder), "--quiet"]) == 2
    err = one_error_line(capsys)
    assert "holds no state" in err and "steps.jsonl records 3 steps" in err and "nothing was replayed" in err
    assert not endpoint.seen  # no token spent again
    after = run_files(folder)
    assert after["episodes/000/steps.jsonl"] == before["episodes/000/steps.jsonl"]


def test_resume_from_a_checkpoint_behind_the_steps_file_refuses(provider: Any, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """As a checkpoint copied without its -wal file: its newest checkpoints are missing."""
    endpoint = provider()
    folder = interrupted(tmp_path)
    with sqlite3.connect(folder / "checkpoints.sqlite") as db:
        newest = [row[0] for row in db.execute("select checkpoint_id from checkpoints order by checkpoint_id desc")]
        db.executemany("delete from checkpoints where checkpoint_id = ?", [(c,) for c in newest[:8]])
    steps_before = (folder / "episodes" / "000" / "steps.jsonl").read_bytes()
    assert main(["resume", str(folder), "--quiet"]) == 2
    assert "stops at step" in one_error_line(capsys) and not endpoint.seen
    assert (folder / "episodes" / "000" / "steps.jsonl").read_bytes() == steps_before


def test_a_torn_last_line_is_tolerated_and_cut_before_the_next(provider: Any, tmp_path: Path) -> None:
    provider()
    folder = interrupted(tmp_path)
    for name in ("episodes/000/steps.jsonl", "calls.jsonl"):
        with (folder / name).open("a") as fh:
            fh.write('{"episode": 0, "t": 3, "joint_act')  # what a kill mid-write leaves
    assert main(["resume", str(folder), "--quiet"]) == 0
    for name in ("episodes/000/steps.jsonl", "calls.jsonl"):
        lines = (folder / name).read_text().splitlines()
        assert all(json.loads(line) for line in lines)  # whole lines only
    steps = [json.loads(x)["t"] for x in (folder / "episodes" / "000" / "steps.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3]


@pytest.mark.parametrize("damage", ["steps.jsonl in the middle", "summary.json", "checkpoints.sqlite"])
def test_real_damage_is_one_line_naming_the_file(damage: str, provider: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    provider()
    folder = interrupted(tmp_path)
    if damage == "steps.jsonl in the middle":
        path = folder / "episodes" / "000" / "steps.jsonl"
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0], "{garbage", *lines[1:]]) + "\n")
    elif damage == "summary.json":
        path = folder / "episodes" / "000" / "summary.json"
        path.write_text('{"episode": 0, "success"')
    else:
        path = folder / "checkpoints.sqlite"
        path.write_bytes(b"this is not a database" * 100)
    assert main(["resume", str(folder), "--quiet"]) == 2
    err = one_error_line(capsys)
    assert str(path) in err and "resume with" not in err


def test_a_hand_edited_config_is_refused_naming_the_field(provider: Any, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    provider()
    folder = interrupted(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["coordinator"]["name"] = "gpt5"
    (folder / "config.json").write_text(json.dumps(config))
    assert main(["resume", str(folder), "--quiet"]) == 2
    assert "config.json is not a llamac run config: coordinator.name" in one_error_line(capsys)
    config["coordinator"]["name"] = "llamac"
    del config["episodes"][0]["task"]["agents"]
    (folder / "config.json").write_text(json.dumps(config))
    assert main(["resume", str(folder), "--quiet"]) == 2
    assert "the alloc task needs agents" in one_error_line(capsys)
