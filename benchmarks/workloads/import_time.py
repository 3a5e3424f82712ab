"""Workload 12: the time of ``import numnet`` in a fresh interpreter, against the libraries it builds on.

Each measurement starts a new Python process that times one import
statement with ``time.perf_counter`` (interpreter start-up is not
included) and reports which heavy packages the import pulled in. The
statements are run in interleaved rounds (numnet, NumPy,
``scipy.sparse.linalg``, scikit-learn, …), so a change of machine load hits
them alike; the median of the rounds is reported. The issue's goal is
``import numnet`` ≤ 0.4 s, with scikit-learn, matplotlib and
``scipy.optimize`` imported lazily by the modules that need them.
"""

import json
import subprocess
import sys

import numpy as np

from ._timing import summary

__all__ = ["run", "NAME", "STATEMENTS", "HEAVY", "time_import"]

NAME = "import"
STATEMENTS = {
    "import numnet": "numnet",
    "import numpy": "numpy",
    "import scipy.sparse.linalg": "scipy.sparse.linalg",
    "import sklearn": "sklearn",
}
#: Modules whose presence after ``import numnet`` the report lists.
HEAVY = ("sklearn", "matplotlib", "scipy.optimize", "scipy.sparse.linalg", "torch", "tqdm")
_CHILD = (
    "import sys, time, json; t = time.perf_counter(); import {module}; t = time.perf_counter() - t; "
    "print(json.dumps([t, [m for m in {heavy!r} if m in sys.modules]]))"
)


def time_import(module):
    """``(seconds, [heavy modules loaded])`` of ``import module`` in a fresh interpreter."""
    code = _CHILD.format(module=module, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, loaded


def run(settings, dtypes):
    """One case (dtype-independent): the median of fresh imports of each statement over the rounds.

    Rounds: ``settings.repeats``, at least 5; ``--quick`` times numnet and NumPy only, twice.
    """
    statements = dict(list(STATEMENTS.items())[:2]) if settings.quick else STATEMENTS
    times, loaded = {name: [] for name in statements}, {}
    for name, module in statements.items():  # warm the file-system cache once
        time_import(module)
    for _ in range(2 if settings.quick else max(settings.repeats, 5)):
        for name, module in statements.items():
            seconds, loaded[name] = time_import(module)
            times[name].append(seconds)
    rows = [
        dict(impl=name, role="numnet" if name == "import numnet" else "peer", **summary(t))
        for name, t in times.items()
    ]
    heavy = loaded["import numnet"]
    return [
        {
            "workload": NAME,
            "dtype": "any",
            "problem": f"fresh `{sys.executable} -c 'import …'`, "
            f"{rows[0]['n']} rounds, import statement only",
            "main": "import numnet",
            "rows": rows,
            "heavy_loaded": heavy,
            "median_s": float(np.median(times["import numnet"])),
            "notes": [
                "Loaded by `import numnet`: "
                + (", ".join(f"`{m}`" for m in heavy) or "none of " + ", ".join(HEAVY))
            ],
        }
    ]
