"""
XOR (notes 002)
===============

With the binomial loss the linear model's gradient is exactly zero at
w = 0, b = 0 and no linear classifier gets more than 75 %; one hidden layer
of tanh units separates XOR. ``numnet xor`` trains from 5 starts; here 3.
"""

from numnet.experiments.xor import xor_experiment

result = xor_experiment(seed=0, n_starts=3)
print(result.table)
