"""The README's Python examples run as written (keeps the README true).

Each ``## `` section of README.md is one namespace: its ```python blocks run
in order, so a later block may use what an earlier one built, as a reader
would in one session. Blocks run in a temporary working directory (some save
files) with the Agg backend.
"""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _sections():
    """(title, [code blocks]) for every ``## `` section that has Python blocks."""
    text = README.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    out = []
    for part in parts[1:]:
        title = part.splitlines()[0].strip()
        blocks = _BLOCK.findall(part)
        if blocks:
            out.append((title, blocks))
    return out


SECTIONS = _sections()


def test_readme_has_examples():
    assert sum(len(blocks) for _, blocks in SECTIONS) >= 10


@pytest.mark.parametrize("title,blocks", SECTIONS, ids=[t[:40] for t, _ in SECTIONS])
def test_readme_section_runs(title, blocks, tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md [{title}] block {i + 1}", "exec"), namespace)
    capsys.readouterr()
