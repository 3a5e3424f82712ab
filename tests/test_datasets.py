"""Tests for numnet.datasets: generators, file loaders, registry and splits."""

import numpy as np
import pytest

from numnet import datasets as ds

GENERATORS = [ds.peaks, ds.spirals, ds.moons, ds.circles]


# ---------------------------------------------------------------- generators


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_generator_shapes_and_dtypes(make, dtype):
    X, y = make(100, random_state=0, dtype=dtype)
    assert X.shape == (100, 2) and X.dtype == dtype
    assert y.shape == (100,) and y.dtype == np.int64
    assert np.isfinite(X).all()


@pytest.mark.parametrize("make", GENERATORS + [ds.planted_perceptron, ds.planted_softmax])
def test_same_seed_same_data_other_seed_other_data(make):
    a, b, c = make(random_state=3), make(random_state=3), make(random_state=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_generator_accepts_rng_like_seed():
    X1, _ = ds.spirals(random_state=5)
    X2, _ = ds.spirals(random_state=np.random.default_rng(5))
    assert np.array_equal(X1, X2)


def test_bad_random_state_raises_type_error():
    with pytest.raises(TypeError, match="random_state"):
        ds.peaks(random_state="seed")


def test_peaks_surface_known_value():
    # z(0, 0) = 3 e^{-1} - 1/3 e^{-1}
    assert ds.peaks_surface(0.0, 0.0) == pytest.approx(3 * np.exp(-1) - np.exp(-1) / 3)
    assert ds.peaks_surface(np.zeros((3, 4)), 1.0).shape == (3, 4)


def test_peaks_equal_class_counts_covering_all_classes():
    X, y = ds.peaks(n_samples=503, n_classes=5, random_state=0)
    assert np.array_equal(np.bincount(y), [100] * 5)
    assert X.shape == (500, 2) and np.abs(X).max() <= 3


def test_peaks_labels_are_level_sets_increasing_in_z():
    X, y = ds.peaks(n_samples=600, n_classes=3, random_state=1)
    z = ds.peaks_surface(X[:, 0], X[:, 1])
    for c in range(2):
        assert z[y == c].max() <= z[y == c + 1].min()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_samples": 3, "n_classes": 5}, "n_samples"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_samples": 2.5}, "n_samples"),
    ],
)
def test_peaks_rejects_bad_sizes(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        ds.peaks(**kwargs)


def test_peaks_rejects_integer_dtype():
    with pytest.raises(TypeError, match="dtype"):
        ds.peaks(dtype=np.int32)


def test_xor_exact_points():
    X, y = ds.xor()
    assert np.array_equal(X, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    assert np.array_equal(y, [-1, 1, 1, -1]) and X.dtype == np.float64


def test_xor_repeated_and_jittered():
    X, y = ds.xor(noise=0.1, n_samples=40, random_state=0)
    assert X.shape == (40, 2) and np.array_equal(y, np.tile([-1, 1, 1, -1], 10))
    corners = np.tile([[-1, -1], [-1, 1], [1, -1], [1, 1]], (10, 1))
    assert 0 < np.abs(X - corners).max() < 1
    with pytest.raises(ValueError, match="noise"):
        ds.xor(noise=-1.0)
    with pytest.raises(ValueError, match="n_samples"):
        ds.xor(n_samples=3)


def _softmax_reference(F):
    E = np.exp(F - F.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def test_inverse_crime_shapes_and_planted_softmax():
    P = ds.planted_softmax(random_state=0)
    assert P.X.shape == (500, 50) and P.Y.shape == (500, 10)
    assert P.K.shape == (40, 50) and P.W.shape == (10, 40) and P.b.shape == (40,)
    assert P.W1.shape == (50, 40) and P.W2.shape == (40, 10)
    assert np.all(P.b == 0.1)
    np.testing.assert_allclose(P.Y.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    expected = _softmax_reference(np.tanh(P.X @ P.W1 + P.b) @ P.W2)
    np.testing.assert_allclose(P.Y, expected, rtol=1e-12, atol=1e-15)


def test_inverse_crime_float32_and_custom_activation():
    P = ds.planted_softmax(
        20, 5, 3, 4, activation=np.sin, bias=-0.5, random_state=1, dtype=np.float32
    )
    assert all(a.dtype == np.float32 for a in P)
    expected = _softmax_reference(np.sin(P.X @ P.W1 + P.b) @ P.W2)
    np.testing.assert_allclose(P.Y, expected, rtol=1e-5)
    np.testing.assert_allclose(P.Y.sum(axis=1), 1.0, rtol=1e-6)


def test_inverse_crime_rejects_non_callable_activation():
    with pytest.raises(TypeError, match="activation"):
        ds.planted_softmax(activation="tanh")


def test_planted_perceptron_regression_and_classification():
    X, y, w = ds.planted_perceptron(300, 7, random_state=0)
    assert X.shape == (300, 7) and w.shape == (7,) and y.dtype == np.float64
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-X @ w)), rtol=1e-12)
    X, y, w = ds.planted_perceptron(300, 7, task="classification", random_state=0)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    with pytest.raises(ValueError, match="task"):
        ds.planted_perceptron(task="ranking")


def test_spirals_classes_balanced_and_bounded():
    X, y = ds.spirals(101, noise=0.0, random_state=0)
    assert np.bincount(y).tolist() == [51, 50]
    assert np.linalg.norm(X, axis=1).max() <= 1 + 1e-12


def test_circles_rejects_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        ds.circles(factor=1.5)


def test_digits_scaled_to_unit_interval():
    X, y = ds.digits(dtype=np.float32)
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0 and X.max() == 1 and set(np.unique(y)) == set(range(10))


# ----------------------------------------------------------------------- CSV


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------ registry


@pytest.mark.parametrize("name", sorted(ds.DATASETS))
def test_load_every_builtin_name(name):
    X, y = ds.load_dataset(name, random_state=0)
    assert X.ndim == 2 and len(X) == len(y) and X.dtype == np.float64


def test_load_passes_options_and_dispatches_files(tmp_path):
    X, y = ds.load_dataset("peaks", n_samples=40, n_classes=4, random_state=0)
    assert np.array_equal(np.bincount(y), [10] * 4)
    np.savez(tmp_path / "d.npz", X=np.eye(2), y=np.arange(2))
    assert ds.load_dataset(tmp_path / "d.npz")[0].shape == (2, 2)
    assert ds.load_dataset(str(_write(tmp_path, "h1,h2\n1,2\n")), target="h1")[1].tolist() == [1]


def test_load_unknown_name_lists_choices():
    with pytest.raises(ValueError, match=r"name_or_path='mnist'.*peaks"):
        ds.load_dataset("mnist")


def test_load_rejects_typo_in_options():
    with pytest.raises(TypeError):
        ds.load_dataset("moons", n_sample=10)


# -------------------------------------------------------------------- splits


def test_split_sizes_and_stratification():
    X, y = ds.peaks(n_samples=500, n_classes=5, random_state=0)
    X_tr, y_tr, X_val, y_val, X_te, y_te = ds.train_val_test_split(
        X, y, val_fraction=0.2, test_fraction=0.2, random_state=0
    )
    assert (len(X_tr), len(X_val), len(X_te)) == (300, 100, 100)
    for part in (y_tr, y_val, y_te):
        counts = np.bincount(part, minlength=5)
        assert counts.max() - counts.min() == 0
    rows = np.concatenate([X_tr, X_val, X_te])
    assert np.array_equal(np.unique(rows, axis=0), np.unique(X, axis=0))


def test_split_validation_set_never_empty_when_requested():
    # The course's peaks example built an empty validation set by accident.
    X, y = ds.xor(noise=0.1, n_samples=12, random_state=0)
    parts = ds.train_val_test_split(
        X, y, val_fraction=0.01, test_fraction=0.01, stratify=False, random_state=0
    )
    assert [len(p) for p in parts] == [10, 10, 1, 1, 1, 1]


def test_split_zero_fractions_give_empty_sets_of_right_shape():
    X, y, _ = ds.planted_perceptron(30, 4, random_state=0)
    X_tr, y_tr, X_val, y_val, X_te, y_te = ds.train_val_test_split(
        X, y, val_fraction=0, test_fraction=0.0, random_state=0
    )
    assert X_tr.shape == (30, 4) and X_val.shape == (0, 4) and X_te.shape == (0, 4)
    assert y_val.shape == (0,) and X_val.dtype == X.dtype


def test_split_continuous_targets_are_not_stratified():
    X, y, _ = ds.planted_perceptron(50, 3, random_state=0)  # regression targets
    parts = ds.train_val_test_split(X, y, random_state=0)
    assert [len(p) for p in parts[::2]] == [30, 10, 10]


def test_split_reproducible():
    X, y = ds.moons(100, random_state=0)
    a = ds.train_val_test_split(X, y, random_state=7)
    b = ds.train_val_test_split(X, y, random_state=7)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"val_fraction": -0.1}, "val_fraction"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "val_fraction \\+ test_fraction"),
    ],
)
def test_split_rejects_bad_fractions(kwargs, name):
    X, y = ds.moons(20, random_state=0)
    with pytest.raises(ValueError, match=name):
        ds.train_val_test_split(X, y, **kwargs)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same number of rows"):
        ds.train_val_test_split(np.eye(4), np.arange(3))


def test_split_impossible_stratification_suggests_fix():
    X, y = ds.xor()
    with pytest.raises(ValueError, match="stratify=False"):
        ds.train_val_test_split(X, y, random_state=0)
