"""The experiments of the notes, one module each, found by discovery.

The template (:mod:`numnet.experiments._params`): module ``<module>`` defines
one plain public function ``<module>_experiment`` with keyword-only
parameters, defaults in its signature, declared by the
:func:`~numnet.experiments._params.experiment` decorator with the subcommand's
name, a one-line help and the kind and help text of each parameter the command
line offers. A call checks its arguments first (``ValueError``/``TypeError``
naming the parameter) and returns an :class:`ExperimentResult`, whose
:meth:`~ExperimentResult.save` writes the outputs to a folder; the result and
its JSON file are named after the subcommand with underscores
(``linear-pca`` → ``linear_pca.json``), figures likewise. Helpers several
experiments share live in :mod:`numnet.experiments._common`. The ``numnet``
command generates each subcommand from the declaration
(:mod:`numnet.cli._experiments`); nothing here imports argparse.

Modules not yet converted keep the former protocol: ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args)``.
"""

import importlib
import json
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._files import atomic_path

__all__ = ["ExperimentResult", "discover", "entry_point"]


@dataclass
class ExperimentResult:
    """Numbers, figures and a printable table of one experiment run.

    ``name`` is the subcommand with underscores (set by the experiment
    decorator); ``details`` is longer text the CLI prints before the table
    unless ``--quiet``.
    """

    name: str
    numbers: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    table: str = ""
    details: str = ""

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


def entry_point(module):
    """The experiment function of ``module`` (``<module>_experiment``, declared), or None."""
    from ._params import spec_of

    function = getattr(module, f"{module.__name__.rsplit('.', 1)[-1]}_experiment", None)
    return function if spec_of(function) is not None else None


def discover():
    """Import every experiment module of this package; return ``{subcommand: module}``."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        function = entry_point(module)
        if function is not None:
            found[function.spec.name] = module
        elif hasattr(module, "NAME") and hasattr(module, "run"):  # the former protocol
            found[module.NAME] = module
    return dict(sorted(found.items()))
