"""What the sweep tests share: spec files, the sweep's event log, a mixed spec, and the scripted provider.

The scripted provider is ``fake_endpoint.schema_answers`` on loopback (a fixed allocation plan for every
planning request, "I Agree" for every actor): not a model, for orchestration tests only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llamac.app.sweep.plan import EVENTS
from tests.conftest import ROOT
from tests.llamac.fake_endpoint import FakeEndpoint, schema_answers, serve

CALL_TOKENS = 110  # schema_answers: 100 prompt + 10 completion tokens per call


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def events(out: Path, run: str | None = None) -> list[dict]:
    lines = [json.loads(x) for x in (out / EVENTS).read_text().splitlines() if x.strip()]
    return [e for e in lines if run is None or e.get("run") == run]


def runs(out: Path) -> list[str]:
    return [e["run"] for e in events(out) if e["event"] == "sweep_start"]


def scripted_provider_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEndpoint]:
    """The scripted endpoint as the OpenAI-compatible provider of every LLM cell."""
    endpoint, stop = serve(schema_answers())
    for name in list(os.environ):
        if name.startswith("LLAMAC_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-scripted")
    monkeypatch.setenv("LLAMAC_ENDPOINT", "llama_cpp")  # the schema travels in response_format
    monkeypatch.setenv("LLAMAC_MAX_RETRIES", "0")
    yield endpoint
    stop()


MIXED = """
name = "mixed"
budget_tokens = 1_000_000

[coordinators.greedy]
kind = "greedy"

[coordinators.steer]
kind = "steer"
train = { steps = 2048 }

[coordinators.student]
kind = "student"
teacher = "steer"
distill = { teacher_steps = 512, epochs = 2 }

[coordinators.llamac-lean]
kind = "llamac"
preset = "lean"
max_steps = 3

[coordinators.hmas2]
kind = "hmas2"
max_steps = 2

[[experiments]]
coordinators = ["greedy", "steer", "student"]
tasks = [{ family = "grid", difficulty = "easy", sizes = ["2x2"], instances = [0, 1] },
         { family = "alloc", agents = [3], seeds = [0] }]

[[experiments]]
coordinators = ["llamac-lean", "hmas2"]
tasks = [{ family = "alloc", agents = [3], seeds = [0, 1] }]
"""




def sweep_until(spec: Path, out: Path, cells_done: int) -> subprocess.Popen:
    """A sweep started as a user would (its own session), returned once ``cells_done`` cells finished."""
    proc = subprocess.Popen([sys.executable, "-m", "llamac.run", "sweep", str(spec), "--out", str(out), "--workers", "1",
                             "--quiet"], cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (out / EVENTS).is_file() and sum(e["event"] == "cell_done" for e in events(out)) >= cells_done:
            return proc
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "the sweep ended early")
        time.sleep(0.05)
    os.killpg(proc.pid, 9)
    raise AssertionError(f"fewer than {cells_done} cells finished in 120 s")
