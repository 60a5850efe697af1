"""The one gateway to models: every LLM call of every coordinator goes through ``Gateway.call``.

The contract (``Gateway``, ``Role``, ``ChatMessage``, ``CallResult``, ...) is in ``llamac.runtime.contract``,
which graphs/ code against. The implementation picks the model for the role, binds
the schema the way the endpoint supports, reserves and settles the token budget, retries with
tenacity, records usage and latency, and logs with structlog. Nodes never touch ChatOpenAI, Redis or
the budget directly.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import openai
import structlog
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from llamac.runtime.contract import (  # noqa: F401 (re-exported: the gateway's contract)
    CallRecord,
    CallResult,
    CallSink,
    ChatMessage,
    Gateway,
    GatewayConfigError,
    Reservation,
    Role,
    TokenBudget,
)
from llamac.runtime.retries import retrying
from llamac.runtime.scripted_model import ScriptedChatModel
from llamac.runtime.settings import Settings
from llamac.runtime.stops import ProviderFailed
from llamac.runtime.structured import DOWNGRADE, StructuredPath, bind_structured, first_path, text_of, unpack
from llamac.runtime.tokens import estimate_answer_tokens, estimate_tokens

# ---------------------------------------------------------------------------------------------
# The implementation behind the contract.
# ---------------------------------------------------------------------------------------------

ChatModelFactory = Callable[[str, str], "BaseChatModel"]
"""(model name, role) -> chat model; tests pass one returning a ScriptedChatModel."""

_MESSAGE_OVERHEAD = 8


def label_line(role: str, agent: str | None) -> str:
    return f"[role={role} agent={agent or '-'}]"


def labelled(messages: list[ChatMessage], role: str, agent: str | None) -> list[ChatMessage]:
    """The messages with ``[role=... agent=...]`` as the last line of the last message.

    Last, not first: the part shared by the roles of a step comes first so prefix caches reuse it
    (the label still makes concurrent requests distinct in logs and cassettes).
    """
    if not messages:
        raise ValueError("a call needs at least one message")
    last = messages[-1]
    return [*messages[:-1], ChatMessage(last.role, f"{last.content}\n{label_line(role, agent)}")]


def estimate_prompt_tokens(messages: list[ChatMessage]) -> int:
    return sum(estimate_tokens(m.content) + _MESSAGE_OVERHEAD for m in messages)


class LLMGateway:
    """``Gateway`` over langchain chat models (``ChatOpenAI`` for every OpenAI-compatible endpoint).

    ``base_url`` overrides where the models live (the CLI passes the started local server's URL);
    ``budget`` (a ``llamac.runtime.budget.TokenBudget``) and ``metering`` (``llamac.runtime.metering.Metering``) are
    optional so unit tests can leave them out; ``chat_model_factory`` replaces ``ChatOpenAI``.
    """

    def __init__(
        self,
        settings: Settings,
        run_id: str,
        budget: TokenBudget | None = None,
        metering: CallSink | None = None,
        chat_model_factory: ChatModelFactory | None = None,
        base_url: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.settings = settings
        self.budget = budget
        self.metering = metering
        self._factory = chat_model_factory
        self._provider = settings.resolved_provider()
        self._endpoint = settings.resolved_endpoint()
        self._base_url = base_url or (settings.local_url if self._provider == "local" else settings.openai_base_url)
        if self._factory is None and self._provider == "local" and not self._base_url:
            raise GatewayConfigError(
                "the local provider needs a running server: start one (python -m llamac.runtime.local_model serve) "
                "and set LLAMAC_LOCAL_URL, or let the CLI start it"
            )
        self._models: dict[str, BaseChatModel] = {}
        # An endpoint that refused a structured path keeps the weaker one for the rest of the run.
        self._paths: dict[str, StructuredPath] = {}
        self._log = structlog.get_logger("llamac.runtime.gateway").bind(run=run_id)

    @property
    def base_url(self) -> str | None:
        return self._base_url

    def model_for(self, role: str) -> str:
        return self.settings.model_for(role)

    def chat_model(self, role: str, max_output_tokens: int | None = None) -> BaseChatModel:
        """The (cached) chat model of a role's model name, allowed ``max_output_tokens`` (default: the
        setting) answer tokens."""
        name = self.model_for(role)
        cap = max_output_tokens or self.settings.max_output_tokens
        key = name if self._factory or cap == self.settings.max_output_tokens else f"{name}@{cap}"
        if key not in self._models:
            self._models[key] = self._factory(name, role) if self._factory else self._chat_openai(name, cap)
        return self._models[key]

    def output_cap(self, schema: dict[str, Any] | None) -> int:
        """Answer tokens a call may use: ``LLAMAC_MAX_OUTPUT_TOKENS``, raised for a structured call whose
        complete answer needs more (``estimate_answer_tokens``), so a long plan is not cut off mid-JSON."""
        cap = self.settings.max_output_tokens
        return cap if schema is None else max(cap, estimate_answer_tokens(schema))

    def _chat_openai(self, name: str, cap: int) -> BaseChatModel:
        s = self.settings
        key = s.openai_api_key.get_secret_value() if s.openai_api_key else None
        extra_body: dict[str, Any] | None = None
        if self._endpoint == "llama_cpp":
            # llama-cpp-python ignores max_completion_tokens and defaults repeat_penalty to 1.1,
            # which flipped the 0.5B model's plans (docs/local_model.md).
            extra_body = {"repeat_penalty": 1.0, "max_tokens": cap}
        return ChatOpenAI(
            model=name,
            api_key=key or "no-key-needed",  # the local server and many self-hosted ones take any key
            base_url=self._base_url,
            temperature=s.temperature,
            max_tokens=cap,
            timeout=httpx.Timeout(s.resolved_request_timeout_s(), connect=s.connect_timeout_s),
            max_retries=0,  # tenacity (llamac.runtime.retries) is the only retry layer
            http_async_client=httpx.AsyncClient(transport=CompletionCheck(httpx.AsyncHTTPTransport()),
                                                timeout=httpx.Timeout(s.resolved_request_timeout_s(),
                                                                      connect=s.connect_timeout_s)),
            streaming=False,  # streamed answers from llama.cpp carry no usage
            use_responses_api=False,
            extra_body=extra_body,
        )

    def _path(self, model_name: str, model: BaseChatModel, schema: dict[str, Any] | None) -> StructuredPath:
        """How the answer is asked for: the endpoint's strongest path not yet refused, or plain text."""
        if isinstance(model, ScriptedChatModel):
            return "scripted"
        if schema is None or (self._factory is not None and not isinstance(model, ChatOpenAI)):
            return "plain"
        return self._paths.get(model_name, first_path(self._endpoint))

    async def _settle(self, reservation: Reservation | None, used: int) -> None:
        if self.budget is not None and reservation is not None:
            await self.budget.settle(reservation, used)

    async def call(
        self,
        *,
        role: Role | str,
        agent: str | None,
        messages: list[ChatMessage],
        step: int,
        schema: dict[str, Any] | None = None,
    ) -> CallResult:
        role = str(role.value if isinstance(role, Role) else role)
        sent = labelled(messages, role, agent)
        model_name = self.model_for(role)
        cap = self.output_cap(schema)
        model = self.chat_model(role, cap)
        estimated = estimate_prompt_tokens(sent)
        reserved = estimated + cap
        reservation = await self.budget.reserve(reserved) if self.budget is not None else None
        attempt = _Attempt(path=self._path(model_name, model, schema))
        CURRENT_ATTEMPT.set(attempt)  # this task's call: CompletionCheck counts malformed bodies on it
        started = time.perf_counter()
        try:
            output = await self._invoke(model_name, model, [_to_langchain(m) for m in sent], schema, attempt)
        except openai.LengthFinishReasonError as exc:
            # A structured answer cut off at max_output_tokens is an invalid answer to feed back, not a crash.
            output = _truncated_answer(exc.completion)
        except BaseException as exc:
            self._finish(role, agent, step, model_name, attempt, started, reserved, None, valid=False)
            await self._settle(reservation, 0)  # failed calls report no usage
            if isinstance(exc, PROVIDER_FAILURES):
                raise ProviderFailed(self._scrub(f"{self._where()}: {_describe(exc)}")) from None
            raise
        raw, parsed = unpack(output)
        text = text_of(raw)
        usage = raw.usage_metadata
        if not _plausible(usage, reserved):
            # No usage, or one that cannot be true (negative, absurd): charge and record the reservation.
            attempt.usage_estimated = True
            usage = {"input_tokens": estimated, "output_tokens": cap}
        if schema is None:
            parsed = None
        valid = (parsed is not None) if schema is not None else bool(text.strip())
        # Metered before it is settled: a budget that fails to settle (Redis gone) still leaves the call in
        # the run's call log, from which a resumed run rebuilds what is left.
        record = self._finish(role, agent, step, model_name, attempt, started, reserved, usage, valid=valid)
        await self._settle(reservation, usage["input_tokens"] + usage["output_tokens"])
        return CallResult(text=text, parsed=parsed, record=record)

    def _where(self) -> str:
        return f"the provider at {self._base_url}" if self._base_url else "the provider"

    def _scrub(self, text: str) -> str:
        for secret in self.settings.secrets():
            text = text.replace(secret, "***")
        return text

    async def _invoke(
        self,
        model_name: str,
        model: BaseChatModel,
        messages: list[BaseMessage],
        schema: dict[str, Any] | None,
        attempt: _Attempt,
    ) -> Any:
        """Send with retries, all within the call deadline; on an endpoint refusing the structured path
        (HTTP 400) step down a path. A malformed body (not JSON, no choices) is counted and retried."""
        s = self.settings
        deadline = s.resolved_call_deadline_s()
        ends = time.monotonic() + deadline
        while True:
            runnable = bind_structured(model, attempt.path, schema) if schema is not None else model
            try:
                async for tries in retrying(s.max_retries, s.retry_base_s, s.retry_max_wait_s, attempt.count_retry,
                                            deadline_s=deadline):
                    with tries:
                        left = ends - time.monotonic()
                        if left <= 0:
                            raise TimeoutError(f"no answer within the call deadline of {deadline:g} s "
                                               "(LLAMAC_CALL_DEADLINE_S)")
                        try:
                            return await asyncio.wait_for(runnable.ainvoke(messages), timeout=left)
                        except TimeoutError:
                            raise TimeoutError(f"no answer within the call deadline of {deadline:g} s "
                                               "(LLAMAC_CALL_DEADLINE_S)") from None
            except openai.BadRequestError as exc:
                weaker = DOWNGRADE.get(attempt.path)
                if schema is None or weaker is None:
                    raise
                self._log.warning("structured_path_refused", path=attempt.path, next=weaker,
                                  error=self._scrub(str(exc))[:200])
                self._paths[model_name] = attempt.path = weaker

    def _finish(
        self,
        role: str,
        agent: str | None,
        step: int,
        model_name: str,
        attempt: _Attempt,
        started: float,
        reserved: int,
        usage: Any,
        *,
        valid: bool,
    ) -> CallRecord:
        usage = usage or {}
        record = CallRecord(
            run=self.run_id,
            step=step,
            role=role,
            agent=agent,
            model=model_name,
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
            cached_tokens=int((usage.get("input_token_details") or {}).get("cache_read", 0) or 0),
            latency_s=round(time.perf_counter() - started, 6),
            retries=attempt.retries,
            structured_path=attempt.path,
            valid=valid,
            reserved_tokens=reserved,
            malformed=attempt.malformed,
            usage_estimated=attempt.usage_estimated,
        )
        if self.metering is not None:
            self.metering.record(record)
        self._log.info("llm_call", **asdict(record))
        return record


@dataclass
class _Attempt:
    """What one call went through: the structured path finally used and the retries it took."""

    path: StructuredPath
    retries: int = 0
    malformed: int = 0
    usage_estimated: bool = False

    def count_retry(self, _: Any) -> None:
        self.retries += 1


PROVIDER_FAILURES = (openai.OpenAIError, TimeoutError)
"""What is left of a call once retries and the deadline are used up: the provider's failure, not ours."""
MALFORMED_STATUS = 502

CURRENT_ATTEMPT: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar("llamac_attempt", default=None)


class CompletionCheck(httpx.AsyncBaseTransport):
    """The HTTP layer under every chat model: a 200 answer to a chat-completions request whose body is not
    a chat completion (an HTML error page, ``choices: []``, not JSON) becomes an HTTP 502, which the retry
    policy retries like any 5xx, and is counted on the call (``CallRecord.malformed``). Without it the
    client would fail deep in its parsing with an error no retry policy can tell from a bug."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/chat/completions") or response.status_code != 200:
            return response
        body = await response.aread()
        why = _not_a_completion(body)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-encoding", "content-length")}
        if why is None:
            return httpx.Response(200, headers=headers, content=body, request=request)
        attempt = CURRENT_ATTEMPT.get()
        if attempt is not None:
            attempt.malformed += 1
        message = f"the provider answered with a body that is not a chat completion ({why})"
        return httpx.Response(MALFORMED_STATUS, json={"error": {"message": message, "type": "malformed_answer"}},
                              request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _not_a_completion(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "not JSON"
    if not isinstance(data, dict):
        return "not a JSON object"
    if not isinstance(data.get("choices"), list) or not data["choices"]:
        return "no choices"
    return None


def _describe(exc: BaseException) -> str:
    """One line on what the provider did (status and message for HTTP errors)."""
    status = getattr(exc, "status_code", None)
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text if len(text) <= 240 else text[:237] + "..."
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"


def _plausible(usage: Any, reserved: int) -> bool:
    """Usage a provider could have meant: whole non-negative counts, not wildly above what was reserved."""
    if not usage:
        return False
    counts = [usage.get("input_tokens"), usage.get("output_tokens")]
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
        return False
    return sum(counts) <= 10 * reserved + 10_000


def _truncated_answer(completion: Any) -> AIMessage:
    """The cut-off answer of a ``LengthFinishReasonError`` with the usage the provider reported."""
    choices = getattr(completion, "choices", None) or []
    text = (choices[0].message.content or "") if choices else ""
    usage = getattr(completion, "usage", None)
    metadata = None
    if usage is not None:
        metadata = {
            "input_tokens": int(usage.prompt_tokens or 0),
            "output_tokens": int(usage.completion_tokens or 0),
            "total_tokens": int(usage.total_tokens or 0),
        }
    return AIMessage(content=text, usage_metadata=metadata)


def _to_langchain(message: ChatMessage) -> BaseMessage:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return kinds[message.role](content=message.content)
