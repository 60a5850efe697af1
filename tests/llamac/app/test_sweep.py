"""Sweeps: the spec, the local executor, continuing a sweep, and the results table.

LLM cells here talk to a scripted loopback endpoint (``fake_endpoint.schema_answers``: a fixed
allocation plan for every planning request, "I Agree" for every actor; not a model), through the real
gateway, budget and metering. The Ray executor's tests are in ``test_sweep_ray.py``.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from llamac.app.cli import main
from llamac.app.sweep import run_sweep
from llamac.app.sweep.spec import load_spec
from llamac.app.sweep.table import read_table
from tests.conftest import ROOT
from tests.llamac.fake_endpoint import completion, error, schema_answers
from tests.llamac.sweep_support import CALL_TOKENS, MIXED, events, runs, sweep_until, write

# ------------------------------------------------------------------------------------------ spec
BAD_SPECS = {
    "unknown kind": ('[coordinators.x]\nkind = "gpt"\n[[experiments]]\ncoordinators = ["x"]\n'
                     'tasks = [{family = "alloc", agents = [3]}]\n', "coordinators.x.kind"),
    "unknown coordinator": ('[coordinators.g]\nkind = "greedy"\n[[experiments]]\ncoordinators = ["nope"]\n'
                            'tasks = [{family = "alloc", agents = [3]}]\n', "no coordinator named 'nope'"),
    "llm knob on greedy": ('[coordinators.g]\nkind = "greedy"\ncritics = "merged"\n[[experiments]]\n'
                           'coordinators = ["g"]\ntasks = [{family = "alloc", agents = [3]}]\n', "critics applies to llamac/hmas2"),
    "bad size": ('[coordinators.g]\nkind = "greedy"\n[[experiments]]\ncoordinators = ["g"]\n'
                 'tasks = [{family = "grid", sizes = ["2by2"]}]\n', "experiments[0].tasks[0].sizes"),
    "golden instance out of range": ('[coordinators.g]\nkind = "greedy"\n[[experiments]]\ncoordinators = ["g"]\n'
                                     'tasks = [{family = "grid", sizes = ["2x2"], instances = "0-12"}]\n', "golden instances are 0-9"),
    "rl without a policy": ('[coordinators.s]\nkind = "steer"\n[[experiments]]\ncoordinators = ["s"]\n'
                            'tasks = [{family = "alloc", agents = [3]}]\n', "needs exactly one of policies or train"),
    "teacher not steer": ('[coordinators.g]\nkind = "greedy"\n[coordinators.st]\nkind = "student"\nteacher = "g"\n'
                          '[[experiments]]\ncoordinators = ["st"]\ntasks = [{family = "alloc", agents = [3]}]\n',
                          "coordinators.st.teacher"),
    "unknown field": ('typo = 1\n[coordinators.g]\nkind = "greedy"\n[[experiments]]\ncoordinators = ["g"]\n'
                      'tasks = [{family = "alloc", agents = [3]}]\n', "typo"),
    "not toml": ("[coordinators\n", "is not valid TOML"),
    "negative budget": ('budget_tokens = -5\n[coordinators.g]\nkind = "greedy"\n[[experiments]]\n'
                        'coordinators = ["g"]\ntasks = [{family = "alloc", agents = [3]}]\n', "budget_tokens"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_gets_one_line_naming_the_field_and_exit_2(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = BAD_SPECS[case]
    spec = write(tmp_path, text)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert expected in err
    assert "Traceback" not in err


def test_missing_spec_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(tmp_path / "nope.toml")]) == 2
    assert "no sweep spec at" in capsys.readouterr().err


def test_every_shipped_example_spec_validates() -> None:
    examples = sorted((ROOT / "examples").glob("*.toml"))
    assert examples
    for path in examples:
        assert load_spec(path).cells()


def test_a_policy_folder_without_the_policy_is_refused_before_any_cell_runs(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    spec = write(tmp_path, '[coordinators.s]\nkind = "steer"\npolicies = "empty"\n[[experiments]]\n'
                           'coordinators = ["s"]\ntasks = [{family = "alloc", agents = [3]}]\n')
    with pytest.raises(Exception, match="no steer run for alloc-n3 seed 0"):
        run_sweep(spec, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out" / "cells").exists()


# ------------------------------------------------------------------------- the local executor
@pytest.mark.torch
def test_local_sweep_plays_every_cell_once_and_a_rerun_plays_none(tmp_path: Path, scripted_provider: object) -> None:
    spec = write(tmp_path, MIXED)
    out = tmp_path / "out"
    report = run_sweep(spec, out, workers=2, quiet=True)
    cells = load_spec(spec).cells()
    assert len(cells) == 13
    assert sorted(report.outcome.ran) == sorted(c.id for c in cells) and not report.outcome.failed
    assert sorted(report.outcome.policies) == sorted(
        f"{c}/{t}/s0" for c in ("steer", "student") for t in ("grid-easy-2x2", "alloc-n3"))
    rows = read_table(out)
    assert [r["cell"] for r in rows] == [c.id for c in cells]  # the spec's order, one row each
    greedy = rows[0]
    assert greedy["cell"] == "grid-easy-2x2-i0/greedy/s0" and greedy["success"]
    assert greedy["greedy_steps"] == greedy["steps"] and greedy["llm_calls"] == 0
    steer = next(r for r in rows if r["kind"] == "steer")
    assert steer["policy"].startswith("policies/steer/") and steer["policy_env_steps"] == 2048
    for row in rows:
        if row["kind"] in ("llamac", "hmas2"):
            assert row["tokens"] == row["llm_calls"] * CALL_TOKENS > 0
    assert report.tokens == sum(r["tokens"] for r in rows)
    assert (out / "results.csv").read_text().count("\n") == len(rows) + 1

    again = run_sweep(spec, out, workers=2, quiet=True)
    second = runs(out)[-1]
    assert not [e for e in events(out, second) if e["event"] in ("cell_start", "train_start", "distill_start")]
    assert again.finished_before == len(cells) and read_table(out) == rows


def test_a_sweep_killed_half_way_reruns_only_the_missing_cells(tmp_path: Path) -> None:
    spec = write(tmp_path, '[coordinators.greedy]\nkind = "greedy"\n[[experiments]]\ncoordinators = ["greedy"]\n'
                           'tasks = [{family = "grid", difficulty = ["easy", "hard"], sizes = ["2x4", "4x8"]}]\n')
    out = tmp_path / "out"
    proc = sweep_until(spec, out, 5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    cells = load_spec(spec).cells()
    finished_first = [c.id for c in cells if (out / "cells" / c.task.label() / "greedy" / "s0" / "episodes" / "000" / "summary.json").is_file()]
    assert 5 <= len(finished_first) < len(cells)

    report = run_sweep(spec, out, workers=1, quiet=True)
    started = [e["cell"] for e in events(out, runs(out)[-1]) if e["event"] == "cell_start"]
    assert sorted(started) == sorted(set(c.id for c in cells) - set(finished_first))
    assert report.finished_before == len(finished_first) and not report.outcome.failed
    assert [r["cell"] for r in read_table(out)] == [c.id for c in cells]


def test_a_cell_interrupted_mid_episode_continues_from_its_checkpoint(tmp_path: Path, scripted_provider: object) -> None:
    spec = write(tmp_path, '[coordinators.h]\nkind = "hmas2"\nmax_steps = 4\n[[experiments]]\ncoordinators = ["h"]\n'
                           'tasks = [{family = "alloc", agents = [2]}]\n')
    out = tmp_path / "out"
    answer = schema_answers()
    endpoint = scripted_provider
    endpoint.replies = lambda i, body: error(500) if i >= 7 else answer(i, body)  # type: ignore[attr-defined]
    first = run_sweep(spec, out, quiet=True)
    assert "stopped by provider_error" in first.outcome.failed["alloc-n2-s0/h/s0"]
    folder = out / "cells" / "alloc-n2-s0" / "h" / "s0"
    stopped = json.loads((folder / "episodes" / "000" / "summary.json").read_text())
    assert stopped["end_reason"] == "provider_error"  # a summary of the partial episode, and resumable
    lines = [json.loads(x) for x in (folder / "episodes" / "000" / "steps.jsonl").read_text().splitlines()]
    done_steps = [x["t"] for x in lines if x["executed"]]
    assert done_steps and stopped["steps"] == len(done_steps)  # it got somewhere before the provider failed
    assert not read_table(out)  # a stopped cell is not a result yet

    endpoint.replies = answer  # type: ignore[attr-defined]
    calls_before = len(endpoint.seen)  # type: ignore[attr-defined]
    second = run_sweep(spec, out, quiet=True)
    assert second.outcome.resumed == ["alloc-n2-s0/h/s0"] and not second.outcome.failed
    steps = [json.loads(x)["t"] for x in (folder / "episodes" / "000" / "steps.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3]  # each step once: the checkpointed ones were not played again
    per_step = 3  # HMAS-2 on 2 agents: planner + 2 agents
    assert len(endpoint.seen) - calls_before == per_step * (4 - len(done_steps))  # type: ignore[attr-defined]


def test_a_spent_budget_ends_the_cell_and_leaves_later_llm_cells_for_a_later_run(tmp_path: Path, scripted_provider: object) -> None:
    spec = write(tmp_path, 'budget_tokens = 700\nllm_concurrency = 1\n[coordinators.h]\nkind = "hmas2"\nmax_steps = 3\n'
                           '[[experiments]]\ncoordinators = ["h"]\ntasks = [{family = "alloc", agents = [2], seeds = [0, 1, 2]}]\n')
    out = tmp_path / "out"
    report = run_sweep(spec, out, quiet=True)
    rows = read_table(out)
    assert [r["end_reason"] for r in rows][-1] == "budget_exhausted"
    assert report.outcome.not_started and report.tokens <= 700
    assert len(rows) + len(report.outcome.not_started) == 3


def test_a_cell_folder_run_with_other_settings_is_never_overwritten(tmp_path: Path) -> None:
    base = '[coordinators.g]\nkind = "greedy"\n{extra}[[experiments]]\ncoordinators = ["g"]\ntasks = [{{family = "grid", sizes = ["2x2"], instances = [0]}}]\n'
    spec = write(tmp_path, base.format(extra=""))
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, quiet=True)
    before = (out / "cells" / "grid-easy-2x2-i0" / "g" / "s0" / "config.json").read_text()
    (out / "cells" / "grid-easy-2x2-i0" / "g" / "s0" / "episodes" / "000" / "summary.json").unlink()
    spec.write_text(base.format(extra="max_steps = 2\n"))
    report = run_sweep(spec, out, workers=1, quiet=True)
    assert "run with other settings (max_steps differs)" in report.outcome.failed["grid-easy-2x2-i0/g/s0"]
    assert (out / "cells" / "grid-easy-2x2-i0" / "g" / "s0" / "config.json").read_text() == before


def test_scripted_provider_answers_a_plan_and_agrees(scripted_provider: object) -> None:
    reply = schema_answers(amount=4)
    status, _, body = reply(0, {"response_format": {"schema": {"type": "object", "properties": {"Agent[0]": {
        "type": "integer", "minimum": 0, "maximum": 9}}}}})
    assert status == 200 and json.loads(body["choices"][0]["message"]["content"]) == {"Agent[0]": 4}
    assert reply(1, {})[2] == completion("I Agree", 100, 10)[2]


def test_llm_cells_on_the_local_model_share_one_server_started_once(tmp_path: Path, scripted_provider: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With no provider configured the local model serves every LLM cell: one server per sweep run, not one
    per cell. (The "server" here is the scripted endpoint, started where the local one would be.)"""
    from llamac.runtime import local_model

    endpoint = scripted_provider
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name)
    started: list[str] = []

    class CountedServer:
        url = endpoint.url  # type: ignore[attr-defined]

        async def __aenter__(self) -> Any:
            started.append(self.url)
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(local_model.LocalModelServer, "from_settings", classmethod(lambda cls, *a, **k: CountedServer()))
    monkeypatch.setattr(local_model, "model_file", lambda *a, **k: tmp_path / "model.gguf")
    spec = write(tmp_path, '[coordinators.h]\nkind = "hmas2"\nmax_steps = 2\n[coordinators.l]\nkind = "llamac"\n'
                           'max_steps = 2\n[[experiments]]\ncoordinators = ["h", "l"]\n'
                           'tasks = [{family = "alloc", agents = [2], seeds = [0, 1]}]\n')
    report = run_sweep(spec, tmp_path / "out", quiet=True)
    assert len(report.outcome.ran) == 4 and not report.outcome.failed
    assert started == [endpoint.url]  # type: ignore[attr-defined]
    assert len(endpoint.seen) == sum(r["llm_calls"] for r in read_table(tmp_path / "out"))  # type: ignore[attr-defined]


def test_a_train_block_with_a_recipe_trains_the_recipe_of_each_task_shape(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the rl extra (torch) is not installed")
    spec = write(tmp_path, '[coordinators.steer]\nkind = "steer"\ntrain = { recipe = "auto", steps = 2048 }\n'
                           '[coordinators.mappo]\nkind = "mappo"\ntrain = { recipe = "grid-easy-2x2", steps = 2048 }\n'
                           '[[experiments]]\ncoordinators = ["steer", "mappo"]\n'
                           'tasks = [{family = "grid", sizes = ["2x2"], instances = [0]}]\n')
    out = tmp_path / "out"
    report = run_sweep(spec, out, workers=1, quiet=True)
    assert not report.outcome.failed
    for algo in ("steer", "mappo"):
        (config,) = (out / "policies" / algo).rglob("config.json")
        data = json.loads(config.read_text())
        assert data["recipe"]["name"] == "grid-easy-2x2" and data["recipe"]["algo"] == algo
        assert data["ppo"]["total_steps"] == 2048  # the block's steps override the recipe's budget
    rows = {r["coordinator"]: r for r in read_table(out)}
    assert set(rows) == {"steer", "mappo"} and all(r["steps"] >= 1 for r in rows.values())


def test_a_train_blocks_minutes_cap_the_recipes_wall_time(tmp_path: Path) -> None:
    """``minutes`` replaces the recipe's budget_minutes: a cap of 0.03 s stops after the first update,
    far short of the recipe's 100k steps."""
    pytest.importorskip("torch", reason="the rl extra (torch) is not installed")
    spec = write(tmp_path, '[coordinators.steer]\nkind = "steer"\ntrain = { recipe = "auto", minutes = 0.0005 }\n'
                           '[[experiments]]\ncoordinators = ["steer"]\n'
                           'tasks = [{family = "grid", sizes = ["2x2"], instances = [0]}]\n')
    out = tmp_path / "out"
    assert not run_sweep(spec, out, workers=1, quiet=True).outcome.failed
    (config,) = (out / "policies" / "steer").rglob("config.json")
    data = json.loads(config.read_text())
    assert data["ppo"]["total_steps"] == 100_000
    assert 0 < data["final"]["env_steps"] <= data["ppo"]["n_envs"] * data["ppo"]["episode_length"]


def test_a_recipe_the_task_shape_has_none_of_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch", reason="the rl extra (torch) is not installed")
    spec = write(tmp_path, '[coordinators.steer]\nkind = "steer"\ntrain = { recipe = "auto", steps = 256 }\n'
                           '[[experiments]]\ncoordinators = ["steer"]\ntasks = [{family = "alloc", agents = [3]}]\n')
    code = main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and "no rl_bridge recipe trains" in err and "Traceback" not in err


def test_a_killed_sweep_writes_the_table_of_its_finished_cells(tmp_path: Path) -> None:
    """``kill`` (SIGTERM) stops a sweep as Ctrl-C would: exit 130, the finished cells' table written."""
    spec = write(tmp_path, '[coordinators.greedy]\nkind = "greedy"\n[[experiments]]\ncoordinators = ["greedy"]\n'
                           'tasks = [{family = "grid", difficulty = ["easy", "hard"], sizes = ["2x4", "4x8"]},\n'
                           '         {family = "alloc", agents = [5, 10, 50], seeds = "0-9"}]\n')
    out = tmp_path / "out"
    proc = sweep_until(spec, out, 3)
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err.decode()
    assert "run the same command again" in err.decode() and "Traceback" not in err.decode()
    done = {e["cell"] for e in events(out) if e["event"] == "cell_done"}
    rows = read_table(out)
    assert 3 <= len(rows) < len(load_spec(spec).cells())
    finished = {c.id for c in load_spec(spec).cells()
                if (out / "cells" / c.task.label() / "greedy" / "s0" / "episodes" / "000" / "summary.json").is_file()}
    assert done <= {r["cell"] for r in rows} == finished  # a worker may finish a cell as the interrupt lands
