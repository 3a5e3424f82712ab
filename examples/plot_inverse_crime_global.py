"""
Global strategies on the inverse crime (notes 000)
==================================================

Local methods and the global strategies of :mod:`numnet.optim.global_search`
(kick, multi-start, basin hopping, Tikhonov continuation) from seeded random
starts on the planted softmax model, counting the starts that reach the
planted loss. ``numnet inverse-crime-global`` runs the notes' size
(n = 500, n_f = 50, n_c = 10, m = 40) with 20 starts and a 60 s budget per
run; here a small instance, one start and three strategies.
"""

from numnet.experiments.inverse_crime_global import inverse_crime_global_experiment

result = inverse_crime_global_experiment(
    n_samples=100,
    n_features=6,
    n_classes=3,
    n_hidden=3,
    n_seeds=1,
    strategies=("gauss-newton", "newton-cg", "kick"),
    budget=20.0,
    max_iter=100,
    solver="cg",
    evidence=False,
    log=None,
)
print(result.table)
