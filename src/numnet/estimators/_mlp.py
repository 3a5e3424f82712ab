"""Multi-layer perceptrons trained by any :func:`numnet.optim.minimize` method."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.metaestimators import available_if

from ..activations import ACTIVATIONS
from ..losses import Huber
from ..network import mlp
from ..objective import Objective
from ..optim import METHODS, minimize
from ..regularizers import Tikhonov
from ._base import (
    ClassifierOutputsMixin,
    NetworkEstimatorMixin,
    RegressorOutputsMixin,
    class_index,
    classifier_targets,
    encode_labels,
    forward_rows,
    noise_precision,
    rng_from,
    validate,
)
from ._monitor import Monitor
from ._params import (
    Boolean,
    Function,
    Interval,
    NoneOr,
    Options,
    RandomState,
    Sizes,
    check_params,
)
from ._warm import keep_run, previous_run, restore_monitor

__all__ = ["MLPClassifier", "MLPRegressor"]

_COMMON = {
    "hidden_layer_sizes": Sizes(),
    "activation": Options(lambda: ACTIVATIONS),
    "solver": Options(lambda: METHODS),
    "alpha": Interval(0, None),
    "batch_size": NoneOr(Interval(1, None, integer=True)),
    "augment": NoneOr(Function()),
    "learning_rate_init": Interval(0, None, closed="neither"),
    "max_iter": Interval(1, None, integer=True),
    "tol": Interval(0, None),
    "early_stopping": Boolean(),
    "validation_fraction": Interval(0, 1, closed="neither"),
    "n_iter_no_change": Interval(1, None, integer=True),
    "momentum": Interval(0, 1, closed="left"),
    "nesterovs_momentum": Boolean(),
    "beta_1": Interval(0, 1, closed="left"),
    "beta_2": Interval(0, 1, closed="left"),
    "epsilon": Interval(0, None, closed="neither"),
    "random_state": RandomState(),
    "warm_start": Boolean(),
    "verbose": Boolean(allow_int=True),
}

_FITTED = (
    "theta_",
    "n_features_in_",
    "feature_names_in_",
    "n_outputs_",
    "n_iter_",
    "loss_curve_",
    "loss_",
    "validation_scores_",
    "best_validation_score_",
    "optimizer_state_",
)


def _is_stochastic(solver):
    return bool(getattr(METHODS[solver], "stochastic", False))


def _has_partial_fit(est):
    return est.solver in METHODS and _is_stochastic(est.solver)


def _hidden_sizes(sizes):
    return [int(sizes)] if np.ndim(sizes) == 0 else [int(s) for s in sizes]


class _BaseMLP(NetworkEstimatorMixin, BaseEstimator):
    """Training loop shared by :class:`MLPClassifier` and :class:`MLPRegressor`.

    A subclass declares ``_constraints`` (parameter name ↦ validator of
    :mod:`numnet.estimators._params`), ``_fitted_attributes`` (what
    :mod:`numnet.io` may restore), ``_y_checks`` (keyword arguments of
    scikit-learn's ``validate_data`` for y) and implements the hooks below.
    """

    _constraints = {}
    _fitted_attributes = ()
    _y_checks = {}

    def _targets(self, y, resume, classes):
        """Hook: validated y ↦ (targets Y of shape (n, n_outputs_), loss, class codes or None)."""
        raise NotImplementedError

    def _scorer(self, net, Xv, Yv, cv):
        """Hook: the validation score ``theta ↦ float`` (higher is better) used by early stopping."""
        raise NotImplementedError

    def _layers(self, d_in, d_out):
        return mlp(d_in, _hidden_sizes(self.hidden_layer_sizes), d_out, self.activation).layers

    def fit(self, X, y):
        """Fit the network to (X, y) with ``solver``; returns self."""
        return self._fit(X, y, incremental=False)

    def _partial_fit(self, X, y, classes=None):
        return self._fit(X, y, incremental=True, classes=classes)

    def _fit(self, X, y, *, incremental, classes=None):
        check_params(self)
        resume = (incremental or self.warm_start) and hasattr(self, "theta_")
        X, y = validate(self, X, y, reset=not resume, **self._y_checks)
        Y, loss, codes = self._targets(y, resume, classes)
        net = self._network()
        if resume:
            X = X.astype(self.theta_.dtype, copy=False)
            if self.theta_.shape[0] != net.n_params:
                raise ValueError(
                    f"warm_start/partial_fit needs the architecture of the previous fit "
                    f"({self.theta_.shape[0]} parameters), but the parameters now give {net.n_params}"
                )
        previous = previous_run(self, X, Y, incremental, self._options) if resume else None
        theta0, seeds = (
            self._start(net, X, resume, incremental)
            if previous is None
            else (self.theta_, previous.seeds)
        )
        obj, score = self._objective(net, loss, X, Y, codes, seeds["split"])
        result, monitor, record = self._minimize(
            obj, theta0, score, seeds["optimizer"], incremental, previous
        )
        self._store(obj, result, monitor, resume, previous, record if incremental else None)
        if record is not None or previous is None:
            keep_run(self, record, seeds, monitor, X, Y, incremental)
        self._store_extra(X, y)
        return self

    def _start(self, net, X, resume, incremental):
        """theta0 and the seeds of a new run, drawn from random_state (resuming: a new seed every call)."""
        rng = rng_from(self.random_state)
        if resume:
            rng = np.random.default_rng([int(rng.integers(2**31 - 1)), self.n_iter_])
        theta0 = self.theta_ if resume else net.init(rng, X.dtype, self._init_scheme())
        split = int(rng.integers(2**31 - 1)) if self.early_stopping and not incremental else None
        optimizer = int(rng.integers(2**31 - 1)) if _is_stochastic(self.solver) else None
        return theta0, {"split": split, "optimizer": optimizer}

    def _init_scheme(self):
        return "he" if self.activation in ("relu", "leaky_relu") else "xavier"

    def _objective(self, net, loss, X, Y, codes, split_seed):
        """Training objective, and the validation scorer when early stopping (a split seed is given)."""
        reg = Tikhonov(self.alpha, mask=~net.bias_mask())
        if split_seed is None:
            return Objective(net, loss, X, Y, reg), None
        Xt, Xv, Yt, Yv, _, cv = train_test_split(
            X,
            Y,
            codes if codes is not None else np.zeros(len(X)),
            test_size=self.validation_fraction,
            random_state=split_seed,
            stratify=codes,
        )
        return Objective(net, loss, Xt, Yt, reg), self._scorer(net, Xv, Yv, cv)

    def _minimize(self, obj, theta0, score, seed, incremental, previous):
        """Run (or continue) the solver; the result, the monitor and the run's last checkpoint record."""
        stochastic = _is_stochastic(self.solver)
        monitor = Monitor(self, score, watch_loss=stochastic and not incremental)
        done = 0 if previous is None else previous.record["nit"]
        max_iter = done + (1 if incremental else self.max_iter)
        records, keep = [], {}
        if METHODS[self.solver].checkpointable:
            keep = {"checkpoint": records.append, "checkpoint_every": max_iter + 1}
        if previous is not None:
            restore_monitor(monitor, previous.monitor, self.theta_)
            keep["resume"] = previous.record
        result = minimize(
            obj,
            theta0,
            self.solver,
            callback=monitor,
            max_iter=max_iter,
            gtol=0.0 if stochastic else self.tol,
            **keep,
            **self._options(seed),
        )
        if not result.success and not incremental:
            warnings.warn(
                f"{type(self).__name__} ({self.solver}) stopped without converging: "
                f"{result.message}",
                ConvergenceWarning,
            )
        return result, monitor, (records[-1] if records else None)

    def _options(self, seed):
        return self._solver_options(seed) if _is_stochastic(self.solver) else {}

    def _solver_options(self, seed):
        common = {"batch_size": self.batch_size, "seed": seed}
        if self.augment is not None:
            common["augment"] = self.augment
        if self.solver == "sgd":
            return {
                "learning_rate": self.learning_rate_init,
                "momentum": self.momentum,
                "nesterov": self.nesterovs_momentum and self.momentum > 0,
                **common,
                "full_eval": False,
            }
        if self.solver == "adam":
            return {
                "learning_rate": self.learning_rate_init,
                "b1": self.beta_1,
                "b2": self.beta_2,
                "eps": self.epsilon,
                **common,
                "full_eval": False,
            }
        return common

    def _store(self, obj, result, monitor, resume, previous, epoch):
        """theta_ (the best iterate; after ``partial_fit``, the ``epoch`` record's iterate) and the curves."""
        done = 0 if previous is None else previous.record["nit"]
        best = monitor.best_x if monitor.best_x is not None else result.x
        if epoch is not None:
            best = getattr(epoch["state"], "x", best)
        curve = [h["fun"] for h in result.history[done:]] or (
            [] if previous else [float(result.fun)]
        )
        self.theta_ = best
        self.n_iter_ = result.nit - done + (self.n_iter_ if resume else 0)
        self.loss_curve_ = (self.loss_curve_ if resume else []) + curve
        self.loss_ = float(obj.value(best))
        if monitor.score is not None:
            self.validation_scores_ = monitor.scores
            self.best_validation_score_ = float(monitor.best_score)
        else:
            vars(self).pop("validation_scores_", None)
            vars(self).pop("best_validation_score_", None)

    def _store_extra(self, X, y):
        """Hook: fitted attributes beyond the network's (regressors: the noise precision ``beta_``)."""


class MLPClassifier(ClassifierMixin, ClassifierOutputsMixin, _BaseMLP):
    """Multi-layer perceptron classifier, trained by any :func:`numnet.optim.minimize` method.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Widths of the hidden layers.
    activation : str, default="tanh"
        Hidden activation, any name in :data:`numnet.ACTIVATIONS`. "tanh" is the
        default because it is twice differentiable, so second-order solvers see
        exact Hessian products (relu's σ″ is 0 almost everywhere).
    solver : str, default="lbfgs"
        Any key of :data:`numnet.optim.METHODS` (checked at fit time): e.g. "lbfgs",
        "newton-cg", "trust-ncg", "gauss-newton", "levenberg-marquardt", "bfgs",
        "sr1", "gd", "sgd", "adam". L-BFGS is the default: on small and medium
        problems it converges fast at first-order cost per iteration.
    alpha : float, default=1e-4
        Weight decay λ: J = mean loss + (λ/2)‖W‖² over all weight matrices; biases
        are not decayed (notes 003). Unlike scikit-learn there is no 1/n on λ.
    loss : {"cross_entropy", "binomial", "hinge"}, default="cross_entropy"
        The training loss. Two classes use one output F (class 1 when F > 0): "cross_entropy" is
        the logistic loss on σ(F), "binomial" ln(1 + e^(−2yF)) with y = ±1 and
        "hinge" max(0, 1 − yF). More classes use one output per class: softmax
        cross-entropy, or one-vs-rest binomial / hinge. ``predict_proba`` exists for
        "cross_entropy" and "binomial".
    batch_size : int or None, default=None
        Mini-batch rows; None means min(200, n_samples). Only used when
        solver='sgd' or 'adam'.
    augment : callable or None, default=None
        Label-invariant data augmentation (notes 001) ``augment(X, rng) -> X``
        of X's shape and dtype, e.g. :class:`numnet.augment.Augment`; applied
        to the training rows once per epoch, seeded from ``random_state``.
        Only used when solver is a stochastic method ('sgd' or 'adam').
    learning_rate_init : float, default=1e-3
        Step size. Only used when solver='sgd' or 'adam'.
    max_iter : int, default=200
        Maximum iterations; epochs when solver='sgd' or 'adam'.
    tol : float, default=1e-4
        Deterministic solvers stop when ‖∇J‖ ≤ tol. With early stopping, or
        for solver='sgd' or 'adam', ``n_iter_no_change`` iterations that improve
        the validation score (or the training loss) by less than ``tol`` stop the run.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers) and keep the iterate with the best validation score
        (accuracy, or R² for regressors). Not used by ``partial_fit``.
    validation_fraction : float, default=0.1
        Only used when early_stopping=True.
    n_iter_no_change : int, default=10
        Only used when early_stopping=True or solver='sgd' or 'adam'.
    momentum : float, default=0.9
        Only used when solver='sgd'.
    nesterovs_momentum : bool, default=True
        Only used when solver='sgd' and momentum > 0.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and denominator shift. Only used when solver='adam'.
    random_state : int, RandomState or None, default=None
        Seeds the initialization ("xavier"; "he" for relu/leaky_relu), the
        validation split and the mini-batch shuffling.
    warm_start : bool, default=False
        ``fit`` reuses the previous solution (scikit-learn) and optimizer: with
        the solver, its options, the rows and split of the previous fit and
        ``theta_`` unchanged, it continues that run for ``max_iter`` more
        iterations with the method's full state (``optimizer_state_``), bit
        for bit; otherwise it starts a new run from ``theta_``.
    verbose : bool or int, default=False
        Print the objective after every iteration.

    Attributes
    ----------
    theta_ : ndarray of shape (n_params,)
        All parameters, one flat vector (X's float dtype).
    coefs_, intercepts_ : list of ndarray
        Views of ``theta_``: weights (d_in, d_out) and biases (d_out,) per layer.
    n_features_in_, n_outputs_ : int
    n_iter_ : int
        Iterations (epochs) run, summed over ``partial_fit`` / warm-started calls.
    loss_curve_ : list of float
        Objective J (loss + weight decay) after every iteration.
    loss_ : float
        J at ``theta_``.
    validation_scores_, best_validation_score_ : list of float, float
        Only with early_stopping=True.
    optimizer_state_ : ndarray of uint8
        The last run's checkpoint (L-BFGS pairs, Adam moments, generators,
        history, the monitor) that ``warm_start`` and ``partial_fit``
        continue (:mod:`numnet.estimators._warm`); saved by :func:`numnet.save`.
    classes_ : ndarray of shape (n_classes,)
    """

    _constraints = {**_COMMON, "loss": Options({"cross_entropy", "binomial", "hinge"})}
    _fitted_attributes = _FITTED + ("classes_",)
    _y_checks = {}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="tanh",
        solver="lbfgs",
        alpha=1e-4,
        loss="cross_entropy",
        batch_size=None,
        augment=None,
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        random_state=None,
        warm_start=False,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.loss = loss
        self.batch_size = batch_size
        self.augment = augment
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _targets(self, y, resume, classes):
        self.classes_, codes = encode_labels(y, self.classes_ if resume else classes)
        Y, self.n_outputs_, loss = classifier_targets(codes, len(self.classes_), self.loss)
        return Y, loss, codes

    def _scorer(self, net, Xv, Yv, cv):
        def accuracy(theta):
            return float(np.mean(class_index(net.predict(theta, Xv)) == cv))

        return accuracy

    @available_if(_has_partial_fit)
    def partial_fit(self, X, y, classes=None):
        """One epoch of solver='sgd' or 'adam' on (X, y); returns self.

        ``classes`` (all labels) is required on the first call; a later call
        may repeat it but not change it (``ValueError``, as in scikit-learn).
        Kept between calls: ``theta_`` (the iterate after the epoch),
        ``classes_``, ``n_iter_``, ``loss_curve_`` and the optimizer's state
        in ``optimizer_state_`` — Adam's moments and step count or the SGD
        momentum buffer, the shuffling generator, the step multiplier — which
        goes on over each new batch of rows (of any size) while the solver
        options stay the same: k calls on the same rows equal
        ``fit(max_iter=k)`` while the loss does not increase.
        """
        if not hasattr(self, "theta_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        if (
            hasattr(self, "theta_")
            and classes is not None
            and not np.array_equal(np.unique(classes), self.classes_)
        ):
            raise ValueError(
                f"classes={np.unique(classes).tolist()} is not the same as on the first call to "
                f"partial_fit, was {self.classes_.tolist()}"
            )
        return self._partial_fit(X, y, classes)


class MLPRegressor(RegressorOutputsMixin, RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, trained by any :func:`numnet.optim.minimize` method.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Widths of the hidden layers.
    activation : str, default="tanh"
        Hidden activation, any name in :data:`numnet.ACTIVATIONS`. "tanh" is the
        default because it is twice differentiable, so second-order solvers see
        exact Hessian products (relu's σ″ is 0 almost everywhere).
    solver : str, default="lbfgs"
        Any key of :data:`numnet.optim.METHODS` (checked at fit time): e.g. "lbfgs",
        "newton-cg", "trust-ncg", "gauss-newton", "levenberg-marquardt", "bfgs",
        "sr1", "gd", "sgd", "adam". L-BFGS is the default: on small and medium
        problems it converges fast at first-order cost per iteration.
    alpha : float, default=1e-4
        Weight decay λ: J = mean loss + (λ/2)‖W‖² over all weight matrices; biases
        are not decayed (notes 003). Unlike scikit-learn there is no 1/n on λ.
    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
        The training loss. "huber" uses threshold ``huber_delta``.
    huber_delta : float, default=1.0
        Only used when loss='huber'.
    batch_size : int or None, default=None
        Mini-batch rows; None means min(200, n_samples). Only used when
        solver='sgd' or 'adam'.
    augment : callable or None, default=None
        Label-invariant data augmentation (notes 001) ``augment(X, rng) -> X``
        of X's shape and dtype, e.g. :class:`numnet.augment.Augment`; applied
        to the training rows once per epoch, seeded from ``random_state``.
        Only used when solver is a stochastic method ('sgd' or 'adam').
    learning_rate_init : float, default=1e-3
        Step size. Only used when solver='sgd' or 'adam'.
    max_iter : int, default=200
        Maximum iterations; epochs when solver='sgd' or 'adam'.
    tol : float, default=1e-4
        Deterministic solvers stop when ‖∇J‖ ≤ tol. With early stopping, or
        for solver='sgd' or 'adam', ``n_iter_no_change`` iterations that improve
        the validation score (or the training loss) by less than ``tol`` stop the run.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers) and keep the iterate with the best validation score
        (accuracy, or R² for regressors). Not used by ``partial_fit``.
    validation_fraction : float, default=0.1
        Only used when early_stopping=True.
    n_iter_no_change : int, default=10
        Only used when early_stopping=True or solver='sgd' or 'adam'.
    momentum : float, default=0.9
        Only used when solver='sgd'.
    nesterovs_momentum : bool, default=True
        Only used when solver='sgd' and momentum > 0.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and denominator shift. Only used when solver='adam'.
    random_state : int, RandomState or None, default=None
        Seeds the initialization ("xavier"; "he" for relu/leaky_relu), the
        validation split and the mini-batch shuffling.
    warm_start : bool, default=False
        ``fit`` reuses the previous solution (scikit-learn) and optimizer: with
        the solver, its options, the rows and split of the previous fit and
        ``theta_`` unchanged, it continues that run for ``max_iter`` more
        iterations with the method's full state (``optimizer_state_``), bit
        for bit; otherwise it starts a new run from ``theta_``.
    verbose : bool or int, default=False
        Print the objective after every iteration.

    Attributes
    ----------
    theta_ : ndarray of shape (n_params,)
        All parameters, one flat vector (X's float dtype).
    coefs_, intercepts_ : list of ndarray
        Views of ``theta_``: weights (d_in, d_out) and biases (d_out,) per layer.
    n_features_in_, n_outputs_ : int
    n_iter_ : int
        Iterations (epochs) run, summed over ``partial_fit`` / warm-started calls.
    loss_curve_ : list of float
        Objective J (loss + weight decay) after every iteration.
    loss_ : float
        J at ``theta_``.
    validation_scores_, best_validation_score_ : list of float, float
        Only with early_stopping=True.
    optimizer_state_ : ndarray of uint8
        The last run's checkpoint (L-BFGS pairs, Adam moments, generators,
        history, the monitor) that ``warm_start`` and ``partial_fit``
        continue (:mod:`numnet.estimators._warm`); saved by :func:`numnet.save`.
    beta_ : float
        Maximum-likelihood noise precision (note 004) on the training data:
        1/β = (1/(N K)) Σ_n ‖y(x_n, w) − t_n‖², K = n_outputs_.
    """

    _constraints = {
        **_COMMON,
        "loss": Options({"squared_error", "absolute_error", "huber"}),
        "huber_delta": Interval(0, None, closed="neither"),
    }
    _fitted_attributes = _FITTED + ("beta_",)
    _y_checks = {"multi_output": True, "y_numeric": True}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="tanh",
        solver="lbfgs",
        alpha=1e-4,
        loss="squared_error",
        huber_delta=1.0,
        batch_size=None,
        augment=None,
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        random_state=None,
        warm_start=False,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.loss = loss
        self.huber_delta = huber_delta
        self.batch_size = batch_size
        self.augment = augment
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _targets(self, y, resume, classes):
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if resume and n_out != self.n_outputs_:
            raise ValueError(f"y has {n_out} outputs but the fitted model has {self.n_outputs_}")
        self.n_outputs_ = n_out
        loss = Huber(self.huber_delta) if self.loss == "huber" else self.loss
        return y.reshape(len(y), n_out), loss, None

    def _scorer(self, net, Xv, Yv, cv):
        def r2(theta):
            return float(r2_score(Yv, net.predict(theta, Xv)))

        return r2

    def _store_extra(self, X, y):
        """beta_: MLE noise precision on the training data (note 004)."""
        self.beta_ = noise_precision(forward_rows(self._network(), self.theta_, X), y)

    @available_if(_has_partial_fit)
    def partial_fit(self, X, y):
        """One epoch of solver='sgd' or 'adam' on (X, y); returns self.

        Kept between calls, as for :meth:`MLPClassifier.partial_fit`:
        ``theta_``, ``n_iter_``, ``loss_curve_`` and the optimizer's state
        (Adam's moments or the momentum buffer, generators) in ``optimizer_state_``.
        """
        return self._partial_fit(X, y)
