"""The RL commands' input (issue 18, classes 2 and 10): a trained run is never overwritten silently, and
every bad number, path or file is one line naming the flag or the file, exit 2, no traceback."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rl_bridge import distill, report, train  # noqa: E402

pytestmark = pytest.mark.torch
TINY = ["--algo", "steer", "--game", "coordination", "--steps", "400", "--n-envs", "20", "--episode-length", "20",
        "--eval-every", "1"]


def one_line_error(capsys: pytest.CaptureFixture[str], rc: int, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trained")
    assert train.main([*TINY, "--out", str(out)]) == 0
    return out


def test_training_into_a_trained_run_is_refused_unless_asked(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = trained / "coordination" / "steer" / "seed0"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    capsys.readouterr()
    one_line_error(capsys, train.main([*TINY, "--out", str(trained)]), str(folder), "--overwrite")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert train.main([*TINY, "--out", str(trained), "--overwrite", "--seeds", "0"]) == 0


def test_distilling_onto_the_teacher_or_a_trained_run_is_refused(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    teacher = trained / "coordination" / "steer" / "seed0"
    model = (teacher / "model.pt").read_bytes()
    capsys.readouterr()
    one_line_error(capsys, distill.main(["--teacher", str(teacher), "--out", str(teacher), "--epochs", "1"]), "--out")
    assert (teacher / "model.pt").read_bytes() == model
    out = tmp_path / "students"
    assert distill.main(["--teacher", str(teacher), "--out", str(out), "--epochs", "1", "--teacher-steps", "200"]) == 0
    capsys.readouterr()
    one_line_error(capsys, distill.main(["--teacher", str(teacher), "--out", str(out), "--epochs", "1"]), "--overwrite")


@pytest.mark.parametrize(("flag", "value"), [
    ("--lr", "nan"), ("--lr", "-1"), ("--lr", "inf"), ("--leader-timescale", "nan"), ("--leader-timescale", "0"),
    ("--entropy", "-0.1"), ("--k", "nan"), ("--steps", "0"), ("--steps", "1.5"), ("--n-envs", "-3"),
    ("--episode-length", "0"), ("--eval-every", "0"), ("--agents", "0"),
])
def test_every_numeric_training_option_is_checked(flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a for a in TINY]
    if flag in argv:
        i = argv.index(flag)
        del argv[i:i + 2]
    one_line_error(capsys, train.main([*argv, flag, value, "--out", str(tmp_path)]), flag, value)
    assert list(tmp_path.iterdir()) == []


def test_steps_below_one_update_are_refused_not_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*TINY[:4], "--steps", "100", "--n-envs", "20", "--episode-length", "20", "--out", str(tmp_path)]
    one_line_error(capsys, train.main(argv), "--steps 100", "--episode-length")


@pytest.mark.parametrize(("flag", "value"), [("--eta", "nan"), ("--eta", "-1"), ("--epochs", "0"), ("--teacher-steps", "x")])
def test_every_numeric_distillation_option_is_checked(trained: Path, tmp_path: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    teacher = trained / "coordination" / "steer" / "seed0"
    one_line_error(capsys, distill.main(["--teacher", str(teacher), "--out", str(tmp_path / "s"), flag, value]), flag)


def test_an_output_path_that_is_a_file_or_unwritable_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "a_file"
    afile.write_text("mine")
    one_line_error(capsys, train.main([*TINY, "--out", str(afile)]), "--out", "is a file")
    assert afile.read_text() == "mine"
    one_line_error(capsys, train.main([*TINY, "--out", str(afile / "below")]), "--out")


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("config.json", b"{not json", "config.json"),
    ("config.json", b'{"algo": "steer"}', "config.json"),
    ("model.pt", b"\x00garbage", "model.pt"),
])
def test_a_damaged_teacher_names_the_file(trained: Path, tmp_path: Path, name: str, content: bytes, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    for f in (trained / "coordination" / "steer" / "seed0").iterdir():
        (teacher / f.name).write_bytes(f.read_bytes())
    (teacher / name).write_bytes(content)
    one_line_error(capsys, distill.main(["--teacher", str(teacher), "--out", str(tmp_path / "s")]), needle)


def test_report_on_an_llm_run_folder_points_at_the_llm_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"version": 1, "coordinator": {"kind": "llamac"}}))
    one_line_error(capsys, report.main([str(tmp_path)]), "llamac.run report")
