"""numnet's curvature against the field's tools: curvlinops and BackPACK, float64 on CPU.

The same network is built in PyTorch with the same weights (``twin``: numnet's
W (d_in, d_out) is torch's ``weight.T``, a convolution's W (kh, kw, c_in, f) is
torch's (f, c_in, kh, kw), channels-last rows become NCHW images and a Dense
layer after a convolution reads torch's channels-first flattening), and every
deterministic quantity must agree to 1e-10 relative: GGN, empirical and
Monte-Carlo Fisher products (the MC draws reproduced from curvlinops' seeded
generator), KFAC and EKFAC factors, products, inverses, trace and log-det,
the GGN diagonal, per-sample gradients and their moments, exact Hessian
blocks and Jacobian products.

Scales: numnet's losses are means, ``cross_entropy`` equals torch's
``CrossEntropyLoss()``; ``squared_error`` ½ mean_n ‖F − Y‖² is
``MSELoss(reduction="sum")`` / (2n), so curvature of the latter is 2n times ours.
"""

import copy
from functools import lru_cache

import numpy as np
import pytest

torch = pytest.importorskip("torch")
curvlinops = pytest.importorskip("curvlinops")
backpack = pytest.importorskip("backpack")

from backpack.extensions import BatchGrad, BatchL2Grad, DiagGGNExact, SumGradSquared, Variance  # noqa: E402
from torch import nn  # noqa: E402

from numnet.curvature import (  # noqa: E402
    KroneckerOperator,
    ekfac,
    empirical_fisher,
    ggn_diagonal,
    gradient_moments,
    hessian_blocks,
    jacobian_operator,
    kfac,
    mc_fisher,
    per_sample_gradients,
)
from numnet.layers import Conv2d, Dense  # noqa: E402
from numnet.network import Sequential  # noqa: E402
from numnet.objective import Objective  # noqa: E402

TOL = 1e-10
N_SAMPLES = 7
ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _mlp():
    return Sequential([Dense(4, 5, "tanh"), Dense(5, 4, "sigmoid"), Dense(4, 3)])


def _cnn():
    c = Conv2d((5, 4, 2), 3, (3, 2), stride=(2, 1), padding=(1, 0), activation="tanh")
    return Sequential([c, Dense(c.d_out, 4, "sigmoid"), Dense(4, 3)])


NETS = {"mlp": _mlp, "cnn": _cnn}


class Twin:
    """A numnet objective and its torch twin: model, θ ↦ torch order ``perm``, factor index maps."""

    def __init__(self, net_name, loss_name, seed=0):
        rng = np.random.default_rng(seed)
        self.net = NETS[net_name]()
        self.theta = self.net.init(rng, scheme="normal")
        X = rng.standard_normal((N_SAMPLES, self.net.d_in))
        if loss_name == "cross_entropy":
            Y, self.y, self.loss_fn, self.scale = (
                rng.integers(0, 3, N_SAMPLES),
                None,
                nn.CrossEntropyLoss(),
                1.0,
            )
            self.y = torch.as_tensor(Y)
        else:
            Y = rng.standard_normal((N_SAMPLES, 3))
            self.y, self.loss_fn, self.scale = (
                torch.as_tensor(Y),
                nn.MSELoss(reduction="sum"),
                2.0 * N_SAMPLES,
            )
        self.obj = Objective(self.net, loss_name, X, Y)
        self.model, self.perm, self.a_perms = _torch_model(self.net, self.theta)
        self.X = _torch_input(self.net, X)
        self.params = list(self.model.parameters())
        self.data = [(self.X, self.y)]
        self.modules = [
            name for name, m in self.model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))
        ]

    def torch_vectors(self, V):
        return torch.as_tensor(np.ascontiguousarray(V[self.perm]))


def _torch_model(net, theta):
    """nn.Sequential twin; ``perm`` with torch_flat = theta[perm]; per layer the A-factor index map."""
    mods, perm, a_perms, image = [], [], [], None
    for layer, s in zip(net.layers, net.slices):
        idx = np.arange(s.start, s.stop)
        if isinstance(layer, Conv2d):
            (kh, kw), c, f = layer.kernel_size, layer.input_shape[2], layer.filters
            m = nn.Conv2d(
                c, f, (kh, kw), stride=layer.stride, padding=layer.padding, bias=layer.bias
            )
            rows = np.arange(kh * kw * c).reshape(kh, kw, c).transpose(2, 0, 1).ravel()
            W = idx[: rows.size * f].reshape(-1, f)[rows].T
            image = layer.output_shape
        else:
            m, rows = nn.Linear(layer.d_in, layer.d_out, bias=layer.bias), np.arange(layer.d_in)
            if image is not None:  # torch flattens channels-first, numnet rows are channels-last
                mods.append(nn.Flatten())
                rows, image = rows.reshape(image).transpose(2, 0, 1).ravel(), None
            W = idx[: layer.d_in * layer.d_out].reshape(layer.d_in, layer.d_out)[rows].T
        parts = [W.ravel()] + ([idx[W.size :]] if layer.bias else [])
        with torch.no_grad():
            for prm, ix in zip(m.parameters(), parts):
                prm.copy_(torch.as_tensor(theta[ix]).reshape(prm.shape))
        mods.append(m)
        if layer.activation.name != "identity":
            mods.append(ACTIVATIONS[layer.activation.name]())
        perm += parts
        a_perms.append(rows)
    return nn.Sequential(*mods), np.concatenate(perm), a_perms


def _torch_input(net, X):
    first = net.layers[0]
    if isinstance(first, Conv2d):
        return (
            torch.as_tensor(X.reshape(len(X), *first.input_shape)).permute(0, 3, 1, 2).contiguous()
        )
    return torch.as_tensor(X)


@lru_cache(maxsize=None)
def twin(net_name, loss_name):
    torch.set_default_dtype(torch.float64)
    return Twin(net_name, loss_name)


CASES = [(n, loss) for n in NETS for loss in ("cross_entropy", "squared_error")]


def _directions(t, k=3):
    return np.random.default_rng(1).standard_normal((t.obj.n_params, k))


def _apply(op, t, V):
    return (op @ t.torch_vectors(V)).detach().numpy()


# ------------------------------------------------------------------ products


@pytest.mark.parametrize("net_name, loss_name", CASES)
def test_ggn_vector_products_match_curvlinops(net_name, loss_name):
    t = twin(net_name, loss_name)
    op = curvlinops.GGNLinearOperator(
        t.model, t.loss_fn, t.params, t.data, check_deterministic=False
    )
    V = _directions(t)
    ours = np.stack([t.obj.gnvp(t.theta, v) for v in V.T], axis=1)
    assert rel(ours[t.perm] * t.scale, _apply(op, t, V)) < TOL


@pytest.mark.parametrize("net_name", NETS)
def test_empirical_fisher_matches_curvlinops(net_name):
    t = twin(net_name, "cross_entropy")
    op = curvlinops.EFLinearOperator(
        t.model, t.loss_fn, t.params, t.data, check_deterministic=False
    )
    V = _directions(t)
    theirs = _apply(op, t, V)
    assert rel((empirical_fisher(t.obj, t.theta) @ V)[t.perm], theirs) < TOL
    assert rel((empirical_fisher(t.obj, t.theta, dense=True) @ V)[t.perm], theirs) < TOL


def _fisher_mc_draws(t, mc_samples, seed):
    """The labels FisherMCLinearOperator draws: M multinomial draws per row from its seeded generator."""
    gen = torch.Generator()
    gen.manual_seed(seed)
    probs = t.model(t.X).softmax(dim=1)
    return list(
        probs.multinomial(num_samples=mc_samples, replacement=True, generator=gen).T.numpy()
    )


@pytest.mark.parametrize("net_name", NETS)
def test_mc_fisher_with_the_same_draws_matches_curvlinops(net_name):
    t, M, seed = twin(net_name, "cross_entropy"), 4, 11
    op = curvlinops.FisherMCLinearOperator(
        t.model, t.loss_fn, t.params, t.data, mc_samples=M, seed=seed, check_deterministic=False
    )
    V = _directions(t)
    ours = mc_fisher(t.obj, t.theta, targets=_fisher_mc_draws(t, M, seed)) @ V
    assert rel(ours[t.perm], _apply(op, t, V)) < TOL


# ------------------------------------------------------------------ KFAC


def _kfac_draws(t, mc_samples, seed):
    """The labels KFACLinearOperator draws: one multinomial draw per row, M times, from its seeded generator."""
    gen = torch.Generator()
    gen.manual_seed(seed)
    probs = t.model(t.X).softmax(dim=1)
    return [
        probs.multinomial(num_samples=1, generator=gen).squeeze(-1).numpy()
        for _ in range(mc_samples)
    ]


def _peer_kfac(t, kind, bias, M=3, seed=5, cls=None):
    cls = cls or curvlinops.KFACLinearOperator
    op = cls(
        t.model,
        t.loss_fn,
        t.params,
        t.data,
        fisher_type=kind,
        mc_samples=M if kind == "mc" else 1,
        seed=seed,
        separate_weight_and_bias=bias == "separate",
        check_deterministic=False,
    )
    targets = _kfac_draws(t, M, seed) if kind == "mc" else None
    return op, targets


KFAC_CASES = [
    (n, kind, bias)
    for n in NETS
    for kind in ("type-2", "mc", "empirical")
    for bias in ("joint", "separate")
]


@pytest.mark.parametrize("net_name, kind, bias", KFAC_CASES)
def test_kfac_factors_and_products_match_curvlinops(net_name, kind, bias):
    t = twin(net_name, "cross_entropy")
    op, targets = _peer_kfac(t, kind, bias)
    ours = kfac(t.obj, t.theta, kind=kind, targets=targets, bias=bias)
    V = _directions(t)
    assert rel((ours @ V)[t.perm], _apply(op, t, V)) < TOL
    step = 2 if bias == "separate" else 1  # separate: a W block and a b block per layer
    for i, name in enumerate(t.modules):
        block, rows = ours.blocks[step * i], t.a_perms[i]
        if bias == "joint":
            rows = np.append(rows, rows.size)
        assert rel(block.A[np.ix_(rows, rows)], op._input_covariances[name].numpy()) < TOL
        assert rel(block.G, op._gradient_covariances[name].numpy()) < TOL
    assert abs(ours.trace() / float(op.trace) - 1) < TOL


@pytest.mark.parametrize("net_name", NETS)
def test_kfac_with_squared_error_logdet_and_inverses_match_curvlinops(net_name):
    t = twin(net_name, "squared_error")
    op, _ = _peer_kfac(t, "type-2", "joint")
    ours, V = kfac(t.obj, t.theta), _directions(t)
    assert rel((ours @ V)[t.perm] * t.scale, _apply(op, t, V)) < TOL
    if net_name == "mlp":  # the CNN's A for its 27-wide Dense layer has rank 7 < 28: log det = −inf
        # KFAC of the 2n-times larger loss: A is the same, G is 2n times ours, so each block adds a·g·ln 2n
        size = sum(b.A.shape[0] * b.G.shape[0] for b in ours.blocks)
        assert abs(ours.logdet() + size * np.log(t.scale) - float(op.logdet)) < TOL * abs(
            float(op.logdet)
        )
    delta = 0.3
    for heuristic in (False, True):
        inv = curvlinops.KFACInverseLinearOperator(
            op, damping=delta, use_exact_damping=not heuristic, use_heuristic_damping=heuristic
        )
        scaled = KroneckerOperator(
            [b._replace(G=b.G * t.scale) for b in ours.blocks], ours.n_params, ours.dtype
        )
        assert (
            rel((scaled.inverse(delta, heuristic=heuristic) @ V)[t.perm], _apply(inv, t, V)) < TOL
        )


@pytest.mark.parametrize(
    "net_name, kind, bias", [c for c in KFAC_CASES if c[1] != "mc" or c[2] == "joint"]
)
def test_ekfac_products_match_curvlinops(net_name, kind, bias):
    t = twin(net_name, "cross_entropy")
    op, targets = _peer_kfac(t, kind, bias, cls=curvlinops.EKFACLinearOperator)
    ours, V = ekfac(t.obj, t.theta, kind=kind, targets=targets, bias=bias), _directions(t)
    assert rel((ours @ V)[t.perm], _apply(op, t, V)) < TOL
    assert abs(ours.trace() / float(op.trace) - 1) < TOL


# ------------------------------------------------------------------ BackPACK


def _backpack_quantities(t):
    """BackPACK's quantities on a copy of the twin (``extend`` hooks the modules it is given)."""
    model = backpack.extend(copy.deepcopy(t.model))
    loss_fn = backpack.extend(type(t.loss_fn)(reduction=t.loss_fn.reduction))
    model.zero_grad()
    loss = loss_fn(model(t.X), t.y)
    with backpack.backpack(
        BatchGrad(), Variance(), SumGradSquared(), BatchL2Grad(), DiagGGNExact()
    ):
        loss.backward()

    def flat(attr, per_sample=False):
        parts = [
            getattr(p, attr).reshape((N_SAMPLES, -1) if per_sample else (-1,)).detach().numpy()
            for p in model.parameters()
        ]
        return np.concatenate(parts, axis=-1)

    return flat


@pytest.mark.parametrize("net_name, loss_name", CASES)
def test_ggn_diagonal_matches_backpack(net_name, loss_name):
    t = twin(net_name, loss_name)
    flat = _backpack_quantities(t)
    assert rel(ggn_diagonal(t.obj, t.theta)[t.perm] * t.scale, flat("diag_ggn_exact")) < TOL


@pytest.mark.parametrize("net_name", NETS)
def test_per_sample_gradients_and_moments_match_backpack(net_name):
    t, n = twin(net_name, "cross_entropy"), N_SAMPLES
    flat = _backpack_quantities(t)
    G = per_sample_gradients(t.obj, t.theta, chunk_size=3)
    assert rel(G[:, t.perm], n * flat("grad_batch", per_sample=True)) < TOL
    m = gradient_moments(t.obj, t.theta, chunk_size=4)
    assert rel(m.variance[t.perm], n * n * flat("variance")) < TOL
    assert rel(m.second_moment[t.perm], n * flat("sum_grad_squared")) < TOL
    assert rel(m.norms**2, n * n * flat("batch_l2", per_sample=True).sum(axis=1)) < TOL


# ------------------------------------------------------------------ Hessian blocks and Jacobians


@pytest.mark.parametrize("net_name, loss_name", CASES)
def test_exact_hessian_blocks_match_curvlinops(net_name, loss_name):
    t = twin(net_name, loss_name)
    blocks = hessian_blocks(t.obj, t.theta)
    layer_params = [
        list(m.parameters()) for name, m in t.model.named_modules() if name in t.modules
    ]
    start = 0
    for (name, ours), params in zip(blocks.items(), layer_params):
        op = curvlinops.HessianLinearOperator(
            t.model, t.loss_fn, params, t.data, check_deterministic=False
        )
        size = sum(p.numel() for p in params)
        local = t.perm[start : start + size] - t.obj.net.slices[int(name)].start
        theirs = (op @ torch.eye(size)).detach().numpy()
        assert rel(ours[np.ix_(local, local)] * t.scale, theirs) < TOL
        start += size


@pytest.mark.parametrize("net_name", NETS)
def test_jacobian_operators_match_curvlinops(net_name):
    t = twin(net_name, "cross_entropy")
    J = jacobian_operator(t.obj, t.theta)
    JT = curvlinops.TransposedJacobianLinearOperator(
        t.model, t.params, t.data, check_deterministic=False
    )
    Jop = curvlinops.JacobianLinearOperator(t.model, t.params, t.data, check_deterministic=False)
    V = _directions(t)
    assert rel(J @ V, _apply(Jop, t, V).reshape(J.shape[0], -1)) < TOL
    U = np.random.default_rng(2).standard_normal((J.shape[0], 2))
    assert rel((J.T @ U)[t.perm], (JT @ torch.as_tensor(U)).detach().numpy()) < TOL
