"""numnet._validation: the one validator set every module uses for numbers, dtypes and arrays."""

import numpy as np
import pytest

from numnet._validation import (
    FLOAT_DTYPES,
    check_float_dtype,
    check_int,
    check_non_negative,
    check_open_unit,
    check_positive,
    check_unit_interval,
)

CHECKS = {  # check -> (accepted values, rejected values)
    check_positive: ([1e-300, 1, 2.5, np.float32(3)], [0, -1.0, np.inf, np.nan]),
    check_non_negative: ([0, 0.0, 1e300, np.int64(4)], [-1e-300, np.inf, np.nan]),
    check_open_unit: ([1e-9, 0.5, np.float64(0.999)], [0, 1, 1.5, np.nan]),
    check_unit_interval: ([0, 0.5, 0.999], [1, -0.1, np.nan]),
}


@pytest.mark.parametrize("check", list(CHECKS), ids=lambda c: c.__name__)
def test_number_checks_return_floats_and_name_the_argument(check):
    good, bad = CHECKS[check]
    for value in good:
        out = check(value, "rate")
        assert type(out) is float and out == float(value)
    for value in bad:
        with pytest.raises(ValueError, match="^rate must be"):
            check(value, "rate")
    for value in (True, np.bool_(False), "0.5", None, [0.5]):
        with pytest.raises(TypeError, match="^rate must be"):
            check(value, "rate")


def test_check_positive_integer_is_check_int():
    assert (
        check_positive(3, "n", integer=True) == 3
        and type(check_positive(np.int32(3), "n", integer=True)) is int
    )
    with pytest.raises(TypeError, match="n must be an int"):
        check_positive(3.0, "n", integer=True)
    with pytest.raises(ValueError, match="n must be >= 1"):
        check_positive(0, "n", integer=True)
    assert check_int(0, "k", minimum=0) == 0


def test_float_dtypes_are_one_tuple_float64_first():
    import numnet.estimators._base as base
    import numnet.io as io

    assert FLOAT_DTYPES == (np.dtype(np.float64), np.dtype(np.float32))
    assert base.FLOAT_DTYPES is FLOAT_DTYPES and io.FLOAT_DTYPES is FLOAT_DTYPES
    assert check_float_dtype("float32") == np.float32
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        check_float_dtype(np.float16)


def test_modules_share_the_validators():
    from numnet.optim import _checks, schedules

    assert _checks.check_positive is check_positive and _checks.check_open_unit is check_open_unit
    with pytest.raises(TypeError, match="t must be a positive finite number"):
        schedules.constant(True)
    with pytest.raises(ValueError, match="lam must be a non-negative finite number"):
        __import__("numnet").Tikhonov(-1.0)
