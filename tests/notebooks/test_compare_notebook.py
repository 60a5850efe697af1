"""The comparison notebook executes top to bottom (nbclient under pytest), so a broken cell fails CI.

Its LLM cells replay ``cassettes/notebooks/compare_llm_vs_steer.yaml`` (recorded by
``scripts/record_cassettes.sh`` against the shipped local model); its RL cells train for real.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "compare_llm_vs_steer"

pytestmark = [pytest.mark.slow, pytest.mark.torch]


def test_the_notebook_and_its_text_twin_hold_the_same_cells() -> None:
    ipynb = nbformat.read(NOTEBOOK.with_suffix(".ipynb"), as_version=4)
    text = jupytext.read(NOTEBOOK.with_suffix(".py"))
    assert [(c.cell_type, c.source) for c in ipynb.cells] == [(c.cell_type, c.source) for c in text.cells]
    assert all(not c.get("outputs") for c in ipynb.cells if c.cell_type == "code")  # committed without outputs


def test_the_comparison_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = os.environ.get("LLAMAC_NOTEBOOK_RECORD_MODE")  # set by scripts/record_cassettes.sh only
    for name in list(os.environ):
        if name.startswith("LLAMAC_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LLAMAC_NOTEBOOK_OUT", str(tmp_path / "sweep"))
    if record:
        monkeypatch.setenv("LLAMAC_NOTEBOOK_RECORD", record)
    notebook = jupytext.read(NOTEBOOK.with_suffix(".py"))
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    outputs = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "cells: ran" in outputs
    rows = (tmp_path / "sweep" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 4 + 15  # header, the LLM experiment's 4 cells, the RL experiment's 16 less the greedy cell both share
    assert (tmp_path / "sweep" / "report.md").is_file()
