"""Renamed public names (issue 19, seam 5): the new name works, the old one warns and gives the same result."""

import warnings

import numpy as np
import pytest

import numnet.datasets as ds
from numnet.activations import ACTIVATIONS, Activation
from numnet.optim import gd, schedules, transforms


def test_square_summable_is_the_rule_formerly_called_diminishing():
    rule = schedules.square_summable(2.0, 4.0)
    assert [rule(k) for k in range(3)] == [0.5, 2.0 / 5.0, 2.0 / 6.0]
    with pytest.warns(DeprecationWarning, match="square_summable"):
        old = schedules.diminishing(2.0, 4.0)
    assert [old(k) for k in range(5)] == [rule(k) for k in range(5)]
    # the names now match step_rule's: "square-summable" is a/(b+k), "diminishing" is a/sqrt(b+k)
    assert schedules.step_rule(1.0, "square-summable", decay=4.0)(4) == rule(4) / rule(0)
    assert schedules.step_rule(1.0, "diminishing", decay=4.0)(4) == pytest.approx(
        np.sqrt(0.5), rel=1e-15
    )


def test_planted_softmax_and_load_dataset():
    new = ds.planted_softmax(20, 3, 2, 4, random_state=0)
    with pytest.warns(DeprecationWarning, match="planted_softmax"):
        old = ds.inverse_crime(20, 3, 2, 4, random_state=0)
    assert all(np.array_equal(a, b) for a, b in zip(new, old))
    X, y = ds.load_dataset("xor")
    with pytest.warns(DeprecationWarning, match="load_dataset"):
        X_old, y_old = ds.load("xor")
    assert np.array_equal(X, X_old) and np.array_equal(y, y_old)


@pytest.mark.parametrize(
    "new, old, args", [("sgd_transform", "sgd", (0.1, 0.9)), ("adam_transform", "adam", (0.1,))]
)
def test_transform_names_differ_from_the_methods(new, old, args):
    grads, x = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    tx = getattr(transforms, new)(*args)
    with pytest.warns(DeprecationWarning, match=new):
        tx_old = getattr(transforms, old)(*args)
    u, _ = tx.update(grads, tx.init(x))
    u_old, _ = tx_old.update(grads, tx_old.init(x))
    np.testing.assert_array_equal(u, u_old)


def test_activation_output_derivative_names():
    tanh = ACTIVATIONS["tanh"]
    Z = np.tanh(np.linspace(-2, 2, 5))
    np.testing.assert_array_equal(tanh.df_from_output(Z), 1 - Z**2)
    with pytest.warns(DeprecationWarning, match="df_from_output"):
        assert tanh.dfz is tanh.df_from_output
    with pytest.warns(DeprecationWarning, match="d2f_from_output"):
        assert tanh.d2fz is tanh.d2f_from_output
    with pytest.warns(DeprecationWarning, match="df_from_output"):
        custom = Activation(
            "mytanh", np.tanh, tanh.df, tanh.d2f, dfz=tanh.df_from_output, d2fz=tanh.d2f_from_output
        )
    assert (
        custom.df_from_output is tanh.df_from_output
        and custom.d2f_from_output is tanh.d2f_from_output
    )
    A = np.linspace(-1, 1, 4)
    np.testing.assert_array_equal(custom.dsigma(A, np.tanh(A)), tanh.dsigma(A, np.tanh(A)))


@pytest.mark.parametrize("old", ["dfz", "d2fz"])
def test_either_old_activation_keyword_alone_warns_outside_numnet(old):
    tanh = ACTIVATIONS["tanh"]
    form = {"dfz": tanh.df_from_output, "d2fz": tanh.d2f_from_output}[old]
    with pytest.warns(DeprecationWarning) as record:
        custom = Activation("mytanh", np.tanh, tanh.df, tanh.d2f, **{old: form})
    assert len(record) == 1
    assert str(record[0].message) == (
        "Activation(dfz=, d2fz=) is deprecated; pass df_from_output=, d2f_from_output="
    )
    # stacklevel: the warning names the caller, not numnet's own module
    assert not record[0].filename.endswith("activations.py"), record[0].filename
    new = {"dfz": "df_from_output", "d2fz": "d2f_from_output"}[old]
    assert getattr(custom, new) is form


def test_an_old_keyword_keeps_the_new_one_given_for_the_other_form():
    tanh = ACTIVATIONS["tanh"]
    with pytest.warns(DeprecationWarning):
        a = Activation(
            "a", np.tanh, tanh.df, tanh.d2f, df_from_output=tanh.df_from_output, d2fz=np.sin
        )
    with pytest.warns(DeprecationWarning):
        b = Activation(
            "b", np.tanh, tanh.df, tanh.d2f, dfz=np.sin, d2f_from_output=tanh.d2f_from_output
        )
    assert a.df_from_output is tanh.df_from_output and a.d2f_from_output is np.sin
    assert b.df_from_output is np.sin and b.d2f_from_output is tanh.d2f_from_output


def test_the_new_activation_keywords_do_not_warn():
    tanh = ACTIVATIONS["tanh"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        custom = Activation(
            "mytanh",
            np.tanh,
            tanh.df,
            tanh.d2f,
            df_from_output=tanh.df_from_output,
            d2f_from_output=tanh.d2f_from_output,
        )
        plain = Activation("plain", np.tanh, tanh.df, tanh.d2f)
    assert custom.df_from_output is tanh.df_from_output
    assert plain.df_from_output is None and plain.d2f_from_output is None


def test_try_step_formerly_safe_step():
    from numnet.optim import FunctionObjective
    from numnet.optim.problem import Problem

    problem = Problem(
        FunctionObjective(lambda x: float(np.exp(x @ x)), lambda x: 2 * x * np.exp(x @ x))
    )
    x0, g = np.ones(2), np.ones(2)
    new = gd.try_step(
        problem, lambda a: x0 - a * g, 1.0, 1e6
    )  # exp overflows until the step is small
    with pytest.warns(DeprecationWarning, match="try_step"):
        old = gd.safe_step(problem, lambda a: x0 - a * g, 1.0, 1e6)
    assert np.isfinite(new[1]) and new[3] < 1e6
    np.testing.assert_array_equal(new[0], old[0])
    np.testing.assert_array_equal(new[2], old[2])
    assert (new[1], new[3]) == (old[1], old[3])
