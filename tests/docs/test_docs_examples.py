"""The Python examples of the README and of every page of the site run as written (keeps them true).

Each page (README.md, docs/**/*.md) is one namespace: its ```python blocks run
in order, so a later block may use what an earlier one built, as a reader
would in one session. Blocks run in a temporary working directory (some save
files) with the Agg backend. A block that must not run is written
```{code-block} python and is not collected. Docstring examples (``>>>``)
run under doctest in tests/docs/test_doctests.py; the gallery runs in
tests/docs/test_docs_build.py.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GENERATED = ("_build", "api", "auto_examples")  # written by the build, not pages
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def pages():
    """README.md and every Markdown page of docs/ (not the generated ones), in a fixed order."""
    found = [p for p in sorted(DOCS.rglob("*.md")) if p.relative_to(DOCS).parts[0] not in GENERATED]
    return [ROOT / "README.md", *found]


def blocks(page):
    """The ```python blocks of ``page``, in order."""
    return _BLOCK.findall(page.read_text(encoding="utf-8"))


PAGES = [p for p in pages() if blocks(p)]


def test_the_pages_have_examples():
    assert sum(len(blocks(p)) for p in PAGES) >= 20
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    for page in (
        "README.md",
        "docs/getting-started.md",
        "docs/guide/layers.md",
        "docs/guide/checks.md",
        "docs/guide/curvature.md",
        "docs/guide/optimizers.md",
        "docs/guide/random-features.md",
        "docs/guide/estimators.md",
        "docs/guide/io.md",
        "docs/guide/distributed.md",
        "docs/contributing.md",
    ):
        assert page in names, f"{page} has no python example"


def test_a_python_block_is_found_and_a_code_block_directive_is_not(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "```python\nx = 1\n```\n\n```{code-block} python\ny = 2\n```\n\n```\nz = 3\n```\n"
    )
    assert blocks(page) == ["x = 1\n"]


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for i, code in enumerate(blocks(page)):
        exec(compile(code, f"{page.relative_to(ROOT)} block {i + 1}", "exec"), namespace)
    capsys.readouterr()
