"""The experiments of the notes, one module each, found by discovery.

Each experiment module defines:

- ``NAME`` (the ``numnet`` subcommand) and ``HELP`` (one line);
- ``add_arguments(parser)``: its own options (the CLI adds ``--seed`` and ``--out``);
- ``run(args) -> ExperimentResult`` from the parsed arguments;
- a plain function with keyword arguments for library users and tests.
"""

import importlib
import json
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import atomic_path

__all__ = ["ExperimentResult", "discover"]


@dataclass
class ExperimentResult:
    """Numbers, figures and a printable table of one experiment run."""

    name: str
    numbers: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    table: str = ""

    def save(self, out_dir):
        """Write ``<name>.json`` (the numbers) and every figure as PNG; return the paths."""
        from ..plots import save_figure

        out = Path(out_dir)
        paths = [save_figure(fig, out / fname) for fname, fig in self.figures.items()]
        with atomic_path(out / f"{self.name}.json") as tmp:
            tmp.write_text(json.dumps(self.numbers, indent=2, default=_jsonable))
        return paths + [out / f"{self.name}.json"]

    def __str__(self):
        lines = [f"== {self.name} =="]
        if self.table:
            lines.append(self.table)
        lines += [f"{k}: {_fmt(v)}" for k, v in self.numbers.items() if np.isscalar(v)]
        return "\n".join(lines)


def _jsonable(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return str(x)


def _fmt(v):
    return f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v)


def discover():
    """Import every experiment module of this package; return ``{NAME: module}``."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return dict(sorted(found.items()))

