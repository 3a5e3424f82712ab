"""Goals of the fitting, classification, product-ratio and import workloads (9–12), judged on a run's cases.

Same verdict records as :mod:`_targets` (``id``, ``goal``, ``dtype``,
``value``, ``met``, ``measured``, ``limit``); every "what limits it" is
built from numbers of the same run: steps to the goal and time per step
of the two sides, the allocator's share, the FLOP ratio of the products.
"""

__all__ = ["evaluate", "GOALS"]

FIT_GOAL, CLASSIFY_GOAL, IMPORT_GOAL = 0.1, 0.3, 0.4
PRODUCT_GOALS = (  # (impl, FLOP key, goal): time / numnet's gradient (the reference: gradient / reference)
    ("numnet obj.hvp", "hvp", 2.4),
    ("numnet lin.hvp (linearized)", "hvp_lin", 1.7),
    ("numnet obj.gnvp", "gnvp", 1.6),
)


def _row(case, impl):
    return next((r for r in case["rows"] if r["impl"] == impl), None)


def _pace(r):
    """ "name: 12 iterations, 3.1 ms each" for a row that reached its goal, else its best value at the cap."""
    if r["median_s"] is None:
        best = (
            f"best accuracy {r['best_accuracy']:.3f}"
            if r["goal"] == "accuracy" and r["best_accuracy"] is not None
            else f"best loss {r['best_loss']:.1e}"
        )
        return f"{r['impl']}: not reached by most seeds ({r['seeds_reached']} did; {best})"
    return (
        f"{r['impl']}: {r['steps']:.0f} {r['unit']}, {r['median_s'] / r['steps'] * 1e3:.3g} ms each "
        f"({r['median_s']:.3g} s)"
    )


def _race_verdict(case, peer, goal):
    """numnet's best against the best ``peer`` row of a time-to-target case."""
    main, best = (
        _row(case, case["main"]) if case["main"] else None,
        _row(case, peer) if peer else None,
    )
    limit = "; ".join(_pace(r) for r in (main, best) if r is not None)
    if main is None or best is None:
        who = "no numnet method" if main is None else "no peer"
        cap = f" within the cap of {case['cap_s']:.1f} s" if "cap_s" in case else " within the cap"
        return {
            "value": None,
            "met": False,
            "measured": f"{who} reached the target{cap}",
            "limit": limit or "nothing reached the target",
        }
    ratio = main["median_s"] / best["median_s"]
    return {
        "value": ratio,
        "met": ratio <= goal,
        "measured": f"{ratio:.2f}× ({main['impl']} / {best['impl']})",
        "limit": limit,
    }


def _fitting(case):
    verdict = _race_verdict(case, case["best_scipy"], FIT_GOAL)
    adam = _row(case, case["adam"]) if case.get("adam") else None
    if adam is not None and adam.get("loss_at_s") is not None:
        verdict["measured"] += f"; Adam's loss at numnet's time {adam['loss_at_s']:.1e}"
    return verdict


def _classification(case):
    return _race_verdict(case, case["best_peer"], CLASSIFY_GOAL)


def _ratio(case, impl, over):
    a, b = _row(case, impl), _row(case, over)
    return a["median_s"] / b["median_s"]


def _tuned_twin(case, cases):
    return next(
        (
            c
            for c in cases
            if c["workload"] == case["workload"]
            and c["dtype"] == case["dtype"]
            and c["malloc_tuned"]
        ),
        None,
    )


def _product_verdicts(case, cases):
    """Four verdicts for one untuned product-ratio case, each with its value after ``tune_malloc``."""
    twin, grad = _tuned_twin(case, cases), "numnet obj.value_and_grad"
    ref = "reference (hand-written NumPy, preallocated)"
    out = []
    specs = [
        (
            "value-and-gradient ≤ 1.05× a preallocated NumPy reference (no tune_malloc)",
            grad,
            ref,
            1.05,
            None,
        )
    ] + [
        (
            f"{impl.split(' (')[0].replace('numnet ', '')} ≤ {goal}× the gradient (no tune_malloc)",
            impl,
            grad,
            goal,
            key,
        )
        for impl, key, goal in PRODUCT_GOALS
    ]
    for text, impl, over, goal, key in specs:
        value = _ratio(case, impl, over)
        tuned = f"; after tune_malloc {_ratio(twin, impl, over):.2f}×" if twin else ""
        floor = (
            f"its matrix products are {case['gflop'][key] / case['gflop']['grad']:.2f}× the gradient's FLOPs"
            if key
            else "the same matrix products in the same layouts"
        )
        out.append(
            (
                text,
                {
                    "value": value,
                    "met": value <= goal,
                    "measured": f"{value:.2f}×{tuned}",
                    "limit": f"{floor}; the rest is numnet's element-wise work and allocations "
                    "(the tuned allocator's ratio shows the share of page faults)",
                },
            )
        )
    return out


def _import(case):
    t = case["median_s"]
    numpy = _row(case, "import numpy")
    heavy = ", ".join(case["heavy_loaded"]) or "none of the heavy packages"
    return {
        "value": t,
        "met": t <= IMPORT_GOAL,
        "measured": f"{t:.2f} s (import numpy {numpy['median_s']:.2f} s in the same rounds)",
        "limit": f"modules loaded by `import numnet`: {heavy}",
    }


def _where(case):
    parts = [case["dtype"], case.get("problem_name")]
    if "threads" in case:
        parts.append(f"{case['threads']} thread(s)")
    return ", ".join(p for p in parts if p)


GOALS = {
    "fitting": (
        "9",
        f"function fitting: time to the training loss ≤ {FIT_GOAL}× SciPy least_squares' best",
        _fitting,
    ),
    "classification_loss": (
        "10",
        f"classification: time to the training loss ≤ {CLASSIFY_GOAL}× the best peer",
        _classification,
    ),
    "classification_accuracy": (
        "10",
        f"classification: time to the validation accuracy ≤ {CLASSIFY_GOAL}× the best peer",
        _classification,
    ),
    "import": ("12", f"`import numnet` ≤ {IMPORT_GOAL} s", _import),
}


def evaluate(cases):
    """Verdicts for the cases of workloads 9–12, in the order of the cases."""
    out = []
    for case in cases:
        if case["workload"] in GOALS:
            tid, goal, judge = GOALS[case["workload"]]
            out.append({"id": tid, "goal": goal, "dtype": _where(case), **judge(case)})
        elif case["workload"] == "product_ratios" and not case["malloc_tuned"]:
            out += [
                {"id": "11", "goal": text, "dtype": _where(case), **v}
                for text, v in _product_verdicts(case, cases)
            ]
    return out
