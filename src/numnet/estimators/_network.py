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

_NETWORK_PARAMS = {k: v for k, v in _COMMON.items() if k not in ("hidden_layer_sizes", "activation")}


class _Network:
    """``network`` ↦ the architecture, checked against the data's widths."""

    def check(self, value, name):
        if isinstance(value, str):
            return
        if not isinstance(value, Layer):
            raise TypeError(f"{name} must be an architecture spec (str) or a numnet network, "
                            f"got {type(value).__name__}")


class _NetworkMixin:
    """Architecture from ``network`` (and ``input_shape`` for a spec)."""

    _constraints_extra = {"network": _Network(), "input_shape": NoneOr(Sizes())}

    def _network(self):
        d_in, d_out = self.n_features_in_, self.n_outputs_
        if isinstance(self.network, str):
            shape = _shape(self.input_shape, d_in)
            if prod(shape) != d_in:
                raise ValueError(f"input_shape {shape} has {prod(shape)} entries but X has {d_in} features")
            return parse_spec(self.network, shape, d_out, name="network")
        net = self.network
        if net.d_in != d_in or net.d_out != d_out:
            raise ValueError(f"network maps {net.d_in} inputs to {net.d_out} outputs, "
                             f"but the data have {d_in} features and need {d_out} outputs")
        return net if hasattr(net, "predict") else Sequential([net])  # a bare layer: same theta

    def _init_scheme(self):
        return "xavier"

    @property
    def params_(self):
        """Named views of ``theta_``, as ``network.unpack`` gives them."""
        return self._network().unpack(self.theta_)

    @property
    def coefs_(self):
        raise AttributeError(f"{type(self).__name__} has no coefs_ (its layers need not be dense): "
                             "use params_")

    @property
    def intercepts_(self):
        raise AttributeError(f"{type(self).__name__} has no intercepts_: use params_")


def _shape(input_shape, n_features):
    if input_shape is None:
        return (n_features,)
    return (int(input_shape),) if isinstance(input_shape, Integral) else tuple(int(s) for s in input_shape)


_NETWORK_DOC = """
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
    """


def _doc(base):
    """The MLP docstring with ``hidden_layer_sizes`` and ``activation`` replaced by ``network``."""
    start = base.index("    hidden_layer_sizes :")
    end = base.index("    solver :")
    head = base[:start].replace("Multi-layer perceptron", "A network the user gives,")
    return head + _NETWORK_DOC.lstrip("\n") + base[end:].replace(
        'Seeds the initialization ("xavier"; "he" for relu/leaky_relu)', 'Seeds the initialization ("xavier")').replace(
        "    coefs_, intercepts_ : list of ndarray\n        Views of ``theta_``: weights (d_in, d_out) and biases (d_out,) per layer.\n",
        "    params_ : list or dict\n        Named views of ``theta_`` (``network.unpack``).\n")


class NetworkClassifier(_NetworkMixin, MLPClassifier):
    _constraints = {**_NETWORK_PARAMS, **_NetworkMixin._constraints_extra,
                    "loss": MLPClassifier._constraints["loss"]}

    def __init__(self, network="dense:32,tanh", *, input_shape=None, solver="lbfgs", alpha=1e-4,
                 loss="cross_entropy", batch_size=None, augment=None, learning_rate_init=1e-3, max_iter=200,
                 tol=1e-4, early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 random_state=None, warm_start=False, verbose=False):
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
    _constraints = {**_NETWORK_PARAMS, **_NetworkMixin._constraints_extra,
                    "loss": MLPRegressor._constraints["loss"],
                    "huber_delta": MLPRegressor._constraints["huber_delta"]}

    def __init__(self, network="dense:32,tanh", *, input_shape=None, solver="lbfgs", alpha=1e-4,
                 loss="squared_error", huber_delta=1.0, batch_size=None, augment=None, learning_rate_init=1e-3,
                 max_iter=200, tol=1e-4, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, momentum=0.9, nesterovs_momentum=True, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, random_state=None, warm_start=False, verbose=False):
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


NetworkClassifier.__doc__ = _doc(MLPClassifier.__doc__)
NetworkRegressor.__doc__ = _doc(MLPRegressor.__doc__)
