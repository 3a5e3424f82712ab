"""numnet.data_files: users' own CSV and NPZ files read into ``(X, y)``, never through pickle.

:func:`~numnet.data_files.load_csv` finds the header, the target column
(:func:`~numnet.data_files.target_column`: the last, a name or an index) and
the label type (int64, float or str); :func:`~numnet.data_files.load_npz`
reads two named arrays with ``allow_pickle=False``. Every refusal is a
``ValueError`` naming the file and the line, column, key or argument at
fault, or a ``TypeError`` naming the argument of the wrong type. Some tests
call the loaders through ``numnet.datasets``, which re-exports them; the
files are a few rows written to ``tmp_path``.
"""

import pickle

import numpy as np
import pytest

from numnet import datasets as ds
from numnet.data_files import load_csv, load_npz, target_column


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------- target_column


@pytest.mark.parametrize(
    "target, header, index",
    [
        (None, None, 3),
        (None, ["a", "b", "c", "d"], 3),
        ("b", ["a", "b", "c", "d"], 1),
        (0, None, 0),
        (-1, None, 3),
        (-4, ["a", "b", "c", "d"], 0),
        (np.int64(2), None, 2),
        (np.int32(-2), None, 2),
    ],
)
def test_target_column_index(target, header, index):
    out = target_column(target, header, 4, "t.csv")
    assert out == index and type(out) is int


@pytest.mark.parametrize(
    "target, header, error, match",
    [
        ("b", None, ValueError, r"target='b' is a column name but 't.csv' has no header row"),
        (
            "z",
            ["a", "b"],
            ValueError,
            r"target='z' is not a column of 't.csv'; available: \['a', 'b'\]",
        ),
        (2, None, ValueError, r"target=2 is out of range for 2 columns in 't.csv'"),
        (-3, None, ValueError, r"target=-3 is out of range"),
        (True, None, TypeError, "target must be None, a column name or an int, got bool"),
        (1.0, None, TypeError, "target must be .* got float"),
        (["a"], ["a", "b"], TypeError, "target must be .* got list"),
    ],
)
def test_target_column_refusals_name_target(target, header, error, match):
    with pytest.raises(error, match=match):
        target_column(target, header, 2, "t.csv")


# ----------------------------------------------------------------------- CSV


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


def test_csv_byte_order_mark_blanks_and_spaces_are_ignored(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa , b,label\r\n 1, 2 ,x\r\n\r\n  ,  ,  \r\n3,4, y \r\n")
    X, y = load_csv(str(path), target="label")
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    assert y.tolist() == ["x", "y"]


def test_csv_targets_by_negative_index_and_numpy_integer(tmp_path):
    path = _write(tmp_path, "1,2,3\n4,5,6\n")
    for target in (-3, np.int64(0)):
        X, y = load_csv(path, target=target)
        assert y.tolist() == [1, 4] and X.tolist() == [[2.0, 3.0], [5.0, 6.0]]


def test_csv_integral_targets_past_2_to_the_53_stay_float(tmp_path):
    _, y = load_csv(_write(tmp_path, "1,9007199254740992\n2,3\n"))
    assert y.dtype == np.float64 and y.tolist() == [2.0**53, 3.0]
    _, y = load_csv(_write(tmp_path, "1,-2\n2,3.0\n"))
    assert y.dtype == np.int64 and y.tolist() == [-2, 3]


def test_csv_header_is_data_when_any_cell_is_a_number(tmp_path):
    with pytest.raises(ValueError, match=r"non-numeric feature value 'a' at line 1, column 0"):
        load_csv(_write(tmp_path, "a,1,c\n1,2,3\n"))


def test_csv_that_is_not_text_names_the_file(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"1,2\n\xff\xfe,3\n")
    with pytest.raises(ValueError, match=r"'.*binary.csv' is not a readable CSV file"):
        load_csv(path)


def test_csv_folder_is_no_such_file(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_csv(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dtype": np.int32}, "dtype must be float32 or float64, got int32"),
        ({"dtype": "float16"}, "dtype must be float32 or float64, got float16"),
        ({"delimiter": ""}, "delimiter"),
        ({"delimiter": ";;"}, "delimiter"),
    ],
)
def test_csv_bad_arguments_are_type_errors_naming_them(tmp_path, kwargs, match):
    with pytest.raises(TypeError, match=match):
        load_csv(_write(tmp_path, "1,2\n"), **kwargs)


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


def test_npz_keeps_float32_and_two_dimensional_targets(tmp_path):
    X, Y = np.ones((3, 2), np.float32), np.arange(6.0).reshape(3, 2)
    np.savez(tmp_path / "d.npz", X=X, y=Y)
    X2, Y2 = load_npz(str(tmp_path / "d.npz"))
    assert X2.dtype == np.float32 and Y2.shape == (3, 2)
    np.testing.assert_array_equal(Y2, Y)
    X3, _ = load_npz(tmp_path / "d.npz", dtype="float64")
    assert X3.dtype == np.float64 and np.array_equal(X3, X)


@pytest.mark.parametrize("dtype", [bool, np.float16, np.uint8])
def test_npz_narrow_or_integer_features_become_float64(tmp_path, dtype):
    np.savez(tmp_path / "d.npz", X=np.eye(2, dtype=dtype), y=np.arange(2))
    X, _ = load_npz(tmp_path / "d.npz")
    assert X.dtype == np.float64 and np.array_equal(X, np.eye(2))


def test_npz_missing_x_key_is_named(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.eye(2), y=np.arange(2))
    with pytest.raises(
        ValueError, match=r"x_key='X' is not in '.*d.npz'; available keys: \['features', 'y'\]"
    ):
        load_npz(tmp_path / "d.npz")


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.eye(2, dtype=complex), np.arange(2), r"X in '.*d.npz' must be a 2-D numeric array"),
        (np.array(["a", "b"]).reshape(1, 2), np.arange(1), "X in .* 2-D numeric"),
        (
            np.eye(2),
            np.ones(2, dtype=complex),
            r"y in '.*d.npz' must be numeric or str with 2 rows",
        ),
        (np.eye(2), np.array(3), "y in .* got shape \\(\\), dtype int64"),
        (np.eye(2), np.zeros((2, 1, 1)), "y in .* got shape \\(2, 1, 1\\)"),
    ],
)
def test_npz_arrays_of_other_kinds_are_refused(tmp_path, X, y, match):
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with pytest.raises(ValueError, match=match):
        load_npz(tmp_path / "d.npz")


def test_npz_bad_dtype_is_a_type_error_naming_dtype(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.eye(2), y=np.arange(2))
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        load_npz(tmp_path / "d.npz", dtype=np.int64)


# ----------------------------------------------------------------------- both


@pytest.mark.parametrize("load", [load_csv, load_npz])
@pytest.mark.parametrize("path", [None, 3, b"data.csv"])
def test_path_of_another_type_is_a_type_error_naming_path(load, path):
    with pytest.raises(
        TypeError, match=f"path must be a str or os.PathLike, got {type(path).__name__}"
    ):
        load(path)
