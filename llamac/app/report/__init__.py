"""``python -m llamac.run report DIR [DIR ...] [--out OUT]``: the comparison of sweep folders as
Markdown, HTML and PNG figures.

Reads ``DIR/results.parquet`` (and the spec copy ``DIR/sweep.toml``, the trained policies' curves);
writes ``report.md``, ``report.html`` and ``figures/*.png`` into ``DIR`` (or ``OUT``). Several folders
are the *parts* of one comparison (say, the LLM cells swept on one machine and the RL cells on another,
or a second spec that adds shapes): their rows are reported together, and ``OUT`` also gets the merged
``results.parquet`` / ``results.csv``, each row's policy path re-pointed from its part to ``OUT``. A cell
found in two parts is refused, never silently picked. Nothing in the body depends on when or where it is
made (no timestamps, folder names rather than paths, sorted rows, fixed PNG metadata), so the same folders
always regenerate byte-identical files.
"""

from __future__ import annotations

import html
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llamac.app.report.figures import all_figures
from llamac.app.report.tables import Table, all_tables, reported

__all__ = ["ReportError", "WrittenReport", "write_report"]


class ReportError(ValueError):
    """A folder that holds no sweep results (one line, exit 2)."""


@dataclass(frozen=True)
class WrittenReport:
    md: Path
    html: Path
    figures: list[Path]


def _sweep_name(folder: Path) -> str:
    spec = folder / "sweep.toml"
    if spec.is_file():
        try:
            return str(tomllib.loads(spec.read_text()).get("name", folder.name))
        except tomllib.TOMLDecodeError:
            pass
    return folder.name


def _header(parts: Sequence[tuple[Path, int]], out: Path, merged: bool) -> tuple[str, list[str]]:
    """``merged``: the rows were gathered into ``out`` from other folders (else ``out`` is the one part)."""
    sources = reported()["sources"]
    n_rows = sum(n for _, n in parts)
    if not merged:
        folder = out
        name = _sweep_name(folder)
        lines = [
            f"{n_rows} episodes (cells) of sweep `{name}`, one row each in `results.parquet` / `results.csv`.",
            "Re-run (continues, never repeats a finished cell): `python -m llamac.run sweep "
            f"{folder.name}/sweep.toml --out {folder.name}`; this report: `python -m llamac.run report {folder.name}`.",
        ]
    else:
        name = " + ".join(_sweep_name(p) for p, _ in parts)
        listed = ", ".join(f"`{_sweep_name(p)}` ({n} cells, folder `{p.name}`)" for p, n in parts)
        folders = " ".join(p.name for p, _ in parts)
        lines = [
            f"{n_rows} episodes (cells) from {len(parts)} sweep part(s): {listed}; one row each in this folder's "
            "merged `results.parquet` / `results.csv`.",
            "Re-run a part (continues, never repeats a finished cell): `python -m llamac.run sweep DIR/sweep.toml "
            f"--out DIR`; this report: `python -m llamac.run report {folders} --out {out.name}`.",
        ]
    lines += [
        "LLM cells ran with the provider of the environment that ran the sweep (with no key: the shipped "
        "Qwen2.5-Coder-0.5B on the CPU); the papers' figures are GPT-4's. Wherever the rule gate wrote plan "
        "lines (table 2), those successes belong to an LLM-plus-rules coordinator, not to the model alone.",
        f"Papers' figures: LLaMAC/HMAS-2 from {sources['llamac']}; STEER from {sources['steer']}.",
    ]
    return name, lines


def _md_table(t: Table) -> str:
    lines = [f"## {t.title}", ""]
    if t.note:
        lines += [t.note, ""]
    lines.append("| " + " | ".join(t.columns) + " |")
    lines.append("|" + "---|" * len(t.columns))
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in t.rows]
    return "\n".join(lines) + "\n"


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in t.rows)
    note = f"<p>{html.escape(t.note)}</p>\n" if t.note else ""
    return f"<h2>{html.escape(t.title)}</h2>\n{note}<table>\n<tr>{head}</tr>\n{body}</table>\n"


_STYLE = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;font-size:14px}"
          "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 6px}"
          "th{background:#f2f0ff}img{max-width:100%}")


def _merged_rows(parts: Sequence[Path], out: Path, merging: bool) -> tuple[list[dict[str, Any]], list[tuple[Path, int]]]:
    """Every part's rows in the order given; when ``merging`` into ``out``, policy paths re-pointed from
    each part to ``out``."""
    from llamac.app.sweep.table import RESULTS_PARQUET, read_table

    rows: list[dict[str, Any]] = []
    counts: list[tuple[Path, int]] = []
    seen: dict[str, Path] = {}
    for part in parts:
        if not (part / RESULTS_PARQUET).is_file():
            raise ReportError(f"{part} holds no sweep results ({RESULTS_PARQUET}); run 'python -m llamac.run sweep' first")
        got = read_table(part)
        if not got:
            raise ReportError(f"{part / RESULTS_PARQUET} has no finished cells yet")
        for row in got:
            if row["cell"] in seen:
                raise ReportError(f"cell {row['cell']} is in both {seen[row['cell']]} and {part}: "
                                  "report each cell from one part only")
            seen[row["cell"]] = part
            if merging and row.get("policy"):
                row["policy"] = Path(os.path.relpath((part / row["policy"]).resolve(), out.resolve())).as_posix()
        rows += got
        counts.append((part, len(got)))
    return rows, counts


def write_report(folder: Path | Sequence[Path], out: Path | None = None) -> WrittenReport:
    """Report one sweep folder (into itself, or ``out``) or several parts of one comparison into ``out``."""
    from llamac.app.sweep.table import write_table

    parts = [folder] if isinstance(folder, Path) else list(folder)
    if not parts:
        raise ReportError("name at least one sweep folder")
    if out is None:
        if len(parts) > 1:
            raise ReportError("several sweep folders are reported into one new folder: give --out DIR")
        out = parts[0]
    merging = not (len(parts) == 1 and parts[0].resolve() == out.resolve())
    if merging:
        if any(p.resolve() == out.resolve() for p in parts):
            raise ReportError(f"--out {out} is one of the parts; report several parts into a folder of its own")
        if (out / "cells").is_dir():
            raise ReportError(f"--out {out} is a sweep folder (its table is rebuilt from its cells); choose another folder")
    rows, counts = _merged_rows(parts, out, merging)
    name, header = _header(counts, out, merging)
    if merging:
        out.mkdir(parents=True, exist_ok=True)
        write_table(rows, out)
    tables = all_tables(rows)
    figures = all_figures(rows, out, out / "figures")
    rel = [p.relative_to(out).as_posix() for p in figures]

    md = [f"# Comparison: {name}", ""] + [line + "\n" for line in header]
    md += [_md_table(t) for t in tables]
    md += ["## Figures", ""] + [f"![{Path(p).stem}]({p})\n" for p in rel]
    md_path = out / "report.md"
    md_path.write_text("\n".join(md))

    body = [f"<h1>Comparison: {html.escape(name)}</h1>"] + [f"<p>{html.escape(line)}</p>" for line in header]
    body += [_html_table(t) for t in tables]
    body += ["<h2>Figures</h2>"] + [f'<p><img src="{html.escape(p)}" alt="{html.escape(Path(p).stem)}"></p>' for p in rel]
    html_path = out / "report.html"
    html_path.write_text(
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(name)}</title>"
        f"<style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return WrittenReport(md_path, html_path, figures)
