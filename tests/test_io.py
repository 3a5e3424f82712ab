"""Safe persistence: round trips bit for bit, corrupt files raise ValueError, writes are atomic."""

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import numnet.io as nio
from numnet.activations import Activation
from numnet.datasets import peaks
from numnet.estimators import ESTIMATORS as ESTIMATOR_CLASSES
from numnet.estimators import ELMClassifier, ELMRegressor, MLPClassifier, MLPRegressor
from numnet.io import FORMAT_VERSION, load, save
from numnet.layers import Dense, Residual
from numnet.network import Sequential


@pytest.fixture(scope="module")
def data():
    X, y = peaks(200, 3, random_state=0)
    return X, y


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _members(path):
    with np.load(path, allow_pickle=False) as z:
        members = {k: z[k] for k in z.files}
    return json.loads(members.pop("__meta__").tobytes()), members


def _rewrite(path, meta, members):
    """Write a file by hand (bypassing save), to tamper with it."""
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, __meta__=blob, **members)


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameter_vector_round_trip(tmp_path, dtype):
    theta = np.random.default_rng(0).standard_normal(17).astype(dtype)
    out = load(save(theta, tmp_path / "theta.npz"))
    assert out.dtype == dtype and np.array_equal(out, theta)


def test_network_round_trip_predicts_bit_for_bit(tmp_path, data):
    block = Sequential([Residual(5, "sin", step=0.25), Residual(5, "tanh")])
    net = Sequential(
        [Dense(2, 5, "softplus"), block, Dense(5, 4, "leaky_relu", bias=False), Dense(4, 3)]
    )
    theta = net.init(3)
    net2, theta2 = load(save((net, theta), tmp_path / "net.npz"))
    assert repr(net2) == repr(net) and np.array_equal(theta2, theta)
    assert np.array_equal(net2.predict(theta2, data[0]), net.predict(theta, data[0]))


def test_single_layer_round_trip(tmp_path):
    layer = Dense(3, 2, "sigmoid")
    theta = layer.init(np.random.default_rng(1), np.float32)
    layer2, theta2 = load(save((layer, theta), tmp_path / "layer.npz"))
    assert isinstance(layer2, Dense) and repr(layer2) == repr(layer)
    assert theta2.dtype == np.float32 and np.array_equal(theta2, theta)


ESTIMATORS = [
    lambda: MLPClassifier((6,), max_iter=30, random_state=0),
    lambda: MLPClassifier((6, 4), loss="binomial", max_iter=30, random_state=0),
    lambda: MLPClassifier((6,), solver="adam", early_stopping=True, max_iter=10, random_state=0),
    lambda: MLPRegressor((6,), loss="huber", huber_delta=0.5, max_iter=30, random_state=0),
    lambda: ELMClassifier(n_hidden=20, random_state=0),
    lambda: ELMClassifier(n_hidden=20, loss="cross_entropy", max_iter=10, random_state=0),
    lambda: ELMRegressor(n_hidden=20, activation="relu", distribution="uniform", random_state=0),
]


CASES = [
    (make, labels)
    for make in ESTIMATORS
    for labels in (["int", "str"] if "Classifier" in type(make()).__name__ else ["float"])
]


@pytest.mark.parametrize("make, labels", CASES)
def test_estimator_round_trip(make, labels, tmp_path, data):
    X, y = data
    est = make()
    if labels == "float":
        y = np.column_stack([X[:, 0] * X[:, 1], X[:, 0]])
    elif labels == "str":
        y = np.array(["a", "bb", "c"])[y]
    _fit(est, X, y)
    back = load(save(est, tmp_path / "est.npz"))
    assert type(back) is type(est) and back.get_params() == est.get_params()
    assert np.array_equal(back.predict(X), est.predict(X))
    for method in ("predict_proba", "decision_function"):
        if hasattr(est, method):
            assert np.array_equal(getattr(back, method)(X), getattr(est, method)(X))
    for key, value in vars(est).items():
        if key.endswith("_") and not key.startswith("_"):
            assert np.array_equal(getattr(back, key), value), key


def test_loaded_estimator_keeps_training(tmp_path, data):
    X, y = data
    clf = MLPClassifier((6,), solver="sgd", random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    back = load(save(clf, tmp_path / "clf.npz"))
    back.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert back.n_iter_ == 2 and np.array_equal(back.theta_, clf.theta_)


def test_float32_estimator_round_trip(tmp_path, data):
    X, y = data
    est = ELMRegressor(n_hidden=10, random_state=0).fit(X.astype(np.float32), y)
    back = load(save(est, tmp_path / "e.npz"))
    assert back.theta_.dtype == np.float32 and np.array_equal(back.predict(X), est.predict(X))


# ------------------------------------------------------------ what save refuses


def test_save_refuses_what_it_cannot_rebuild(tmp_path, data):
    X, y = data
    with pytest.raises(ValueError, match="not fitted"):
        save(MLPClassifier(), tmp_path / "a.npz")
    with pytest.raises(ValueError, match="random_state"):
        save(
            _fit(ELMRegressor(n_hidden=4, random_state=np.random.RandomState(0)), X, y),
            tmp_path / "a.npz",
        )
    odd = Activation("cube", lambda A: A**3, lambda A: 3 * A**2, lambda A: 6 * A)
    with pytest.raises(ValueError, match="cube"):
        save((Dense(2, 2, odd), np.zeros(6)), tmp_path / "a.npz")
    with pytest.raises(ValueError, match="entries"):
        save((Dense(2, 2), np.zeros(5)), tmp_path / "a.npz")
    with pytest.raises(ValueError, match="1-D"):
        save(np.zeros((2, 2)), tmp_path / "a.npz")
    with pytest.raises(TypeError, match="model"):
        save({"theta": np.zeros(3)}, tmp_path / "a.npz")
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------ corrupt files


@pytest.fixture
def saved(tmp_path, data):
    est = ELMClassifier(n_hidden=5, random_state=0).fit(*data)
    return save(est, tmp_path / "model.npz"), est


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


def test_truncated_files_raise_value_error(saved):
    path, _ = saved
    raw = path.read_bytes()
    for n in sorted({0, 1, 10, 100, len(raw) // 3, len(raw) // 2, len(raw) - 100, len(raw) - 1}):
        path.write_bytes(raw[:n])
        with pytest.raises(ValueError):
            load(path)


def test_flipped_bytes_never_load_a_different_model(saved, data):
    """Every flipped byte (sampled) either raises ValueError or leaves the model unchanged."""
    path, est = saved
    raw, changed = path.read_bytes(), 0
    for i in np.random.default_rng(0).choice(len(raw), size=120, replace=False):
        bad = bytearray(raw)
        bad[i] ^= 0xFF
        path.write_bytes(bytes(bad))
        try:
            back = load(path)
        except ValueError:
            changed += 1
            continue
        assert np.array_equal(back.theta_, est.theta_) and np.array_equal(
            back.predict(data[0]), est.predict(data[0])
        )
    assert changed > 60


def test_flipped_byte_in_parameters_is_caught(tmp_path):
    theta = np.arange(1.0, 51.0)
    path = save(theta, tmp_path / "t.npz")
    raw = bytearray(path.read_bytes())
    at = bytes(raw).index(theta.tobytes()) + 8 * 20 + 3
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt|CRC|checksum"):
        load(path)


def test_checksum_catches_consistent_tampering(saved):
    """A file rewritten with a valid zip but altered parameters fails the SHA-256 check."""
    path, _ = saved
    meta, members = _members(path)
    members["theta_"] = members["theta_"] + 1e-12
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match="SHA-256"):
        load(path)


@pytest.mark.parametrize("version", [0, FORMAT_VERSION + 1, "1", None])
def test_wrong_version_raises(saved, version):
    path, _ = saved
    meta, members = _members(path)
    meta["format_version"] = version
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match="format version"):
        load(path)


def test_extra_and_missing_arrays_raise(saved):
    path, _ = saved
    meta, members = _members(path)
    _rewrite(path, meta, {**members, "payload": np.zeros(3)})
    with pytest.raises(ValueError, match=r"unexpected \['payload'\]"):
        load(path)
    _rewrite(path, meta, {k: v for k, v in members.items() if k != "classes_"})
    with pytest.raises(ValueError, match=r"missing \['classes_'\]"):
        load(path)
    meta2 = {**meta, "arrays": {**meta["arrays"], "payload": nio._describe(np.zeros(3))}}
    _rewrite(path, meta2, {**members, "payload": np.zeros(3)})
    with pytest.raises(ValueError, match=r"fitted attributes.*unexpected \['payload'\]"):
        load(path)


def test_extra_metadata_key_raises(saved):
    path, _ = saved
    meta, members = _members(path)
    _rewrite(path, {**meta, "hook": "os.system"}, members)
    with pytest.raises(ValueError, match=r"metadata.*unexpected \['hook'\]"):
        load(path)


def test_mismatched_shapes_raise(tmp_path, saved):
    path, _ = saved
    meta, members = _members(path)
    short = members["theta_"][:-1]
    meta2 = {**meta, "arrays": {**meta["arrays"], "theta_": nio._describe(short)}}
    _rewrite(path, meta2, {**members, "theta_": short})
    with pytest.raises(ValueError, match="theta_"):
        load(path)
    meta3 = {
        **meta,
        "arrays": {**meta["arrays"], "theta_": {**meta["arrays"]["theta_"], "shape": [3]}},
    }
    _rewrite(path, meta3, members)
    with pytest.raises(ValueError, match="shape"):
        load(path)
    extra = np.arange(4)
    meta4 = {**meta, "arrays": {**meta["arrays"], "classes_": nio._describe(extra)}}
    _rewrite(path, meta4, {**members, "classes_": extra})
    with pytest.raises(ValueError, match="classes_"):
        load(path)
    net_path = save((Dense(2, 3), np.zeros(9)), tmp_path / "net.npz")
    meta, members = _members(net_path)
    meta["architecture"]["d_out"] = 4
    _rewrite(net_path, meta, members)
    with pytest.raises(ValueError, match="architecture needs 12"):
        load(net_path)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m: m["estimator"].update({"class": "Pipeline"}), "unknown estimator class"),
        (lambda m: m["estimator"]["params"].update({"solver": "eval"}), "solver"),
        (lambda m: m["estimator"]["params"].update({"exec": 1}), r"unexpected \['exec'\]"),
        (lambda m: m["estimator"]["attributes"].update({"n_outputs_": 7}), "theta_"),
        (lambda m: m["estimator"]["attributes"].update({"n_features_in_": 2.0}), "n_features_in_"),
        (lambda m: m.update({"kind": "pickle"}), "kind"),
        (lambda m: m.update({"format": "other"}), "not a numnet file"),
    ],
)
def test_tampered_estimator_metadata_raises(saved, edit, match):
    path, _ = saved
    meta, members = _members(path)
    edit(meta)
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match=match):
        load(path)


def test_unknown_layer_or_activation_raises(tmp_path):
    path = save((Sequential([Dense(2, 2, "tanh")]), np.zeros(6)), tmp_path / "n.npz")
    meta, members = _members(path)
    for layer, match in (
        ({**meta["architecture"]["layers"][0], "activation": "__import__"}, "activation"),
        ({**meta["architecture"]["layers"][0], "type": "Lambda"}, "layer"),
    ):
        meta["architecture"]["layers"][0] = layer
        _rewrite(path, meta, members)
        with pytest.raises(ValueError, match=match):
            load(path)


def test_other_files_raise_value_error(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    (tmp_path / "b.npz").write_text("theta = [1, 2, 3]\n")
    for name in ("a.npy", "b.npz"):
        with pytest.raises(ValueError):
            load(tmp_path / name)


def test_pickled_members_are_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.npz"
    blob = np.frombuffer(
        json.dumps(
            {"format": "numnet", "format_version": 1, "kind": "parameters", "arrays": {}}
        ).encode(),
        dtype=np.uint8,
    )
    np.savez(path, __meta__=blob, theta=np.array([Evil()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load(path)
    assert not marker.exists()


# ------------------------------------------------------------ atomic writes


def test_interrupted_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = save(np.arange(4.0), tmp_path / "model.npz")
    before = path.read_bytes()
    real_savez = np.savez

    def crash(file, *args, **kwargs):
        real_savez(file, *args, **kwargs)
        with open(file, "r+b") as f:  # half-written, then the process dies
            f.truncate(50)
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save(np.arange(100.0), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and np.array_equal(load(path), np.arange(4.0))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


# ------------------------------------------------------------ format version 2: any network, new estimators


@pytest.fixture
def saved_mlp(tmp_path, data):
    est = _fit(MLPClassifier((3,), max_iter=5, random_state=0), *data)
    return save(est, tmp_path / "mlp.npz"), est


def test_version_1_estimator_file_without_augment_still_loads(saved_mlp, data):
    """Files written before ``augment`` existed (format version 1) load with its default."""
    path, est = saved_mlp
    meta, members = _members(path)
    meta["format_version"] = 1
    meta["estimator"]["params"].pop("augment")
    _rewrite(path, meta, members)
    loaded = load(path)
    assert loaded.augment is None
    np.testing.assert_array_equal(loaded.predict(data[0]), est.predict(data[0]))


def test_version_2_file_must_name_every_parameter(saved_mlp):
    path, _ = saved_mlp
    meta, members = _members(path)
    meta["estimator"]["params"].pop("augment")
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match=r"missing \['augment'\]"):
        load(path)


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("numnet").NetworkClassifier(
            "conv:3x3p1,tanh,pool:2,dense:8,tanh",
            input_shape=(4, 4, 1),
            max_iter=20,
            random_state=0,
        ),
        lambda: __import__("numnet").NetworkClassifier(
            __import__("numnet").Graph(
                16,
                [
                    ("a", Dense(16, 4, "tanh")),
                    ("b", Dense(16, 3, "sin")),
                    ("c", __import__("numnet").Concat(), ["a", "b"]),
                    ("o", Dense(7, 3), "c"),
                ],
            ),
            max_iter=20,
            random_state=0,
        ),
        lambda: __import__("numnet").NetworkClassifier(
            "dense:8,tanh",
            solver="adam",
            max_iter=3,
            random_state=0,
            augment=__import__("numnet.augment", fromlist=["Augment"]).Augment(
                (4, 4), shift=1, noise=0.01
            ),
        ),
    ],
)
def test_network_estimators_round_trip(make, tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.random((60, 16)), rng.integers(0, 3, 60)
    est = _fit(make(), X, y)
    loaded = load(save(est, tmp_path / "est.npz"))
    assert type(loaded) is type(est) and repr(loaded) == repr(est)
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_object_parameters_only_from_the_whitelist(tmp_path):
    import numnet

    rng = np.random.default_rng(0)
    X, y = rng.random((30, 4)), rng.integers(0, 2, 30)
    path = save(
        _fit(numnet.NetworkClassifier(Sequential([Dense(4, 1)]), max_iter=5), X, y),
        tmp_path / "e.npz",
    )
    meta, members = _members(path)
    meta["estimator"]["params"]["network"] = {"numnet": {"type": "os.system", "command": "true"}}
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match="unknown layer type 'os.system'"):
        load(path)
    meta["estimator"]["params"]["network"] = {"numnet": {"type": "Dense"}, "extra": 1}
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match="must be"):
        load(path)


# ------------------------------------------------------------ issue 18: fitted attributes against a schema


def _fitted(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make().fit(X, y)


@pytest.fixture(scope="module")
def fitted_files(tmp_path_factory, data):
    """A saved fit of every estimator class (regressors with early stopping where they have it)."""
    import numnet

    X, y = data
    Y = np.column_stack([X[:, 0] * X[:, 1], X[:, 0]])
    makes = {
        "MLPClassifier": lambda: MLPClassifier((4,), max_iter=10, random_state=0),
        "MLPRegressor": lambda: MLPRegressor(
            (4,), early_stopping=True, max_iter=10, random_state=0
        ),
        "NetworkClassifier": lambda: numnet.NetworkClassifier(
            "dense:4,tanh", max_iter=10, random_state=0
        ),
        "NetworkRegressor": lambda: numnet.NetworkRegressor(
            "dense:4,tanh", early_stopping=True, max_iter=10, random_state=0
        ),
        "ELMClassifier": lambda: ELMClassifier(
            n_hidden=6, loss="cross_entropy", max_iter=5, random_state=0
        ),
        "ELMRegressor": lambda: ELMRegressor(n_hidden=6, random_state=0),
    }
    assert set(makes) == set(ESTIMATOR_CLASSES)
    folder = tmp_path_factory.mktemp("fitted")
    return {
        name: save(_fitted(make, X, y if "Classifier" in name else Y), folder / f"{name}.npz")
        for name, make in makes.items()
    }


def _required(cls):
    from numnet.estimators._schema import OPTIONAL

    return [name for name in cls._fitted_attributes if name not in OPTIONAL]


def _drop(meta, members, key):
    meta["estimator"]["attributes"].pop(key, None)
    if key in members:
        del members[key]
        del meta["arrays"][key]


REQUIRED = [
    (cls_name, key) for cls_name, cls in sorted(ESTIMATOR_CLASSES.items()) for key in _required(cls)
]


def test_every_fitted_attribute_has_a_schema():
    from numnet.estimators._schema import FITTED, OPTIONAL

    for cls in ESTIMATOR_CLASSES.values():
        assert set(cls._fitted_attributes) <= set(FITTED), cls.__name__
    assert OPTIONAL <= set(FITTED)


@pytest.mark.parametrize("cls_name, key", REQUIRED)
def test_missing_fitted_attribute_is_named(fitted_files, tmp_path, cls_name, key):
    """Every estimator class, every required fitted attribute: removed → ValueError naming it."""
    meta, members = _members(fitted_files[cls_name])
    _drop(meta, members, key)
    path = tmp_path / "e.npz"
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match=rf"{key} is missing"):
        load(path)


def _set_attr(key, value):
    def edit(meta, members):
        _drop(meta, members, key)
        meta["estimator"]["attributes"][key] = value

    return edit


def _set_array(key, value):
    def edit(meta, members):
        meta["estimator"]["attributes"].pop(key, None)
        members[key] = np.asarray(value)
        meta["arrays"][key] = nio._describe(members[key])

    return edit


@pytest.mark.parametrize(
    "cls_name, edit, match",
    [
        ("MLPClassifier", _set_attr("n_iter_", -1), "n_iter_ must be >= 0"),
        ("MLPClassifier", _set_attr("n_iter_", 2.5), "n_iter_ must be an int"),
        ("MLPClassifier", _set_attr("n_iter_", True), "n_iter_ must be an int"),
        ("MLPClassifier", _set_attr("n_outputs_", True), "n_outputs_ must be an int"),
        ("MLPClassifier", _set_attr("loss_curve_", True), "loss_curve_ must be a non-empty list"),
        ("MLPClassifier", _set_attr("loss_curve_", []), "loss_curve_ must be a non-empty list"),
        (
            "MLPClassifier",
            _set_attr("loss_curve_", [1.0, float("nan")]),
            r"loss_curve_\[1\] must be finite",
        ),
        (
            "MLPClassifier",
            _set_attr("loss_curve_", [1.0, "x"]),
            r"loss_curve_\[1\] must be a float",
        ),
        ("MLPClassifier", _set_attr("loss_", float("inf")), "loss_ must be finite"),
        ("MLPClassifier", _set_attr("loss_", None), "loss_ must be a float"),
        (
            "MLPClassifier",
            _set_array("classes_", [2, 0, 1]),
            "classes_ must hold at least 2 sorted unique",
        ),
        (
            "MLPClassifier",
            _set_array("classes_", [0, 0, 1]),
            "classes_ must hold at least 2 sorted unique",
        ),
        ("MLPClassifier", _set_array("classes_", [[0, 1, 2]]), "classes_ must be a 1-D array"),
        ("MLPClassifier", _set_attr("classes_", [0, 1, 2]), "classes_ must be a 1-D array"),
        ("MLPClassifier", _set_attr("theta_", [0.0] * 10), "theta_ must be a 1-D array"),
        ("MLPClassifier", _set_array("feature_names_in_", ["a"]), "feature_names_in_ has 1 names"),
        (
            "MLPClassifier",
            _set_array("feature_names_in_", [1, 2]),
            "feature_names_in_ must be a 1-D array",
        ),
        ("MLPRegressor", _set_attr("beta_", "x"), "beta_ must be a float"),
        ("MLPRegressor", _set_attr("beta_", -1.0), "beta_ must be > 0"),
        ("MLPRegressor", _set_attr("beta_", float("nan")), "beta_ must be > 0"),
        (
            "MLPRegressor",
            _set_attr("best_validation_score_", 2.0),
            "not the best of validation_scores_",
        ),
        (
            "MLPRegressor",
            _set_attr("validation_scores_", None),
            "validation_scores_ must be a non-empty list",
        ),
        (
            "MLPRegressor",
            _set_attr("validation_scores_", [0.5, 1e400]),
            r"validation_scores_\[1\] must be finite",
        ),
        (
            "NetworkRegressor",
            lambda meta, members: _drop(meta, members, "best_validation_score_"),
            "come together",
        ),
        ("ELMClassifier", _set_attr("solver_", "magic"), "solver_ must be one of"),
        ("ELMClassifier", _set_attr("n_features_in_", 0), "n_features_in_ must be >= 1"),
        ("ELMRegressor", _set_attr("coefs_", [1.0]), r"fitted attributes.*unexpected \['coefs_'\]"),
    ],
)
def test_fitted_attribute_outside_the_schema_is_named(
    fitted_files, tmp_path, cls_name, edit, match
):
    meta, members = _members(fitted_files[cls_name])
    edit(meta, members)
    path = tmp_path / "e.npz"
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match=match):
        load(path)


def test_format_version_true_is_not_version_1(saved):
    path, _ = saved
    meta, members = _members(path)
    meta["format_version"] = True
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match="format version True"):
        load(path)


def test_infinite_noise_precision_of_a_perfect_fit_round_trips(fitted_files, tmp_path):
    """beta_ = +inf is what a perfect fit gives (zero residual); it saves and loads."""
    est = load(fitted_files["ELMRegressor"])
    est.beta_ = float("inf")
    assert load(save(est, tmp_path / "e.npz")).beta_ == float("inf")


def test_both_arrays_and_attributes_with_one_name_raise(fitted_files, tmp_path):
    meta, members = _members(fitted_files["MLPClassifier"])
    meta["estimator"]["attributes"]["theta_"] = [0.0]
    path = tmp_path / "e.npz"
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match=r"\['theta_'\] are both arrays and JSON"):
        load(path)


# ------------------------------------------------------------ issue 18: archive structure and metadata limits


def test_unknown_member_is_refused_before_it_is_read(saved):
    """The extra member is corrupt (a reader would fail its CRC): the refusal names it instead."""
    path, _ = saved
    meta, members = _members(path)
    _rewrite(path, meta, {**members, "payload": np.arange(1000.0)})
    raw = bytearray(path.read_bytes())
    at = bytes(raw).index(np.arange(1000.0).tobytes()) + 4000
    raw[at] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"unexpected \['payload'\]"):
        load(path)


@pytest.mark.parametrize("depth", [201, 10_000, 1_000_000])
def test_deeply_nested_metadata_is_a_value_error(saved, depth):
    path, _ = saved
    meta, members = _members(path)
    text = json.dumps(meta)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    blob = np.frombuffer(text.encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, __meta__=blob, **members)
    with pytest.raises(ValueError, match=f"nested {depth + 1} deep"):  # inside the outer object
        load(path)


# ------------------------------------------------------------ issue 18: save refuses what load refuses


def test_save_refuses_non_finite_parameters(tmp_path, fitted_files):
    est = load(fitted_files["MLPClassifier"])
    est.theta_ = est.theta_.copy()
    est.theta_[3] = np.nan
    with pytest.raises(ValueError, match="cannot be saved: theta_ contains NaN or inf"):
        save(est, tmp_path / "e.npz")
    net = Dense(2, 3)
    theta = net.init(0)
    theta[0] = np.inf
    with pytest.raises(ValueError, match="theta contains NaN or inf"):
        save((net, theta), tmp_path / "n.npz")
    with pytest.raises(ValueError, match="model contains NaN or inf"):
        save(np.array([1.0, np.nan]), tmp_path / "v.npz")
    assert not list(tmp_path.iterdir())


def test_save_refuses_fitted_attributes_outside_the_schema(tmp_path, fitted_files):
    est = load(fitted_files["MLPRegressor"])
    est.loss_ = float("nan")
    with pytest.raises(ValueError, match="cannot be saved: loss_ must be finite"):
        save(est, tmp_path / "e.npz")
    est = load(fitted_files["MLPRegressor"])
    est.n_iter_ = -1
    with pytest.raises(ValueError, match="n_iter_ must be >= 0"):
        save(est, tmp_path / "e.npz")
    est = load(fitted_files["ELMClassifier"])
    del est.classes_
    with pytest.raises(ValueError, match="classes_ is missing"):
        save(est, tmp_path / "e.npz")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kind", ["vector", "network"])
def test_load_refuses_non_finite_parameters_written_by_hand(tmp_path, kind):
    net = Dense(2, 2)
    path = save(net.init(0) if kind == "vector" else (net, net.init(0)), tmp_path / "a.npz")
    meta, members = _members(path)
    members["theta"][1] = np.nan
    meta["arrays"]["theta"] = nio._describe(members["theta"])
    _rewrite(path, meta, members)
    with pytest.raises(ValueError, match="theta contains NaN or inf"):
        load(path)
