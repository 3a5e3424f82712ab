"""The curvature-study experiment at a tiny size, and its command line."""

import json

import numpy as np
import pytest

from numnet.cli import main
from numnet.experiments.curvature_study import APPROXIMATIONS, curvature_study_experiment


@pytest.fixture(scope="module")
def result():
    return curvature_study_experiment(
        seed=1, n_samples=30, hidden=(4,), train_iter=15, n_probes=2, n_steps=6
    )


def test_numbers_obey_the_theory(result):
    err, angle = result.numbers["frobenius_error"], result.numbers["newton_angle_deg"]
    assert set(err) == set(APPROXIMATIONS) == set(angle)
    assert all(np.isfinite(e) and e >= 0 for e in err.values())
    assert all(0 <= a <= 180 for a in angle.values())
    # the exact layer blocks are the best block-diagonal approximation of GN (Frobenius), so they beat
    # KFAC and the diagonal; EKFAC is the best diagonal in KFAC's eigenbasis, so it beats KFAC
    assert err["layer blocks"] <= min(err["KFAC"], err["diagonal"], err["EKFAC"]) + 1e-12
    assert err["EKFAC"] <= err["KFAC"] + 1e-12
    eig = result.numbers["eigenvalues"]
    assert eig["Gauss-Newton"]["min"] > -1e-10 and eig["empirical Fisher"]["min"] > -1e-10
    assert result.numbers["cost"]["GN (CG)"]["solve_products"] >= 1
    assert all(c["products"] == 12 for c in result.numbers["slq_cost"].values())
    assert "curvature_study.png" in result.figures and "KFAC" in result.table


def test_cli_writes_the_figure_and_numbers(tmp_path):
    code = main(
        [
            "curvature-study",
            "--n-samples",
            "24",
            "--hidden",
            "3",
            "--train-iter",
            "5",
            "--probes",
            "2",
            "--steps",
            "4",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    numbers = json.loads((tmp_path / "curvature_study.json").read_text())
    assert numbers["n_params"] == 2 * 3 + 3 + 3 * 3 + 3
    assert (tmp_path / "curvature_study.png").stat().st_size > 1000


def test_cli_refuses_bad_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["curvature-study", "--damping", "0"])
    assert exit_.value.code == 2
    assert "--damping" in capsys.readouterr().err
