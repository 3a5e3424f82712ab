"""Weight-space symmetries of a tanh hidden layer (notes 004).

For a layer of M tanh units followed by a linear layer, permuting the hidden
units and flipping the sign of any of them (its incoming weights, its bias
and its outgoing weights) leaves the network function unchanged, because
tanh(−a) = −tanh(a): 2^M · M! parameter vectors give the same outputs, so
every minimum of the loss comes with 2^M · M! − 1 equivalent copies. The
experiment applies sampled (or all) transforms and measures the largest
output change, checks that the gradient transforms with θ, and draws the
loss on the straight line between a trained θ* and a transformed copy.
With ReLU, the sign flips break the function (only permutations survive).
"""

import itertools
import math

import numpy as np

from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Int, Memory, experiment

__all__ = ["symmetries_experiment", "hidden_unit_transform", "sample_transforms", "n_symmetries"]

NAME = "symmetries"
HELP = "Weight-space symmetries: the 2^M*M! sign/permutation transforms of a tanh layer keep the outputs (notes 004)."


#: The largest M whose count 2^M M! prints (Python prints integers of at most 4300 digits; M = 1424
#: has 4303).
MAX_HIDDEN = 1423


def _needs(p):
    """Per transform: the permutation, the signs and their key (4 floats per unit), a transformed θ of
    (3 + 1 + 2) M + 2 floats kept to count the distinct ones, and about 300 bytes of Python objects."""
    M, n = p["n_hidden"], min(p["n_transforms"], n_symmetries(p["n_hidden"]))
    return [Memory(n * (8 * (10 * M + 2) + 300), ("n_transforms", "n_hidden"), f"{n:,} transforms")]


def n_symmetries(n_hidden):
    """2^M · M!, the number of sign-flip/permutation transforms of M hidden units."""
    return 2**n_hidden * math.factorial(n_hidden)


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_hidden=Int(1, MAX_HIDDEN, why="2^M M! printable in 4300 digits", help="hidden units M"),
    n_transforms=Int(
        2,
        why="the identity and one more",
        help="transforms sampled; all of them when 2^M*M! is not larger",
    ),
)
def symmetries_experiment(
    *, seed=0, n_hidden=6, n_transforms=1000, n_features=3, n_outputs=2, n_samples=200, plot=True
):
    """Apply sign-flip/permutation transforms to a random and a trained tanh network.

    Parameters
    ----------
    seed : int
    n_hidden : int, default=6
        M.
    n_transforms : int, default=1000
        Transforms sampled without repetition (all when 2^M M! ≤ n_transforms).
    n_features, n_outputs, n_samples : int, default=3, 2, 200
        Shape of the random inputs of the output check.
    plot : bool, default=True
        Draw ``symmetries.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``n_symmetries`` (2^M M!), ``n_checked``, ``n_distinct``
        (distinct transformed θ), ``max_output_change`` (tanh),
        ``max_grad_change`` (‖∇J(Tθ) − T∇J(θ)‖∞), ``relu_max_output_change``
        (sign flips with ReLU), ``relu_perm_output_change`` (permutations
        only, ReLU), ``path_barrier`` (highest loss on the segment θ* → Tθ*
        minus the loss at θ*).

    Notes
    -----
    Note 004, "weight-space symmetries". For Z = tanh(X W₁ + b₁), F = Z W₂ + b₂
    (W₁: d × M, W₂: M × k) and a permutation π with signs s ∈ {±1}^M:
    W₁' = W₁[:, π] ⊙ s, b₁' = b₁[π] ⊙ s, W₂' = s[:, None] ⊙ W₂[π, :], b₂' = b₂.
    Then Z' = Z[:, π] ⊙ s and F' = Z' W₂' + b₂ = F. The map T: θ ↦ θ' is a
    signed permutation of the entries of θ (linear and orthogonal), so
    J(Tθ) = J(θ) gives ∇J(Tθ) = T ∇J(θ).
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    net = _net(n_features, n_hidden, n_outputs, "tanh")
    theta = net.init(rng, scheme="normal")
    transforms = sample_transforms(n_hidden, n_transforms, rng)
    obj = Objective(net, "squared_error", X, rng.standard_normal((n_samples, n_outputs)))
    relu = _net(n_features, n_hidden, n_outputs, "relu")
    numbers = {
        "n_hidden": n_hidden,
        "n_symmetries": n_symmetries(n_hidden),
        "n_checked": len(transforms),
        "n_distinct": len(
            {hidden_unit_transform(net, theta, p, s).tobytes() for p, s in transforms}
        ),
        "max_output_change": _max_change(net, theta, X, transforms),
        "max_grad_change": _max_grad_change(obj, theta, transforms),
        "relu_max_output_change": _max_change(relu, theta, X, transforms),
        "relu_perm_output_change": _max_change(
            relu, theta, X, [(p, np.ones(n_hidden)) for p, _ in transforms]
        ),
    }
    paths = _paths(rng, n_hidden, transforms[1:4])
    numbers["path_barrier"] = max(float(v.max() - v[0]) for v in paths["values"])
    numbers["path_end_difference"] = max(float(abs(v[-1] - v[0])) for v in paths["values"])
    figures = {"symmetries.png": _figure(net, relu, theta, X, transforms, paths)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers))


def hidden_unit_transform(net, theta, perm, signs, layer=0):
    """θ' with the hidden units of ``net.layers[layer]`` permuted by ``perm`` and sign-flipped by ``signs``.

    Parameters
    ----------
    net : Sequential
        ``net.layers[layer]`` and ``net.layers[layer + 1]`` are Dense.
    theta : ndarray of shape (net.n_params,)
        Parameters (or any vector in parameter space: the map is linear).
    perm : sequence of int
        Permutation π of the M = ``net.layers[layer].d_out`` hidden units.
    signs : sequence of ±1
        Signs s.
    layer : int, default=0

    Returns
    -------
    ndarray
        A new vector: W₁[:, π] ⊙ s, b₁[π] ⊙ s, s[:, None] ⊙ W₂[π, :], everything else unchanged.
    """
    perm, signs = np.asarray(perm), np.asarray(signs, dtype=theta.dtype)
    M = net.layers[layer].d_out
    if sorted(perm.tolist()) != list(range(M)):
        raise ValueError(f"perm must be a permutation of range({M}), got {perm.tolist()}")
    if signs.shape != (M,) or not np.isin(signs, (-1, 1)).all():
        raise ValueError(f"signs must be {M} values in {{-1, 1}}, got {signs.tolist()}")
    new = theta.copy()
    old, out = net.unpack(theta), net.unpack(new)
    out[layer]["W"][...] = old[layer]["W"][:, perm] * signs
    if old[layer]["b"] is not None:
        out[layer]["b"][...] = old[layer]["b"][perm] * signs
    out[layer + 1]["W"][...] = old[layer + 1]["W"][perm, :] * signs[:, None]
    return new


def sample_transforms(n_hidden, n_transforms, rng):
    """Distinct (perm, signs) pairs: all 2^M M! of them when that is ≤ n_transforms, else a random sample.

    The identity comes first.
    """
    total = n_symmetries(n_hidden)
    if total <= n_transforms:
        return [
            (np.array(p), np.array(s, dtype=float))
            for p in itertools.permutations(range(n_hidden))
            for s in itertools.product((1.0, -1.0), repeat=n_hidden)
        ]
    seen, out = set(), [(np.arange(n_hidden), np.ones(n_hidden))]
    seen.add(out[0][0].tobytes() + out[0][1].tobytes())
    while len(out) < n_transforms:
        p, s = rng.permutation(n_hidden), rng.choice((-1.0, 1.0), n_hidden)
        key = p.tobytes() + s.tobytes()
        if key not in seen:
            seen.add(key)
            out.append((p, s))
    return out


def _net(n_features, n_hidden, n_outputs, activation):
    return Sequential([Dense(n_features, n_hidden, activation), Dense(n_hidden, n_outputs)])


def _changes(net, theta, X, transforms):
    F = net.predict(theta, X)
    return np.array(
        [
            np.max(np.abs(net.predict(hidden_unit_transform(net, theta, p, s), X) - F))
            for p, s in transforms
        ]
    )


def _max_change(net, theta, X, transforms):
    return float(_changes(net, theta, X, transforms).max())


def _max_grad_change(obj, theta, transforms):
    g, net = obj.grad(theta), obj.net
    return float(
        max(
            np.max(
                np.abs(
                    obj.grad(hidden_unit_transform(net, theta, p, s))
                    - hidden_unit_transform(net, g, p, s)
                )
            )
            for p, s in transforms
        )
    )


def _paths(rng, n_hidden, transforms, n_points=101):
    """Train a 1-D regression net with weight decay (itself invariant), then J on the segments θ* → Tθ*."""
    x = np.linspace(-2, 2, 100)[:, None]
    obj = Objective(
        _net(1, n_hidden, 1, "tanh"), "squared_error", x, np.sin(2 * x), regularizer=1e-3
    )
    theta = minimize(obj, obj.net.init(rng), "lbfgs", max_iter=2000, gtol=1e-8).x
    t = np.linspace(0, 1, n_points)
    values = [
        np.array(
            [
                obj.value((1 - ti) * theta + ti * hidden_unit_transform(obj.net, theta, p, s))
                for ti in t
            ]
        )
        for p, s in transforms
    ]
    return {"t": t, "values": values}


def _table(numbers):
    return "\n".join(
        [
            f"M = {numbers['n_hidden']} tanh units: 2^M M! = {numbers['n_symmetries']} equivalent parameter vectors",
            f"checked {numbers['n_checked']} transforms ({numbers['n_distinct']} distinct θ)",
            (
                f"  tanh: max |F(Tθ) − F(θ)| = {numbers['max_output_change']:.2e}, "
                f"max |∇J(Tθ) − T∇J(θ)| = {numbers['max_grad_change']:.2e}"
            ),
            (
                f"  relu: sign flips change F by up to {numbers['relu_max_output_change']:.3g}; "
                f"permutations alone by {numbers['relu_perm_output_change']:.2e}"
            ),
            f"loss barrier between θ* and Tθ*: {numbers['path_barrier']:.3g}",
        ]
    )


def _figure(net, relu, theta, X, transforms, paths):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.2, height=3.3)
    ax = axes[0, 0]
    floor = 1e-18
    for model, label in ((net, "tanh"), (relu, "relu")):
        ch = np.maximum(_changes(model, theta, X, transforms), floor)
        ax.hist(np.log10(ch), bins=np.linspace(-18, 2, 41), label=label, alpha=0.7)
    ax.set(
        xlabel="log10 max |F(Tθ) − F(θ)|",
        ylabel="transforms",
        title=f"{len(transforms)} sign/permutation transforms",
    )
    ax.legend()
    ax = axes[0, 1]
    for i, v in enumerate(paths["values"]):
        ax.plot(paths["t"], v, label=f"transform {i + 1}")
    ax.set(
        xlabel="t", ylabel="loss at (1−t)θ* + t·Tθ*", title="equivalent minima, barriers between"
    )
    ax.legend(fontsize=8)
    return fig
