"""The CLI's LLM wiring (settings -> gateway, budget, metering, LLaMAC/HMAS-2 coordinators) with the
provider's chat model swapped for a ScriptedChatModel: no network, no local server.

What is checked is plumbing the CLI owns: the budget stops a run cleanly with partial results, the
calls log lands in the run folder, and the counters in the summary equal the calls log.
"""

from __future__ import annotations

import json

import pytest

from llamac.app.cli import main
from llamac.runtime.gateway import LLMGateway
from llamac.runtime.metering import read_calls
from llamac.runtime.scripted_model import ScriptedChatModel


@pytest.fixture(autouse=True)
def _scripted_provider(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("LLAMAC_CHECKPOINT_URL", "REDIS_URL", "OPENAI_BASE_URL", "LLAMAC_BUDGET_TOKENS",
                 "LLAMAC_PROVIDER", "LLAMAC_LOCAL_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted-not-sent")  # provider: openai, so no local server
    model = ScriptedChatModel(script=["this is not a plan"], cycle=True)
    monkeypatch.setattr(LLMGateway, "_chat_openai", lambda self, name, cap: model)
    return model


@pytest.mark.parametrize("coordinator", ["llamac", "hmas2"])
def test_budget_too_small_for_one_call_stops_cleanly_with_partial_results(tmp_path, capsys, coordinator):
    code = main(["grid", "--size", "2x2", "--coordinator", coordinator, "--budget", "20", "--out", "r", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads((tmp_path / "r/episodes/000/summary.json").read_text())
    assert summary["end_reason"] == "budget_exhausted" and summary["success"] is False
    assert summary["steps"] == 0 and summary["llm_calls"] == 0
    (line,) = [json.loads(x) for x in (tmp_path / "r/episodes/000/steps.jsonl").read_text().splitlines()]
    assert line["executed"] is False and line["end_reason"] == "budget_exhausted"
    assert "budget_exhausted" in out


def test_budget_setting_is_the_default_budget_and_is_kept_for_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LLAMAC_BUDGET_TOKENS", "20")
    code = main(["grid", "--size", "2x2", "--coordinator", "llamac", "--out", "r", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "r/config.json").read_text())["budget"] == 20
    summary = json.loads((tmp_path / "r/episodes/000/summary.json").read_text())
    assert summary["end_reason"] == "budget_exhausted" and summary["llm_calls"] == 0


def test_budget_option_wins_over_the_setting(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LLAMAC_BUDGET_TOKENS", "20")
    argv = ["grid", "--size", "2x2", "--coordinator", "hmas2", "--budget", "100000", "--out", "r", "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "r/config.json").read_text())["budget"] == 100000
    assert json.loads((tmp_path / "r/episodes/000/summary.json").read_text())["end_reason"] == "syntactic_error"


def test_unparseable_plans_end_in_syntactic_error_and_counters_match_the_calls_log(tmp_path, capsys):
    code = main(["grid", "--size", "2x2", "--coordinator", "hmas2", "--out", "r", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    summary = json.loads((tmp_path / "r/episodes/000/summary.json").read_text())
    assert summary["end_reason"] == "syntactic_error" and summary["steps"] == 0
    calls = read_calls(tmp_path / "r/calls.jsonl")
    assert summary["llm_calls"] == len(calls) >= 2  # the first plan and its bounded re-plans
    assert summary["prompt_tokens"] == sum(c.prompt_tokens for c in calls)
    assert summary["completion_tokens"] == sum(c.completion_tokens for c in calls)
    assert summary["tokens"] == summary["prompt_tokens"] + summary["completion_tokens"] > 0
    assert "sk-scripted-not-sent" not in (tmp_path / "r/config.json").read_text()


def test_resumed_llm_run_keeps_the_budget_it_already_spent(tmp_path, capsys, monkeypatch, _scripted_provider):
    from llamac.app.build import LLMRuntime

    said = {"n": 0}

    def crash_on_third_call(messages):
        said["n"] += 1
        if said["n"] == 3:
            raise RuntimeError("provider fell over")
        return "this is not a plan"

    _scripted_provider.script = crash_on_third_call
    argv = ["grid", "--size", "2x2", "--coordinator", "hmas2", "--budget", "100000", "--out", "r", "--quiet"]
    assert main(argv) == 1
    assert "resume" in capsys.readouterr().err
    spent = sum(c.prompt_tokens + c.completion_tokens for c in read_calls(tmp_path / "r/calls.jsonl"))
    assert spent > 0

    granted: list[int | None] = []
    enter = LLMRuntime.__aenter__

    async def spy(self):
        granted.append(self.budget_total)
        return await enter(self)

    monkeypatch.setattr(LLMRuntime, "__aenter__", spy)
    assert main(["resume", "r", "--quiet"]) == 0, capsys.readouterr().err
    assert granted == [100000 - spent]
    summary = json.loads((tmp_path / "r/episodes/000/summary.json").read_text())
    assert summary["end_reason"] == "syntactic_error"
    # the crashed decision's two calls are in the calls log but in no episode summary
    run = json.loads((tmp_path / "r/summary.json").read_text())
    assert run["calls_log"]["llm_calls"] == summary["llm_calls"] + 3
    assert run["calls_log"]["tokens"] == summary["tokens"] + spent


def test_live_totals_for_the_progress_bar_are_the_metered_calls(tmp_path, make_settings):
    from llamac.app.build import LLMRuntime
    from llamac.runtime.gateway import CallRecord
    from llamac.runtime.metering import Metering

    runtime = LLMRuntime(make_settings(), "r", tmp_path, None)
    assert runtime.live_totals() == (0, 0)
    runtime.metering = Metering("r")
    for prompt, completion in ((100, 20), (50, 5)):
        runtime.metering.record(CallRecord(run="r", step=0, role="actor", agent=None, model="m",
                                           prompt_tokens=prompt, completion_tokens=completion, cached_tokens=0,
                                           latency_s=0.1, retries=0, structured_path="plain", valid=True))
    assert runtime.live_totals() == (2, 175)


def test_llamac_knobs_reach_the_coordinator_and_the_run_config(tmp_path, capsys):
    from types import SimpleNamespace

    from llamac.app.build import build_coordinator
    from llamac.app.run_config import CoordinatorSpec
    from tasks.grid_easy import GridEasy

    argv = ["grid", "--size", "2x2", "--critics", "merged", "--actor-context", "local", "--actor-gate", "direct",
            "--out", "r", "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    spec = json.loads((tmp_path / "r/config.json").read_text())["coordinator"]
    assert spec["critics"] == "merged" and spec["actor_context"] == "local" and spec["actor_gate"] == "direct"
    assert {c.role for c in read_calls(tmp_path / "r/calls.jsonl")} == {"critic_pair", "assessor"}  # merged: no split critics
    coordinator = build_coordinator(CoordinatorSpec(**spec), GridEasy.from_instance(2, 2, 0),
                                    SimpleNamespace(gateway=None))
    assert coordinator.config.critics == "merged" and coordinator.config.actor_context == "local"
    assert coordinator.config.actor_gate == "direct"
