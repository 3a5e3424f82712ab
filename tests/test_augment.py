"""numnet.augment: label-invariant transforms of image rows, and their use by sgd/adam and the MLPs."""

import warnings

import numpy as np
import pytest
from scipy import ndimage
from sklearn.exceptions import ConvergenceWarning

from numnet.augment import Augment, rotate_images, shift_images
from numnet.datasets import digits
from numnet.estimators import MLPClassifier
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import minimize


def _images(n=6, shape=(5, 4, 2), dtype=np.float64, seed=0):
    return np.random.default_rng(seed).random((n, int(np.prod(shape)))).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"shift": 2, "rotate": 15.0, "flip": True, "noise": 0.1}])
def test_shape_and_dtype_are_kept_and_x_is_not_mutated(dtype, kwargs):
    X = _images(dtype=dtype)
    before = X.copy()
    out = Augment((5, 4, 2), **kwargs)(X, 0)
    assert out.shape == X.shape and out.dtype == dtype and not np.shares_memory(out, X)
    np.testing.assert_array_equal(X, before)


def test_all_transforms_off_is_a_copy():
    X = _images()
    out = Augment((5, 4, 2), shift=0)(X, 0)
    np.testing.assert_array_equal(out, X)
    assert out is not X


def test_shift_moves_pixels_with_zero_fill():
    img = np.zeros((1, 5, 5, 1))
    img[0, 2, 2, 0] = 1.0
    moved = shift_images(img, np.array([[1, -2]]))
    assert moved[0, 3, 0, 0] == 1.0 and moved.sum() == 1.0
    edge = shift_images(img, np.array([[3, 0]]))
    assert not edge.any()  # moved out of the image: zero fill
    X = np.repeat(img.reshape(1, 25), 200, axis=0)
    out = Augment((5, 5), shift=1)(X, 1).reshape(200, 5, 5)
    assert np.all(out.sum(axis=(1, 2)) == 1.0)  # a 1-pixel shift keeps the center pixel inside
    where = np.array([np.argwhere(o)[0] for o in out]) - 2
    assert np.abs(where).max() == 1 and len({tuple(w) for w in where}) == 9


def test_flip_twice_is_the_identity():
    X, aug = _images(50), Augment((5, 4, 2), shift=0, flip=True)
    once = aug(X, 3)
    np.testing.assert_array_equal(aug(once, 3), X)
    images, flipped = X.reshape(50, 5, 4, 2), once.reshape(50, 5, 4, 2)
    mirrored = [np.array_equal(f, i[:, ::-1]) for f, i in zip(flipped, images)]
    kept = [np.array_equal(f, i) for f, i in zip(flipped, images)]
    assert all(m or k for m, k in zip(mirrored, kept)) and 10 < sum(mirrored) < 40


def test_rotation_matches_scipy_rotate_per_image():
    images, degrees = _images(3).reshape(3, 5, 4, 2), np.array([10.0, -25.0, 90.0])
    ref = np.stack(
        [ndimage.rotate(im, a, reshape=False, order=1) for im, a in zip(images, degrees)]
    )
    np.testing.assert_allclose(rotate_images(images, degrees), ref, atol=1e-13)
    np.testing.assert_array_equal(rotate_images(images, np.zeros(3)), images)


def test_noise_has_the_requested_std():
    X = np.zeros((400, 64))
    out = Augment((8, 8), shift=0, noise=0.3)(X, 0)
    assert out.std() == pytest.approx(0.3, rel=0.02) and abs(out.mean()) < 0.01


def test_seeded_reproducibility():
    X, aug = _images(20), Augment((5, 4, 2), shift=1, rotate=10.0, flip=True, noise=0.05)
    np.testing.assert_array_equal(aug(X, 7), aug(X, np.random.default_rng(7)))
    assert not np.array_equal(aug(X, 7), aug(X, 8))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"image_shape": (0, 4)}, ValueError, "image_shape"),
        ({"image_shape": (4,)}, ValueError, "image_shape"),
        ({"image_shape": 8}, ValueError, "image_shape"),
        ({"image_shape": (8, 8.0)}, ValueError, "image_shape"),
        ({"image_shape": (8, 8), "shift": -1}, ValueError, "shift"),
        ({"image_shape": (8, 8), "shift": 1.5}, TypeError, "shift"),
        ({"image_shape": (8, 8), "shift": True}, TypeError, "shift"),
        ({"image_shape": (8, 8), "rotate": float("nan")}, ValueError, "rotate"),
        ({"image_shape": (8, 8), "rotate": -5}, ValueError, "rotate"),
        ({"image_shape": (8, 8), "rotate": "5"}, TypeError, "rotate"),
        ({"image_shape": (8, 8), "flip": "yes"}, TypeError, "flip"),
        ({"image_shape": (8, 8), "noise": -0.1}, ValueError, "noise"),
        ({"image_shape": (8, 8), "noise": float("inf")}, ValueError, "noise"),
    ],
)
def test_constructor_errors_name_the_argument(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Augment(**kwargs)


def test_call_errors_name_the_argument():
    aug = Augment((2, 2))
    with pytest.raises(ValueError, match="X"):
        aug(np.zeros((3, 5)), 0)
    with pytest.raises(ValueError, match="X"):
        aug(np.zeros(4), 0)
    with pytest.raises(TypeError, match="rng"):
        aug(np.zeros((3, 4)), "seed")


# ------------------------------------------------------------------ in the stochastic methods


def _objective():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(16, 5, "tanh"), Dense(5, 1)])
    return Objective(
        net, "squared_error", rng.random((30, 16)), rng.standard_normal((30, 1))
    ), net.init(0)


class _Recorder:
    def __init__(self, aug):
        self.aug, self.seen, self.made = aug, [], []

    def __call__(self, X, rng):
        self.seen.append(X.copy())
        self.made.append(self.aug(X, rng))
        return self.made[-1]


@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_stochastic_methods_augment_once_per_epoch_reproducibly(method):
    obj, theta0 = _objective()
    X0 = obj.X.copy()
    runs = []
    for _ in range(2):
        rec = _Recorder(Augment((4, 4), shift=1, noise=0.05))
        res = minimize(obj, theta0, method, max_iter=4, batch_size=8, seed=3, augment=rec)
        runs.append((rec, res))
    (rec, res), (rec2, res2) = runs
    assert len(rec.made) == res.nit == 4
    assert all(np.array_equal(s, X0) for s in rec.seen)  # always the objective's own X
    assert not any(np.array_equal(a, b) for a, b in zip(rec.made, rec.made[1:]))
    np.testing.assert_array_equal(obj.X, X0)
    np.testing.assert_array_equal(res.x, res2.x)
    assert all(np.array_equal(a, b) for a, b in zip(rec.made, rec2.made))
    plain = minimize(obj, theta0, method, max_iter=4, batch_size=8, seed=3)
    assert not np.array_equal(plain.x, res.x)


def test_augment_option_errors():
    obj, theta0 = _objective()
    with pytest.raises(TypeError, match="augment"):
        minimize(obj, theta0, "sgd", max_iter=1, augment="shift")
    with pytest.raises(ValueError, match="augment"):
        minimize(obj, theta0, "sgd", max_iter=1, augment=lambda X, rng: X[:, :3])
    with pytest.raises(ValueError, match="augment"):
        minimize(obj, theta0, "sgd", max_iter=1, augment=lambda X, rng: X.astype(np.float32))


def test_mlp_estimator_augments_only_with_a_stochastic_solver():
    X, y = digits()
    X, y = X[:300], y[:300]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rec = _Recorder(Augment((8, 8), shift=1))
        clf = MLPClassifier(
            (16,), solver="adam", learning_rate_init=0.01, max_iter=3, augment=rec, random_state=0
        ).fit(X, y)
        assert len(rec.made) == clf.n_iter_ == 3 and clf.get_params()["augment"] is rec
        again = MLPClassifier(
            (16,),
            solver="adam",
            learning_rate_init=0.01,
            max_iter=3,
            augment=Augment((8, 8), shift=1),
            random_state=0,
        ).fit(X, y)
        np.testing.assert_array_equal(again.theta_, clf.theta_)
        unused = _Recorder(Augment((8, 8)))
        MLPClassifier((4,), max_iter=3, augment=unused, random_state=0).fit(X, y)
        assert unused.made == []
    with pytest.raises(TypeError, match="augment"):
        MLPClassifier((4,), solver="sgd", augment="shift").fit(X, y)
