"""The memory store is what the prompts read: a run resumed in another process, from a copy of its run
folder that carries no steps file (as on another machine), still shows the first process's steps in
its prompts when both share one Redis memory namespace, and refuses to go on without it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.llamac.fake_endpoint import error, schema_answers, serve

pytestmark = pytest.mark.redis


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llamac.run", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_second_process_reads_the_first_ones_steps_from_the_shared_store(tmp_path: Path, redis_url: str) -> None:
    answer = schema_answers(amount=4)
    endpoint, stop = serve(lambda i, body: error(500) if i == 6 else answer(i, body))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMAC_") and k not in ("OPENAI_API_KEY", "REDIS_URL")}
    env.update(OPENAI_BASE_URL=endpoint.url, OPENAI_API_KEY="sk-scripted", LLAMAC_ENDPOINT="llama_cpp",
               LLAMAC_MAX_RETRIES="0", REDIS_URL=redis_url)
    try:
        first = tmp_path / "first"
        done = run(["alloc", "--agents", "2", "--coordinator", "hmas2", "--max-steps", "4", "--out", str(first),
                    "--quiet"], env)
        assert done.returncode == 1 and "stopped: provider_error" in done.stderr  # steps 0 and 1 played
        # the run folder elsewhere, without its steps file: the memory of steps 0-1 lives in Redis only
        moved = tmp_path / "elsewhere"
        shutil.copytree(first, moved, ignore=shutil.ignore_patterns("steps.jsonl"))
        assert not (moved / "episodes" / "000" / "steps.jsonl").exists()

        without = run(["resume", str(moved), "--quiet"], {k: v for k, v in env.items() if k != "REDIS_URL"})
        assert without.returncode == 2 and "neither in the memory store nor in the steps file" in without.stderr

        asked_before = len(endpoint.seen)
        resumed = run(["resume", str(moved), "--quiet"], env)
        assert resumed.returncode == 0, resumed.stderr
    finally:
        stop()
    prompt = endpoint.seen[asked_before].body["messages"][0]["content"]  # the second process's first call
    assert "step 0:" in prompt and "step 1:" in prompt and '"Agent[0]": "4"' in prompt
    steps = [json.loads(x)["t"] for x in (moved / "episodes" / "000" / "steps.jsonl").read_text().splitlines()]
    assert steps == [2, 3]
    summary = json.loads((moved / "episodes" / "000" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["end_reason"] == "max_steps"
