"""Workload 14: numnet's curvature against curvlinops and BackPACK, on the benchmark MLP and a small CNN.

The networks are those of workloads 1–3 (:mod:`_mlp`, 784-1024-1024-10 tanh,
batch 512) and 8 (:mod:`conv`, two 3×3 convolutions on 28×28×1 images, batch
128), softmax cross-entropy, the PyTorch twins built from numnet's weights.
Six quantities (seven cases), each timed against the peers that compute it,
in the same interleaved rounds, dtype and threads:

- GGN-vector product G v (numnet ``obj.gnvp`` with its forward pass, and
  ``lin.gnvp`` on a kept linearization; curvlinops ``GGNLinearOperator @ v``;
  BackPACK ``ggn_vector_product``, R-op/L-op by double backward);
- KFAC construction, type-2 factors (k backward passes), bias in a block of
  its own (curvlinops' default; ``KFACLinearOperator`` + ``compute_kronecker_factors``);
- KFAC-inverse-vector product (K + δI)⁻¹ v, exact damping, the factors'
  eigendecompositions cached on both sides (``KFACInverseLinearOperator``);
  and the same with the eigendecompositions included (a fresh inverse per call);
- the exact GGN diagonal (BackPACK ``DiagGGNExact``);
- per-sample gradients (BackPACK ``BatchGrad``); on the MLP with the first
  32 samples only, since 512 rows of 1.86 M parameters are 7.6 GB in float64;
- SLQ spectral density of the GGN with a fixed number of GGN-vector products
  (curvlinops ``lanczos_approximate_spectrum`` with the spectrum's boundaries
  given, so that it spends exactly its ``ncv`` products).

Before timing, every pair of results is compared (relative 2-norm difference);
SLQ on the Gauss-quadrature moments Σ_j τ_j² θ_j^k, k < 2m, of an m-step
Lanczos run from the same start vector (what m steps determine: curvlinops
does not reorthogonalize and numnet does, so single Ritz values may differ
once they converge, the moments do not).
"""

import copy

import numpy as np

from . import conv
from ._mlp import FULL, QUICK, TorchNet, make_problem
from ._timing import compare

__all__ = ["run", "NAME", "QUANTITIES", "evaluate", "available", "DAMPING", "TOL"]

NAME = "curvature"
DAMPING = 1e-3
TOL = 1e-10  # float64 agreement required of every pair before its timing counts
PER_SAMPLE_ROWS = {
    "full": 32,
    "quick": 16,
}  # MLP rows for per-sample gradients (the result is rows × p)
SLQ_STEPS = {"full": 20, "quick": 5}  # Lanczos steps = GGN-vector products of one SLQ probe
GRID = 1024  # points of the density curve (curvlinops' default)
QUANTITIES = {  # workload: (title, numnet main row)
    "curv_ggnvp": ("GGN-vector product", "numnet obj.gnvp"),
    "curv_kfac": ("KFAC construction (type-2)", "numnet kfac"),
    "curv_kfac_inv": (
        "KFAC-inverse-vector product (factors' eigendecompositions cached)",
        "numnet K⁻¹ @ v",
    ),
    "curv_kfac_inv_fresh": (
        "KFAC inverse from the factors + one product",
        "numnet K.inverse(δ) @ v",
    ),
    "curv_diag_ggn": ("Exact GGN diagonal", "numnet ggn_diagonal"),
    "curv_per_sample": ("Per-sample gradients", "numnet per_sample_gradients"),
    "curv_slq": ("SLQ spectral density of the GGN", "numnet slq(lin.G)"),
}


def available():
    """Whether curvlinops and BackPACK import (the workload needs both)."""
    try:
        import backpack  # noqa: F401
        import curvlinops  # noqa: F401
    except ImportError:
        return False
    return True


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


class Twin:
    """A numnet problem (``obj``, ``theta``, ``v``) and its torch twin as curvlinops and BackPACK want it."""

    def __init__(self, p, torch_twin, kind):
        import torch

        self.p, self.t, self.kind, self.torch = p, torch_twin, kind, torch
        self.model, self.X, self.y = torch_twin.model, torch_twin.X, torch_twin.y
        self.params = list(self.model.parameters())
        self.v = [x.clone() for x in torch_twin.tangent.values()]
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.data = [(self.X, self.y)]
        self.n = int(self.X.shape[0])

    def flat(self, tensors):
        """numnet's flat layout of a list of tensors in torch's parameter order."""
        return self.t.flat(list(tensors))

    def label(self):
        return f"{self.kind}: {self.p.label}" + (
            f", p = {self.p.net.n_params:,}" if self.kind == "MLP" else ""
        )


def twins(size, dtype):
    """``{"mlp": Twin, "mlp_rows": Twin (fewer rows), "cnn": Twin}`` at ``size`` ("full" or "quick")."""
    mlp = make_problem(FULL if size == "full" else QUICK, dtype)
    rows = _first_rows(mlp, PER_SAMPLE_ROWS[size])
    cnn = conv.ConvProblem(conv.FULL if size == "full" else conv.QUICK, dtype)
    return {
        "mlp": Twin(mlp, TorchNet(mlp), "MLP"),
        "mlp_rows": Twin(rows, TorchNet(rows), "MLP"),
        "cnn": Twin(cnn, conv.TorchCNN(cnn), "CNN"),
    }


def _first_rows(p, n):
    """The problem ``p`` (same network, weights, direction) on its first ``n`` samples."""
    rows = copy.copy(p)
    rows.X, rows.y, rows.batch, rows.obj = p.X[:n], p.y[:n], n, p.obj.batch(slice(0, n))
    return rows


# ------------------------------------------------------------------ the peers


def _backpack_call(tw, extension, attr):
    """One BackPACK forward and backward with ``extension``; returns each parameter's ``attr``."""
    import backpack

    model = backpack.extend(copy.deepcopy(tw.model))
    loss_fn = backpack.extend(tw.torch.nn.CrossEntropyLoss())
    params, ext = list(model.parameters()), extension()

    def run():
        for q in params:
            q.grad = None
        loss = loss_fn(model(tw.X), tw.y)
        with backpack.backpack(ext):
            loss.backward()
        return [getattr(q, attr) for q in params]

    return run


def _backpack_ggnvp(tw):
    from backpack.hessianfree.ggnvp import ggn_vector_product_from_plist

    def run():
        F = tw.model(tw.X)
        return ggn_vector_product_from_plist(tw.loss_fn(F, tw.y), F, tw.params, tw.v)

    return run


def _peer_kfac(tw):
    from curvlinops import KFACLinearOperator

    def build():
        op = KFACLinearOperator(
            tw.model,
            tw.loss_fn,
            tw.params,
            tw.data,
            fisher_type="type-2",
            check_deterministic=False,
            num_data=tw.n,
            num_per_example_loss_terms=1,
            separate_weight_and_bias=True,
        )
        op.compute_kronecker_factors()
        return op

    return build


def _peer_inverse(op):
    from curvlinops import KFACInverseLinearOperator

    return KFACInverseLinearOperator(op, damping=DAMPING, use_exact_damping=True)


def _peer_slq(tw, op, steps, bounds):
    from curvlinops import lanczos_approximate_spectrum

    def run():
        tw.torch.manual_seed(0)
        return lanczos_approximate_spectrum(op, steps, num_points=GRID, boundaries=bounds)

    return run


# ------------------------------------------------------------------ numnet


def _numnet_slq(tw, steps, grid):
    from numnet.curvature import slq

    def run():
        d = slq(tw.p.obj.at(tw.p.theta).G, n_probes=1, n_steps=steps, seed=0)
        return d, d.density(grid)

    return run


def _slq_moments(tw, op, steps):
    """Quadrature moments Σ_j τ_j² (θ_j/s)^k, k < 2m, of both Lanczos runs from curvlinops' start vector.

    s is the largest |θ_j| (so that the moments stay of order one); the moments of
    degree below 2m are what m steps of Gauss quadrature determine.
    """
    from curvlinops.papyan2020traces.spectrum import fast_lanczos
    from numnet.curvature import lanczos
    from scipy.linalg import eigh_tridiagonal

    tw.torch.manual_seed(0)
    evals, evecs = fast_lanczos(op, steps)
    tw.torch.manual_seed(0)
    v0 = tw.torch.randn(sum(q.numel() for q in tw.params), dtype=tw.params[0].dtype)
    start = tw.flat(
        [c.reshape(q.shape) for c, q in zip(v0.split([q.numel() for q in tw.params]), tw.params)]
    )
    alpha, beta = lanczos(tw.p.obj.at(tw.p.theta).gnvp, start, steps)
    nodes, S = eigh_tridiagonal(alpha, beta)
    scale = max(float(np.abs(nodes).max()), 1e-300)
    ks = np.arange(2 * steps)[:, None]
    ours = ((S[0] ** 2) * (nodes / scale) ** ks).sum(axis=1)
    theirs = ((evecs[0].numpy() ** 2) * (evals.numpy() / scale) ** ks).sum(axis=1)
    return ours, theirs


# ------------------------------------------------------------------ the quantities: impls and agreement


def _ggnvp(tw):
    from curvlinops import GGNLinearOperator

    p, lin = tw.p, tw.p.obj.at(tw.p.theta)
    op = GGNLinearOperator(
        tw.model, tw.loss_fn, tw.params, tw.data, check_deterministic=False, num_data=tw.n
    )
    impls = {
        "numnet obj.gnvp": lambda: p.obj.gnvp(p.theta, p.v),
        "numnet lin.gnvp (linearized)": lambda: lin.gnvp(p.v),
        "curvlinops GGNLinearOperator @ v": lambda: op @ tw.v,
        "backpack ggn_vector_product": _backpack_ggnvp(tw),
    }
    ours = lin.gnvp(p.v)
    return impls, {
        "vs curvlinops": _rel(ours, tw.flat(op @ tw.v)),
        "vs backpack": _rel(ours, tw.flat(impls["backpack ggn_vector_product"]())),
    }


def _kfac(tw):
    from numnet.curvature import kfac

    p, build = tw.p, _peer_kfac(tw)
    impls = {
        "numnet kfac": lambda: kfac(p.obj, p.theta, bias="separate"),
        "curvlinops KFACLinearOperator": build,
    }
    return impls, {"K v vs curvlinops": _rel(impls["numnet kfac"]() @ p.v, tw.flat(build() @ tw.v))}


def _kfac_inverse(tw):
    from numnet.curvature import kfac

    p, op = tw.p, _peer_kfac(tw)()
    K = kfac(p.obj, p.theta, bias="separate")
    Kinv, inv = K.inverse(DAMPING), _peer_inverse(op)
    impls = {
        "numnet K⁻¹ @ v": lambda: Kinv @ p.v,
        "curvlinops KFACInverseLinearOperator @ v": lambda: inv @ tw.v,
    }
    return impls, {"K⁻¹ v vs curvlinops": _rel(Kinv @ p.v, tw.flat(inv @ tw.v))}


def _kfac_inverse_fresh(tw):
    from numnet.curvature import KroneckerOperator, kfac

    p, op = tw.p, _peer_kfac(tw)()
    K = kfac(p.obj, p.theta, bias="separate")

    def ours():
        return KroneckerOperator(K.blocks, K.n_params, K.dtype).inverse(DAMPING) @ p.v

    impls = {
        "numnet K.inverse(δ) @ v": ours,
        "curvlinops KFACInverseLinearOperator(K, δ) @ v": lambda: _peer_inverse(op) @ tw.v,
    }
    return impls, {"K⁻¹ v vs curvlinops": _rel(ours(), tw.flat(_peer_inverse(op) @ tw.v))}


def _diag_ggn(tw):
    from backpack.extensions import DiagGGNExact
    from numnet.curvature import ggn_diagonal

    p = tw.p
    impls = {
        "numnet ggn_diagonal": lambda: ggn_diagonal(p.obj, p.theta),
        "backpack DiagGGNExact": _backpack_call(tw, DiagGGNExact, "diag_ggn_exact"),
    }
    return impls, {
        "vs backpack": _rel(
            impls["numnet ggn_diagonal"](), tw.flat(impls["backpack DiagGGNExact"]())
        )
    }


def _per_sample(tw):
    from backpack.extensions import BatchGrad
    from numnet.curvature import per_sample_gradients

    p = tw.p
    impls = {
        "numnet per_sample_gradients": lambda: per_sample_gradients(p.obj, p.theta),
        "backpack BatchGrad": _backpack_call(tw, BatchGrad, "grad_batch"),
    }
    ours, theirs = impls["numnet per_sample_gradients"](), impls["backpack BatchGrad"]()
    # BackPACK's rows are the gradients of the mean's terms, ∇ℓ_n / n
    rows = np.stack([tw.flat([g[i] for g in theirs]) * tw.n for i in range(tw.n)])
    return impls, {"vs backpack": _rel(ours, rows)}


def _slq(tw, steps):
    from curvlinops import GGNLinearOperator
    from numnet.curvature import slq

    lo, hi = slq(tw.p.obj.at(tw.p.theta).G, n_probes=1, n_steps=steps, seed=0).support(pad=0.0)
    grid = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), GRID)
    op = GGNLinearOperator(
        tw.model, tw.loss_fn, tw.params, tw.data, check_deterministic=False, num_data=tw.n
    )
    impls = {
        "numnet slq(lin.G)": _numnet_slq(tw, steps, grid),
        "curvlinops lanczos_approximate_spectrum": _peer_slq(tw, op, steps, (lo, hi)),
    }
    ours, theirs = _slq_moments(tw, op, steps)
    return impls, {"quadrature moments vs curvlinops": _rel(ours, theirs)}


# ------------------------------------------------------------------ the run


def _case(workload, tw, impls, agreement, settings, notes=()):
    stats = compare(impls, settings)
    rows = [
        dict(impl=name, role="numnet" if name.startswith("numnet") else "peer", **s)
        for name, s in stats.items()
    ]
    return {
        "workload": workload,
        "dtype": tw.p.dtype.name,
        "network": tw.kind,
        "problem": tw.label(),
        "main": QUANTITIES[workload][1],
        "rows": rows,
        "agreement": agreement,
        "notes": list(notes),
    }


def _plan(size):
    """``[(workload, builder, notes, on the per-sample twin)]``: what is measured, and on which twin."""
    steps, damping = SLQ_STEPS[size], (f"damping δ = {DAMPING:g}, exact: (K + δI)⁻¹",)
    slq_note = (
        f"{steps} Lanczos steps = {steps} GGN-vector products on each side; numnet reorthogonalizes "
        "fully (curvlinops' fast_lanczos does not) and reuses one forward pass for all products"
    )
    return [
        ("curv_ggnvp", _ggnvp, (), False),
        ("curv_kfac", _kfac, (), False),
        ("curv_kfac_inv", _kfac_inverse, damping, False),
        ("curv_kfac_inv_fresh", _kfac_inverse_fresh, damping, False),
        ("curv_diag_ggn", _diag_ggn, (), False),
        ("curv_per_sample", _per_sample, (), True),
        ("curv_slq", lambda tw: _slq(tw, steps), (slq_note,), False),
    ]


def run(settings, dtypes):
    """One case per (quantity, network, dtype); none when curvlinops or BackPACK is missing."""
    if not available():
        return []
    size = "quick" if settings.quick else "full"
    cases = []
    for dtype in dtypes:
        tws = twins(size, dtype)
        for net, rows in (("mlp", "mlp_rows"), ("cnn", "cnn")):
            for workload, build, notes, per_sample in _plan(size):
                tw = tws[rows if per_sample else net]
                impls, agreement = build(tw)
                cases.append(_case(workload, tw, impls, agreement, settings, notes))
    return cases


# ------------------------------------------------------------------ targets

LIMITS = {  # what bounds numnet's time, per quantity (the measured ratio is in the verdict)
    "curv_ggnvp": "one forward, one tangent and one backward pass of matrix products (curvlinops' torch.func "
    "jvp + vjp runs the forward pass twice); the linearized lin.gnvp skips the forward pass",
    "curv_kfac": "k backward passes of the output factors' cotangents (k = number of classes) and one syrk per "
    "factor, as curvlinops does; both are matrix-product bound",
    "curv_kfac_inv": "four matrix products per block on both sides (Q_Aᵀ V Q_G, then Q_A (·) Q_Gᵀ): the BLAS, "
    "OpenBLAS under NumPy against MKL under torch, on the same shapes",
    "curv_kfac_inv_fresh": "the symmetric eigendecompositions of the factors (LAPACK syevd under NumPy, MKL's "
    "under torch), then four matrix products per block",
    "curv_diag_ggn": "k backward passes of cotangents, then one product (X ⊙ X)ᵀ Σ_r gA_r ⊙ gA_r per Dense layer "
    "and a batched product per convolution",
    "curv_per_sample": "writing the n × p result (memory bandwidth): one outer product per sample and Dense layer",
    "curv_slq": "the GGN-vector products, and full reorthogonalization of each Lanczos vector against the basis "
    "(4 passes over j·p numbers at step j; curvlinops' fast_lanczos does none)",
}


def _verdict(case):
    title = QUANTITIES[case["workload"]][0]
    timed = [r for r in case["rows"] if r["role"] == "peer" and r.get("median_s")]
    main = next(r for r in case["rows"] if r["impl"] == case["main"])
    best = min(timed, key=lambda r: r["median_s"])
    ratio = main["median_s"] / best["median_s"]
    worst = max(case["agreement"].values())
    agrees = case["dtype"] != "float64" or worst < TOL
    measured = f"{ratio:.2f}× ({case['main']} / {best['impl']}); agreement {worst:.1e}"
    return {
        "value": ratio,
        "met": ratio <= 1.0 and agrees,
        "measured": measured,
        "limit": LIMITS[case["workload"]]
        if agrees
        else f"results differ by {worst:.1e} (> {TOL:g})",
        "goal": f"{title} ≤ 1.0× the fastest peer",
    }


def evaluate(cases):
    """Target 14 per case: numnet's main row at or below the fastest peer, results agreeing first."""
    out = []
    for case in cases:
        if case["workload"] in QUANTITIES:
            v = _verdict(case)
            out.append(
                {
                    "id": "14",
                    "goal": v.pop("goal"),
                    "dtype": f"{case['dtype']}, {case['network']}",
                    **v,
                }
            )
    return out
