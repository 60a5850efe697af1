"""Provider switching by environment only: the same code talks to whatever OPENAI_BASE_URL names."""

from __future__ import annotations

import pytest

from llamac.runtime.gateway import ChatMessage, LLMGateway
from llamac.runtime.settings import Settings


@pytest.mark.local_model
async def test_openai_base_url_in_the_environment_reaches_a_real_model(make_settings, monkeypatch, local_model_url):
    make_settings()  # a clean environment, then only environment variables decide
    monkeypatch.setenv("OPENAI_BASE_URL", local_model_url)
    monkeypatch.setenv("LLAMAC_MAX_OUTPUT_TOKENS", "24")
    settings = Settings(_env_file=None)
    assert settings.resolved_provider() == "openai" and settings.resolved_endpoint() == "generic"
    gateway = LLMGateway(settings, "switch")
    result = await gateway.call(
        role="actor",
        agent="agent_1",
        messages=[ChatMessage("user", 'Reply with the JSON object {"move": "up"} and nothing else.')],
        step=0,
        schema={"type": "object"},
    )
    assert result.record.structured_path == "json_mode"
    assert result.record.model == "gpt-4o-mini"  # the OpenAI-style name went out unchanged
    assert result.record.prompt_tokens > 0 and 0 < result.record.completion_tokens <= 24
    assert isinstance(result.parsed, dict)
