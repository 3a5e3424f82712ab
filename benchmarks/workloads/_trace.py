"""Time to a target: a run's trace of (seconds, training loss, validation accuracy), and its summary over seeds.

Each contender of the fitting and classification workloads runs once per
seed, and every point it evaluates (an accepted iterate for numnet's
``minimize``, every function evaluation for SciPy and PyTorch's L-BFGS, an
epoch or step for Adam) is appended to a :class:`Trace` with the seconds
since the run started. Measuring a validation accuracy is kept out of
those seconds (:meth:`Trace.record` pauses the clock around it). A run
stops once every goal is reached, or at its time cap (the contender raises
:class:`Stop`, or its own early-stopping signal, when :meth:`Trace.record`
returns True). The time to a goal is the time of the first point that
reaches it; over seeds, :func:`row` takes the median with a seed that never
reached the goal counting as infinitely slow, so a median of ∞ is "not
reached". The clock is the run's ``--clock`` where one thread computes
(process CPU time with ``--clock cpu``), else wall time.
"""

import math
import time

import numpy as np

__all__ = ["Stop", "Goals", "Trace", "row", "best_row", "loss_at_median", "describe"]


class Stop(Exception):
    """Raised inside a solver's callback (or function) to end the run."""


class Goals:
    """Targets of a run: a training loss, and optionally a validation accuracy, within ``cap_s`` seconds.

    Parameters
    ----------
    loss : float
        Training loss to reach (the run's loss is reached when ≤ ``loss``).
    cap_s : float
        Seconds after which the run stops whatever it reached.
    accuracy : float, optional
        Validation accuracy to reach (≥).
    clock : callable, default=time.perf_counter
        The clock of the run's seconds (``time.process_time`` measures the
        process's CPU time, robust to other processes when one thread computes).
    """

    def __init__(self, loss, cap_s, accuracy=None, clock=time.perf_counter):
        if not (loss > 0 and cap_s > 0):
            raise ValueError(f"loss and cap_s must be positive, got {loss!r} and {cap_s!r}")
        self.loss, self.cap_s, self.accuracy, self.clock = (
            float(loss),
            float(cap_s),
            accuracy,
            clock,
        )


class Trace:
    """Points ``(seconds, loss, accuracy)`` of one run, timed from construction.

    Parameters
    ----------
    goals : Goals
    """

    def __init__(self, goals):
        self.goals, self.points, self._paused = goals, [], 0.0
        self.steps = (
            None  # the count of steps behind each point, when it is not the point's position
        )
        self.solvers = set()  # linear solvers the run reported (numnet's history "solver" entries)
        self._t0 = goals.clock()

    def elapsed(self):
        """Seconds since the start, without the time spent measuring accuracies."""
        return self.goals.clock() - self._t0 - self._paused

    def record(self, loss, accuracy=None):
        """Append a point; ``accuracy`` is a callable run with the clock paused. Return True to stop."""
        t = self.elapsed()
        acc = None
        if accuracy is not None:
            start = self.goals.clock()
            acc = float(accuracy())
            self._paused += self.goals.clock() - start
        self.points.append((t, float(loss), acc))
        return self.done()

    def done(self):
        """Every goal reached, the cap passed, or a non-finite loss."""
        t, loss, _ = self.points[-1]
        reached = self.time_to("loss") is not None and (
            self.goals.accuracy is None or self.time_to("accuracy") is not None
        )
        return reached or t >= self.goals.cap_s or not math.isfinite(loss)

    def first(self, goal):
        """Index of the first point reaching ``goal`` ("loss" or "accuracy"), or None."""
        if goal == "loss":
            return next(
                (i for i, (_, f, _) in enumerate(self.points) if f <= self.goals.loss), None
            )
        if goal == "accuracy":
            return next(
                (
                    i
                    for i, (_, _, a) in enumerate(self.points)
                    if a is not None and a >= self.goals.accuracy
                ),
                None,
            )
        raise ValueError(f"goal must be 'loss' or 'accuracy', got {goal!r}")

    def time_to(self, goal):
        """Seconds of the first point reaching ``goal``, or None."""
        i = self.first(goal)
        return None if i is None else self.points[i][0]

    def steps_to(self, goal):
        """Steps (iterations, evaluations, budget) up to the first point reaching ``goal``, or None."""
        i = self.first(goal)
        return None if i is None else (i + 1 if self.steps is None else self.steps[i])

    def loss_at(self, seconds):
        """Lowest loss among the points evaluated within ``seconds`` (None before the first point)."""
        seen = [f for t, f, _ in self.points if t <= seconds and math.isfinite(f)]
        return min(seen) if seen else None

    def best_loss(self):
        seen = [f for _, f, _ in self.points if math.isfinite(f)]
        return min(seen) if seen else float("nan")

    def best_accuracy(self):
        seen = [a for _, _, a in self.points if a is not None]
        return max(seen) if seen else None


def _median(values):
    """Median with None as +∞; None if the median is ∞."""
    v = np.median([math.inf if x is None else x for x in values])
    return None if math.isinf(v) else float(v)


def _iqr(times):
    t = [x for x in times if x is not None]
    if len(t) < len(times) or len(t) < 2:
        return None
    q1, q3 = np.percentile(t, [25, 75])
    return float(q3 - q1)


def row(impl, role, traces, goal, unit="steps"):
    """Summary of one contender over its seeds' traces for ``goal``: median time, IQR, seeds reaching it.

    ``steps`` is the median over the seeds that reach the goal of the ``unit`` values it took.
    """
    times = [tr.time_to(goal) for tr in traces]
    reached = sum(t is not None for t in times)
    steps = [tr.steps_to(goal) for tr in traces if tr.time_to(goal) is not None]
    return {
        "impl": impl,
        "role": role,
        "goal": goal,
        "median_s": _median(times),
        "iqr_s": _iqr(times),
        "steps": float(np.median(steps)) if steps else None,
        "unit": unit,
        "solvers": sorted(set().union(*(tr.solvers for tr in traces))),
        "times_s": times,
        "seeds_reached": f"{reached}/{len(traces)}",
        "reached": reached > 0,
        "n_reached": reached,
        "n_seeds": len(traces),
        "best_loss": float(np.median([tr.best_loss() for tr in traces])),
        "best_accuracy": (
            max((a for a in (tr.best_accuracy() for tr in traces) if a is not None), default=None)
            if goal == "accuracy"
            else None
        ),
    }


def best_row(rows, role):
    """Name of the fastest row of ``role`` with a finite median, or None."""
    done = [r for r in rows if r["role"] == role and r["median_s"] is not None]
    return min(done, key=lambda r: r["median_s"])["impl"] if done else None


def loss_at_median(rows, traces, seconds):
    """On every row, ``loss_at_s``: the median over seeds of the lowest loss reached within ``seconds``.

    None when ``seconds`` is None or when most seeds had evaluated no point by then.
    """
    for r in rows:
        if seconds is None:
            r["loss_at_s"] = None
            continue
        r["loss_at_s"] = _median([tr.loss_at(seconds) for tr in traces[r["impl"]]])
    return rows


def describe(r):
    """The report's cell for a row: seeds reaching the goal, the best value of the others, loss at numnet's time."""
    text = f"{r['seeds_reached']} seeds"
    if r["n_reached"] < r["n_seeds"]:
        best = (
            f"best acc {r['best_accuracy']:.3f}"
            if r["goal"] == "accuracy" and r["best_accuracy"] is not None
            else f"best loss {r['best_loss']:.1e}"
        )
        text += f" ({best})"
    if r.get("loss_at_s") is not None:
        text += f"; loss {r['loss_at_s']:.1e} at numnet's time"
    if r.get("solvers"):
        text += f"; linear solver: {', '.join(r['solvers'])}"
    return text
