"""Extreme learning machines: random hidden layer, output weights by least squares or Newton-CG."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from ..activations import ACTIVATIONS
from ..layers import Dense
from ..random_features import (
    DISTRIBUTIONS,
    LS_SOLVERS,
    choose_ls_solver,
    fit_least_squares,
    fit_logistic,
    random_features,
)
from ._base import (
    ClassifierOutputsMixin,
    NetworkEstimatorMixin,
    RegressorOutputsMixin,
    classifier_targets,
    encode_labels,
    forward_rows,
    noise_precision,
    rng_from,
    validate,
)
from ._params import Interval, Options, RandomState, check_params

__all__ = ["ELMClassifier", "ELMRegressor"]

_COMMON = {
    "n_hidden": Interval(1, None, integer=True),
    "activation": Options(lambda: ACTIVATIONS),
    "scale": Interval(0, None, closed="neither"),
    "distribution": Options(DISTRIBUTIONS),
    "alpha": Interval(0, None),
    "solver": Options(LS_SOLVERS),
    "batch_size": Interval(1, None, integer=True),
    "random_state": RandomState(),
}

_FITTED = ("theta_", "n_features_in_", "feature_names_in_", "n_outputs_", "n_iter_", "solver_")


class _BaseELM(NetworkEstimatorMixin, BaseEstimator):
    """Random features, then the output layer from :mod:`numnet.random_features`."""

    def _layers(self, d_in, d_out):
        return [Dense(d_in, self.n_hidden, self.activation), Dense(self.n_hidden, d_out)]

    def _features(self, X):
        return random_features(
            X.shape[1],
            self.n_hidden,
            self.activation,
            scale=self.scale,
            distribution=self.distribution,
            random_state=rng_from(self.random_state),
            dtype=X.dtype,
        )

    def _fit_least_squares(self, feats, X, Y):
        self.solver_ = choose_ls_solver(self.solver, X.shape[0], self.n_hidden)
        self.n_iter_ = 1
        return fit_least_squares(
            feats, X, Y, alpha=self.alpha, solver=self.solver_, batch_size=self.batch_size
        )

    @property
    def _predict_rows(self):
        return self.batch_size


class ELMClassifier(ClassifierMixin, ClassifierOutputsMixin, _BaseELM):
    """Extreme learning machine classifier (notes 000, "random transformation").

    Z = σ(X K + b) with random K, b kept fixed; only the output layer is fitted.
    With loss="squared_error" (default) the output solves the least-squares
    problem against one-hot targets (±1 for two classes, one output); with
    loss="cross_entropy" it is multinomial (binary: logistic) regression on
    Z, convex in W, solved by Newton-CG; only then ``predict_proba`` exists.

    Parameters
    ----------
    n_hidden : int, default=100
        Number m of random features.
    activation : str, default="tanh"
        σ, any name in :data:`numnet.ACTIVATIONS` (notes 000 compare sin, tanh, relu).
    scale : float, default=1.0
        Entries of the random K and b are scale·N(0, 1), or uniform in [−scale, scale].
    distribution : {"normal", "uniform"}, default="normal"
    alpha : float, default=1e-6
        Weight decay λ on the output weights W (not on the output bias):
        J = (1/2n)‖Z W + c − T‖² + (λ/2)‖W‖², i.e. (ZᵀZ + nλI) W = Zᵀ T. The small
        default keeps the solve stable when n_hidden ≥ n_samples.
    loss : {"squared_error", "cross_entropy"}, default="squared_error"
        The output layer's loss: least squares against the targets, or
        multinomial logistic regression (see above).
    solver : {"auto", "normal", "lstsq"}, default="auto"
        Least-squares solver (:func:`numnet.random_features.fit_least_squares`):
        "normal" accumulates the normal equations over row batches (memory
        O(m² + batch·m), any n); "lstsq" is an SVD solve on the whole feature
        matrix; "auto" picks "lstsq" when n_samples·(n_hidden + 1) ≤ 2**22, else "normal".
    batch_size : int, default=10000
        Rows per batch of the normal equations and of ``predict``.
    max_iter : int, default=100
        Newton iterations. Only used when loss='cross_entropy'.
    tol : float, default=1e-6
        Gradient-norm tolerance. Only used when loss='cross_entropy'.
    random_state : int, RandomState or None, default=None
        Seeds the random hidden layer.

    Attributes
    ----------
    theta_ : ndarray
        [K, b, W, c] as one flat vector: the random layer Dense(n_features, n_hidden,
        activation) then the fitted output layer Dense(n_hidden, n_outputs).
    coefs_, intercepts_ : list of ndarray
        Views of ``theta_`` per layer.
    n_features_in_, n_outputs_ : int
    n_iter_ : int
        1 for a direct least-squares solve; Newton iterations for loss="cross_entropy".
    solver_ : str
        "lstsq", "normal" or "newton-cg": what actually solved for W.
    classes_ : ndarray of shape (n_classes,)
    """

    _constraints = {
        **_COMMON,
        "loss": Options({"squared_error", "cross_entropy"}),
        "max_iter": Interval(1, None, integer=True),
        "tol": Interval(0, None),
    }
    _fitted_attributes = _FITTED + ("classes_",)

    def __init__(
        self,
        n_hidden=100,
        *,
        activation="tanh",
        scale=1.0,
        distribution="normal",
        alpha=1e-6,
        loss="squared_error",
        solver="auto",
        batch_size=10_000,
        max_iter=100,
        tol=1e-6,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.scale = scale
        self.distribution = distribution
        self.alpha = alpha
        self.loss = loss
        self.solver = solver
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y):
        """Draw the random layer and solve for the output layer; returns self."""
        check_params(self)
        X, y = validate(self, X, y, reset=True)
        self.classes_, codes = encode_labels(y)
        Y, self.n_outputs_, _ = classifier_targets(codes, len(self.classes_), self.loss)
        feats = self._features(X)
        if self.loss == "squared_error":
            theta_out = self._fit_least_squares(feats, X, Y)
        else:
            theta_out = self._fit_logistic(feats, X, Y)
        self.theta_ = np.concatenate([feats.theta, theta_out])
        return self

    def _fit_logistic(self, feats, X, Y):
        result = fit_logistic(
            feats, X, Y, self.n_outputs_, alpha=self.alpha, max_iter=self.max_iter, tol=self.tol
        )
        self.solver_, self.n_iter_ = "newton-cg", max(result.nit, 1)
        return result.x


class ELMRegressor(RegressorOutputsMixin, RegressorMixin, _BaseELM):
    """Extreme learning machine regressor (notes 000, "random transformation").

    Z = σ(X K + b) with random K, b kept fixed; the output layer solves the
    Tikhonov-regularized least-squares problem, streaming over row batches
    when the problem is large (solver="normal").

    Parameters
    ----------
    n_hidden : int, default=100
        Number m of random features.
    activation : str, default="tanh"
        σ, any name in :data:`numnet.ACTIVATIONS` (notes 000 compare sin, tanh, relu).
    scale : float, default=1.0
        Entries of the random K and b are scale·N(0, 1), or uniform in [−scale, scale].
    distribution : {"normal", "uniform"}, default="normal"
    alpha : float, default=1e-6
        Weight decay λ on the output weights W (not on the output bias):
        J = (1/2n)‖Z W + c − T‖² + (λ/2)‖W‖², i.e. (ZᵀZ + nλI) W = Zᵀ T. The small
        default keeps the solve stable when n_hidden ≥ n_samples.
    solver : {"auto", "normal", "lstsq"}, default="auto"
        Least-squares solver (:func:`numnet.random_features.fit_least_squares`):
        "normal" accumulates the normal equations over row batches (memory
        O(m² + batch·m), any n); "lstsq" is an SVD solve on the whole feature
        matrix; "auto" picks "lstsq" when n_samples·(n_hidden + 1) ≤ 2**22, else "normal".
    batch_size : int, default=10000
        Rows per batch of the normal equations and of ``predict``.
    random_state : int, RandomState or None, default=None
        Seeds the random hidden layer.

    Attributes
    ----------
    theta_ : ndarray
        [K, b, W, c] as one flat vector: the random layer Dense(n_features, n_hidden,
        activation) then the fitted output layer Dense(n_hidden, n_outputs).
    coefs_, intercepts_ : list of ndarray
        Views of ``theta_`` per layer.
    n_features_in_, n_outputs_ : int
    n_iter_ : int
        1 for a direct least-squares solve; Newton iterations for loss="cross_entropy".
    solver_ : str
        "lstsq", "normal" or "newton-cg": what actually solved for W.
    beta_ : float
        Maximum-likelihood noise precision on the training data (note 004):
        1/β = (1/(N K)) Σ_n ‖y(x_n) − t_n‖², K = n_outputs_.
    """

    _constraints = dict(_COMMON)
    _fitted_attributes = _FITTED + ("beta_",)

    def __init__(
        self,
        n_hidden=100,
        *,
        activation="tanh",
        scale=1.0,
        distribution="normal",
        alpha=1e-6,
        solver="auto",
        batch_size=10_000,
        random_state=None,
    ):
        self.n_hidden = n_hidden
        self.activation = activation
        self.scale = scale
        self.distribution = distribution
        self.alpha = alpha
        self.solver = solver
        self.batch_size = batch_size
        self.random_state = random_state

    def fit(self, X, y):
        """Draw the random layer and solve the least-squares problem for the output; returns self."""
        check_params(self)
        X, y = validate(self, X, y, reset=True, multi_output=True, y_numeric=True)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        feats = self._features(X)
        self.theta_ = np.concatenate([feats.theta, self._fit_least_squares(feats, X, y)])
        self.beta_ = noise_precision(
            forward_rows(self._network(), self.theta_, X, self.batch_size), y
        )
        return self
