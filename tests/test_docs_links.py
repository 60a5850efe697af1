"""The README and the guides link only to files that exist (a moved module or a results file not yet
written shows up here, not in a reader's 404)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text()
    links = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    missing = [link for link in links if not link.startswith(("http://", "https://", "mailto:"))
               and not (page.parent / link).exists()]
    assert missing == []


def test_the_readme_names_its_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "bash setup.sh && .venv/bin/python -m llamac.run grid --size 4x8" in text
    assert "bash setup.sh && .venv/bin/python -m pytest" in text
