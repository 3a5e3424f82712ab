"""Estimators that train a network the user gives: a spec string or any numnet network.

``NetworkClassifier`` and ``NetworkRegressor`` are :class:`MLPClassifier` and
:class:`MLPRegressor` with the architecture taken from ``network`` instead of
``hidden_layer_sizes`` and ``activation``: everything else (solvers, weight
decay, early stopping, augmentation, ``partial_fit``, saving) is the same.
"""

from math import prod
from numbers import Integral

from ..layers import Layer
from ..network import Sequential
from ..spec import parse_spec
from ._mlp import _COMMON, MLPClassifier, MLPRegressor
from ._params import NoneOr, Sizes

__all__ = ["NetworkClassifier", "NetworkRegressor"]

_NETWORK_PARAMS = {
    k: v for k, v in _COMMON.items() if k not in ("hidden_layer_sizes", "activation")
}


class _Network:
    """``network`` ↦ the architecture, checked against the data's widths."""

    def check(self, value, name):
        if isinstance(value, str):
            return
        if not isinstance(value, Layer):
            raise TypeError(
                f"{name} must be an architecture spec (str) or a numnet network, "
                f"got {type(value).__name__}"
            )


class _NetworkMixin:
    """Architecture from ``network`` (and ``input_shape`` for a spec)."""

    _constraints_extra = {"network": _Network(), "input_shape": NoneOr(Sizes())}

    def _network(self):
        d_in, d_out = self.n_features_in_, self.n_outputs_
        if isinstance(self.network, str):
            shape = _shape(self.input_shape, d_in)
            if prod(shape) != d_in:
                raise ValueError(
                    f"input_shape {shape} has {prod(shape)} entries but X has {d_in} features"
                )
            return parse_spec(self.network, shape, d_out, name="network")
        net = self.network
        if net.d_in != d_in or net.d_out != d_out:
            raise ValueError(
                f"network maps {net.d_in} inputs to {net.d_out} outputs, "
                f"but the data have {d_in} features and need {d_out} outputs"
            )
        return net if hasattr(net, "predict") else Sequential([net])  # a bare layer: same theta

    def _init_scheme(self):
        return "xavier"

    @property
    def params_(self):
        """Named views of ``theta_``, as ``network.unpack`` gives them."""
        return self._network().unpack(self.theta_)

    @property
    def coefs_(self):
        raise AttributeError(
            f"{type(self).__name__} has no coefs_ (its layers need not be dense): use params_"
        )

    @property
    def intercepts_(self):
        raise AttributeError(f"{type(self).__name__} has no intercepts_: use params_")


def _shape(input_shape, n_features):
    if input_shape is None:
        return (n_features,)
    return (
        (int(input_shape),)
        if isinstance(input_shape, Integral)
        else tuple(int(s) for s in input_shape)
    )


class NetworkClassifier(_NetworkMixin, MLPClassifier):
    """Classifier with a network the user gives, trained by any :func:`numnet.optim.minimize` method.

    Parameters
    ----------
    network : str or network, default="dense:32,tanh"
        The architecture: a spec string (:func:`numnet.spec.parse_spec`, e.g.
        "conv:8x3p1,relu,pool:2,dense:32,relu"; the linear output layer is
        added and sized to the task), or any network built from numnet's
        layers (a ``Sequential``, a ``Graph``, …) whose ``d_in`` is the
        number of features and ``d_out`` the number of outputs.
    input_shape : tuple of int or None, default=None
        Shape of one input row for a spec, channels last: (height, width,
        channels) for images, (steps, features) for sequences; None means
        (n_features,). Only used when network is a spec string.
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
        Seeds the initialization ("xavier"), the
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
    params_ : list or dict
        Named views of ``theta_`` (``network.unpack``).
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

    _constraints = {
        **_NETWORK_PARAMS,
        **_NetworkMixin._constraints_extra,
        "loss": MLPClassifier._constraints["loss"],
    }

    def __init__(
        self,
        network="dense:32,tanh",
        *,
        input_shape=None,
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
        self.network = network
        self.input_shape = input_shape
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


class NetworkRegressor(_NetworkMixin, MLPRegressor):
    """Regressor with a network the user gives, trained by any :func:`numnet.optim.minimize` method.

    Parameters
    ----------
    network : str or network, default="dense:32,tanh"
        The architecture: a spec string (:func:`numnet.spec.parse_spec`, e.g.
        "conv:8x3p1,relu,pool:2,dense:32,relu"; the linear output layer is
        added and sized to the task), or any network built from numnet's
        layers (a ``Sequential``, a ``Graph``, …) whose ``d_in`` is the
        number of features and ``d_out`` the number of outputs.
    input_shape : tuple of int or None, default=None
        Shape of one input row for a spec, channels last: (height, width,
        channels) for images, (steps, features) for sequences; None means
        (n_features,). Only used when network is a spec string.
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
        Seeds the initialization ("xavier"), the
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
    params_ : list or dict
        Named views of ``theta_`` (``network.unpack``).
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
        **_NETWORK_PARAMS,
        **_NetworkMixin._constraints_extra,
        "loss": MLPRegressor._constraints["loss"],
        "huber_delta": MLPRegressor._constraints["huber_delta"],
    }

    def __init__(
        self,
        network="dense:32,tanh",
        *,
        input_shape=None,
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
        self.network = network
        self.input_shape = input_shape
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
