"""The Ray executor against a real local Ray instance (started and stopped by each test).

With ``CI=true`` a missing Ray fails these tests (``service_missing``); elsewhere they are skipped.
LLM cells use the scripted loopback endpoint of ``test_sweep`` (not a model).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from llamac.app.sweep import run_sweep
from llamac.app.sweep.spec import load_spec
from llamac.app.sweep.table import TIMING_COLUMNS, read_table
from tests.conftest import service_missing
from tests.llamac.fake_endpoint import schema_answers
from tests.llamac.sweep_support import CALL_TOKENS, MIXED, events, runs, write

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(autouse=True)
def ray_installed() -> None:
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        service_missing("Ray", f"the ray extra is not installed ({exc})")


def untimed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


@pytest.mark.torch
def test_local_and_ray_sweeps_give_identical_tables(tmp_path: Path, scripted_provider: Any) -> None:
    spec = write(tmp_path, MIXED)
    local = run_sweep(spec, tmp_path / "local", executor="local", workers=2, quiet=True)
    on_ray = run_sweep(spec, tmp_path / "ray", executor="ray", workers=2, quiet=True)
    assert not local.outcome.failed and not on_ray.outcome.failed
    assert len(on_ray.outcome.ran) == len(load_spec(spec).cells()) == 13
    assert [e["executor"] for e in events(tmp_path / "ray") if e["event"] == "cell_start"] == ["ray"] * 13
    local_rows, ray_rows = read_table(tmp_path / "local"), read_table(tmp_path / "ray")
    assert untimed(local_rows) == untimed(ray_rows)
    assert {r["kind"] for r in ray_rows} == {"greedy", "steer", "student", "llamac", "hmas2"}


@pytest.mark.redis
def test_four_ray_workers_never_overspend_one_redis_budget(tmp_path: Path, scripted_provider: Any, redis_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("LLAMAC_MAX_OUTPUT_TOKENS", "40")
    budget = 3000
    spec = write(tmp_path, f'budget_tokens = {budget}\nllm_concurrency = 8\n[coordinators.h]\nkind = "hmas2"\n'
                           'max_steps = 6\n[[experiments]]\ncoordinators = ["h"]\n'
                           'tasks = [{family = "alloc", agents = [3], seeds = "0-7"}]\n')
    out = tmp_path / "out"
    report = run_sweep(spec, out, executor="ray", workers=4, quiet=True)
    calls = [json.loads(line) for path in sorted((out / "cells").rglob("calls.jsonl"))
             for line in path.read_text().splitlines() if line.strip()]
    spent = sum(c["prompt_tokens"] + c["completion_tokens"] for c in calls)
    largest_reservation = max(c["reserved_tokens"] for c in calls)
    assert spent == report.tokens == len(calls) * CALL_TOKENS
    assert spent <= budget + largest_reservation
    rows = read_table(out)
    assert "budget_exhausted" in {r["end_reason"] for r in rows}
    assert len({c["run"] for c in calls}) >= 2  # several cells drew on the one budget
    assert spent > budget - 4 * largest_reservation  # and it was spent, not refused early


def _kill_first_llm_worker(killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the first Ray worker process that runs an LLM cell (its title names the task)."""
    import psutil

    while not stop.is_set():
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if any("_llm_cell" in part for part in (proc.info["cmdline"] or [])):
                proc.send_signal(signal.SIGKILL)
                killed.append(proc.info["pid"])
                return
        time.sleep(0.05)


def test_ray_retries_a_cell_whose_worker_died(tmp_path: Path, scripted_provider: Any) -> None:
    answer = schema_answers()

    def slow(index: int, body: dict[str, Any]) -> Any:
        time.sleep(0.2)
        return answer(index, body)

    scripted_provider.replies = slow
    spec = write(tmp_path, '[coordinators.h]\nkind = "hmas2"\nmax_steps = 4\n[[experiments]]\ncoordinators = ["h"]\n'
                           'tasks = [{family = "alloc", agents = [2]}]\n')
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_llm_worker, args=(killed, stop), daemon=True)
    killer.start()
    try:
        report = run_sweep(spec, tmp_path / "out", executor="ray", workers=2, quiet=True)
    finally:
        stop.set()
        killer.join(5)
    assert killed, "no LLM cell worker was seen to kill"
    assert not report.outcome.failed and report.outcome.ran == ["alloc-n2-s0/h/s0"]
    steps = (tmp_path / "out" / "cells" / "alloc-n2-s0" / "h" / "s0" / "episodes" / "000" / "steps.jsonl").read_text()
    assert [json.loads(x)["t"] for x in steps.splitlines()] == [0, 1, 2, 3]
    assert [e["event"] for e in events(tmp_path / "out", runs(tmp_path / "out")[-1])].count("cell_start") == 1
