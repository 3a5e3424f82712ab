"""Basin hopping: a Metropolis walk on the local minima found by any local method.

Notes 000: "if non-convexity is 'bad', use global optimization techniques".
Wales & Doye, "Global optimization by basin-hopping and the lowest energy
structures of Lennard-Jones clusters" (J. Phys. Chem. A, 1997); the same
scheme as ``scipy.optimize.basinhopping``, with numnet's local methods.
"""

import numpy as np

from .._checks import check_choice, check_int, check_non_negative, check_positive
from ._common import SCALES, Budget, Collector, check_method, check_target, kick_vector, local_run
from .kick import StallTest

__all__ = ["basin_hopping", "metropolis"]


def metropolis(f_new, f_old, temperature, u):
    """Accept a move from J = f_old to f_new: always downhill, uphill when u < exp(−(f_new − f_old)/T).

    ``temperature`` 0 accepts only moves that do not increase J (greedy).
    """
    if f_new <= f_old:
        return True
    return temperature > 0 and u < np.exp(-(f_new - f_old) / temperature)


def _check(n_hops, step, scale, temperature, window, rtol, max_iter):
    check_int(n_hops, "n_hops", minimum=0)
    check_positive(step, "step")
    check_choice(scale, "scale", SCALES)
    check_non_negative(temperature, "temperature")
    check_int(window, "window")
    check_non_negative(rtol, "rtol")
    check_int(max_iter, "max_iter")


def basin_hopping(
    objective,
    theta0,
    method="gauss-newton",
    *,
    n_hops=20,
    step=0.1,
    scale="param",
    temperature=1e-3,
    seed=0,
    target=None,
    max_iter=100,
    window=10,
    rtol=1e-4,
    gtol=1e-10,
    ftol=0.0,
    max_time=None,
    **options,
):
    """Minimize locally, then hop: perturb the current minimum, minimize again, accept by Metropolis.

    Parameters
    ----------
    objective : Objective or FunctionObjective
    theta0 : array_like of shape (n_params,)
    method : str, default="gauss-newton"
        The local method (any key of :data:`~numnet.optim.METHODS`).
    n_hops : int, default=20
        Perturb-and-minimize moves after the first local run.
    step : float, default=0.1
        Size of the perturbation relative to the scale.
    scale : {"param", "step"}, default="param"
        E‖ξ‖ ≈ step · ‖θ_current‖ ("param") or step · the mean length of the
        last local run's final steps ("step").
    temperature : float, default=1e-3
        T of the Metropolis test, in the loss's units (0: greedy).
    seed : int, default=0
        Seed of the perturbations and of the acceptance draws.
    target : float, optional
        Stop as soon as J ≤ target.
    max_iter : int, default=100
        Iterations of each local run.
    window, rtol : int, float
        A local run also stops when it stalls (see
        :class:`~numnet.optim.global_search.kick.StallTest`): its end is
        then taken as the local minimum.
    gtol, ftol : float
        ``minimize``'s tolerances for each local run.
    max_time : float, optional
        Seconds for the whole strategy.
    **options
        Options of the local method (checked before any evaluation).

    Returns
    -------
    GlobalResult
        ``runs`` has per local run ``accepted`` (the Metropolis outcome;
        True for the first), ``current_fun`` (the chain's loss after it) and
        ``start_fun`` (J at its start, an evaluation not counted in ``nfev``).

    Notes
    -----
    With θ_c the current minimum (J_c = J(θ_c)): θ' = local(θ_c + ξ),
    ξ = σ z, z ~ N(0, I), σ = step · s / √p; θ_c ← θ' with probability
    min(1, exp(−(J(θ') − J_c)/T)). The chain samples the local minima
    with the Boltzmann weights exp(−J/T); the best minimum seen is returned.
    """
    _check(n_hops, step, scale, temperature, window, rtol, max_iter)
    budget = Budget(max_iter * (n_hops + 1), max_time, check_target(target))
    check_method(method, options)
    rng, collect = np.random.default_rng(seed), Collector(budget)
    x, current, stop = np.asarray(theta0), None, None
    for _ in range(n_hops + 1):
        stall, start_fun = StallTest(window, rtol, budget.target), float(objective.value(x))
        res = local_run(
            objective,
            x,
            method,
            options,
            budget,
            max_iter=max_iter,
            gtol=gtol,
            ftol=ftol,
            callback=stall,
        )
        accepted = current is None or metropolis(res.fun, current.fun, temperature, rng.random())
        current = res if accepted else current
        collect.add(
            res, accepted=bool(accepted), current_fun=float(current.fun), start_fun=start_fun
        )
        stop = "target" if budget.reached(collect.best_fun) else budget.exhausted()
        if stop is not None:
            break
        x = current.x + kick_vector(rng, current.x, step, scale, stall.step_length)
    return collect.result(stop or "done", seed)
