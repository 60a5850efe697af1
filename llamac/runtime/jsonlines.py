"""JSON-lines files that survive a crash: whole lines appended, a torn last line tolerated.

A process killed while writing leaves at most its last line cut off (no newline at the end). Reading
leaves that line out, and appending first cuts it away, so the file stays a sequence of whole lines.
A line that is not JSON anywhere else is damage, reported as ``DamagedFile`` naming the file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class DamagedFile(ValueError):
    """A run file that cannot be read (not a crash artefact): one line naming the file."""


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The whole JSON lines of ``path`` ([] when it does not exist)."""
    if not path.exists():
        return []
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    torn = lines.pop()  # b"" when the file ends with a newline, else the unfinished last line
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DamagedFile(f"{path} is damaged at line {number} (not JSON); restore it from a copy or "
                              "remove the run folder") from None
    if torn.strip():
        try:  # a last line written whole but without its newline
            out.append(json.loads(torn))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass  # cut off by a crash: left out
    return out


def trim_torn_tail(path: Path) -> None:
    """Make the file end with a whole line before the next append: a last line missing only its newline
    gets it, an unfinished one (not JSON) is cut away, as ``read_lines`` reads them."""
    if not path.exists():
        return
    with path.open("rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        data = path.read_bytes()
        start = data.rfind(b"\n") + 1
        try:
            json.loads(data[start:])
        except (json.JSONDecodeError, UnicodeDecodeError):
            fh.truncate(start)
            return
        fh.seek(size)
        fh.write(b"\n")


def append_line(path: Path, line: Mapping[str, Any], **dumps: Any) -> None:
    """Append one whole line (after cutting a torn tail away) and flush it."""
    trim_torn_tail(path)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, **dumps) + "\n")
        fh.flush()
