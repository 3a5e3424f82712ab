"""``import numnet`` stays light: scikit-learn and matplotlib load on first use only (issue 16, item 4).

Each check runs in a fresh interpreter, since this test process has long
imported everything. Wall time is measured and reported by hand (README),
never asserted: it depends on the machine's load.
"""

import subprocess
import sys

import pytest

HEAVY = ("sklearn", "matplotlib", "scipy.optimize", "scipy.stats", "scipy.ndimage", "pandas")
ON_FIRST_USE = ("numnet.optim", "numnet.curvature", "numnet.estimators")


def _run(code):
    """Run ``code`` in a fresh interpreter and return its stdout (stripped)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _loaded_after(statement):
    return _run(
        f"import sys\n{statement}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    ).split()


def test_import_numnet_loads_no_heavy_module():
    assert _loaded_after("import numnet") == []


def test_import_numnet_loads_no_scipy():
    """SciPy (scipy.sparse.linalg alone is 0.28 s here) loads with the first operator or solver."""
    code = (
        "import sys, numnet\nprint(' '.join(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    )
    assert _run(code) == ""
    code = (
        "import sys, numnet, numpy as np\nfrom numnet.datasets import peaks\nX, y = peaks(30, 3, random_state=0)\n"
        "net = numnet.Sequential([numnet.Dense(2, 3)])\nobj = numnet.Objective(net, 'cross_entropy', X, y)\n"
        "H = obj.at(net.init(0)).H\nprint(type(H).__module__.split('.')[0], H.shape)"
    )
    assert _run(code) == "scipy (9, 9)"


def test_optimizers_curvature_and_estimators_load_on_first_use():
    code = f"import sys, numnet\nprint(' '.join(m for m in {ON_FIRST_USE!r} if m in sys.modules))"
    assert _run(code) == ""


@pytest.mark.parametrize(
    "statement",
    [
        "import numnet.datasets; numnet.datasets.peaks(n_samples=20, random_state=0)",
        "import numnet.augment",
        "import numnet.plots",
        "import numnet; numnet.curvature",
    ],
)
def test_light_entry_points_stay_light(statement):
    assert _loaded_after(statement) == []


def test_estimators_load_scikit_learn_on_first_use():
    loaded = _loaded_after("import numnet\nnumnet.MLPClassifier")
    assert "sklearn" in loaded and "matplotlib" not in loaded


@pytest.mark.parametrize(
    "statement, expected",
    [
        ("import numnet; print(numnet.MLPClassifier.__name__)", "MLPClassifier"),
        (
            "from numnet import minimize, METHODS; import numnet; "
            "print(numnet.minimize is minimize, 'lbfgs' in METHODS)",
            "True True",
        ),
        ("import numnet; print(numnet.curvature.hessian_dense.__name__)", "hessian_dense"),
        ("from numnet import curvature, optim; print(optim.minimize.__name__)", "minimize"),
        (
            "from numnet import NetworkClassifier; print(NetworkClassifier.__name__)",
            "NetworkClassifier",
        ),
        ("from numnet import *; print(ELMRegressor.__name__)", "ELMRegressor"),
        (
            "import numnet; print(numnet.estimators.ESTIMATORS['MLPRegressor'] is numnet.MLPRegressor)",
            "True",
        ),
        ("import numnet; print(numnet.datasets.digits()[0].shape)", "(1797, 64)"),
        ("from numnet.plots import plt; print(plt.get_backend().lower())", "agg"),
        ("import numnet; print(all(hasattr(numnet, n) for n in numnet.__all__))", "True"),
    ],
)
def test_every_public_name_still_works(statement, expected):
    assert _run(statement).splitlines()[-1] == expected


def test_unknown_attribute_is_an_attribute_error():
    assert (
        _run(
            "import numnet\ntry:\n    numnet.no_such_name\nexcept AttributeError as e:\n    print(e)"
        )
        == "module 'numnet' has no attribute 'no_such_name'"
    )
