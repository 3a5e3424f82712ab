"""
Adversarial examples (notes 000)
================================

A classifier with one hidden layer trained on digits is attacked with the
input gradient from ``net.vjp``: projected gradient in the ball ‖d‖ ≤ ε, the
one-step FGSM baseline, and the Tikhonov variant min_d E + ½λ‖d‖² solved by
Newton-CG with the exact R-operator Hessian along input directions.
``numnet adversarial`` attacks 100 digits; here 20, with fewer steps.
"""

from numnet.experiments.adversarial import adversarial_experiment

result = adversarial_experiment(
    n_hidden=16, train_iter=60, n_attack=20, eps=(0.5, 1.0, 2.0), lams=(10.0, 3.0), steps=20, seed=0
)
print(result.table)
