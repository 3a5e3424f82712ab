"""Input checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` naming the argument and what
was expected, and never copies an array that is already valid.
"""

import numpy as np

__all__ = [
    "as_rng",
    "check_int",
    "check_positive",
    "check_non_negative",
    "check_open_unit",
    "check_unit_interval",
    "check_matrix",
    "check_theta",
    "check_direction",
    "check_float_dtype",
    "FLOAT_DTYPES",
]

#: The float dtypes numnet computes in. float64 first: scikit-learn's ``check_array(dtype=FLOAT_DTYPES)``
#: converts other input to the first.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def check_float_dtype(dtype, name="dtype"):
    """Return ``dtype`` as a NumPy dtype if it is float32 or float64."""
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def check_int(value, name, minimum=1):
    """Return ``value`` as an int ≥ ``minimum``.

    A bool or a non-integer raises ``TypeError``, a smaller int ``ValueError``;
    both name the argument.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_real(value, name, what):
    """TypeError naming ``name`` unless value is a real number (an int or float, NumPy's too; not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{name} must be {what}, got {value!r}")


def check_positive(value, name, *, integer=False):
    """Return ``value`` as a finite float > 0 (with ``integer``: as an int ≥ 1, see :func:`check_int`).

    A non-number (or a bool) raises ``TypeError``, any other value ``ValueError``; both name the argument.
    """
    if integer:
        return check_int(value, name)
    _check_real(value, name, "a positive finite number")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_non_negative(value, name):
    """Return ``value`` as a finite float ≥ 0; TypeError for a non-number, else ValueError."""
    _check_real(value, name, "a non-negative number")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def check_open_unit(value, name):
    """Return ``value`` as a float in (0, 1); TypeError for a non-number, else ValueError."""
    _check_real(value, name, "a number in (0, 1)")
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def check_unit_interval(value, name):
    """Return ``value`` as a float in [0, 1) (a decay rate or momentum); TypeError for a non-number, else ValueError."""
    _check_real(value, name, "a number in [0, 1)")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def as_rng(seed_or_rng, name="seed"):
    """Return a ``np.random.Generator`` from a seed, a Generator or None."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is None or (
        isinstance(seed_or_rng, (int, np.integer)) and not isinstance(seed_or_rng, bool)
    ):
        return np.random.default_rng(seed_or_rng)
    raise TypeError(
        f"{name} must be an int, None or np.random.Generator, got {type(seed_or_rng).__name__}"
    )


def check_matrix(X, name, n_cols=None, dtype=None, finite=True):
    """Validate a 2-D float array ``(n_samples, n_cols)``.

    Integer and boolean input is converted to ``dtype`` (float64 when None);
    a float array of another precision than ``dtype`` raises ``TypeError``
    (numnet never silently changes a float array's precision).
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, {n_cols or 'n_features'}), "
            f"got shape {X.shape}"
        )
    if n_cols is not None and X.shape[1] != n_cols:
        raise ValueError(f"{name} must have shape (n_samples, {n_cols}), got {X.shape}")
    if X.dtype.kind in "biu":
        X = X.astype(dtype or np.float64)
    elif X.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {X.dtype}")
    elif dtype is not None and X.dtype != np.dtype(dtype):
        raise TypeError(f"{name} has dtype {X.dtype} but the parameters are {np.dtype(dtype)}")
    if finite and not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or inf")
    return X


def check_theta(theta, n_params, name="theta", finite=True):
    """Validate a flat parameter vector of length ``n_params``."""
    theta = np.asarray(theta)
    if theta.ndim != 1 or theta.shape[0] != n_params:
        raise ValueError(
            f"{name} must be a 1-D array of shape ({n_params},), got shape {theta.shape}"
        )
    if theta.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got dtype {theta.dtype}")
    if finite and not np.isfinite(theta).all():
        raise ValueError(f"{name} contains NaN or inf")
    return theta


def check_direction(d, shape, dtype, name):
    """Validate a direction (a tangent such as ``v``, ``dtheta``, ``dX``) and return it in ``dtype``.

    ``d`` must be a real numeric array of ``shape`` (an entry None matches
    any length) with finite entries. Complex input raises ``TypeError``
    (its imaginary part would be dropped), as do strings and objects;
    integers, booleans and the other float precision are converted to
    ``dtype`` (the dtype of the parameters the direction perturbs).
    """
    d = np.asarray(d)
    if d.dtype.kind == "c":
        raise TypeError(
            f"{name} must be real, got complex dtype {d.dtype} (the imaginary part would be lost)"
        )
    if d.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {d.dtype}")
    if d.ndim != len(shape) or any(n is not None and n != m for n, m in zip(shape, d.shape)):
        expected = ", ".join("n" if n is None else str(n) for n in shape)
        raise ValueError(
            f"{name} must have shape ({expected}{',' if len(shape) == 1 else ''}), got {d.shape}"
        )
    d = d.astype(dtype, copy=False)
    if not np.isfinite(d).all():
        raise ValueError(f"{name} contains NaN or inf")
    return d
