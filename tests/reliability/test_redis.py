"""Redis going away mid-run (fault injection on a throwaway Redis-protocol server): the budget is never
granted again in full, the run stops with an end reason naming Redis, and resume finishes within budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llamac.app.cli import main
from tests.llamac.fake_endpoint import schema_answers

pytestmark = pytest.mark.redis


def calls(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "calls.jsonl").read_text().splitlines() if x.strip()]


@pytest.mark.parametrize("outage", ["restarted without its data", "down"])
def test_redis_lost_mid_run_never_regrants_the_budget(outage: str, provider: Any, throwaway_redis: Any,
                                                      clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    answer = schema_answers()
    port = throwaway_redis.port

    def answer_then_fail_redis(index: int, body: dict[str, Any]) -> Any:
        if index == 5:  # mid-run, between a reservation and its settlement
            throwaway_redis.stop()
            if outage == "restarted without its data":
                throwaway_redis.start()  # same port, empty: the run's ledger is gone
        return answer(index, body)

    provider(answer_then_fail_redis, LLAMAC_MAX_OUTPUT_TOKENS="40")
    clean_env.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    budget = 3000
    out = tmp_path / "run"
    code = main(["alloc", "--agents", "2", "--coordinator", "hmas2", "--max-steps", "30", "--budget", str(budget),
                 "--out", str(out), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("stopped: redis_unavailable") and err.count("\n") == 0
    stopped = json.loads((out / "episodes" / "000" / "summary.json").read_text())
    assert stopped["end_reason"] == "redis_unavailable"
    spent_first = sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls(out))
    assert 0 < spent_first < budget

    if not throwaway_redis.is_running():
        throwaway_redis.start()
    assert main(["resume", str(out), "--quiet"]) == 0
    final = json.loads((out / "episodes" / "000" / "summary.json").read_text())
    assert final["end_reason"] == "budget_exhausted"  # ended by what the budget left, not re-granted in full
    records = calls(out)
    spent = sum(c["prompt_tokens"] + c["completion_tokens"] for c in records)
    assert spent <= budget + max(c["reserved_tokens"] for c in records)
