"""Cassette replays: real local-model answers recorded by scripts/record_cassettes.sh, replayed with no key
and no server (CI blocks the network for these)."""

from __future__ import annotations

import asyncio

import pytest

from llamac.runtime.gateway import ChatMessage, LLMGateway, Role
from llamac.runtime.metering import Metering
from tests.llamac.planning_prompt import AGENTS, MOVES, PLAN_SCHEMA, PLANNING_PROMPT


@pytest.mark.vcr
async def test_replays_a_planning_answer_with_the_key_unset(recorded_settings):
    assert recorded_settings.openai_api_key is None and recorded_settings.resolved_provider() == "local"
    metering = Metering("cassette")
    result = await LLMGateway(recorded_settings, "cassette", metering=metering).call(
        role=Role.PLANNER, agent=None, messages=PLANNING_PROMPT, step=0, schema=PLAN_SCHEMA
    )
    assert result.record.structured_path == "json_object_schema" and result.record.valid
    assert set(result.parsed) == set(AGENTS) and all(result.parsed[a] in MOVES for a in AGENTS)
    assert result.record.prompt_tokens > 100  # usage came from the recorded (non-streamed) answer
    assert metering.metrics.total.calls == 1


@pytest.mark.vcr
async def test_concurrent_critics_stay_distinguishable_in_the_cassette(recorded_settings, vcr):
    """Two concurrent calls with the same messages differ only by their role label; each replays its own."""
    gateway = LLMGateway(recorded_settings, "cassette")
    explore, exploit = await asyncio.gather(
        gateway.call(role=Role.EXPLORE_CRITIC, agent=None, messages=PLANNING_PROMPT, step=0, schema=PLAN_SCHEMA),
        gateway.call(role=Role.EXPLOIT_CRITIC, agent=None, messages=PLANNING_PROMPT, step=0, schema=PLAN_SCHEMA),
    )
    assert explore.record.valid and exploit.record.valid
    bodies = [request.body.decode() if isinstance(request.body, bytes) else request.body for request in vcr.requests]
    assert len(bodies) == 2
    assert sum("[role=explore_critic agent=-]" in b for b in bodies) == 1
    assert sum("[role=exploit_critic agent=-]" in b for b in bodies) == 1
    assert all(r.headers.get("authorization") == "REDACTED" for r in vcr.requests)  # no key in cassettes


@pytest.mark.vcr
async def test_replays_an_actor_free_text_answer(recorded_settings):
    result = await LLMGateway(recorded_settings, "cassette").call(
        role=Role.ACTOR,
        agent="agent_1",
        messages=[*PLANNING_PROMPT[:1], ChatMessage("user", "You are agent_1. In one short sentence, which move do you take?")],
        step=0,
    )
    assert result.record.valid and result.parsed is None and result.text.strip()
    assert result.record.agent == "agent_1" and result.record.completion_tokens > 0
