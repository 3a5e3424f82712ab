"""Smoke run of the benchmark workloads at tiny sizes (benchmarks/run.py keeps working).

Each workload runs once on one thread with one repeat; the assertions are
about what the numbers mean (numnet agrees with PyTorch in float64, the
streaming fit's memory does not grow with n, FLOP counts match the layer
formulas), never about speed. JAX is used when it imports.
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
_spec = importlib.util.spec_from_file_location("numnet_benchmarks_run", BENCH / "run.py")
bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_run)

from workloads import _jax, hessian, products, random_features, training  # noqa: E402
from workloads import conv  # noqa: E402
from workloads._gemms import flops, gemms  # noqa: E402
from workloads._targets import evaluate  # noqa: E402
from workloads._timing import Settings, limit_threads  # noqa: E402

SMOKE = Settings(repeats=1, warmup=0, rounds=1, quick=True, pause=0.0)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Every library on one thread for this module; the previous limits come back afterwards."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XLA_FLAGS", "")
    threads = torch.get_num_threads()
    limiter = limit_threads(1)
    yield
    limiter.restore_original_limits()
    torch.set_num_threads(threads)
    mp.undo()


@pytest.fixture(scope="module")
def product_cases():
    return products.run(SMOKE, ["float64"])


def test_products_agree_with_torch_in_float64(product_cases):
    assert [c["workload"] for c in product_cases] == ["grad", "hvp", "gnvp"]
    for case in product_cases:
        assert case["agreement"], case["workload"]
        for name, rel in case["agreement"].items():
            assert rel < 1e-12, (name, rel)


def test_products_time_every_implementation(product_cases):
    jax_rows = 0
    for case in product_cases:
        impls = [r["impl"] for r in case["rows"]]
        assert case["main"] in impls and any(i.startswith("torch") for i in impls)
        jax_rows += sum(i.startswith("jax") for i in impls)
        assert all(r["median_s"] > 0 and r["gflops_per_s"] > 0 for r in case["rows"])
        assert all(lim["np_matmul_s"] > 0 for lim in case["matmul_limit"].values())
        if case["workload"] == "hvp":  # the linearized HVP runs a subset of the fresh one's products
            lims = case["matmul_limit"]
            assert lims["numnet lin.hvp (linearized)"]["np_matmul_s"] < lims["numnet obj.hvp"]["np_matmul_s"]
    assert jax_rows == (3 if _jax.available() else 0)


def test_gemm_lists_count_the_layer_formulas():
    w, n = (784, 1024, 1024, 10), 512
    layer = [a * b for a, b in zip(w, w[1:])]
    fwd = 2 * n * sum(layer)
    assert flops(gemms(w, n, "grad")) == 2 * fwd + 2 * n * sum(layer[1:])
    assert flops(gemms(w, n, "gnvp")) == fwd + flops(gemms(w, n, "gnvp_lin"))
    assert flops(gemms(w, n, "hvp")) - flops(gemms(w, n, "hvp_lin")) == fwd + 2 * n * sum(layer[1:])
    with pytest.raises(ValueError, match="product must be one of"):
        gemms(w, n, "jacobian")


def test_conv_workload_agrees_with_torch_and_reports_its_matmul_limit():
    cases = conv.run(SMOKE, ["float64"])
    assert [c["workload"] for c in cases] == ["conv_grad", "conv_hvp"]
    for case in cases:
        assert case["agreement"] and all(rel < 1e-12 for rel in case["agreement"].values()), case["agreement"]
        impls = [r["impl"] for r in case["rows"]]
        assert case["main"] in impls and any(i.startswith("torch") for i in impls)
        assert all(r["median_s"] > 0 and r["gflops_per_s"] > 0 for r in case["rows"])
        assert all(lim["np_matmul_s"] > 0 and lim["torch_matmul_s"] > 0 for lim in case["matmul_limit"].values())
    lims = cases[1]["matmul_limit"]
    assert lims["numnet lin.hvp (linearized)"]["gflop"] < lims["numnet obj.hvp"]["gflop"]


def test_conv_gemm_lists_count_the_layer_formulas():
    p = conv.ConvProblem(conv.FULL, "float64")
    conv1, conv2, dense = 2 * 128 * 26 * 26 * 9 * 8, 2 * 128 * 11 * 11 * (9 * 8) * 16, 2 * 128 * 400 * 10
    fwd = conv1 + conv2 + dense
    assert flops(conv.gemms(p, "grad")) == 2 * fwd + conv2 + dense  # weights everywhere, inputs after the first
    assert flops(conv.gemms(p, "hvp")) - flops(conv.gemms(p, "hvp_lin")) == fwd + conv2 + dense
    with pytest.raises(ValueError, match="product must be one of"):
        conv.gemms(p, "gnvp")


def test_first_hit_finds_the_smallest_budget_reaching_the_target():
    calls = []

    def fit(k):
        calls.append(k)
        return 0.01 * k, 0.90 + 0.01 * k  # reaches 0.97 first at k = 7

    hit = training.first_hit(fit, k0=2, growth=1.5)
    assert hit["k"] == 7 and hit["seconds"] == pytest.approx(0.07)
    assert max(calls) < 2 * 7 and hit["best_accuracy"] >= 0.97
    assert training.first_hit(lambda k: (0.0, 0.5), k_max=20)["k"] is None


def test_training_contenders_fit_and_score():
    for impl, (role, fits) in training._contenders("float64", quick=True, seeds=(0,)).items():
        seconds, acc = fits[0](2)
        assert seconds > 0 and 0.0 <= acc <= 1.0, impl
        assert role == ("numnet" if impl.startswith("numnet") else "peer")


def test_training_row_takes_the_median_over_seeds_that_reach_the_target():
    def fit_reaching_at(k_hit, seconds_per_k):
        return lambda k: (seconds_per_k * k, 0.99 if k >= k_hit else 0.5)

    fits = [fit_reaching_at(4, 0.01), fit_reaching_at(10, 0.01), lambda k: (0.01, 0.5)]
    row = training._row("x", "peer", fits, quick=False)
    assert row["seeds_reached"] == "2/3" and row["median_s"] == pytest.approx(0.07)
    assert row["iterations"] == 7


def test_training_target_is_judged_only_when_both_sides_reach_it():
    def case(sklearn_reached):
        rows = [{"impl": "numnet A", "reached": True, "median_s": 0.02, "iterations": 10, "seeds_reached": "3/3"},
                {"impl": "sklearn B", "reached": sklearn_reached, "median_s": 0.1 if sklearn_reached else None,
                 "iterations": 20, "seeds_reached": "1/3"}]
        return {"workload": "training", "dtype": "float64", "threads": 1, "rows": rows, "main": "numnet A",
                "best_sklearn": "sklearn B" if sklearn_reached else None}

    (met,) = evaluate([case(True)])
    assert met["met"] and met["value"] == pytest.approx(0.2) and "10 iterations" in met["limit"]
    (missing,) = evaluate([case(False)])
    assert not missing["met"] and missing["value"] is None and "scikit-learn" in missing["limit"]


def test_random_features_memory_does_not_grow_with_n():
    cases = random_features.run(SMOKE, ["float64"])
    small, large = sorted(cases, key=lambda c: c["n"])
    assert large["n"] == 4 * small["n"] and len(small["rows"]) == 3 and len(large["rows"]) == 1
    peak_small, peak_large = small["rows"][0]["peak_mb"], large["rows"][0]["peak_mb"]
    assert peak_large <= 1.1 * peak_small
    direct = small["rows"][1]["peak_mb"]
    assert direct >= 0 and small["fraction_of_np_matmul"] > 0


def test_hessian_matches_torch():
    (case,) = hessian.run(SMOKE, ["float64"])
    assert case["max_rel_diff_vs_torch"] < 1e-12
    assert {r["impl"] for r in case["rows"]} >= {"numnet curvature.hessian_dense",
                                                   "torch.autograd.functional.hessian"}


def test_runner_writes_json_markdown_and_readme_summary(tmp_path):
    out_json, out_md, readme = tmp_path / "r.json", tmp_path / "B.md", tmp_path / "README.md"
    start, end = bench_run.README_MARKERS
    readme.write_text(f"# top\n\n{start}\nold table\n{end}\n\nrest\n")
    code = bench_run.main(["--quick", "--only", "hessian", "--dtypes", "float64", "--threads", "1",
                           "--repeats", "1", "--json", str(out_json), "--md", str(out_md),
                           "--readme", str(readme), "--no-tune-malloc"])
    assert code == 0
    data = json.loads(out_json.read_text())
    assert data["meta"]["threads"] == 1 and data["cases"][0]["workload"] == "hessian"
    assert data["meta"]["malloc_tuned"] is False
    text = out_md.read_text()
    assert "## Machine" in text and "## Optimization log" in text and "hessian_dense" in text
    assert "glibc allocator: default thresholds" in text
    assert np.isfinite(data["cases"][0]["rows"][1]["numnet_over_this"])
    new = readme.read_text()
    assert "old table" not in new and "Last full run:" in new
    assert new.startswith("# top\n") and new.endswith(f"{end}\n\nrest\n")


def test_readme_refresh_needs_its_markers():
    with pytest.raises(ValueError, match="markers"):
        bench_run.refresh_readme("# no markers here\n", "table")


def test_runner_rejects_unknown_workloads():
    with pytest.raises(SystemExit):
        bench_run.parse(["--only", "products,nonsense"])
