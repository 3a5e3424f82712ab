"""Every docstring example (``>>>``) of every public numnet module runs under doctest and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import numnet


def public_modules():
    names = ["numnet"]
    for info in pkgutil.walk_packages(numnet.__path__, "numnet."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def examples(name):
    """The doctests of module ``name`` that hold at least one example."""
    module = importlib.import_module(name)
    return [t for t in doctest.DocTestFinder().find(module, name) if t.examples]


MODULES = [name for name in public_modules() if examples(name)]


def test_some_docstrings_have_examples():
    assert "numnet.optim.transforms" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0, result
