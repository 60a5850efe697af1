"""Settings and services are checked before a run starts: one line naming the variable, exit 2, no run
folder left behind, and no hang on a port that never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llamac.app.cli import main


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (not PostgreSQL, not Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cases(tmp_path: Path, silent: int) -> dict[str, tuple[dict[str, str], str]]:
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_text("this is not a model")
    return {
        "OPENAI_BASE_URL not a URL": ({"OPENAI_BASE_URL": "not-a-url"}, "OPENAI_BASE_URL"),
        "REDIS_URL garbage": ({"REDIS_URL": "garbage"}, "REDIS_URL"),
        "REDIS_URL closed port": ({"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}, "REDIS_URL"),
        "LLAMAC_CHECKPOINT_URL garbage": ({"LLAMAC_CHECKPOINT_URL": "garbage"}, "LLAMAC_CHECKPOINT_URL"),
        "LLAMAC_CHECKPOINT_URL not PostgreSQL": ({"LLAMAC_CHECKPOINT_URL": f"postgresql://postgres@127.0.0.1:{silent}/test"},
                                                  "LLAMAC_CHECKPOINT_URL"),
        "LLAMAC_LOCAL_URL garbage": ({"LLAMAC_LOCAL_URL": "garbage"}, "LLAMAC_LOCAL_URL"),
        "LLAMAC_LOCAL_URL silent": ({"LLAMAC_LOCAL_URL": f"http://127.0.0.1:{silent}/v1"}, "LLAMAC_LOCAL_URL"),
        "LLAMAC_LOCAL_MODEL not GGUF": ({"LLAMAC_LOCAL_MODEL": str(not_gguf)}, "LLAMAC_LOCAL_MODEL"),
        "LLAMAC_LOG_LEVEL unknown": ({"LLAMAC_LOG_LEVEL": "NOPE"}, "LLAMAC_LOG_LEVEL"),
        "LLAMAC_BUDGET_TOKENS negative": ({"LLAMAC_BUDGET_TOKENS": "-5"}, "LLAMAC_BUDGET_TOKENS"),
        "LLAMAC_TEMPERATURE not a number": ({"LLAMAC_TEMPERATURE": "hot"}, "LLAMAC_TEMPERATURE"),
    }


CASES = ["OPENAI_BASE_URL not a URL", "REDIS_URL garbage", "REDIS_URL closed port", "LLAMAC_CHECKPOINT_URL garbage",
         "LLAMAC_CHECKPOINT_URL not PostgreSQL", "LLAMAC_LOCAL_URL garbage", "LLAMAC_LOCAL_URL silent",
         "LLAMAC_LOCAL_MODEL not GGUF", "LLAMAC_LOG_LEVEL unknown", "LLAMAC_BUDGET_TOKENS negative",
         "LLAMAC_TEMPERATURE not a number"]


@pytest.mark.parametrize("case", CASES)
def test_a_bad_setting_is_one_line_naming_its_variable_before_a_run_folder(
        case: str, clean_env: pytest.MonkeyPatch, silent_port: int, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    env, variable = cases(tmp_path, silent_port)[case]
    for name, value in env.items():
        clean_env.setenv(name, value)
    out = tmp_path / "run"
    started = time.monotonic()
    code = main(["alloc", "--agents", "2", "--coordinator", "llamac", "--out", str(out), "--quiet"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and err.startswith(f"error: {variable}"), err
    assert not out.exists()  # the same --out works once the setting is fixed
    assert elapsed < 60, "a service check hung"  # a hang detector, not a speed claim (checks time out in 3 s)
