"""The gateway: labels, budget reservation and settlement, structured paths, metering, secret-free logs."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
import structlog

from llamac.runtime.budget import InProcessBudget
from llamac.runtime.gateway import CallResult, ChatMessage, Gateway, GatewayConfigError, LLMGateway, Role
from llamac.runtime.logs import RedactSecrets, configure_logging
from llamac.runtime.metering import Metering, counters_from_records, read_calls
from llamac.runtime.scripted_model import ScriptedChatModel, ScriptedModelExhausted
from llamac.runtime.stops import BudgetExhausted
from llamac.runtime.structured import extract_json_object
from tests.llamac.fake_endpoint import completion, error

MESSAGES = [ChatMessage("system", "Shared rules and state."), ChatMessage("user", "Your instruction.")]


def scripted_gateway(settings, script, **kwargs):
    fake = ScriptedChatModel(script=script)
    return LLMGateway(settings, "run-1", chat_model_factory=lambda name, role: fake, **kwargs), fake


async def test_every_prompt_ends_with_its_role_and_agent(make_settings):
    gateway, fake = scripted_gateway(make_settings(), ["ok", "ok"])
    assert isinstance(gateway, Gateway)
    await gateway.call(role=Role.EXPLORE_CRITIC, agent=None, messages=MESSAGES, step=0)
    await gateway.call(role="actor", agent="agent_2", messages=MESSAGES, step=0)
    first, second = fake.calls
    assert first[0].content == "Shared rules and state."  # the shared prefix is untouched
    assert first[-1].content.endswith("\n[role=explore_critic agent=-]")
    assert second[-1].content.endswith("\n[role=actor agent=agent_2]")


async def test_schema_answers_are_parsed_tolerantly_and_invalid_ones_counted(make_settings):
    script = ['Here is the plan:\n```json\n{"a1": "up"}\n```', "I cannot decide.", "plain words"]
    gateway, _ = scripted_gateway(make_settings(), script, metering=Metering("run-1"))
    good = await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=1, schema={"type": "object"})
    bad = await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=1, schema={"type": "object"})
    text = await gateway.call(role="actor", agent="a1", messages=MESSAGES, step=1)
    assert isinstance(good, CallResult) and good.parsed == {"a1": "up"} and good.record.valid
    assert bad.parsed is None and not bad.record.valid and bad.text == "I cannot decide."
    assert text.parsed is None and text.record.valid and text.record.structured_path == "scripted"
    assert gateway.metering.metrics.total.invalid_answers == 1


async def test_budget_is_reserved_before_and_settled_to_usage_after(make_settings):
    budget = InProcessBudget("run-1", 100_000)
    gateway, _ = scripted_gateway(make_settings(max_output_tokens=200), ['{"x": 1}'], budget=budget)
    result = await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=0, schema={})
    ledger = await budget.ledger()
    used = result.record.prompt_tokens + result.record.completion_tokens
    assert result.record.reserved_tokens >= 200 + result.record.prompt_tokens
    assert ledger.reserved == result.record.reserved_tokens
    assert ledger.settled == used and ledger.refunded == ledger.reserved - used and ledger.outstanding == 0


async def test_exhausted_budget_stops_before_the_model_is_called(make_settings):
    budget = InProcessBudget("run-1", 300)
    gateway, fake = scripted_gateway(make_settings(max_output_tokens=512), ["never sent"], budget=budget)
    with pytest.raises(BudgetExhausted):
        await gateway.call(role="actor", agent="a1", messages=MESSAGES, step=0)
    assert fake.calls == []


async def test_a_failed_call_refunds_its_reservation(make_settings):
    budget = InProcessBudget("run-1", 100_000)
    gateway, _ = scripted_gateway(make_settings(), [], budget=budget)
    with pytest.raises(ScriptedModelExhausted):
        await gateway.call(role="actor", agent="a1", messages=MESSAGES, step=0)
    ledger = await budget.ledger()
    assert ledger.settled == 0 and ledger.refunded == ledger.reserved > 0


async def test_concurrent_calls_share_the_budget(make_settings):
    budget = InProcessBudget("run-1", 100_000)
    fake = ScriptedChatModel(script=["fine"], cycle=True, delay_s=0.05)
    gateway = LLMGateway(make_settings(), "run-1", budget=budget, chat_model_factory=lambda n, r: fake)
    results = await asyncio.gather(
        *(gateway.call(role="actor", agent=f"a{i}", messages=MESSAGES, step=0) for i in range(20))
    )
    ledger = await budget.ledger()
    assert ledger.settled == sum(r.record.prompt_tokens + r.record.completion_tokens for r in results)
    assert ledger.reservations == 20 and ledger.outstanding == 0


def test_local_provider_without_a_server_is_a_config_error(make_settings):
    with pytest.raises(GatewayConfigError, match="LLAMAC_LOCAL_URL"):
        LLMGateway(make_settings(), "run-1")


def test_json_extraction_handles_fences_prose_and_nesting():
    assert extract_json_object('```json\n{"a": {"b": [1, 2]}}\n```') == {"a": {"b": [1, 2]}}
    assert extract_json_object('Sure! {"plan": {"a1": "up"}} Hope it helps {x}') == {"plan": {"a1": "up"}}
    assert extract_json_object("[1, 2]") is None
    assert extract_json_object("{not json}") is None
    assert extract_json_object('{"a": 1') is None


async def test_an_endpoint_refusing_json_schema_gets_json_mode(make_settings, endpoint_factory):
    def replies(i, body):
        if body.get("response_format", {}).get("type") == "json_schema":
            return error(400, message="response_format json_schema is not supported")
        return completion('{"a1": "left"}')

    endpoint = endpoint_factory(replies)
    settings = make_settings(openai_base_url=endpoint.url, openai_api_key="sk-x", endpoint="openai")
    gateway = LLMGateway(settings, "run-1")
    schema = {"title": "plan", "type": "object", "properties": {"a1": {"type": "string"}}}
    first = await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=0, schema=schema)
    second = await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=1, schema=schema)
    assert first.parsed == {"a1": "left"} and first.record.structured_path == "json_mode"
    assert second.record.structured_path == "json_mode"
    formats = [s.body.get("response_format", {}).get("type") for s in endpoint.seen]
    assert formats == ["json_schema", "json_object", "json_object"]  # the refusal is remembered
    assert endpoint.seen[0].body["response_format"]["json_schema"]["schema"] == schema


async def test_llama_cpp_dialect_binds_the_schema_and_its_sampling_fixes(make_settings, endpoint_factory):
    endpoint = endpoint_factory([completion('{"a1": "down"}', prompt_tokens=42, completion_tokens=7)])
    settings = make_settings(local_url=endpoint.url, max_output_tokens=99)
    schema = {"type": "object", "properties": {"a1": {"type": "string"}}, "required": ["a1"]}
    result = await LLMGateway(settings, "run-1").call(
        role="assessor", agent=None, messages=MESSAGES, step=0, schema=schema
    )
    body = endpoint.seen[0].body
    assert body["response_format"] == {"type": "json_object", "schema": schema}
    assert body["repeat_penalty"] == 1.0 and body["max_tokens"] == 99
    assert body["model"] == "qwen-0.5b" and body.get("stream") in (None, False)
    assert result.record.structured_path == "json_object_schema"
    assert (result.record.prompt_tokens, result.record.completion_tokens) == (42, 7)


async def test_a_plan_longer_than_the_output_cap_gets_room_for_its_whole_answer(make_settings, endpoint_factory):
    from llamac.runtime.tokens import estimate_answer_tokens

    endpoint = endpoint_factory([completion('{"a1": 1}', prompt_tokens=42, completion_tokens=7)] * 2)
    settings = make_settings(local_url=endpoint.url, max_output_tokens=99)
    gateway = LLMGateway(settings, "run-1")
    large = {"type": "object", "properties": {f"Agent[{i}]": {"type": "integer", "maximum": 100} for i in range(50)}}
    small = {"type": "object", "properties": {"a1": {"type": "integer", "maximum": 100}}}
    await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=0, schema=large)
    await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=0, schema=small)
    first, second = (seen.body for seen in endpoint.seen)
    assert first["max_tokens"] == estimate_answer_tokens(large) > 99
    assert second["max_tokens"] == 99  # the setting stands where the answer fits


async def test_calls_are_written_as_json_lines_and_summed(make_settings, tmp_path):
    metering = Metering("run-9", run_dir=tmp_path)
    gateway, _ = scripted_gateway(make_settings(), ['{"a": 1}', "nope"], metering=metering)
    await gateway.call(role="assessor", agent=None, messages=MESSAGES, step=0, schema={})
    await gateway.call(role="explore_critic", agent=None, messages=MESSAGES, step=0, schema={})
    records = read_calls(tmp_path / "calls.jsonl")
    assert [r.role for r in records] == ["assessor", "explore_critic"]
    assert records == metering.records
    counters = counters_from_records(records)
    assert counters["llm_calls"] == 2 and counters["invalid_answers"] == 1
    assert counters["prompt_tokens"] == sum(r.prompt_tokens for r in records)
    assert set(metering.metrics.by_role) == {"assessor", "explore_critic"}
    assert metering.metrics.structured_paths == {"scripted": 2}


async def test_logs_are_json_and_never_contain_the_key(make_settings, endpoint_factory):
    secret = "sk-live-SECRET-0123456789abcdef"
    endpoint = endpoint_factory([error(500, message=f"upstream rejected key {secret}"), completion("{}")])
    settings = make_settings(openai_base_url=endpoint.url, openai_api_key=secret, endpoint="generic",
                             max_retries=1, retry_base_s=0.01)
    out = io.StringIO()
    configure_logging(settings, stream=out)
    try:
        gateway = LLMGateway(settings, "run-1")
        await gateway.call(role="actor", agent="a1", messages=MESSAGES, step=0)
        log = structlog.get_logger("test")
        log.error("provider said", detail=f"Bearer {secret}", api_key=secret, headers={"Authorization": secret})
    finally:
        structlog.reset_defaults()
    assert endpoint.seen[0].headers["authorization"] == f"Bearer {secret}"  # the key was really in play
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["event"] for line in lines} >= {"llm_retry", "llm_call", "provider said"}
    assert secret not in out.getvalue()
    assert lines[-1]["api_key"] == "***" and lines[-1]["detail"] == "Bearer ***"


def test_redaction_keeps_token_counts():
    event = RedactSecrets(["k3y"])(None, "info", {"prompt_tokens": 5, "msg": "a k3y b", "password": "p"})
    assert event == {"prompt_tokens": 5, "msg": "a *** b", "password": "***"}
