"""
The demo: the tour behind ``make run``
======================================

Random features on peaks, a single layer trained by Gauss-Newton, SGD and
L-BFGS on an equal budget of passes over the data, the derivative check of
notes 000 on the gradient and the Hessian-vector product, and the Hessian
spectrum at the Gauss-Newton solution. ``numnet demo`` runs it with 1000
samples and 1000 passes; here 200 samples and 30 passes.
"""

from numnet.experiments.demo import demo_experiment

result = demo_experiment(n_samples=200, passes=30, seed=0)
print(result.table)
