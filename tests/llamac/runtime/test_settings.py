"""Settings: every knob from the environment or a .env file; switching provider needs no code edit."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from llamac.runtime import settings as settings_module
from llamac.runtime.settings import Settings, busy_cpus


def test_no_key_means_local_provider_with_llama_cpp_dialect(make_settings):
    s = make_settings()
    assert s.resolved_provider() == "local"
    assert s.resolved_endpoint() == "llama_cpp"
    assert s.model_for("assessor") == "qwen-0.5b"
    assert s.temperature == 0.0


def test_key_in_environment_switches_to_openai(make_settings, monkeypatch: pytest.MonkeyPatch):
    make_settings()  # clears the developer's environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("LLAMAC_MODEL", "gpt-4.1-mini")
    s = Settings(_env_file=None)
    assert s.resolved_provider() == "openai"
    assert s.resolved_endpoint() == "openai"
    assert s.model_for("actor") == "gpt-4.1-mini"
    assert "sk-test-123" not in repr(s)
    assert s.secrets() == ["sk-test-123"]


def test_base_url_alone_selects_a_generic_openai_compatible_endpoint(make_settings, monkeypatch):
    make_settings()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    s = Settings(_env_file=None)
    assert s.resolved_provider() == "openai"
    assert s.resolved_endpoint() == "generic"
    monkeypatch.setenv("LLAMAC_ENDPOINT", "llama_cpp")
    assert Settings(_env_file=None).resolved_endpoint() == "llama_cpp"


def test_per_role_overrides_with_critic_group(make_settings, monkeypatch):
    make_settings()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("LLAMAC_MODEL", "cheap")
    monkeypatch.setenv("LLAMAC_MODEL_ASSESSOR", "strong")
    monkeypatch.setenv("LLAMAC_MODEL_CRITIC", "critic-model")
    monkeypatch.setenv("LLAMAC_MODEL_EXPLOIT_CRITIC", "exploit-model")
    s = Settings(_env_file=None)
    assert s.model_for("assessor") == "strong"
    assert s.model_for("actor") == "cheap"
    assert s.model_for("explore_critic") == "critic-model"
    assert s.model_for("critic_pair") == "critic-model"
    assert s.model_for("exploit_critic") == "exploit-model"


def test_dotenv_file_is_read(make_settings, tmp_path: Path):
    make_settings()
    env = tmp_path / ".env"
    env.write_text("LLAMAC_BUDGET_TOKENS=1234\nREDIS_URL=redis://example:6379/2\nLLAMAC_LOCAL_MODEL=qwen-1.5b\n")
    s = Settings(_env_file=env)
    assert s.budget_tokens == 1234
    assert s.redis_url == "redis://example:6379/2"
    assert s.model_for("actor") == "qwen-1.5b"


def test_gguf_path_is_named_by_its_stem(make_settings):
    assert make_settings(local_model="/models/tiny-chat.Q4.gguf").model_for("actor") == "tiny-chat.Q4"


def test_invalid_values_are_refused(make_settings):
    with pytest.raises(ValueError):
        make_settings(max_output_tokens=0)
    with pytest.raises(ValueError):
        make_settings(provider="anthropic")


from tests.conftest import ROOT  # noqa: E402


def _env_name(field_name: str) -> str:
    field = Settings.model_fields[field_name]
    alias = field.validation_alias
    if alias is not None:
        return alias.choices[0]
    return f"LLAMAC_{field_name.upper()}"


def test_env_example_documents_every_setting_and_loads(make_settings):
    make_settings()
    text = (ROOT / ".env.example").read_text()
    names = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith("#")}
    assert names == {_env_name(f) for f in Settings.model_fields}
    s = Settings(_env_file=ROOT / ".env.example")
    assert s.resolved_provider() == "local" and s.budget_tokens is None and s.openai_api_key is None


def test_local_threads_follow_the_machines_load_and_an_explicit_value_wins(make_settings, monkeypatch):
    """Every CPU on an idle machine (two threads were 1.47x faster on an idle 2-core one); half of them,
    at least one, when the machine is busy now (a second thread beside another job cut generation sharply).
    A load average left by a job that has ended does not count."""
    make_settings()
    monkeypatch.setattr(os, "getloadavg", lambda: (2.0, 2.0, 2.0), raising=False)  # a run that just ended
    for usable, busy, expected in ((1, 0.0, 1), (2, 0.1, 2), (2, 1.5, 1), (3, 2.0, 1), (8, 0.5, 8), (8, 3.0, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=usable: set(range(n)), raising=False)
        monkeypatch.setattr(settings_module, "busy_cpus", lambda busy=busy: busy)
        assert Settings(_env_file=None).resolved_local_threads() == expected, (usable, busy)
    monkeypatch.setenv("LLAMAC_LOCAL_THREADS", "3")
    assert Settings(_env_file=None).resolved_local_threads() == 3
    monkeypatch.setenv("LLAMAC_LOCAL_THREADS", "")  # as .env.example ships it: unset
    assert Settings(_env_file=None).resolved_local_threads() == 8 // 2


def test_busy_cpus_sees_a_process_spinning_now():
    """The measure behind the thread count: a process spinning on one CPU during the second measured
    keeps at least about half a CPU busy (more when the machine has other work), never more than it has."""
    import multiprocessing

    spinner = multiprocessing.get_context("spawn").Process(target=_spin, args=(3.0,), daemon=True)
    spinner.start()
    try:
        time.sleep(0.5)  # the child's interpreter is up and spinning
        busy = busy_cpus(1.0)
    finally:
        spinner.terminate()
        spinner.join()
    assert 0.5 <= busy <= (os.cpu_count() or 1) + 0.01


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
