"""The ``minimize`` callback of the MLP estimators: progress, the no-improvement rule, early stopping."""

import numpy as np

__all__ = ["Monitor"]


class Monitor:
    """The ``minimize`` callback: progress lines, the no-improvement rule, early stopping.

    With a validation set, the score (accuracy or R²) of each iterate is
    recorded and the best iterate kept; otherwise, for stochastic solvers,
    the training objective is watched. Either way, ``n_iter_no_change``
    iterations without an improvement of more than ``tol`` raise
    ``StopIteration``, which ``minimize`` treats as a requested stop.
    """

    def __init__(self, est, score, watch_loss):
        self.est, self.score, self.watch_loss = est, score, watch_loss
        self.best_score, self.best_x, self.scores = -np.inf, None, []
        self.best_loss, self.stall = np.inf, 0

    def __call__(self, r):
        if self.est.verbose:
            print(f"Iteration {r.nit}, loss = {r.fun:.8f}")
        if self.score is not None:
            return self._watch_score(r.x)
        if self.watch_loss:
            self._count(r.fun < self.best_loss - self.est.tol)
            self.best_loss = min(self.best_loss, r.fun)
        return None

    def _watch_score(self, x):
        s = self.score(x)
        self.scores.append(s)
        improved = s > self.best_score + self.est.tol
        if s > self.best_score:
            self.best_score, self.best_x = s, x.copy()
        self._count(improved)
        return {"validation_score": s}

    def _count(self, improved):
        self.stall = 0 if improved else self.stall + 1
        if self.stall >= self.est.n_iter_no_change:
            raise StopIteration
