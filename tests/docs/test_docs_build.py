"""The documentation site builds with warnings as errors, as ``make docs`` builds it, gallery included.

The build runs every gallery example (examples/plot_*.py, small sizes) and
generates the API reference from ``__all__``; afterwards the test checks that
every page, every gallery example with its figure, and every name of
``numnet.__all__`` made it into the HTML.
"""

import os
import subprocess
import sys
from pathlib import Path

import numnet

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    "index",
    "getting-started",
    "benchmarks",
    "contributing",
    "api/index",
    "auto_examples/index",
    *(
        f"guide/{p}"
        for p in (
            "index",
            "layers",
            "checks",
            "curvature",
            "optimizers",
            "random-features",
            "estimators",
            "io",
            "cli",
            "experiments",
            "distributed",
            "guarantees",
        )
    ),
]


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    out = tmp_path / "html"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(ROOT / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    for page in PAGES:
        assert (out / f"{page}.html").is_file(), page
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 20
    for example in examples:
        assert (out / "auto_examples" / f"{example.stem}.html").is_file(), example.name
        assert list((out / "_images").glob(f"sphx_glr_{example.stem}_*.png")), (
            f"{example.name} drew no figure"
        )
    api = (out / "api" / "numnet.html").read_text(encoding="utf-8")
    for name in numnet.__all__:
        assert name in api, name
