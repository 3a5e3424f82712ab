"""``numnet check``: derivative, adjoint and second-order checks of a network and loss.

For an architecture chosen on the command line, on random data, it prints
the tables of notes 000 ("Testing"): for every layer and the whole network
:func:`numnet.checks.check_layer` (Taylor test of ``jvp``, adjoint test of
``vjp``, Taylor test of ``rop`` and symmetry of the second-order part), then
the Taylor tests of the objective: value with the gradient, gradient with the
exact Hessian-vector product, and the symmetry of the Hessian and of the
Gauss-Newton matrix. Exit status 0 when every check passes, 1 otherwise.
"""

from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..activations import ACTIVATIONS
from ..checks import adjoint_check, check_layer, derivative_check
from ..layers import Dense
from ..losses import LOSSES, get_loss
from ..network import Sequential
from ..objective import Objective
from ._memory import require_training_memory
from ._parser import int_list, int_range, positive_int

__all__ = ["NAME", "HELP", "add_arguments", "run", "network_checks", "random_targets"]

NAME = "check"
HELP = (
    "derivative, adjoint and second-order checks (tables of notes 000) for an architecture and loss"
)


def add_arguments(parser):
    parser.add_argument(
        "--hidden",
        type=int_list,
        default=[8],
        metavar="N[,N...]",
        help="hidden widths, comma-separated (default: 8)",
    )
    parser.add_argument(
        "--activation",
        choices=sorted(ACTIVATIONS),
        default="tanh",
        help="hidden activation (default: %(default)s)",
    )
    parser.add_argument(
        "--loss",
        choices=sorted(LOSSES),
        default="cross_entropy",
        help="loss (default: %(default)s)",
    )
    parser.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="floating-point precision (default: %(default)s)",
    )
    parser.add_argument(
        "--n-samples", type=positive_int, default=10, help="rows of random data (default: 10)"
    )
    parser.add_argument(
        "--n-features", type=positive_int, default=3, help="input width (default: 3)"
    )
    parser.add_argument(
        "--n-outputs", type=positive_int, default=3, help="output width (default: 3)"
    )
    parser.add_argument(
        "--steps",
        type=int_range(6, 64, why="five observed orders; below 2^-63 every row is rounding"),
        default=14,
        help="rows of each Taylor table, 6 to 64 (default: 14)",
    )


def random_targets(loss, n_samples, n_outputs, rng):
    """Valid random targets for ``loss``: labels, ±1, 0/1 or real values."""
    name = get_loss(loss).name
    if name == "cross_entropy":
        return rng.integers(0, n_outputs, n_samples)
    if name in ("hinge", "binomial"):
        return rng.choice([-1.0, 1.0], size=(n_samples, n_outputs))
    if name == "binary_cross_entropy":
        return rng.integers(0, 2, (n_samples, n_outputs)).astype(float)
    return rng.standard_normal((n_samples, n_outputs))


def _network(widths, activation):
    acts = [activation] * (len(widths) - 2) + ["identity"]
    return Sequential([Dense(a, b, act) for a, b, act in zip(widths[:-1], widths[1:], acts)])


def _renamed(results, old, new):
    for r in results:
        r.name = r.name.replace(old, new)
    return results


def _layer_checks(net, theta, X, n_steps):
    """``check_layer`` on each layer at its own input, then on the whole network."""
    results, Z = [], X
    for i, (layer, s) in enumerate(zip(net.layers, net.slices)):
        results += _renamed(
            check_layer(layer, Z, theta[s], n_steps=n_steps).results,
            repr(layer),
            f"layer {i + 1} {layer!r}",
        )
        Z = layer.forward(theta[s], Z)[0]
    return results + _renamed(
        check_layer(net, X, theta, n_steps=n_steps).results, repr(net), "network"
    )


def _objective_checks(obj, theta, n_steps, smooth):
    """Taylor tests value/grad and grad/hvp, and symmetry of H and of the Gauss-Newton matrix."""
    lin, p, dt = obj.at(theta), obj.n_params, obj.dtype
    value = lambda th: obj.value(th.astype(dt, copy=False))  # noqa: E731  (x + h v may be float64)
    grad = lambda th: obj.grad(th.astype(dt, copy=False))  # noqa: E731
    return [
        derivative_check(
            value,
            theta,
            lambda v: float(np.vdot(lin.grad, v)),
            n_steps=n_steps,
            smooth=smooth,
            name="objective value, gradient",
        ),
        derivative_check(
            grad,
            theta,
            lin.hvp,
            n_steps=n_steps,
            smooth=smooth,
            seed=1,
            name="objective gradient, Hessian-vector product (R-operator)",
        ),
        adjoint_check(lin.hvp, lin.hvp, (p,), (p,), dtype=dt, seed=2, name="Hessian symmetry"),
        adjoint_check(
            lin.gnvp, lin.gnvp, (p,), (p,), dtype=dt, seed=3, name="Gauss-Newton symmetry"
        ),
    ]


def network_checks(
    hidden,
    activation="tanh",
    loss="cross_entropy",
    *,
    dtype=np.float64,
    n_samples=10,
    n_features=3,
    n_outputs=3,
    n_steps=14,
    seed=0,
):
    """Run every check on a dense network and its objective on random data.

    Parameters
    ----------
    hidden : list of int
        Hidden widths (empty for a single linear layer).
    activation : str
        Hidden activation; the output layer is linear.
    loss : str
        A key of :data:`numnet.losses.LOSSES`.
    dtype : float32 or float64
    n_samples, n_features, n_outputs : int
        Sizes of the random data.
    n_steps : int
        Rows of each Taylor table.
    seed : int

    Returns
    -------
    list
        :class:`~numnet.checks.DerivativeCheck` and :class:`~numnet.checks.AdjointCheck`
        results, each with ``passed`` and a printable table.
    """
    rng = np.random.default_rng(seed)
    net = _network([n_features, *hidden, n_outputs], activation)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    theta = net.init(rng, dtype, scheme="normal")
    obj = Objective(net, loss, X, random_targets(loss, n_samples, n_outputs, rng))
    smooth = net.smooth and obj.loss.smooth
    return _layer_checks(net, theta, X, n_steps) + _objective_checks(obj, theta, n_steps, smooth)


def summary(results):
    """One line per check: verdict and name."""
    return "\n".join(f"{'pass' if r.passed else 'FAIL'}  {r.name}" for r in results)


def run(args):
    """Print every table and the summary, write ``check.txt``; exit status 0 if all pass, else 1."""
    require_training_memory(
        _network([args.n_features, *args.hidden, args.n_outputs], args.activation),
        args.n_samples,
        "newton-cg",
        f"--hidden {','.join(map(str, args.hidden))} with "
        f"--n-samples {args.n_samples}, --n-features {args.n_features}, --n-outputs "
        f"{args.n_outputs}",
    )
    results = network_checks(
        args.hidden,
        args.activation,
        args.loss,
        dtype=np.dtype(args.dtype),
        n_samples=args.n_samples,
        n_features=args.n_features,
        n_outputs=args.n_outputs,
        n_steps=args.steps,
        seed=args.seed,
    )
    n_failed = sum(not r.passed for r in results)
    text = "\n\n".join(str(r) for r in results)
    text += f"\n\n== summary ==\n{summary(results)}\n{len(results) - n_failed}/{len(results)} checks passed"
    print(text)
    path = Path(args.out) / "check.txt"
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
    print(f"wrote: {path}")
    return 0 if n_failed == 0 else 1
