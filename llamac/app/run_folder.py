"""The run folder: what a run leaves behind, readable without llamac.

Layout (one folder per run)::

    RUN_DIR/
      config.json              everything needed to rebuild task(s) + coordinator (resume reads it)
      checkpoints.sqlite       LangGraph checkpoints (absent when LLAMAC_CHECKPOINT_URL names PostgreSQL)
      calls.jsonl              one line per LLM call (written by llamac.runtime.metering)
      log.jsonl                the run's structlog lines (the terminal keeps the progress bar)
      error.txt                the traceback of an unexpected error, when one stopped the run
      .lock                    held by the process running the run (``RunFolder.locked``)
      summary.json             the run: one row per finished episode + aggregates
      episodes/000/steps.jsonl one JSON line per environment step (or stopped decision)
      episodes/000/summary.json one summary per episode (the metrics of the papers' tables)

Why per-episode folders: an episode is the unit of resume; its steps file can be cut back to the
last checkpointed step without touching the other episodes.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import socket
import statistics
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llamac.runtime.counters import SUMMARY_FIELDS
from llamac.runtime.jsonlines import DamagedFile, append_line, read_lines
from llamac.runtime.metering import CALLS

CONFIG = "config.json"
SUMMARY = "summary.json"
STEPS = "steps.jsonl"
CHECKPOINTS = "checkpoints.sqlite"
LOCK = ".lock"

METRICS = ("success", "steps", "tokens", *SUMMARY_FIELDS, "wall_s")
"""Summary fields every episode has, whichever coordinator ran it (absent counters are 0)."""


class RunFolderError(ValueError):
    """A run folder that is missing or not a llamac run (a user error at the CLI)."""


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars in task metrics
        return value.item()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write_atomically(path: Path, text: str) -> None:
    """Write a temporary file, then rename it: an interrupted run never leaves half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _write_json(path: Path, data: Any) -> None:
    _write_atomically(path, json.dumps(data, indent=2, default=_json_default) + "\n")


@dataclass(frozen=True)
class EpisodeFiles:
    """The files of one episode of a run."""

    folder: Path

    @property
    def steps(self) -> Path:
        return self.folder / STEPS

    @property
    def summary(self) -> Path:
        return self.folder / SUMMARY

    def append_step(self, line: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        append_line(self.steps, line, default=_json_default)

    def read_steps(self) -> list[dict[str, Any]]:
        """Every whole step line (a last line torn by a crash is left out; other damage is an error)."""
        return read_lines(self.steps)

    def keep_steps_before(self, t: int) -> None:
        """Drop lines of steps ``>= t``: a resumed episode re-runs them from its checkpoint.

        Needed because a step line is written inside the graph node, before LangGraph has stored
        that node's checkpoint; an interruption between the two would otherwise duplicate it.
        """
        lines = [x for x in self.read_steps() if x["t"] < t]
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.steps, "".join(json.dumps(x, default=_json_default) + "\n" for x in lines))

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_json(self.summary, dict(summary))

    def read_summary(self) -> dict[str, Any] | None:
        if not self.summary.exists():
            return None
        try:
            return json.loads(self.summary.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DamagedFile(f"{self.summary} is damaged (not JSON); delete it to play the episode's end again "
                              "from its checkpoint") from None


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @classmethod
    def create(cls, path: Path | str) -> RunFolder:
        path = Path(path)
        if (path / CONFIG).exists():
            raise RunFolderError(f"{path} already holds a run; use 'resume {path}' or another --out")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunFolderError(f"cannot make a run folder at {path}: {exc.strerror}") from None
        return cls(path)

    @classmethod
    def open(cls, path: Path | str) -> RunFolder:
        path = Path(path)
        if not path.is_dir():
            raise RunFolderError(f"no run folder at {path}")
        if not (path / CONFIG).is_file():
            raise RunFolderError(f"{path} is not a llamac run folder (no {CONFIG})")
        return cls(path)

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run folder for this process: a second process that would run it too is refused with
        who holds it (two processes would write every step twice and pay every call twice)."""
        fh = (self.path / LOCK).open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise RunFolderError(f"{self.path} is in use by {holder}; wait for it to end or stop it") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                     f"{datetime.now(UTC).isoformat(timespec='seconds')}\n")
            fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    @property
    def calls(self) -> Path:
        return self.path / CALLS

    def episode(self, index: int) -> EpisodeFiles:
        return EpisodeFiles(self.path / "episodes" / f"{index:03d}")

    def write_config(self, config: Mapping[str, Any]) -> None:
        _write_json(self.path / CONFIG, dict(config))

    def read_config(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / CONFIG).read_text())
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{self.path / CONFIG} is not valid JSON: {exc.msg}") from None

    def write_run_summary(
        self, episodes: Iterable[Mapping[str, Any]], calls_log: Mapping[str, int] | None = None
    ) -> dict[str, Any]:
        """``calls_log``: totals of calls.jsonl, which also holds calls of decisions an interruption cut off."""
        summary = aggregate(list(episodes))
        if calls_log is not None:
            summary["calls_log"] = dict(calls_log)
        _write_json(self.path / SUMMARY, summary)
        return summary


def _mean_std(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std}


def aggregate(episodes: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Success as a rate; other metrics as mean(std) over successful episodes (as the paper reports)
    and over all episodes."""
    wins = [e for e in episodes if e.get("success")]
    out: dict[str, Any] = {
        "episodes": [dict(e) for e in episodes],
        "n_episodes": len(episodes),
        "success_rate": (len(wins) / len(episodes)) if episodes else math.nan,
        "over_successful": {},
        "over_all": {},
    }
    for key in METRICS:
        if key == "success":
            continue
        out["over_successful"][key] = _mean_std([float(e.get(key, 0)) for e in wins])
        out["over_all"][key] = _mean_std([float(e.get(key, 0)) for e in episodes])
    return out
