"""The CLI: runs end to end into a run folder, resumes, refuses bad input in one line with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llamac.app.cli import main
from tasks.baselines.grid_planner import GreedyPlanner
from tests.conftest import ROOT  # noqa: E402


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Default run folders (runs/...) and .env lookups happen in a scratch directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLAMAC_CHECKPOINT_URL", raising=False)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _existing_run(tmp_path: Path) -> Path:
    out = tmp_path / "done"
    assert main(["grid", "--size", "2x2", "--coordinator", "greedy", "--out", str(out), "--quiet"]) == 0
    return out


def _malformed(tmp_path: Path) -> list[list[str]]:
    no_config = tmp_path / "empty"
    no_config.mkdir()
    bad_config = tmp_path / "bad"
    bad_config.mkdir()
    (bad_config / "config.json").write_text("{not json")
    wrong_config = tmp_path / "wrong"
    wrong_config.mkdir()
    (wrong_config / "config.json").write_text('{"version": 1}')
    existing = _existing_run(tmp_path)
    g = ["grid", "--size", "2x2", "--coordinator", "greedy"]
    return [
        ["grid", "--size", "0x3"],
        ["grid", "--size", "4x"],
        ["grid", "--size", "axb", "--coordinator", "greedy"],
        ["grid"],
        [*g, "--difficulty", "medium"],
        [*g, "--instance", "10"],
        [*g, "--instance", "-1"],
        [*g, "--instance", "abc"],
        [*g, "--instance", "1", "--seed", "2"],
        [*g, "--instance", "8", "--episodes", "5"],
        ["matrix", "--game", "chicken"],
        ["matrix", "--game", "penalty", "--k", "abc"],
        ["matrix", "--game", "penalty"],
        ["matrix", "--game", "mixing", "--k", "5"],
        ["alloc", "--agents", "0"],
        ["alloc", "--agents", "x"],
        ["resume", str(tmp_path / "no-such-run")],
        ["resume", str(no_config)],
        ["resume", str(bad_config)],
        ["resume", str(wrong_config)],
        [*g, "--out", str(existing)],
        [*g, "--out", str(existing / "config.json" / "sub")],
        ["grid", "--size", "2x2", "--coordinator", "foo"],
        ["grid", "--size", "2x2", "--coordinator", "steer"],
        ["grid", "--size", "2x2", "--coordinator", "steer", "--policy", str(tmp_path / "missing")],
        [*g, "--policy", str(tmp_path)],
        [*g, "--max-steps", "0"],
        [],
        ["fly"],
        ["graph", "nope"],
    ]


def test_malformed_invocations_exit_2_with_one_line(tmp_path, capsys):
    cases = _malformed(tmp_path)
    capsys.readouterr()
    assert len(cases) >= 20
    for argv in cases:
        code, out, err = _run(capsys, *argv)
        lines = err.strip().splitlines()
        assert code == 2, (argv, code, err)
        assert len(lines) == 1, (argv, err)
        assert lines[0].startswith("error: "), (argv, err)
        assert "Traceback" not in err and "Traceback" not in out
    # nothing was left behind by a refused command (only the fixture run and the prepared folders)
    assert not (tmp_path / "runs").exists()


def test_malformed_invocation_in_a_real_process_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "llamac.run", "grid", "--size", "0x3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "0x3" in proc.stderr


def test_graph_piped_into_a_closed_reader_is_not_an_error():
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `graph llamac | head` once head has gone
    try:
        proc = subprocess.run([sys.executable, "-m", "llamac.run", "graph", "episode"], cwd=ROOT,
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and proc.stderr == ""


def test_greedy_grid_run_writes_the_run_folder(tmp_path, capsys):
    code, out, err = _run(capsys, "grid", "--size", "2x2", "--coordinator", "greedy", "--quiet")
    assert code == 0, err
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert "grid-easy-2x2-i0-greedy" in run_dir.name
    assert f"results: {run_dir}" in out.replace("\n", "")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["coordinator"]["name"] == "greedy"
    assert config["episodes"][0]["task"] == {**config["episodes"][0]["task"], "rows": 2, "cols": 2, "instance": 0}
    summary = json.loads((run_dir / "episodes/000/summary.json").read_text())
    steps = [json.loads(x) for x in (run_dir / "episodes/000/steps.jsonl").read_text().splitlines()]
    assert summary["success"] is True and summary["end_reason"] == "success"
    assert summary["steps"] == len(steps) and steps[-1]["success"] is True
    assert summary["tokens"] == 0 and summary["llm_calls"] == 0
    assert (run_dir / "checkpoints.sqlite").exists()
    run_summary = json.loads((run_dir / "summary.json").read_text())
    assert run_summary["success_rate"] == 1.0 and run_summary["n_episodes"] == 1
    for metric in ("Success", "Steps", "Feedback", "Tokens", "LLM calls", "Gate skips", "Invalid answers",
                   "Retries", "Cached prompt tokens", "Wall time"):
        assert metric in out


def test_several_episodes_run_consecutive_instances(tmp_path, capsys):
    code, out, err = _run(capsys, "grid", "--size", "2x4", "--instance", "3", "--episodes", "2",
                          "--coordinator", "greedy", "--out", "r", "--quiet")
    assert code == 0, err
    run = json.loads((tmp_path / "r/summary.json").read_text())
    assert [e["task"] for e in run["episodes"]] == ["easy_2x4_3", "easy_2x4_4"]
    assert "mean" in out


def test_interrupted_run_resumes_to_the_uninterrupted_result(tmp_path, capsys, monkeypatch):
    assert main(["grid", "--size", "2x4", "--coordinator", "greedy", "--out", "clean", "--quiet"]) == 0
    clean = json.loads((tmp_path / "clean/episodes/000/summary.json").read_text())
    assert clean["steps"] >= 3

    original = GreedyPlanner.decide
    calls = {"n": 0}

    async def flaky(self, task, state, history):
        calls["n"] += 1
        if len(history) == 2 and calls["n"] < 10:
            calls["n"] = 10
            raise RuntimeError("scripted crash\nwith a second line")
        return await original(self, task, state, history)

    monkeypatch.setattr(GreedyPlanner, "decide", flaky)
    capsys.readouterr()
    code, out, err = _run(capsys, "grid", "--size", "2x4", "--coordinator", "greedy", "--out", "broken", "--quiet")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "RuntimeError: scripted crash with a second line" in err and "resume" in err
    assert "Traceback" in (tmp_path / "broken/error.txt").read_text()  # details kept, off the terminal
    assert not (tmp_path / "broken/episodes/000/summary.json").exists()
    assert len((tmp_path / "broken/episodes/000/steps.jsonl").read_text().splitlines()) == 2

    code, out, err = _run(capsys, "resume", "broken", "--quiet")
    assert code == 0, err
    resumed = json.loads((tmp_path / "broken/episodes/000/summary.json").read_text())
    volatile = ("wall_s",)
    assert {k: v for k, v in resumed.items() if k not in volatile} == {
        k: v for k, v in clean.items() if k not in volatile}
    clean_steps = (tmp_path / "clean/episodes/000/steps.jsonl").read_text()
    assert (tmp_path / "broken/episodes/000/steps.jsonl").read_text() == clean_steps

    # a finished run is not re-run: its summary is printed and nothing changes
    before = (tmp_path / "broken/episodes/000/steps.jsonl").stat().st_mtime_ns
    code, out, err = _run(capsys, "resume", "broken")
    assert code == 0 and "already finished" in err and "Success" in out
    assert (tmp_path / "broken/episodes/000/steps.jsonl").stat().st_mtime_ns == before


def test_alloc_and_matrix_run_with_their_greedy_baselines(tmp_path, capsys):
    assert main(["alloc", "--agents", "5", "--coordinator", "greedy", "--out", "a", "--quiet"]) == 0
    assert json.loads((tmp_path / "a/episodes/000/summary.json").read_text())["family"] == "alloc"
    assert main(["matrix", "--game", "penalty", "--k", "-100", "--coordinator", "greedy", "--out", "m",
                 "--quiet"]) == 0
    summary = json.loads((tmp_path / "m/episodes/000/summary.json").read_text())
    assert summary["family"] == "matrix" and summary["steps"] >= 1


def test_graph_prints_mermaid_of_the_episode_loop(capsys):
    code, out, _ = _run(capsys, "graph", "episode")
    assert code == 0
    assert out.startswith("---") or "graph TD" in out
    for node in ("observe", "decide", "execute", "remember"):
        assert node in out


@pytest.mark.postgres
def test_run_checkpoints_in_postgres_when_the_url_is_set(tmp_path, capsys, monkeypatch, postgres_url):
    monkeypatch.setenv("LLAMAC_CHECKPOINT_URL", postgres_url)
    assert main(["grid", "--size", "2x2", "--coordinator", "greedy", "--out", "pg", "--quiet"]) == 0
    config = json.loads((tmp_path / "pg/config.json").read_text())
    assert config["checkpoint"] == "postgres"
    assert not (tmp_path / "pg/checkpoints.sqlite").exists()
    assert postgres_url not in (tmp_path / "pg/config.json").read_text()  # no connection string stored
    capsys.readouterr()
    monkeypatch.delenv("LLAMAC_CHECKPOINT_URL")
    code, _, err = _run(capsys, "resume", "pg")  # finished: answered from the run folder, no database needed
    assert code == 0 and "already finished" in err


@pytest.mark.torch
def test_rl_coordinator_runs_a_trained_policy_and_refuses_a_misfit(tmp_path, capsys):
    pytest.importorskip("torch", reason="the rl extra (torch) is not installed")
    from rl_bridge.train import main as train

    assert train(["--algo", "steer", "--game", "penalty", "--k", "-100", "--seeds", "0", "--out", "p",
                  "--steps", "64", "--n-envs", "2", "--episode-length", "32"]) == 0
    (policy,) = (tmp_path / "p").glob("*/steer/seed0")
    capsys.readouterr()
    code, out, err = _run(capsys, "matrix", "--game", "penalty", "--k", "-100", "--coordinator", "steer",
                          "--policy", str(policy), "--out", "r", "--quiet")
    assert code == 0, err
    summary = json.loads((tmp_path / "r/episodes/000/summary.json").read_text())
    assert summary["coordinator"] != "greedy" and summary["steps"] >= 1
    # a STEER policy cannot be loaded as a MAPPO one, nor on a grid: one line, exit 2, no run folder
    for argv in (["matrix", "--game", "penalty", "--k", "-100", "--coordinator", "mappo", "--policy", str(policy)],
                 ["grid", "--size", "2x2", "--coordinator", "steer", "--policy", str(policy)]):
        code, out, err = _run(capsys, *argv, "--out", "refused")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert not (tmp_path / "refused").exists()


def test_missing_local_model_is_refused_before_a_run_folder_is_made(tmp_path, capsys, monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLAMAC_LOCAL_URL", "LLAMAC_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLAMAC_LOCAL_MODEL", str(tmp_path / "no-such-model.gguf"))
    code, out, err = _run(capsys, "grid", "--size", "2x2", "--coordinator", "llamac", "--out", "r")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no-such-model.gguf" in err
    assert not (tmp_path / "r").exists()


def test_resuming_a_postgres_run_without_the_url_is_a_one_line_error(tmp_path, capsys):
    assert main(["grid", "--size", "2x2", "--coordinator", "greedy", "--out", "r", "--quiet"]) == 0
    config = json.loads((tmp_path / "r/config.json").read_text())
    config["checkpoint"] = "postgres"
    (tmp_path / "r/config.json").write_text(json.dumps(config))
    (tmp_path / "r/episodes/000/summary.json").unlink()  # as if interrupted
    capsys.readouterr()
    code, _, err = _run(capsys, "resume", "r")
    assert code == 2 and err.strip() == "error: this run is checkpointed in PostgreSQL: set LLAMAC_CHECKPOINT_URL to resume it"


def test_llamac_knobs_reach_the_run_config_and_the_coordinator(tmp_path):
    from types import SimpleNamespace

    from graphs.context import DEFAULT_PRESET, PRESETS
    from llamac.app.build import build_coordinator
    from llamac.app.parser import parse_args
    from llamac.app.run_config import CoordinatorSpec, new_config, task_specs
    from llamac.runtime.settings import Settings

    argv = ["grid", "--size", "2x2", "--actor-gate", "apply", "--assessor", "on-disagreement"]
    args = parse_args(argv)
    specs = task_specs(args, (2, 2))
    config = new_config(args, argv, specs, tmp_path / "r", Settings())
    spec = CoordinatorSpec(**json.loads(config.model_dump_json())["coordinator"])  # as resume reads it back
    assert spec.actor_gate == "apply" and spec.assessor == "on-disagreement"
    coordinator = build_coordinator(spec, None, SimpleNamespace(gateway=None))
    assert coordinator.config.actor_gate == "apply" and coordinator.config.assessor == "on-disagreement"
    plain = parse_args(["grid", "--size", "2x2"])
    default = new_config(plain, [], task_specs(plain, (2, 2)), tmp_path / "p", Settings()).coordinator
    assert default.preset == DEFAULT_PRESET and default.assessor == PRESETS[DEFAULT_PRESET]["assessor"]


@pytest.mark.parametrize("preset", ["paper", "lean"])
def test_a_preset_sets_exactly_its_knobs_and_a_knob_overrides_it(preset, tmp_path):
    from graphs.context import KNOBS, PRESETS
    from llamac.app.parser import parse_args
    from llamac.app.run_config import CoordinatorSpec, knob_values, new_config, task_specs
    from llamac.runtime.settings import Settings

    def config_of(*flags):
        args = parse_args(["grid", "--size", "2x2", *flags])
        config = new_config(args, [], task_specs(args, (2, 2)), tmp_path / "r", Settings())
        return CoordinatorSpec(**json.loads(config.model_dump_json())["coordinator"])  # as resume reads it back

    spec = config_of("--preset", preset)
    assert spec.preset == preset and {k: v for k, v in knob_values(spec).items() if k in PRESETS[preset]} == PRESETS[preset]
    assert spec.rounds is None  # a knob no preset names keeps its own default
    other = next(v for v in ("split", "merged") if v != PRESETS[preset]["critics"])
    overridden = config_of("--preset", preset, "--critics", other)
    assert overridden.critics == other
    assert {k: v for k, v in knob_values(overridden).items() if k != "critics"} == {
        k: v for k, v in knob_values(spec).items() if k != "critics"}
    assert {k.key for k in KNOBS} >= set(PRESETS[preset])


@pytest.mark.torch
@pytest.mark.parametrize("algo", ["happo", "mat", "step"])
def test_every_trained_algorithm_is_a_coordinator(algo, tmp_path, capsys):
    pytest.importorskip("torch", reason="the rl extra (torch) is not installed")
    from rl_bridge.train import main as train

    assert train(["--algo", algo, "--game", "mixing", "--seeds", "0", "--out", "p", "--steps", "64", "--n-envs", "2", "--episode-length", "32"]) == 0
    (policy,) = (tmp_path / "p").glob(f"*/{algo}/seed0")
    code, _, err = _run(capsys, "matrix", "--game", "mixing", "--coordinator", algo, "--policy", str(policy),
                        "--out", "r", "--quiet")
    assert code == 0, err
    summary = json.loads((tmp_path / "r/episodes/000/summary.json").read_text())
    assert summary["coordinator"] == algo and summary["steps"] >= 1
    assert json.loads((tmp_path / "r/config.json").read_text())["coordinator"]["name"] == algo
