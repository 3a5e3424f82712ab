"""Global strategies around :func:`~numnet.optim.minimize`: kick, multi-start, basin hopping, continuation.

Notes 000: "if non-convexity is not too bad, use standard gradient-based
methods; if it is 'ugly', modify standard methods (stochastic kick); if it
is 'bad', use global optimization techniques". Each strategy runs any local
method of :data:`~numnet.optim.METHODS` several times (Tikhonov continuation:
on a sequence of regularized objectives) and returns a
:class:`GlobalResult`: the best point, every inner run's history (tagged
with its run) and the final loss of every run.

They are functions that call ``minimize``, not methods of it: an inner run
is a whole ``minimize`` call with its own stopping rules, and a multi-start
runs in several processes. So they are not in ``METHODS`` and take no
``checkpoint``/``resume``; each inner run is an ordinary ``minimize`` run.
Their own randomness comes from ``seed`` alone (continuation has none) (the kicks, the Metropolis
draws, start i's generator ``default_rng([seed, i])``): at a fixed BLAS
thread count a call repeated with the same arguments returns the same
result bit for bit.
"""

from ._common import GlobalResult
from .basin_hopping import basin_hopping, metropolis
from .continuation import alpha_schedule, tikhonov_continuation
from .kick import StallTest, stochastic_kick
from .multistart import multistart, start_family

__all__ = [
    "GlobalResult",
    "stochastic_kick",
    "multistart",
    "basin_hopping",
    "tikhonov_continuation",
    "StallTest",
    "metropolis",
    "start_family",
    "alpha_schedule",
]
