"""The tests mirror the package, so a new test has one obvious home.

``src/numnet/<module>.py`` is tested in ``tests/test_<module>.py`` (a private
module's leading underscore dropped), a subpackage ``src/numnet/<pkg>/`` in
the folder ``tests/<pkg>/``, and each experiment ``experiments/<name>.py`` in
``tests/experiments/test_<name>.py``. Test files keep unique names across
folders (pytest imports them by file name). ``tests/docs/`` holds the tests of
the pages, which are not a module.
"""

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "src" / "numnet"
#: modules without a file of their own, and where they are tested
EXEMPT = {
    "__init__": "test_import.py (the package's public names)",
    "__main__": "cli/test_cli.py (python -m numnet)",
    "_version": "test_import.py (numnet.__version__)",
}


def _test_name(module):
    return f"test_{module.lstrip('_')}.py"


def _subpackages():
    return sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


@pytest.mark.parametrize("module", sorted(p.stem for p in PACKAGE.glob("*.py")))
def test_every_top_level_module_has_its_test_file(module):
    if module in EXEMPT:
        return
    assert (TESTS / _test_name(module)).is_file(), (
        f"numnet.{module} needs tests/{_test_name(module)}"
    )


@pytest.mark.parametrize("package", _subpackages())
def test_every_subpackage_has_its_test_folder(package):
    assert list((TESTS / package).glob("test_*.py")), f"numnet.{package} needs tests/{package}/"


@pytest.mark.parametrize(
    "experiment",
    sorted(p.stem for p in (PACKAGE / "experiments").glob("*.py") if not p.stem.startswith("_")),
)
def test_every_experiment_has_its_test_file(experiment):
    path = TESTS / "experiments" / f"test_{experiment}.py"
    assert path.is_file(), f"numnet.experiments.{experiment} needs {path.relative_to(TESTS.parent)}"


def test_test_folders_are_package_folders_and_names_are_unique():
    files = sorted(TESTS.rglob("test_*.py"))
    folders = {f.parent.relative_to(TESTS).as_posix() for f in files}
    assert folders <= {".", "docs", *_subpackages()}
    names = [f.name for f in files]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
