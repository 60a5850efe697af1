"""``python -m llamac.run report DIR``: the comparison of a sweep folder as Markdown, HTML and PNG figures.

Reads ``DIR/results.parquet`` (and the spec copy ``DIR/sweep.toml``, the trained policies' curves);
writes ``DIR/report.md``, ``DIR/report.html`` and ``DIR/figures/*.png``. Nothing in the body depends
on when or where it is made (no timestamps, sorted rows, fixed PNG metadata), so the same folder
always regenerates byte-identical files.
"""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass
from pathlib import Path

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


def _header(folder: Path, n_rows: int) -> tuple[str, list[str]]:
    name = folder.name
    spec = folder / "sweep.toml"
    if spec.is_file():
        try:
            name = tomllib.loads(spec.read_text()).get("name", name)
        except tomllib.TOMLDecodeError:
            pass
    sources = reported()["sources"]
    lines = [
        f"{n_rows} episodes (cells) of sweep `{name}`, one row each in `results.parquet` / `results.csv`.",
        "Re-run (continues, never repeats a finished cell): `python -m llamac.run sweep "
        f"{folder.name}/sweep.toml --out {folder.name}`; this report: `python -m llamac.run report {folder.name}`.",
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


def write_report(folder: Path) -> WrittenReport:
    from llamac.app.sweep.table import RESULTS_PARQUET, read_table

    if not (folder / RESULTS_PARQUET).is_file():
        raise ReportError(f"{folder} holds no sweep results ({RESULTS_PARQUET}); run 'python -m llamac.run sweep' first")
    rows = read_table(folder)
    if not rows:
        raise ReportError(f"{folder / RESULTS_PARQUET} has no finished cells yet")
    name, header = _header(folder, len(rows))
    tables = all_tables(rows)
    figures = all_figures(rows, folder, folder / "figures")
    rel = [p.relative_to(folder).as_posix() for p in figures]

    md = [f"# Comparison: {name}", ""] + [line + "\n" for line in header]
    md += [_md_table(t) for t in tables]
    md += ["## Figures", ""] + [f"![{Path(p).stem}]({p})\n" for p in rel]
    md_path = folder / "report.md"
    md_path.write_text("\n".join(md))

    body = [f"<h1>Comparison: {html.escape(name)}</h1>"] + [f"<p>{html.escape(line)}</p>" for line in header]
    body += [_html_table(t) for t in tables]
    body += ["<h2>Figures</h2>"] + [f'<p><img src="{html.escape(p)}" alt="{html.escape(Path(p).stem)}"></p>' for p in rel]
    html_path = folder / "report.html"
    html_path.write_text(
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(name)}</title>"
        f"<style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    return WrittenReport(md_path, html_path, figures)
