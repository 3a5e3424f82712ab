"""
AlexNet's claims on digits (notes 001)
======================================

ReLU against tanh, dropout and augmentation against overfitting, and early
stopping, checked with small CNNs on the 8×8 digits. ``numnet
alexnet-claims`` trains for tens of epochs over 3 seeds; here a few epochs,
one seed and 60 training digits, so the numbers say nothing yet about the
claims (see the write-up for the full run).
"""

from numnet.experiments.alexnet_claims import alexnet_claims_experiment

result = alexnet_claims_experiment(
    n_seeds=1, relu_epochs=1, n_train=40, epochs=2, patience=1, cnn_epochs=1, seed=1
)
print(result.table)
