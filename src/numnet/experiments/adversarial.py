"""Adversarial examples for a single-layer digit classifier (notes 000).

Notes 000, "Experiment: adversarial example": given a trained network and an
example y (here a row x of X), find a small perturbation d that makes the
network predict a chosen label ĉ,

    min_d E(W σ(K(y + d) + b), ĉ)      (notes, samples in columns)
    min_d E(net(x + d), ĉ)             (here, one row per example).

Two formulations:

- constrained, ‖d‖ ≤ ε: projected gradient descent (PGD) with normalized
  steps d ← Π_ε(d − η g/‖g‖), Π_ε the projection onto the ball, and as a
  baseline the one-step fast gradient method d = −ε g/‖g‖ (FGSM in the
  2-norm);
- Tikhonov-regularized, min_d E + ½λ‖d‖², solved by a Newton-type method.

The gradient with respect to the input is the input cotangent of the
network's vjp: g = J_Xᵀ ∇_F E, ``net.vjp(theta, cache, gF, need_gtheta=False)``.
The Hessian of the regularized objective is applied exactly by the R-operator
along an input direction V: H V = R{J_Xᵀ ∇_F E} + λV, i.e.
``net.rop(theta, cache, None, V, gF, ∇²E (J_X V))`` (the course's MATLAB
Hessian for this objective was wrong; this one passes the derivative check).
"""

import numpy as np

from ..datasets import digits, train_val_test_split
from ..layers import Dense
from ..losses import get_loss
from ..network import Sequential
from ..objective import Objective
from ..plots import new_figure
from ..regularizers import Tikhonov
from . import ExperimentResult
from ._params import FloatList, Int, Training, deprecated_alias, experiment

__all__ = [
    "adversarial_experiment",
    "AttackObjective",
    "project_ball",
    "pgd_attack",
    "fgm_attack",
    "tikhonov_attack",
    "train_digits",
    "attack_set",
    "success_rate",
    "tikhonov_sweep",
]

NAME = "adversarial"
HELP = "adversarial digits: projected gradient (‖d‖ ≤ ε), FGSM baseline and the Tikhonov variant"


#: Radii and weights: bounded, so that the attacks' arithmetic stays finite.
_RADII = dict(minimum=0.0, maximum=1e6, example="0.5,1,2")


def _needs(p):
    return [
        Training(
            Sequential([Dense(64, p["n_hidden"]), Dense(p["n_hidden"], 10)]),
            1797,
            "lbfgs",
            ("n_hidden",),
        )
    ]


class _AttackLinearization:
    """The attack objective at fixed perturbations D, with the network's forward pass kept."""

    def __init__(self, obj, d):
        self.objective, self.theta = obj, d
        self.D = d.reshape(obj.X.shape)
        self.F, self.cache = obj.net.forward(obj.theta, obj.X + self.D)
        n = self.F.shape[0]
        self.value = n * obj.loss.value(self.F, obj.T) + 0.5 * obj.lam * float(np.vdot(d, d))
        self.gF = n * obj.loss.grad(self.F, obj.T)
        gX = obj.net.vjp(obj.theta, self.cache, self.gF, need_gtheta=False)[1]
        self.grad = gX.ravel() + obj.lam * d

    def hvp(self, v):
        """H v = R{J_Xᵀ ∇E} along the input direction V, plus λ v."""
        obj, V = self.objective, v.reshape(self.D.shape)
        dF, tcache = obj.net.tangent(obj.theta, self.cache, None, V)
        dgF = self.F.shape[0] * obj.loss.hvp(self.F, obj.T, dF)
        RgX = obj.net.rop(obj.theta, self.cache, None, V, self.gF, dgF, tcache=tcache)[1]
        return RgX.ravel() + obj.lam * v

    def gnvp(self, v):
        """Gauss-Newton J_Xᵀ ∇²E J_X v + λ v."""
        obj, V = self.objective, v.reshape(self.D.shape)
        dgF = self.F.shape[0] * obj.loss.hvp(
            self.F, obj.T, obj.net.jvp(obj.theta, self.cache, None, V)
        )
        return obj.net.vjp(obj.theta, self.cache, dgF, need_gtheta=False)[1].ravel() + obj.lam * v


class AttackObjective:
    """Σᵢ E(net(xᵢ + dᵢ), ĉᵢ) + ½λ‖D‖², a function of the flat perturbations D (one row per example).

    Parameters
    ----------
    net : Sequential
        A trained network; ``theta`` its (fixed) parameters.
    theta : ndarray
    X : ndarray of shape (n, n_features)
        The examples.
    targets : ndarray of shape (n,)
        Desired labels ĉ.
    loss : str, default="cross_entropy"
    lam : float, default=0.0
        Tikhonov weight λ.

    Notes
    -----
    A sum, not a mean, over examples, so that each row's problem is
    independent of n. Gradient g = J_Xᵀ ∇_F E + λD (input cotangent of the
    vjp); Hessian product H V = R{J_Xᵀ ∇_F E}[V] + λV by the R-operator with an
    input direction (notes 004, "fast multiplication by the Hessian").
    """

    def __init__(self, net, theta, X, targets, loss="cross_entropy", lam=0.0):
        self.net, self.theta, self.X, self.lam = net, theta, X, float(lam)
        self.loss = get_loss(loss)
        self.T = self.loss.targets(np.asarray(targets), net.d_out, X.dtype)
        self.n_samples = X.shape[0]

    def at(self, d):
        return _AttackLinearization(self, d)

    def value(self, d):
        return self.at(d).value

    def grad(self, d):
        return self.at(d).grad

    def value_and_grad(self, d):
        lin = self.at(d)
        return lin.value, lin.grad

    def hvp(self, d, v):
        return self.at(d).hvp(v)

    def gnvp(self, d, v):
        return self.at(d).gnvp(v)

    def predict(self, d):
        """Predicted labels of the perturbed examples."""
        return self.net.predict(self.theta, self.X + d.reshape(self.X.shape)).argmax(axis=1)


def _row_normalize(G):
    return G / np.maximum(np.linalg.norm(G, axis=1, keepdims=True), np.finfo(G.dtype).tiny)


def project_ball(D, eps):
    """Project each row of D onto the ball ‖d‖ ≤ ε."""
    norms = np.linalg.norm(D, axis=1, keepdims=True)
    return D * np.minimum(1.0, eps / np.maximum(norms, np.finfo(D.dtype).tiny))


def fgm_attack(obj, eps):
    """One normalized gradient step of length ε: D = −ε g/‖g‖ per row (FGSM in the 2-norm)."""
    G = obj.grad(np.zeros(obj.X.size, dtype=obj.X.dtype)).reshape(obj.X.shape)
    return -eps * _row_normalize(G)


def pgd_attack(obj, eps, steps=50, step_size=None):
    """Projected gradient descent on the ball ‖dᵢ‖ ≤ ε with normalized steps η = 2.5 ε / steps."""
    eta = 2.5 * eps / steps if step_size is None else step_size
    D = np.zeros_like(obj.X)
    for _ in range(steps):
        G = obj.grad(D.ravel()).reshape(D.shape)
        D = project_ball(D - eta * _row_normalize(G), eps)
    return D


def tikhonov_attack(obj, *, method="newton-cg", max_iter=20):
    """Minimize Σ E + ½λ‖D‖² from D = 0 with a Newton-type method of :func:`numnet.optim.minimize`."""
    from ..optim import minimize

    d0 = np.zeros(obj.X.size, dtype=obj.X.dtype)
    return minimize(obj, d0, method, max_iter=max_iter, gtol=1e-8).x.reshape(obj.X.shape)


def train_digits(*, n_hidden=32, activation="tanh", alpha=1e-4, train_iter=150, seed=0):
    """Train a single-hidden-layer classifier on scikit-learn's digits by L-BFGS.

    Returns ``(net, theta, X_test, y_test, test_accuracy)`` (a 25 % test split).
    """
    from ..optim import minimize

    X, y = digits()
    Xtr, ytr, _, _, Xte, yte = train_val_test_split(
        X, y, val_fraction=0.0, test_fraction=0.25, random_state=seed
    )
    net = Sequential([Dense(64, n_hidden, activation), Dense(n_hidden, 10)])
    obj = Objective(net, "cross_entropy", Xtr, ytr, Tikhonov(alpha, mask=~net.bias_mask()))
    theta = minimize(obj, net.init(seed), "lbfgs", max_iter=train_iter).x
    acc = float(np.mean(net.predict(theta, Xte).argmax(axis=1) == yte))
    return net, theta, Xte, yte, acc


def attack_set(net, theta, X, y, n_attack):
    """The first ``n_attack`` correctly classified examples and their targets ĉ = (c + 1) mod 10."""
    ok = np.flatnonzero(net.predict(theta, X).argmax(axis=1) == y)[:n_attack]
    return X[ok], y[ok], (y[ok] + 1) % 10


def success_rate(obj, D):
    """Fraction of the perturbed examples X + D classified as their target ĉ."""
    return float(np.mean(obj.predict(D.ravel()) == obj.T.argmax(axis=1)))


def _ball_sweep(obj, eps, steps):
    rows = []
    for e in eps:
        D_pgd, D_fgm = pgd_attack(obj, e, steps), fgm_attack(obj, e)
        rows.append(
            {
                "eps": e,
                "pgd": success_rate(obj, D_pgd),
                "fgm": success_rate(obj, D_fgm),
                "max_norm": float(np.linalg.norm(D_pgd, axis=1).max()),
                "D": D_pgd,
            }
        )
    return rows


def tikhonov_sweep(net, theta, X, c_hat, lams):
    """For each λ: the Tikhonov attack's success rate and mean ‖d‖."""
    rows = []
    for lam in lams:
        obj = AttackObjective(net, theta, X, c_hat, lam=lam)
        D = tikhonov_attack(obj)
        rows.append(
            {
                "lam": lam,
                "success": success_rate(obj, D),
                "mean_norm": float(np.linalg.norm(D, axis=1).mean()),
            }
        )
    return rows


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_hidden=Int(1, help="hidden width"),
    train_iter=Int(1, help="L-BFGS iterations to train the classifier"),
    n_attack=Int(1, help="correctly classified test digits to attack"),
    eps=FloatList(**_RADII, help="radii ε of the ball"),
    lams=FloatList(**_RADII, help="Tikhonov weights λ"),
    steps=Int(1, help="PGD steps"),
)
def adversarial_experiment(
    *,
    n_hidden=32,
    train_iter=150,
    n_attack=100,
    eps=(0.25, 0.5, 1.0, 1.5, 2.0, 3.0),
    lams=(30.0, 10.0, 5.0, 3.0, 1.0),
    steps=50,
    seed=0,
):
    """Targeted attacks ĉ = (c + 1) mod 10 on correctly classified test digits.

    Parameters
    ----------
    n_hidden, train_iter : int
        Width and L-BFGS iterations of the classifier.
    n_attack : int
        Number of attacked test digits.
    eps : sequence of float
        Radii of the ball ‖d‖ ≤ ε (digits have ‖x‖ ≈ 4–6, pixels in [0, 1]).
    lams : sequence of float
        Weights λ of the Tikhonov-regularized attack.
    steps : int
        PGD steps.
    seed : int

    Returns
    -------
    ExperimentResult
        numbers: ``test_accuracy``, success rates ``pgd_success``, ``fgm_success``
        (lists over ε), ``pgd_max_norm`` (max ‖d‖ per ε), ``tikhonov_success``
        and ``tikhonov_mean_norm`` (lists over λ); figures ``adversarial.png``
        (success against ε) and ``adversarial_digits.png`` (perturbed digits).
    """
    net, theta, Xte, yte, acc = train_digits(n_hidden=n_hidden, train_iter=train_iter, seed=seed)
    X, c, c_hat = attack_set(net, theta, Xte, yte, n_attack)
    obj = AttackObjective(net, theta, X, c_hat)
    ball, tik = _ball_sweep(obj, list(eps), steps), tikhonov_sweep(net, theta, X, c_hat, list(lams))
    numbers = {
        "test_accuracy": acc,
        "n_attack": len(X),
        "eps": list(eps),
        "pgd_success": [r["pgd"] for r in ball],
        "fgm_success": [r["fgm"] for r in ball],
        "pgd_max_norm": [r["max_norm"] for r in ball],
        "lams": list(lams),
        "tikhonov_success": [r["success"] for r in tik],
        "tikhonov_mean_norm": [r["mean_norm"] for r in tik],
    }
    mid = ball[len(ball) // 2]
    figures = {
        "adversarial.png": _curve_figure(ball, tik),
        "adversarial_digits.png": _digits_figure(obj, X, c, mid["D"], mid["eps"]),
    }
    return ExperimentResult(NAME, numbers, figures, _table(ball, tik))


def _table(ball, tik):
    lines = [f"{'eps':>6} {'PGD success':>12} {'FGSM success':>13} {'max |d|':>8}"]
    lines += [
        f"{r['eps']:6.2f} {r['pgd']:12.2f} {r['fgm']:13.2f} {r['max_norm']:8.3f}" for r in ball
    ]
    lines += ["", f"{'lambda':>6} {'Tikhonov success':>17} {'mean |d|':>9}"]
    lines += [f"{r['lam']:6.3g} {r['success']:17.2f} {r['mean_norm']:9.3f}" for r in tik]
    return "\n".join(lines)


def _curve_figure(ball, tik):
    fig, axes = new_figure(1, width=4.8, height=3.4)
    ax = axes[0, 0]
    eps = [r["eps"] for r in ball]
    ax.plot(eps, [r["pgd"] for r in ball], "o-", label="projected gradient, ‖d‖ ≤ ε")
    ax.plot(eps, [r["fgm"] for r in ball], "s--", label="FGSM (one step, 2-norm)")
    ax.plot(
        [r["mean_norm"] for r in tik],
        [r["success"] for r in tik],
        "^:",
        label="Tikhonov, x = mean ‖d‖",
    )
    ax.set(
        xlabel="ε (perturbation norm)",
        ylabel="targeted success rate",
        ylim=(-0.02, 1.02),
        title="adversarial digits",
    )
    ax.legend(fontsize=8)
    return fig


def _digits_figure(obj, X, c, D, eps, n_show=6):
    pred, vmax = obj.predict(D.ravel()), float(np.abs(D[:n_show]).max())
    fig, axes = new_figure(n_show, 3, width=1.3, height=1.45)
    for j in range(min(n_show, len(X))):
        for i, (img, title) in enumerate(
            [(X[j], f"{c[j]}"), (X[j] + D[j], f"→ {pred[j]}"), (D[j], "d")]
        ):
            ax = axes[i, j]
            scale = {"vmin": 0, "vmax": 1} if i < 2 else {"vmin": -vmax, "vmax": vmax}
            ax.imshow(img.reshape(8, 8), cmap="gray_r" if i < 2 else "RdBu", **scale)
            ax.set_title(title, fontsize=9)
            ax.set_axis_off()
    fig.suptitle(f"PGD, ε = {eps:g}: clean, perturbed (predicted), perturbation", fontsize=9)
    return fig


#: Deprecated name of :func:`adversarial_experiment`.
adversarial = deprecated_alias(adversarial_experiment, "adversarial")
