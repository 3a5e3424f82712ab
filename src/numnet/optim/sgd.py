"""Mini-batch stochastic methods ``"sgd"`` and ``"adam"``, one yield per epoch."""

import copy
import itertools

import numpy as np

from .._validation import check_int
from ..layers.dropout import has_dropout
from . import transforms
from .base import Iterate, NoProgress, register
from .problem import Problem
from .schedules import as_schedule

__all__ = ["sgd", "adam", "minibatches"]


def minibatches(rng, n_samples, batch_size):
    """Row indices of one epoch: a fresh permutation split into batches of ``batch_size``."""
    perm = rng.permutation(n_samples)
    return [perm[i:i + batch_size] for i in range(0, n_samples, batch_size)]


def _batch_size(batch_size, n):
    if batch_size is None:
        return min(200, n)
    return min(check_int(batch_size, "batch_size"), n)


def _finite(*values):
    return all(np.isfinite(v).all() for v in values)


_EPOCH_OPTIONS = """batch_size : int or None, default=None
        Rows per mini-batch; None means min(200, n_samples). The last batch
        of an epoch may be smaller.
    seed : int, default=0
        Seed of the generator that reshuffles the rows every epoch (same
        seed, same run).
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
    goes back to its first point (the last yielded iterate) with m halved
    for the rest of the run; an epoch that ends at a non-finite full
    objective is replaced by its first point, so a non-finite iterate is
    never yielded.

    Dropout: when the network contains :class:`~numnet.layers.Dropout`,
    every mini-batch step draws a new mask, through
    ``objective.batch(rows, key=k)`` with k a step counter offset by a
    number drawn from ``seed``; the full evaluation uses the objective's
    own network (key None: inference, the identity). Networks without
    Dropout see exactly the same run as before."""


def _epoch_docs(method):
    """Fill the options and notes that :func:`sgd` and :func:`adam` share into ``method``'s docstring."""
    doc = method.__doc__.replace("{epoch_options}", _EPOCH_OPTIONS)
    method.__doc__ = doc.replace("{epoch_notes}", _EPOCH_NOTES)
    return method


def _child_rngs(seed):
    """Two generators for dropout keys and augmentation, independent of the shuffling stream.

    Spawned from ``seed``, so the shuffling generator ``default_rng(seed)``
    draws exactly what it drew before these existed.
    """
    if isinstance(seed, np.random.Generator):
        return seed.spawn(2)
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)]


class _Epochs:
    """The epoch loop shared by SGD and Adam: x ← x + m · update(∇J_B(x))."""

    def __init__(self, problem, x, tx, batch_size, seed, full_eval, augment=None):
        if not hasattr(problem.objective, "batch"):
            raise TypeError("stochastic methods need an objective with batch(rows) (a numnet Objective)")
        if augment is not None and not (callable(augment) and hasattr(problem.objective, "X")):
            raise TypeError(f"augment must be None or a callable (X, rng) -> X on an objective with X, "
                            f"got {augment!r}")
        self.problem, self.tx, self.full_eval = problem, tx, bool(full_eval)
        self.size = _batch_size(batch_size, problem.n_samples)
        self.rng = np.random.default_rng(seed)
        key_rng, self.aug_rng = _child_rngs(seed)
        net = getattr(problem.objective, "net", None)
        dropout = net is not None and has_dropout(net)
        self.keys = itertools.count(int(key_rng.integers(2**62))) if dropout else None
        self.augment = augment
        self.mult, self.anchor = 1.0, (x, tx.init(x))
        self.last = None

    def reject(self):
        """Back to the epoch's start with half the step multiplier."""
        self.mult *= 0.5
        if self.mult < 2.0**-40:
            raise NoProgress("mini-batch steps stayed non-finite after 40 halvings of the learning rate")
        return self.anchor

    def epoch(self):
        """One pass over a fresh permutation; returns the end point and the mean batch gradient."""
        (x, state), grads = self.anchor, []
        problem = self.augmented()
        batches = minibatches(self.rng, problem.n_samples, self.size)
        for rows in batches:
            batch = problem.batch(rows) if self.keys is None else problem.batch(rows, key=next(self.keys))
            with np.errstate(over="ignore", invalid="ignore"):
                fb, gb = batch.value_and_grad(x)
            if not _finite(fb, gb):
                x, state = self.reject()
                continue
            u, state = self.tx.update(gb, state)
            x_new = x + self.mult * u
            x, state = (x_new, state) if _finite(x_new) else self.reject()
            grads.append(gb)
        return x, state, (np.mean(grads, axis=0) if grads else None), len(batches)

    def augmented(self):
        """The problem of this epoch: the objective on augment(X, rng) (the problem itself without augment)."""
        if self.augment is None:
            return self.problem
        obj = self.problem.objective
        X = self.augment(obj.X, self.aug_rng)
        if not isinstance(X, np.ndarray) or X.shape != obj.X.shape or X.dtype != obj.X.dtype:
            raise ValueError(f"augment must return an array of X's shape {obj.X.shape} and dtype {obj.X.dtype}, "
                             f"got {getattr(X, 'shape', None)} {getattr(X, 'dtype', type(X).__name__)}")
        new = copy.copy(obj)
        new.X = X
        return Problem(new, self.problem.counts)

    def report(self, x, gmean):
        """Full value (and gradient when ``full_eval``) at the epoch's end."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.full_eval:
                f, g = self.problem.value_and_grad(x)
                return f, g, None if not _finite(g) else float(np.linalg.norm(g))
            gnorm = float("nan") if gmean is None else float(np.linalg.norm(gmean))
            return self.problem.value(x), None, gnorm

    def start(self, f, g):
        self.last = (f, g, float(np.linalg.norm(g)))
        return self

    def __iter__(self):
        while True:
            x, state, gmean, n_batches = self.epoch()
            f, g, gnorm = self.report(x, gmean)
            if gnorm is None or not np.isfinite(f):
                (x, state), (f, g, gnorm) = self.reject(), self.last
            self.anchor, self.last = (x, state), (f, g, gnorm)
            yield Iterate(x, float(f), g, step=self.mult, inner=n_batches, grad_norm=gnorm)


@register("sgd")
@_epoch_docs
def sgd(problem, x, f, g, *, learning_rate=0.01, momentum=0.0, nesterov=False, batch_size=None,
        seed=0, full_eval=True, augment=None):
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
    if nesterov and momentum == 0:
        raise ValueError("nesterov=True needs momentum > 0")
    tx = transforms.sgd(as_schedule(learning_rate), momentum, nesterov)
    return (yield from _Epochs(problem, x, tx, batch_size, seed, full_eval, augment).start(f, g))


@register("adam")
@_epoch_docs
def adam(problem, x, f, g, *, learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8, batch_size=None,
         seed=0, full_eval=True, augment=None):
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
    tx = transforms.adam(as_schedule(learning_rate), b1, b2, eps)
    return (yield from _Epochs(problem, x, tx, batch_size, seed, full_eval, augment).start(f, g))


sgd.stochastic = adam.stochastic = True
