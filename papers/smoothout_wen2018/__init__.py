"""SmoothOut: Smoothing Out Sharp Minima to Improve Generalization in Deep Learning.

Wei Wen, Yandan Wang, Feng Yan, Cong Xu, Chunpeng Wu, Yiran Chen, Hai Li. arXiv:1805.07898 (v1 May 2018, v3
December 2018). Code: https://github.com/wenwei202/smoothout (PyTorch 0.3; ``main_gbn.py``,
``measure_sharpness.py``, ``run_experiments.sh``, ``models/mnist_f1.py``, ``models/cifar_shallow.py``).

**Idea.** Large-batch SGD tends to converge to sharp minima, which generalize worse (Keskar et al. 2017).
SmoothOut minimizes the loss averaged over a box of uniform perturbations of the weights, F(θ) = E_n f(θ + n)
with n ~ U(−a, a), which flattens sharp minima. Its stochastic version draws one perturbation per (ghost)
mini-batch: add the noise, forward and backward, remove the noise (denoising), update; the abstract states
that this is an unbiased approximation of SmoothOut. AdaSmoothOut scales the noise of each filter to the
filter's norm.

**What is here.**

- ``method.py``: SmoothOut and AdaSmoothOut noise, the constant / anneal / tanh noise schedules, the
  exclusion of BatchNorm parameters, ghost-batch training (each ghost batch of 128 forwarded on its own, so
  BatchNorm uses its statistics), gradient averaging and norm clipping at 5, and the repo's learning-rate fix
  lr·sqrt(B/128), all as in ``main_gbn.py``.
- ``experiment.py``: a Monte Carlo check of the unbiasedness on a loss whose smoothed gradient is known in
  closed form; the batch studies (small batch, small batch + SmoothOut, large batch, large batch + SmoothOut,
  large batch + AdaSmoothOut, same initialization and data order per seed, equal epochs) on Fashion-MNIST
  with the F1 MLP and on CIFAR-10 with the repo's shallow net; test accuracy, training accuracy and the
  ε-sharpness of every trained model (``bench/metrics/sharpness.py``).
- ``shallow.py``: the repo's ``cifar10_shallow`` network.

**Deviations and assumptions** (the paper's body, its tables and its noise strengths could not be reached
from this project's machines; only its abstract and the authors' code could):

- The paper's values are qualitative here (the abstract: SmoothOut and AdaSmoothOut "consistently improve
  generalization in both small-batch and large-batch training"); no number of the paper's tables is recorded.
- Noise strengths a are not in the repo (its default is 0): they were chosen on a calibration seed, never a
  verdict seed, on a held-out part of the training set, from a grid fixed beforehand (``claims.yaml``).
- The unbiasedness is checked in the sense the abstract states it: the expectation of the stochastic
  SmoothOut gradient ∇f(θ + n) equals the gradient of the smoothed loss ∇E_n f(θ + n).
- Fashion-MNIST replaces MNIST for the F1 experiments (MNIST's large-batch gap is tiny). The MNIST
  augmentation of the repo (pad 2 with black, random crop 28, horizontal flip; mean and std 0.5) is kept.
- F1 is the repo's ``mnist_f1``: five hidden layers of 512 with BatchNorm (PAPERS.md's "512×3" is not what
  the code has). The ``cpu`` scale narrows it and shortens the run (``claims.yaml`` says how); ``full`` is the
  repo's setting.
- Denoising restores a saved copy of the clean weights instead of subtracting the noise (exact in float32).
- Sharpness: Keskar's ε-sharpness with ε = 5e-4 over all parameters, model in eval mode, on evaluation
  images as in ``measure_sharpness.py`` (which loads the validation split), maximized by projected
  sign-gradient ascent (10 steps) instead of L-BFGS-B with 10 iterations; the first 2000 evaluation images.
- CIFAR-10 is the JPEG q75 re-encoding; images are standardized with CIFAR-10's statistics and padded with the
  mean (the repo: ImageNet statistics, gray padding).
"""
