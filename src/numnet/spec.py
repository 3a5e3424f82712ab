"""A compact text spec of a network, for the command line: ``conv:8x3p1,relu,pool:2,dense:32,relu``.

Tokens, separated by commas, left to right from the input:

==================  =========================================================
``dense:N``         :class:`~numnet.layers.Dense` with N units (flattens an image)
``conv:FxK``        :class:`~numnet.layers.Conv2d` (or ``Conv1d`` on (length, channels)
                    inputs), F filters of K×K; add ``sS`` for stride S and ``pP`` for
                    zero padding P, e.g. ``conv:16x3s2p1``
``pool:K``          K×K max pooling with stride K (``maxpool:K`` is the same;
                    ``avgpool:K`` averages)
``flatten``         :class:`~numnet.layers.Flatten` (optional: dense flattens itself)
``dropout:P``       :class:`~numnet.layers.Dropout` with drop probability P
``residual[:ACT]``  :class:`~numnet.layers.Residual` block of the current width
                    (activation ACT, default tanh)
``rnn:H[:seq]``     :class:`~numnet.layers.Recurrent`, hidden width H, over
                    (steps, features) inputs; ``:seq`` returns every step
an activation name  sets the activation of the dense or conv layer just before it
                    (any name in :data:`numnet.ACTIVATIONS`)
==================  =========================================================

The linear output layer is appended, sized to the task, unless the spec
already ends with a ``dense:N`` without activation, which then is the output
layer and must have N equal to the number of outputs. Dropout layers are
seeded by their position (seed = index of the token).
"""

import re
from math import prod

from .activations import ACTIVATIONS
from .layers import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Recurrent,
    Residual,
)
from .network import Sequential

__all__ = ["parse_spec"]

_CONV = re.compile(r"^(\d+)x(\d+)(?:s(\d+))?(?:p(\d+))?$")


def parse_spec(spec, input_shape, n_outputs, name="arch"):
    """Build the network a spec describes.

    Parameters
    ----------
    spec : str
        Comma-separated tokens (see the module documentation).
    input_shape : tuple of int
        Shape of one input row: (n_features,), (length, channels) or
        (height, width, channels), channels last.
    n_outputs : int
        Width of the output layer.
    name : str, default="arch"
        How error messages name the spec (the command line says ``--arch``).

    Returns
    -------
    Sequential

    Raises
    ------
    ValueError
        Naming ``name`` and the token that cannot be built, and why.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{name} must be a non-empty comma-separated spec such as 'dense:32,tanh'")
    shape, layers = tuple(int(s) for s in input_shape), []
    for i, token in enumerate(t.strip() for t in spec.split(",")):
        try:
            shape = _add(token, i, shape, layers)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}: token {i + 1} {token!r}: {exc}") from None
    last = layers[-1] if layers else None
    if isinstance(last, Dense) and last.activation.name == "identity":
        if last.d_out != n_outputs:
            raise ValueError(
                f"{name}: the final dense:{last.d_out} is the output layer and must have "
                f"{n_outputs} units (the number of outputs), or end the spec with an activation"
            )
    else:
        layers.append(Dense(prod(shape), n_outputs))
    return Sequential(layers)


def _add(token, index, shape, layers):
    """Append the layer of ``token`` to ``layers``; return the new row shape.

    Each builder takes (argument, row shape, token index) and returns (layer, its output row shape).
    """
    kind, _, arg = token.partition(":")
    kind = kind.lower()
    if kind in ACTIVATIONS and not arg:
        return _activate(kind, shape, layers)
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(
            f"unknown token; expected one of {sorted(_BUILDERS)} or an activation name"
        )
    layer, shape = builder(arg, shape, index)
    layers.append(layer)
    return shape


def _activate(act, shape, layers):
    last = layers[-1] if layers else None
    if not isinstance(last, (Dense, Conv2d)) or last.activation.name != "identity":
        raise ValueError("an activation must follow a dense or conv layer that has none yet")
    layers[-1] = type(last)(**{**last.get_config(), "activation": act})
    return shape


def _number(arg, what, cast=int):
    try:
        value = cast(arg)
    except ValueError:
        raise ValueError(f"expected {what}, got {arg!r}") from None
    return value


def _dense(arg, shape, index):
    layer = Dense(prod(shape), _number(arg, "a width such as dense:32"))
    return layer, (layer.d_out,)


def _conv(arg, shape, index):
    m = _CONV.match(arg)
    if m is None:
        raise ValueError("expected conv:FxK[sS][pP], e.g. conv:8x3 or conv:16x3s2p1")
    filters, k, s, p = (int(g) if g is not None else None for g in m.groups())
    options = {"stride": s or 1, "padding": p or 0}
    if len(shape) in (2, 3):
        layer = (Conv1d if len(shape) == 2 else Conv2d)(shape, filters, k, **options)
        return layer, layer.output_shape
    raise ValueError(
        f"conv needs (height, width, channels) or (length, channels) inputs, got shape {shape}"
    )


def _pool(kinds):
    def build(arg, shape, index):
        size = _number(arg, "a window such as pool:2")
        if len(shape) not in (2, 3):
            raise ValueError(f"pooling needs image or sequence inputs, got shape {shape}")
        layer = kinds[len(shape) - 2](shape, size)
        return layer, layer.output_shape

    return build


def _flatten(arg, shape, index):
    return Flatten(shape), (prod(shape),)


def _dropout(arg, shape, index):
    return Dropout(
        prod(shape), _number(arg, "a probability such as dropout:0.5", float), seed=index
    ), shape


def _residual(arg, shape, index):
    return Residual(prod(shape), arg or "tanh"), shape


def _rnn(arg, shape, index):
    width, _, mode = arg.partition(":")
    if len(shape) != 2:
        raise ValueError(f"rnn needs (steps, features) inputs, got shape {shape}")
    if mode not in ("", "seq"):
        raise ValueError(f"expected rnn:H or rnn:H:seq, got {arg!r}")
    layer = Recurrent(
        shape[0],
        shape[1],
        _number(width, "a width such as rnn:16"),
        output="sequence" if mode else "last",
    )
    return layer, ((shape[0], layer.d_h) if mode else (layer.d_h,))


_BUILDERS = {
    "dense": _dense,
    "conv": _conv,
    "pool": _pool((MaxPool1d, MaxPool2d)),
    "maxpool": _pool((MaxPool1d, MaxPool2d)),
    "avgpool": _pool((AvgPool1d, AvgPool2d)),
    "flatten": _flatten,
    "dropout": _dropout,
    "residual": _residual,
    "rnn": _rnn,
}
