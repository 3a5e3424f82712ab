"""Tests for numnet.datasets: generators, file loaders, registry and splits."""

import pickle

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


def test_csv_without_header_last_column_is_target(tmp_path):
    X, y = ds.load_csv(_write(tmp_path, "1,2,0\n3.5,4,1\n\n5,6,1\n"))
    assert np.array_equal(X, [[1, 2], [3.5, 4], [5, 6]]) and X.dtype == np.float64
    assert np.array_equal(y, [0, 1, 1]) and y.dtype == np.int64


def test_csv_with_header_and_named_target(tmp_path):
    path = _write(tmp_path, "a,label,b\n1,2.0,3\n4,5.0,6\n")
    X, y = ds.load_csv(path, target="label", dtype=np.float32)
    assert np.array_equal(X, [[1, 3], [4, 6]]) and X.dtype == np.float32
    assert np.array_equal(y, [2, 5]) and y.dtype == np.int64
    X, y = ds.load_csv(path, target=0)
    assert np.array_equal(y, [1, 4]) and np.array_equal(X, [[2, 3], [5, 6]])


def test_csv_non_integral_targets_stay_float(tmp_path):
    _, y = ds.load_csv(_write(tmp_path, "1,0.5\n2,1.5\n"))
    assert y.dtype == np.float64 and np.array_equal(y, [0.5, 1.5])


def test_csv_string_labels_and_delimiter(tmp_path):
    X, y = ds.load_csv(_write(tmp_path, "x;y;kind\n1;2;cat\n3;4;dog\n"), delimiter=";")
    assert X.shape == (2, 2) and y.dtype.kind == "U" and list(y) == ["cat", "dog"]


@pytest.mark.parametrize(
    "text, kwargs, pattern",
    [
        ("", {}, "empty"),
        ("\n\n", {}, "empty"),
        ("a,b,c\n", {}, "no data rows"),
        ("1,2,3\n4,5\n", {}, "line 2"),
        ("1,2,3\n4,x,6\n", {}, r"'x'.*line 2, column 1"),
        ("a,b,c\n1,2,3\n4,,6\n", {}, r"line 3, column 'b'"),
        ("1,nan,3\n4,5,6\n", {}, "NaN or inf.*line 1"),
        ("1,2,inf\n", {"target": 0}, "NaN or inf"),
        ("a,b,c\n1,2,3\n", {"target": "z"}, r"target='z'.*available.*'a', 'b', 'c'"),
        ("1,2,3\n", {"target": "c"}, r"target='c'.*no header"),
        ("1,2,3\n", {"target": 5}, "target=5"),
        ("1,2,\n", {}, "missing value in the target"),
        ("1\n2\n", {}, "at least 2 columns"),
    ],
)
def test_csv_errors_name_the_problem(tmp_path, text, kwargs, pattern):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=pattern) as info:
        ds.load_csv(path, **kwargs)
    assert "data.csv" in str(info.value) or "target" in str(info.value)


def test_csv_missing_file_names_the_path(tmp_path):
    with pytest.raises(ValueError, match="nope.csv"):
        ds.load_csv(tmp_path / "nope.csv")


def test_csv_bad_target_type(tmp_path):
    with pytest.raises(TypeError, match="target"):
        ds.load_csv(_write(tmp_path, "1,2\n"), target=1.5)


# ----------------------------------------------------------------------- NPZ


def test_npz_round_trip(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    y = np.array(["a", "b", "a", "b"])
    np.savez_compressed(tmp_path / "d.npz", features=X, labels=y)
    X2, y2 = ds.load_npz(tmp_path / "d.npz", x_key="features", y_key="labels")
    assert X2.dtype == np.float32 and np.array_equal(X2, X) and np.array_equal(y2, y)
    X3, _ = ds.load_npz(tmp_path / "d.npz", x_key="features", y_key="labels", dtype=np.float64)
    assert X3.dtype == np.float64


def test_npz_integer_features_become_float64(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.eye(3, dtype=int), y=np.arange(3))
    X, y = ds.load_npz(tmp_path / "d.npz")
    assert X.dtype == np.float64 and np.array_equal(y, [0, 1, 2])


def test_npz_missing_key_lists_available(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.eye(3), target=np.arange(3))
    with pytest.raises(ValueError, match=r"y_key='y'.*\['X', 'target'\]"):
        ds.load_npz(tmp_path / "d.npz")


def test_npz_refuses_pickled_object_arrays(tmp_path):
    y = np.array([{"a": 1}, None, 3], dtype=object)
    np.savez(tmp_path / "d.npz", X=np.eye(3), y=y)  # savez pickles object arrays
    with pytest.raises(ValueError, match="d.npz"):
        ds.load_npz(tmp_path / "d.npz")


@pytest.mark.parametrize("content", [b"not a zip file at all", b"PK\x03\x04garbage"])
def test_npz_corrupt_file(tmp_path, content):
    (tmp_path / "bad.npz").write_bytes(content)
    with pytest.raises(ValueError, match="bad.npz"):
        ds.load_npz(tmp_path / "bad.npz")


def test_npz_truncated_archive(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.random.default_rng(0).random((50, 4)), y=np.arange(50))
    data = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "d.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="d.npz"):
        ds.load_npz(tmp_path / "d.npz")


@pytest.mark.parametrize("fmt", ["npy", "pickle"])
def test_npz_npy_or_pickle_file_is_not_an_archive(tmp_path, fmt):
    path = tmp_path / "a.npz"
    with open(path, "wb") as f:
        if fmt == "npy":
            np.save(f, np.eye(2))
        else:
            pickle.dump(np.eye(2), f)
    with pytest.raises(ValueError, match="a.npz' is not an .npz archive"):
        ds.load_npz(path)


@pytest.mark.parametrize(
    "X, y, pattern",
    [
        (np.arange(3.0), np.arange(3), "X .*2-D"),
        (np.eye(3), np.arange(4), "y .*3 rows"),
        (np.array([[1.0, np.nan]]), np.arange(1), "NaN or inf"),
    ],
)
def test_npz_bad_arrays(tmp_path, X, y, pattern):
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with pytest.raises(ValueError, match=pattern):
        ds.load_npz(tmp_path / "d.npz")


def test_npz_missing_file(tmp_path):
    with pytest.raises(ValueError, match="nothing.npz"):
        ds.load_npz(tmp_path / "nothing.npz")


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
