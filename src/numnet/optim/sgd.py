"""Mini-batch stochastic methods ``"sgd"`` and ``"adam"``, one step per epoch."""

import copy
from typing import NamedTuple

import numpy as np

from ..layers.dropout import has_dropout
from . import transforms
from ._checks import check_bool, check_int, check_positive, check_unit_interval
from .base import Iterate, Method, NoProgress, robust_norm
from .problem import Problem
from .schedules import as_schedule

__all__ = ["SGDOptions", "AdamOptions", "EpochState", "sgd", "adam", "minibatches"]

#: Bit generators a checkpointed generator state may name.
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def minibatches(rng, n_samples, batch_size):
    """Row indices of one epoch: a fresh permutation split into batches of ``batch_size``."""
    perm = rng.permutation(n_samples)
    return [perm[i : i + batch_size] for i in range(0, n_samples, batch_size)]


_EPOCH_OPTIONS = """batch_size : int or None, default=None
        Rows per mini-batch; None means min(200, n_samples). The last batch
        of an epoch may be smaller.
    seed : int, None or np.random.Generator, default=0
        Seed of the generator that reshuffles the rows every epoch (same
        seed, same run); a Generator is copied, not advanced.
    full_eval : bool, default=True
        After each epoch evaluate the full objective value and gradient
        (one extra pass over the data, about the cost of one epoch) so
        ``fun`` and ``grad_norm`` are exact. With False only the value is
        evaluated (a forward pass) and ``grad_norm`` is the norm of the mean
        mini-batch gradient of the epoch, an estimate.
    augment : callable or None, default=None
        Label-invariant data augmentation (notes 001), ``augment(X, rng) ->
        X_aug`` of X's shape and dtype (e.g. :class:`numnet.augment.Augment`).
        Applied once per epoch to the objective's X (never modified), with a
        generator spawned from ``seed`` (same seed, same run); the epoch's
        mini-batches read the augmented rows, the full evaluation after the
        epoch reads the original X."""

_EPOCH_NOTES = """One iteration of :func:`~numnet.optim.minimize` is one epoch; ``inner``
    counts its mini-batch steps and ``step`` is the learning-rate multiplier
    m (1 unless a step was rejected). A mini-batch whose value or gradient
    is non-finite, or a step to a non-finite point, is rejected: the epoch
    goes back to its first point (the last iterate) with m halved for the
    rest of the run; an epoch that ends at a non-finite full objective is
    replaced by its first point, so a non-finite iterate is never returned.

    Dropout: when the network contains :class:`~numnet.layers.Dropout`,
    every mini-batch step draws a new mask, through
    ``objective.batch(rows, key=k)`` with k a step counter offset by a
    number drawn from ``seed``; the full evaluation uses the objective's
    own network (key None: inference, the identity). Networks without
    Dropout see exactly the same run as before.

    The state (:class:`EpochState`) holds x, the transformation's state
    (momentum or Adam moments), the multiplier, the next dropout key and the
    ``bit_generator.state`` of the shuffling and augmentation generators:
    each epoch draws its mini-batch order from them at its start, so the
    state between epochs determines every later order."""


def _epoch_docs(options):
    """Fill the options and notes that "sgd" and "adam" share into ``options``' docstring."""
    options.__doc__ = options.__doc__.replace("{epoch_options}", _EPOCH_OPTIONS).replace(
        "{epoch_notes}", _EPOCH_NOTES
    )
    return options


def _check_epoch_options(opts):
    if opts.batch_size is not None:
        check_int(opts.batch_size, "batch_size")
    seed = opts.seed
    if not (seed is None or isinstance(seed, np.random.Generator)):
        check_int(seed, "seed", minimum=0)
    check_bool(opts.full_eval, "full_eval")
    if opts.augment is not None and not callable(opts.augment):
        raise TypeError(f"augment must be None or a callable (X, rng) -> X, got {opts.augment!r}")


class EpochState(NamedTuple):
    """x, the transformation's state, the last full (f, g, ‖g‖), multiplier m, generators, next dropout key."""

    x: np.ndarray
    opt: tuple
    f: float
    g: np.ndarray | None
    grad_norm: float
    rng: dict
    aug_rng: dict
    key: int | None = None
    mult: float = 1.0


def _generator(state):
    """A Generator continuing from a ``bit_generator.state`` dict."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise ValueError(f"unknown bit generator {name!r} in a generator state")
    rng = np.random.Generator(getattr(np.random, name)())
    rng.bit_generator.state = state
    return rng


def _child_rngs(seed):
    """Two generators for dropout keys and augmentation, independent of the shuffling stream.

    Spawned from ``seed``, so the shuffling generator ``default_rng(seed)``
    draws exactly what it drew before these existed.
    """
    if isinstance(seed, np.random.Generator):
        return seed.spawn(2)
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]


def _epoch_init(tx, problem, x, f, g, seed):
    rng = np.random.default_rng(seed)
    key_rng, aug_rng = _child_rngs(seed)
    net = getattr(problem.objective, "net", None)
    key = int(key_rng.integers(2**62)) if net is not None and has_dropout(net) else None
    return EpochState(
        x,
        tx.init(x),
        f,
        g,
        robust_norm(g),
        rng.bit_generator.state,
        aug_rng.bit_generator.state,
        key,
    )


def _check_problem(problem, opts):
    if not hasattr(problem.objective, "batch"):
        raise TypeError(
            "stochastic methods need an objective with batch(rows) (a numnet Objective)"
        )
    if opts.augment is not None and not hasattr(problem.objective, "X"):
        raise TypeError(
            f"augment must be None or a callable (X, rng) -> X on an objective with X, "
            f"got {opts.augment!r}"
        )


def _finite(*values):
    return all(np.isfinite(v).all() for v in values)


class _Epoch:
    """One epoch from ``state``: x ← x + m · update(∇J_B(x)) over a fresh permutation of the rows."""

    def __init__(self, problem, tx, state, batch_size, augment):
        self.problem, self.tx, self.state, self.augment = problem, tx, state, augment
        self.size = (
            min(200, problem.n_samples)
            if batch_size is None
            else min(batch_size, problem.n_samples)
        )
        self.mult, self.key = state.mult, state.key

    def reject(self):
        """Back to the epoch's start with half the step multiplier."""
        self.mult *= 0.5
        if self.mult < 2.0**-40:
            raise NoProgress(
                "mini-batch steps stayed non-finite after 40 halvings of the learning rate"
            )
        return self.state.x, self.state.opt

    def batch(self, problem, rows):
        if self.key is None:
            return problem.batch(rows)
        self.key += 1
        return problem.batch(rows, key=self.key - 1)

    def run(self, rng, aug_rng):
        """The epoch's end point, transformation state, mean batch gradient and number of batches."""
        x, opt, grads = self.state.x, self.state.opt, []
        problem = self.augmented(aug_rng)
        batches = minibatches(rng, problem.n_samples, self.size)
        for rows in batches:
            batch = self.batch(problem, rows)
            with np.errstate(over="ignore", invalid="ignore"):
                fb, gb = batch.value_and_grad(x)
            if not _finite(fb, gb):
                x, opt = self.reject()
                continue
            u, opt = self.tx.update(gb, opt)
            x_new = x + self.mult * u
            x, opt = (x_new, opt) if _finite(x_new) else self.reject()
            grads.append(gb)
        return x, opt, (np.mean(grads, axis=0) if grads else None), len(batches)

    def augmented(self, aug_rng):
        """The problem of this epoch: the objective on augment(X, rng) (the problem itself without augment)."""
        if self.augment is None:
            return self.problem
        obj = self.problem.objective
        X = self.augment(obj.X, aug_rng)
        if not isinstance(X, np.ndarray) or X.shape != obj.X.shape or X.dtype != obj.X.dtype:
            raise ValueError(
                f"augment must return an array of X's shape {obj.X.shape} and dtype {obj.X.dtype}, "
                f"got {getattr(X, 'shape', None)} {getattr(X, 'dtype', type(X).__name__)}"
            )
        new = copy.copy(obj)
        new.X = X
        return Problem(new, self.problem.counts)

    def report(self, x, gmean, full_eval):
        """Full value (and gradient when ``full_eval``) at the epoch's end; ‖g‖ None when g is not finite."""
        with np.errstate(over="ignore", invalid="ignore"):
            if full_eval:
                f, g = self.problem.value_and_grad(x)
                return f, g, None if not _finite(g) else robust_norm(g)
            gnorm = float("nan") if gmean is None else robust_norm(gmean)
            return self.problem.value(x), None, gnorm


def _epoch_step(problem, state, tx, opts):
    epoch = _Epoch(problem, tx, state, opts.batch_size, opts.augment)
    rng, aug_rng = _generator(state.rng), _generator(state.aug_rng)
    x, opt, gmean, n_batches = epoch.run(rng, aug_rng)
    f, g, gnorm = epoch.report(x, gmean, opts.full_eval)
    if gnorm is None or not np.isfinite(f):
        (x, opt), (f, g, gnorm) = epoch.reject(), (state.f, state.g, state.grad_norm)
    new = EpochState(
        x,
        opt,
        float(f),
        g,
        gnorm,
        rng.bit_generator.state,
        aug_rng.bit_generator.state,
        epoch.key,
        epoch.mult,
    )
    return new, Iterate(x, new.f, g, step=epoch.mult, inner=n_batches, grad_norm=gnorm)


@_epoch_docs
class SGDOptions(NamedTuple):
    """Mini-batch stochastic gradient descent, with optional (Nesterov) momentum.

    **Options**

    learning_rate : float or callable, default=0.01
        Step t, or a schedule ``k -> t_k`` over mini-batch steps k
        (:mod:`numnet.optim.schedules`).
    momentum : float, default=0.0
        Heavy-ball coefficient μ in [0, 1).
    nesterov : bool, default=False
        Nesterov momentum (needs ``momentum > 0``).
    {epoch_options}

    Notes
    -----
    Notes 001/003/004: w⁽ᵏ⁺¹⁾ = w⁽ᵏ⁾ − t⁽ᵏ⁾ ∇E_B(w⁽ᵏ⁾) with E_B the mean loss
    over the mini-batch B (rows reshuffled every epoch). With momentum,
    m_k = ∇E_B + μ m_{k−1} and the step is −t m_k, or −t(∇E_B + μ m_k) with
    Nesterov (:func:`~numnet.optim.transforms.trace`).

    {epoch_notes}
    """

    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    batch_size: int | None = None
    seed: int = 0
    full_eval: bool = True
    augment: object = None

    def check(self):
        check_unit_interval(self.momentum, "momentum")
        check_bool(self.nesterov, "nesterov")
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.transformation()
        _check_epoch_options(self)

    def transformation(self):
        return transforms.sgd_transform(
            as_schedule(self.learning_rate), self.momentum, self.nesterov
        )


@_epoch_docs
class AdamOptions(NamedTuple):
    """Adam on mini-batches (Kingma & Ba 2015).

    **Options**

    learning_rate : float or callable, default=1e-3
        Step α, or a schedule ``k -> α_k`` over mini-batch steps.
    b1, b2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    eps : float, default=1e-8
        Added to √ν̂ in the denominator.
    {epoch_options}

    Notes
    -----
    Kingma & Ba (2015), Algorithm 1, as ``chain(scale_by_adam(b1, b2, eps),
    scale_by_learning_rate(α))`` (:mod:`numnet.optim.transforms`):
    ``mu = b1*mu + (1-b1)*g``, ``nu = b2*nu + (1-b2)*g**2``,
    ``x -= α * mu_hat / (sqrt(nu_hat) + eps)`` with bias-corrected moments.

    {epoch_notes}
    """

    learning_rate: float = 1e-3
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    batch_size: int | None = None
    seed: int = 0
    full_eval: bool = True
    augment: object = None

    def check(self):
        check_unit_interval(self.b1, "b1")
        check_unit_interval(self.b2, "b2")
        check_positive(self.eps, "eps")
        self.transformation()
        _check_epoch_options(self)

    def transformation(self):
        return transforms.adam_transform(
            as_schedule(self.learning_rate), self.b1, self.b2, self.eps
        )


def _init(problem, x, f, g, opts):
    return _epoch_init(opts.transformation(), problem, x, f, g, opts.seed)


def _step(problem, state, opts):
    return _epoch_step(problem, state, opts.transformation(), opts)


sgd = Method("sgd", SGDOptions, _init, _step, check_problem=_check_problem, stochastic=True)
adam = Method("adam", AdamOptions, _init, _step, check_problem=_check_problem, stochastic=True)
