"""Structured output: ask each endpoint for a JSON object in the strongest way it supports.

Paths, strongest first (the one used is recorded in every ``CallRecord.structured_path``):

- ``json_schema``: OpenAI's structured outputs, through ``with_structured_output(method="json_schema")``.
- ``json_object_schema``: llama-cpp-python's server, which rejects ``json_schema`` (HTTP 500) but turns
  ``response_format={"type": "json_object", "schema": ...}`` into a grammar.
- ``json_mode``: any endpoint with OpenAI's JSON mode (the prompt must describe the fields).
- ``plain``: no constraint; the answer text is parsed tolerantly (code fences, prose around the object).

The runtime only guarantees "a JSON object or None": it knows no task rule. Whether the object is a
doable plan is for the task's parser (``Task.parse_plan``) and the graph's bounded repair loop, which
gets the raw text as well.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable

StructuredPath = Literal["json_schema", "json_object_schema", "json_mode", "plain", "scripted"]

# Each path's next weaker one, used when an endpoint refuses a request format.
DOWNGRADE: dict[str, StructuredPath] = {
    "json_schema": "json_mode",
    "json_object_schema": "json_mode",
    "json_mode": "plain",
}

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


_FIRST_PATH: dict[str, StructuredPath] = {"openai": "json_schema", "llama_cpp": "json_object_schema"}


def first_path(endpoint: str) -> StructuredPath:
    """The strongest path an endpoint kind is known to support."""
    return _FIRST_PATH.get(endpoint, "json_mode")


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (inside a code fence or surrounded by prose), else None."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        stripped = candidate.strip()
        for start in [i for i, ch in enumerate(stripped) if ch == "{"]:
            try:
                value, _ = decoder.raw_decode(stripped, start)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def bind_structured(model: BaseChatModel, path: StructuredPath, schema: dict[str, Any]) -> Runnable:
    """A runnable whose output is either an ``AIMessage`` or a ``{"raw": AIMessage, ...}`` dict."""
    if path == "json_schema":
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title", "answer")))[:64] or "answer"
        spec = {"name": name, "schema": schema, "strict": False}
        return model.with_structured_output(spec, method="json_schema", include_raw=True)
    if path == "json_mode":
        return model.with_structured_output(method="json_mode", include_raw=True)
    if path == "json_object_schema":
        return model.bind(response_format={"type": "json_object", "schema": schema})
    return model


def unpack(output: Any) -> tuple[AIMessage, dict[str, Any] | None]:
    """The raw message and the parsed object, whichever runnable shape produced them."""
    if isinstance(output, dict) and "raw" in output:
        raw = output["raw"]
        parsed = output.get("parsed")
        if not isinstance(parsed, dict):
            parsed = extract_json_object(text_of(raw))
        return raw, parsed
    return output, extract_json_object(text_of(output))


def text_of(message: AIMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
