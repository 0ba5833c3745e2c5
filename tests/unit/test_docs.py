"""The repository carries the design it cites: every docs/ page a file names exists, and nothing points to a
design document outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(r"docs/[A-Za-z_]+\.md")


def _tracked_text() -> dict[str, str]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    texts = {}
    for name in names:
        path = ROOT / name
        if path.suffix in {".py", ".toml", ".md", ".sql", ".json", ".yml", ".cfg"} and path.is_file():
            texts[name] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def test_no_file_cites_a_design_document_outside_the_repository() -> None:
    here = Path(__file__).name
    citing = [name for name, text in _tracked_text().items() if "DESIGN" in text and not name.endswith(here)]

    assert citing == []


def test_every_cited_docs_page_exists() -> None:
    cited = {page for text in _tracked_text().values() for page in CITED.findall(text)}

    assert {"docs/policy.md", "docs/levels.md", "docs/architecture.md"} <= cited
    assert sorted(page for page in cited if not (ROOT / page).is_file()) == []
