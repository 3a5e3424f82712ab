"""numnet against PyTorch, JAX, scikit-learn and np.matmul, in one run (`make bench`).

Workloads (``--only``, by module): ``products`` (1–4: gradient, exact
Hessian-vector and Gauss-Newton products of a 784-1024-1024-10 tanh network,
batch 512, and their share of the matmul limit), ``training`` (5: time to
97% test accuracy on digits), ``random_features`` (6: streaming
extreme-learning-machine fit at n = 10⁵, 10⁶), ``hessian`` (7: dense
exact Hessian of 2,092 parameters), ``conv`` (8: gradient and exact
Hessian-vector product of a small CNN on 28×28×1 images, batch 128),
``fitting`` (9: time to a training loss on 1-D and 2-D function fitting,
against SciPy's least squares and PyTorch), ``classification`` (10: time
to a training loss and a validation accuracy on peaks and digits, against
scikit-learn and PyTorch, 1 and 2 threads), ``product_ratios`` (11:
gradient, HVP and Gauss-Newton products against a hand-written
preallocated NumPy gradient, with and without ``tune_malloc``, in fresh
processes), ``import_time`` (12: ``import numnet`` in a fresh
interpreter) and ``scaling`` (13: a Newton-CG iteration and an ELM fit on
n = 10⁶ samples under ``mpiexec -n 1`` and ``-n 2``, the cost of an
``Allreduce`` and the cost model it gives; needs mpi4py and mpiexec) and
``curvature`` (14: GGN-vector product, KFAC construction and
inverse-vector product, GGN diagonal, per-sample gradients and SLQ against
curvlinops and BackPACK on the networks of 1–3 and 8).
Every library uses the same number of threads. A full run prints the table
and writes ``benchmarks/results.json`` and ``BENCHMARKS.md``; ``--quick``
runs tiny sizes as a smoke test and writes only what ``--json``/``--md`` ask
for.

    python benchmarks/run.py                      # the full run (7–18 minutes on 2 cores, by load)
    python benchmarks/run.py --quick --only products,hessian
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from numnet._files import atomic_path  # noqa: E402
from numnet.malloc import tune_malloc  # noqa: E402
from workloads import WORKLOADS, load  # noqa: E402
from workloads._machine import load_average, machine_facts  # noqa: E402
from workloads._report import add_ratios, console_table, markdown, readme_summary  # noqa: E402
from workloads._more_targets import evaluate as evaluate_more  # noqa: E402
from workloads.curvature import evaluate as evaluate_curvature  # noqa: E402
from workloads._targets import evaluate  # noqa: E402
from workloads._timing import Settings, current_threads, limit_threads  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DTYPES = ("float64", "float32")
README_MARKERS = ("<!-- bench-summary: written by benchmarks/run.py -->", "<!-- /bench-summary -->")


def _names(text, allowed, what):
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"{what} must be a comma-separated subset of {','.join(allowed)}"
        )
    return names


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, few repeats: a smoke run, not a measurement",
    )
    p.add_argument(
        "--only",
        type=lambda s: _names(s, WORKLOADS, "--only"),
        default=list(WORKLOADS),
        help=f"comma-separated workloads among {','.join(WORKLOADS)}",
    )
    p.add_argument("--dtypes", type=lambda s: _names(s, DTYPES, "--dtypes"), default=list(DTYPES))
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for every library (default: NumPy's BLAS)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed calls per implementation (default 7, quick 2)",
    )
    p.add_argument(
        "--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)"
    )
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu = process CPU time (only meaningful with --threads 1)",
    )
    p.add_argument(
        "--json", type=Path, default=None, help="results file (full run: benchmarks/results.json)"
    )
    p.add_argument("--md", type=Path, default=None, help="report file (full run: BENCHMARKS.md)")
    p.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="README whose summary table to refresh between its bench-summary markers "
        "(full run: README.md)",
    )
    p.add_argument(
        "--no-tune-malloc",
        dest="tune_malloc",
        action="store_false",
        help="keep glibc's default allocator thresholds (by default the run calls "
        "numnet.tune_malloc(), for every library alike)",
    )
    args = p.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    if not args.quick:
        args.json = args.json or ROOT / "benchmarks" / "results.json"
        args.md = args.md or ROOT / "BENCHMARKS.md"
        args.readme = args.readme or ROOT / "README.md"
    return args


def _settings(args):
    repeats = args.repeats or (2 if args.quick else 7)
    rounds = args.rounds or (1 if args.quick else 3)
    return Settings(
        repeats=repeats,
        warmup=1 if args.quick else 2,
        rounds=rounds,
        clock=args.clock,
        quick=args.quick,
    )


def run_workloads(names, settings, dtypes, log=print):
    """Run the named workloads; return their cases (with ratios). Missing numnet features are skipped."""
    cases = []
    for name in names:
        module = load(name)
        if module is None:
            log(f"\n{name}: skipped (the numnet module it measures is not installed)")
            continue
        t0 = time.perf_counter()
        new = [add_ratios(c) for c in module.run(settings, dtypes)]
        log(console_table(new) + f"\n  [{name}: {time.perf_counter() - t0:.0f} s]")
        cases += new
    return cases


def _write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"wrote {path}")


def refresh_readme(text, summary):
    """``text`` with the part between :data:`README_MARKERS` replaced by ``summary``."""
    start, end = README_MARKERS
    head, sep, rest = text.partition(start)
    _, sep2, tail = rest.partition(end)
    if not (sep and sep2):
        raise ValueError(f"README has no {start} ... {end} markers")
    return f"{head}{start}\n{summary}\n{end}{tail}"


def _write(args, meta, cases, verdicts):
    if args.json:
        _write_text(
            args.json,
            json.dumps({"meta": meta, "cases": cases, "targets": verdicts}, indent=1) + "\n",
        )
    if args.md:
        _write_text(args.md, markdown(meta, cases, verdicts))
    if args.readme:  # last: the results above are on disk even if the README lacks its markers
        _write_text(
            args.readme,
            refresh_readme(args.readme.read_text(encoding="utf-8"), readme_summary(meta, verdicts)),
        )


def main(argv=None):
    args = parse(argv)
    threads = args.threads or current_threads()
    limiter = limit_threads(threads)  # noqa: F841  (kept alive for the whole run)
    settings = _settings(args)
    malloc_tuned = tune_malloc() if args.tune_malloc else False
    meta = {
        "machine": machine_facts(),
        "threads": threads,
        "settings": vars(settings).copy(),
        "workloads": args.only,
        "dtypes": args.dtypes,
        "malloc_tuned": malloc_tuned,
    }
    t0 = time.perf_counter()
    cases = run_workloads(args.only, settings, args.dtypes)
    meta.update(elapsed_s=time.perf_counter() - t0, load_average_end=load_average())
    verdicts = evaluate(cases) + evaluate_more(cases) + evaluate_curvature(cases)
    print("\nTargets:" if verdicts else "\nTargets: none of their workloads ran")
    for v in verdicts:
        print(
            f"  {v['id']} [{v['dtype']}] {'met' if v['met'] else 'NOT met'}: {v['goal']} — {v['measured']}"
        )
    _write(args, meta, cases, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
