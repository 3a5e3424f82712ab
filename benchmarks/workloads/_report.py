"""Tables of a run: ratios, the console table, and BENCHMARKS.md."""

from ._optlog import OPTIMIZATIONS, OPTLOG_SETUP

__all__ = ["readme_summary", "add_ratios", "console_table", "markdown"]

TITLES = {
    "grad": "1. Gradient (value and gradient)",
    "hvp": "2. Exact Hessian-vector product",
    "gnvp": "3. Gauss-Newton-vector product",
    "training": "5. Training to 97% test accuracy on digits",
    "random_features": "6. Random-features least squares",
    "hessian": "7. Dense exact Hessian",
    "conv_grad": "8. CNN gradient (value and gradient)",
    "conv_hvp": "8. CNN exact Hessian-vector product",
    "fitting": "9. Function fitting: time to a training loss",
    "classification_loss": "10. Classification: time to a training loss",
    "classification_accuracy": "10. Classification: time to a validation accuracy",
    "product_ratios": "11. Products against a hand-written NumPy reference",
    "import": "12. Time of `import numnet`",
    "curv_ggnvp": "14. Curvature: GGN-vector product",
    "curv_kfac": "14. Curvature: KFAC construction (type-2)",
    "curv_kfac_inv": "14. Curvature: KFAC-inverse-vector product",
    "curv_kfac_inv_fresh": "14. Curvature: KFAC inverse (eigendecompositions) + one product",
    "curv_diag_ggn": "14. Curvature: exact GGN diagonal",
    "curv_per_sample": "14. Curvature: per-sample gradients",
    "curv_slq": "14. Curvature: SLQ spectral density of the GGN",
}


def add_ratios(case):
    """Store ``numnet_over_this`` (numnet main time / this row's time) on every other row of ``case``.

    A case with ``"ratio": "this / main"`` stores the inverse, this row's time over the main one's.
    """
    main = next((r for r in case["rows"] if r["impl"] == case["main"]), None)
    invert = case.get("ratio") == "this / main"
    for r in case["rows"]:
        ok = main and main.get("median_s") and r.get("median_s") and r is not main
        ratio = (
            (r["median_s"] / main["median_s"] if invert else main["median_s"] / r["median_s"])
            if ok
            else None
        )
        r["numnet_over_this"] = ratio
    return case


def _ms(seconds):
    if seconds is None:
        return "—"
    return f"{seconds * 1e3:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _extra(case, r):
    if "extra" in r:
        return r["extra"]
    if case["workload"] in ("grad", "hvp", "gnvp", "conv_grad", "conv_hvp"):
        return f"{r['gflops_per_s']:.1f} GFLOP/s"
    if case["workload"] == "training":
        return (
            f"k={r['iterations']}, acc {r['accuracy']:.3f}, seeds {r['seeds_reached']}"
            if r.get("reached")
            else f"not reached (best acc {r['best_accuracy']:.3f})"
        )
    if case["workload"] == "random_features":
        return f"peak {r['peak_mb']:,.0f} MiB"
    return ""


def _cells(case, r):
    ratio = r.get("numnet_over_this")
    return [
        r["impl"],
        _ms(r.get("median_s")),
        _ms(r.get("iqr_s")),
        _extra(case, r),
        "main" if r["impl"] == case["main"] else (f"{ratio:.2f}×" if ratio else ""),
    ]


HEADER = ["implementation", "median", "IQR", "", "numnet / this"]


def console_table(cases):
    """Plain-text table of every case."""
    lines = []
    for case in cases:
        lines.append(
            f"\n{TITLES.get(case['workload'], case['workload'])} — {case['dtype']}, {case['problem']}"
        )
        for r in case["rows"]:
            c = _cells(case, r)
            lines.append(f"  {c[0]:<52} {c[1]:>11} ±{c[2]:>10}  {c[3]:<28} {c[4]}")
    return "\n".join(lines)


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _md_case(case):
    head = f"### {TITLES.get(case['workload'], case['workload'])} — {case['dtype']}\n\n{case['problem']}\n"
    last = f"this / {case['main']}" if case.get("ratio") == "this / main" else HEADER[-1]
    table = _md_table(HEADER[:-1] + [last], [_cells(case, r) for r in case["rows"]])
    notes = list(case.get("notes", []))
    if case.get("agreement"):
        notes.append(
            "Agreement (relative 2-norm difference): "
            + ", ".join(f"{k} {v:.1e}" for k, v in case["agreement"].items())
        )
    for impl, lim in case.get("matmul_limit", {}).items():
        notes.append(
            f"Matmul limit of `{impl}` ({lim['gflop']:.2f} GFLOP of matrix products): "
            f"np.matmul {lim['np_matmul_s'] * 1e3:.1f} ms, torch.matmul {lim['torch_matmul_s'] * 1e3:.1f} ms; "
            f"numnet reaches **{lim['fraction_of_np_matmul']:.0%}** of the np.matmul limit."
        )
    if "fraction_of_np_matmul" in case and "per_batch_s" in case:
        parts = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in case["per_batch_s"].items())
        notes.append(
            f"Per batch: {parts}. Fit at **{case['fraction_of_np_matmul']:.0%}** of the np.matmul limit "
            f"({case['gram_matmul_s']:.2f} s for all Gram products)."
        )
    if "max_rel_diff_vs_torch" in case:
        notes.append(
            f"max |H_numnet − H_torch| / max |H_torch| = {case['max_rel_diff_vs_torch']:.1e}"
        )
    return head + "\n" + table + "\n" + "".join(f"\n- {n}" for n in notes) + "\n"


def _md_limits(cases):
    """Workload 4: achieved GFLOP/s of numnet's products against np.matmul on the same shapes."""
    rows = []
    for case in cases:
        for impl, lim in case.get("matmul_limit", {}).items():
            t = next(r["median_s"] for r in case["rows"] if r["impl"] == impl)
            rows.append(
                [
                    impl,
                    case["dtype"],
                    f"{lim['gflop']:.2f}",
                    f"{lim['gflop'] / t:.1f}",
                    f"{lim['gflop'] / lim['np_matmul_s']:.1f}",
                    f"**{lim['fraction_of_np_matmul']:.0%}**",
                    f"{lim['np_matmul_s'] / lim['torch_matmul_s']:.2f}×",
                ]
            )
    if not rows:
        return ""
    return (
        "### 4. Achieved GFLOP/s as a fraction of the matmul limit\n\nFLOPs are the matrix products "
        "numnet runs (2·m·k·n each); the limit is np.matmul on the same list of shapes and transposes "
        "(the fastest of its repeated calls, against numnet's median). "
        "The last column is how much faster torch.matmul runs the same list.\n\n"
        + _md_table(
            [
                "product",
                "dtype",
                "GFLOP",
                "numnet GFLOP/s",
                "np.matmul GFLOP/s",
                "fraction",
                "torch.matmul speed-up",
            ],
            rows,
        )
        + "\n"
    )


def _md_targets(verdicts):
    rows = [
        [
            v["id"],
            v["goal"],
            v["dtype"],
            "**met**" if v["met"] else "not met",
            v["measured"],
            "" if v["met"] else v["limit"],
        ]
        for v in verdicts
    ]
    return _md_table(["#", "target", "dtype", "status", "measured", "what limits it"], rows)


def readme_summary(meta, verdicts):
    """The README's summary of a full run: where and how it ran, then each target's verdict."""
    rows = [
        [v["id"], v["goal"], v["dtype"], v["measured"], "**met**" if v["met"] else "not met"]
        for v in verdicts
    ]
    m = meta["machine"]
    return (
        f"Last full run: {m['cpu']}, {m['cores']} cores, {meta['threads']} thread(s) per library, "
        f"load average {m['load_average_start'][0]} at the start and {meta['load_average_end'][0]} "
        f"at the end, {meta['elapsed_s'] / 60:.0f} minutes; numnet time / peer time:\n\n"
        + _md_table(["#", "target", "dtype", "measured", "status"], rows)
    )


def _md_optlog():
    rows = [[o["commit"], o["change"], o["measured"]] for o in OPTIMIZATIONS]
    return OPTLOG_SETUP + "\n\n" + _md_table(["commit", "change", "measured before → after"], rows)


def _md_machine(meta):
    m = meta["machine"]
    blas = "; ".join(
        f"{b['library']} {b['version']} ({b['architecture']}, {b['file']})" for b in m["blas"]
    )
    v = m["versions"]
    return "\n".join(
        [
            f"- CPU: {m['cpu']}, {m['cores']} cores; threads per library in this run: {meta['threads']}",
            f"- BLAS libraries loaded (NumPy's first, then SciPy's): {blas}",
            f"- Python {m['python']}; " + ", ".join(f"{k} {v[k]}" for k in v if v[k]),
            f"- Load average (1, 5, 15 min) at start: {m['load_average_start']}, at end: {meta['load_average_end']} "
            "(the machine is shared; see the IQR column for the spread)",
            f"- Settings: {meta['settings']}; wall time of the whole run {meta['elapsed_s']:.0f} s",
            "- glibc allocator: "
            + (
                "`numnet.tune_malloc()` (freed memory kept mapped, for every library in the run)"
                if meta.get("malloc_tuned")
                else "default thresholds"
            ),
        ]
    )


def markdown(meta, cases, verdicts):
    """The text of BENCHMARKS.md for one run."""
    parts = [
        "# numnet benchmarks",
        "Written by `benchmarks/run.py` (`make bench`) from the run below; the raw numbers are in "
        "`benchmarks/results.json`. Every ratio is numnet's time divided by the peer's, both measured in "
        "the same run, on the same shapes, dtype and thread count; times are medians after warm-up.",
        "## Machine\n\n" + _md_machine(meta),
        "## Targets\n\n" + _md_targets(verdicts),
        "## Results\n\n" + "\n".join(_md_case(c) for c in cases) + "\n" + _md_limits(cases),
        "## Optimization log\n\n" + _md_optlog(),
    ]
    return "\n\n".join(parts) + "\n"
