"""Retries against a real loopback HTTP server: 429 with Retry-After, then 500, then an answer."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from llamac.runtime.gateway import ChatMessage, LLMGateway
from llamac.runtime.metering import Metering
from llamac.runtime.stops import ProviderFailed
from tests.llamac.fake_endpoint import completion, error

MESSAGES = [ChatMessage("system", "You plan."), ChatMessage("user", "Answer with a JSON object.")]


async def test_waits_as_told_then_retries_5xx_and_counts_retries(make_settings, endpoint_factory):
    endpoint = endpoint_factory([error(429, {"Retry-After": "1"}), error(500), completion('{"a1": "up"}')])
    settings = make_settings(openai_base_url=endpoint.url, openai_api_key="sk-test", endpoint="generic",
                             max_retries=3, retry_base_s=0.05)
    metering = Metering("retry-run")
    gateway = LLMGateway(settings, "retry-run", metering=metering)
    with capture_logs() as logs:
        result = await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=3, schema={"type": "object"})
    assert result.parsed == {"a1": "up"}
    assert result.record.retries == 2
    assert result.record.valid and result.record.prompt_tokens == 10 and result.record.completion_tokens == 5
    assert len(endpoint.seen) == 3
    waits = [e["wait_s"] for e in logs if e["event"] == "llm_retry"]
    assert waits[0] == 1.0  # the 429's Retry-After: 1, not the backoff
    assert waits[1] <= 0.05 * 2  # the 500 took the jittered backoff (full jitter, scale 0.05, 2nd attempt)
    assert endpoint.seen[1].at - endpoint.seen[0].at >= 1.0  # and it was waited for
    assert metering.metrics.total.retries == 2


async def test_retry_after_is_capped(make_settings, endpoint_factory):
    endpoint = endpoint_factory([error(503, {"Retry-After": "120"}), completion("{}")])
    settings = make_settings(openai_base_url=endpoint.url, endpoint="generic", max_retries=1, retry_max_wait_s=0.3)
    result = await LLMGateway(settings, "r").call(role="actor", agent="a1", messages=MESSAGES, step=0)
    assert result.record.retries == 1
    assert endpoint.seen[1].at - endpoint.seen[0].at < 1.0


async def test_retries_are_bounded_and_the_failed_call_is_metered(make_settings, endpoint_factory):
    endpoint = endpoint_factory([error(500)])
    settings = make_settings(openai_base_url=endpoint.url, endpoint="generic", max_retries=2, retry_base_s=0.01)
    metering = Metering("bounded")
    gateway = LLMGateway(settings, "bounded", metering=metering)
    with pytest.raises(ProviderFailed, match="HTTP 500"):  # the episode ends with provider_error (resumable)
        await gateway.call(role="actor", agent="a2", messages=MESSAGES, step=1)
    assert len(endpoint.seen) == 3  # first attempt + 2 retries, no more
    [record] = metering.records
    assert record.retries == 2 and not record.valid and record.agent == "a2"


async def test_client_errors_are_not_retried(make_settings, endpoint_factory):
    endpoint = endpoint_factory([error(401, message="bad key")])
    settings = make_settings(openai_base_url=endpoint.url, endpoint="generic", max_retries=3)
    with pytest.raises(ProviderFailed, match="HTTP 401.*bad key"):
        await LLMGateway(settings, "r").call(role="actor", agent="a1", messages=MESSAGES, step=0)
    assert len(endpoint.seen) == 1


async def test_quota_exhaustion_429_is_not_retried(make_settings, endpoint_factory):
    quota = (429, {}, {"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}})
    endpoint = endpoint_factory([quota])
    settings = make_settings(openai_base_url=endpoint.url, endpoint="generic", max_retries=3)
    with pytest.raises(ProviderFailed, match="HTTP 429"):
        await LLMGateway(settings, "r").call(role="actor", agent="a1", messages=MESSAGES, step=0)
    assert len(endpoint.seen) == 1


async def test_answer_cut_at_max_tokens_is_an_invalid_metered_answer_not_a_crash(make_settings, endpoint_factory):
    truncated = completion('{"Agent[0, 0]": "move(box_red, squ', prompt_tokens=40, completion_tokens=512,
                           finish_reason="length")
    endpoint = endpoint_factory([truncated])
    settings = make_settings(openai_base_url=endpoint.url, endpoint="llama_cpp", max_retries=2)
    metering = Metering("cut")
    result = await LLMGateway(settings, "cut", metering=metering).call(
        role="exploit_critic", agent=None, messages=MESSAGES, step=0, schema={"type": "object"}
    )
    assert result.parsed is None and not result.record.valid
    assert result.text.startswith('{"Agent[0, 0]"')
    assert (result.record.prompt_tokens, result.record.completion_tokens) == (40, 512)
    assert len(endpoint.seen) == 1 and result.record.structured_path == "json_object_schema"
    assert metering.metrics.total.prompt_tokens == 40
