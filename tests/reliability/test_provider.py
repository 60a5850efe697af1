"""A provider that fails: the episode ends with a summary and a resumable state, never a traceback;
the key never reaches a run file; usage a provider cannot have meant is not trusted."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from llamac.app.cli import main
from tests.llamac.fake_endpoint import completion, error, schema_answers
from tests.reliability.conftest import SENTINEL_KEY, run_files

ANSWER = schema_answers()


def hang(index: int, body: dict[str, Any]) -> Any:
    time.sleep(2.5)  # past the 1 s request timeout of every attempt
    return ANSWER(index, body)


def no_choices(index: int, body: dict[str, Any]) -> Any:
    return 200, {}, {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [],
                     "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}


FAILURES = {
    "500 forever": lambda i, b: error(500),
    "a hang past the timeout": hang,
    "503 with Retry-After forever": lambda i, b: error(503, {"retry-after": "0.05"}),
    "an HTML body": lambda i, b: (200, {}, b"<html><body>502 Bad Gateway</body></html>"),
    "choices: []": no_choices,
}
MALFORMED = {"an HTML body", "choices: []"}


def run(out: Path, *extra: str) -> int:
    return main(["alloc", "--agents", "2", "--coordinator", "hmas2", "--max-steps", "2", "--out", str(out), "--quiet",
                 *extra])


def steps(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / "episodes" / "000" / "steps.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failing_provider_ends_the_episode_with_a_summary_and_resume_continues_it(
        failure: str, provider: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = provider(FAILURES[failure])
    out = tmp_path / "run"
    assert run(out) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("stopped: provider_error") and "resume with" in err
    assert "Traceback" not in err
    summary = json.loads((out / "episodes" / "000" / "summary.json").read_text())
    assert summary["end_reason"] == "provider_error" and summary["steps"] == 0
    calls = [json.loads(x) for x in (out / "calls.jsonl").read_text().splitlines()]
    assert calls[-1]["retries"] == 2 and not calls[-1]["valid"]  # bounded: the first attempt and 2 retries
    if failure in MALFORMED:
        assert calls[-1]["malformed"] == 3  # each body counted as it was retried

    endpoint.replies = ANSWER  # the provider is back
    assert main(["resume", str(out), "--quiet"]) == 0
    assert [s["t"] for s in steps(out)] == [0, 1]  # the stopped decision was asked again, once
    assert json.loads((out / "episodes" / "000" / "summary.json").read_text())["end_reason"] == "max_steps"


def test_the_call_deadline_bounds_retries_of_a_silent_provider(provider: Any, tmp_path: Path) -> None:
    provider(hang, LLAMAC_MAX_RETRIES="50", LLAMAC_CALL_DEADLINE_S="3")
    started = time.monotonic()
    assert run(tmp_path / "run") == 1
    assert time.monotonic() - started < 30  # 50 retries x 1 s would be a minute; the deadline stops at ~3 s
    calls = [json.loads(x) for x in (tmp_path / "run" / "calls.jsonl").read_text().splitlines()]
    assert calls[-1]["retries"] < 5


def test_default_deadlines_bound_a_dead_provider_to_minutes(clean_env: pytest.MonkeyPatch) -> None:
    from llamac.runtime.settings import Settings

    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = Settings(_env_file=None)
    assert settings.resolved_call_deadline_s() <= 300 and settings.resolved_request_timeout_s() <= 120


def test_the_key_never_reaches_a_run_file_nor_the_terminal(provider: Any, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = provider()

    def echo_key(index: int, body: dict[str, Any]) -> Any:  # an endpoint that quotes the request's key back
        key = endpoint.seen[index].headers.get("authorization", "")
        return error(500, message=f"invalid request with {key}")

    endpoint.replies = echo_key
    out = tmp_path / "run"
    assert run(out) == 1
    endpoint.replies = ANSWER
    assert main(["resume", str(out), "--quiet"]) == 0
    assert SENTINEL_KEY in endpoint.seen[0].headers["authorization"]  # it was sent, and echoed back
    printed = capsys.readouterr()
    assert SENTINEL_KEY not in printed.out + printed.err
    leaked = [name for name, data in run_files(out).items() if SENTINEL_KEY.encode() in data]
    assert leaked == [], leaked
    assert (out / "checkpoints.sqlite").is_file() and (out / "log.jsonl").is_file()


@pytest.mark.parametrize("usage", ["negative", "missing"])
def test_usage_a_provider_cannot_have_meant_is_charged_at_the_reservation(usage: str, provider: Any,
                                                                          tmp_path: Path) -> None:
    def answer(index: int, body: dict[str, Any]) -> Any:
        status, headers, payload = ANSWER(index, body)
        text = payload["choices"][0]["message"]["content"]
        if usage == "negative":
            return completion(text, prompt_tokens=-500, completion_tokens=-5)
        payload = {k: v for k, v in completion(text)[2].items() if k != "usage"}
        return 200, {}, payload

    provider(answer)
    budget = 3000
    out = tmp_path / "run"
    assert main(["alloc", "--agents", "2", "--coordinator", "hmas2", "--max-steps", "20", "--budget", str(budget),
                 "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "episodes" / "000" / "summary.json").read_text())
    calls = [json.loads(x) for x in (out / "calls.jsonl").read_text().splitlines()]
    assert all(c["usage_estimated"] for c in calls) and all(c["prompt_tokens"] > 0 for c in calls)
    assert summary["end_reason"] == "budget_exhausted"  # charging nothing, it would have run all 20 steps
    spent = sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls)
    assert summary["tokens"] > 0 and spent <= budget
