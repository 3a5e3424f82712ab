"""Every test or source file that the README and the pages cite exists.

The README's guarantees and the guide pages name the test files that back
each promise (``tests/optim/test_resume.py``, …); when tests move, the
citations must move with them.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
CITED = re.compile(r"\b(?:tests|src/numnet)/[\w/]+\.py\b")


def _citations():
    for page in PAGES:
        if "_build" in page.parts or "auto_examples" in page.parts:
            continue
        for path in sorted(set(CITED.findall(page.read_text(encoding="utf-8")))):
            yield pytest.param(page, path, id=f"{page.relative_to(ROOT)}:{path}")


@pytest.mark.parametrize("page, path", _citations())
def test_cited_file_exists(page, path):
    assert (ROOT / path).is_file(), f"{page.relative_to(ROOT)} cites {path}, which does not exist"


def test_the_readme_cites_the_tests_behind_its_guarantees():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    assert len(set(CITED.findall(section))) >= 6
