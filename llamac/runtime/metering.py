"""Metering: one ``CallRecord`` per LLM call, summed into the run's metrics and kept as JSON lines.

The gateway hands every record to ``Metering.record``; the run's totals (``RunMetrics``) feed the
results files, and ``calls.jsonl`` in the run folder lets a reader audit each call (tokens, cache
hits, latency, retries, which structured-output path was used, whether the answer parsed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from llamac.runtime.contract import CallRecord
from llamac.runtime.jsonlines import append_line, read_lines

CALLS = "calls.jsonl"
"""The calls log of a run folder: one JSON line per metered call."""


@dataclass
class RoleTotals:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    retries: int = 0
    invalid_answers: int = 0
    latency_s: float = 0.0

    def add(self, record: CallRecord) -> None:
        self.calls += 1
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.cached_tokens += record.cached_tokens
        self.retries += record.retries
        self.invalid_answers += 0 if record.valid else 1
        self.latency_s += record.latency_s


@dataclass
class RunMetrics:
    """The run's LLM totals, overall and per role, plus how often each structured path was used."""

    total: RoleTotals = field(default_factory=RoleTotals)
    by_role: dict[str, RoleTotals] = field(default_factory=dict)
    structured_paths: dict[str, int] = field(default_factory=dict)

    def add(self, record: CallRecord) -> None:
        self.total.add(record)
        self.by_role.setdefault(record.role, RoleTotals()).add(record)
        self.structured_paths[record.structured_path] = self.structured_paths.get(record.structured_path, 0) + 1

    def as_dict(self) -> dict:
        return asdict(self)


def counters_from_records(records: Iterable[CallRecord]) -> dict[str, float]:
    """The ``Decision.counters`` a coordinator reports for the calls it made in one step."""
    totals = RoleTotals()
    for record in records:
        totals.add(record)
    return {
        "llm_calls": totals.calls,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "cached_tokens": totals.cached_tokens,
        "retries": totals.retries,
        "invalid_answers": totals.invalid_answers,
        "llm_latency_s": round(totals.latency_s, 6),
    }


class Metering:
    """Collects a run's call records; appends each to ``run_dir/calls.jsonl`` when a folder is given."""

    def __init__(self, run_id: str, run_dir: Path | None = None) -> None:
        self.run_id = run_id
        self.metrics = RunMetrics()
        self.records: list[CallRecord] = []
        self._path = None if run_dir is None else Path(run_dir) / CALLS
        self._lock = threading.Lock()
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path | None:
        return self._path

    def record(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)
            self.metrics.add(record)
            if self._path is not None:
                append_line(self._path, asdict(record), sort_keys=True)


def read_calls(path: Path) -> list[CallRecord]:
    """Records back from a calls log (for reports and resumed runs); a line torn by a crash is left out."""
    return [CallRecord(**line) for line in read_lines(Path(path))]
