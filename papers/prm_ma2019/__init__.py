"""ResNet Can Be Pruned 60×: Introducing Network Purification and Unused Path Removal (P-RM) after Weight Pruning.

Xiaolong Ma, Geng Yuan, Sheng Lin, Zhengang Li, Hao Sun, Yanzhi Wang. arXiv:1905.00136.

**Idea.** After structured (filter + column) ADMM pruning, a network still holds weights that do nothing
useful: filters whose outputs no longer reach anything, channels whose consumers were pruned, and nearly
empty channels left by column pruning. Network purification removes the redundant leftovers and unused path
removal the dead paths, adding compression at equal accuracy: 232× on LeNet-5, 60× on ResNet-18 (CIFAR-10).

**What is here.** Filter+column ADMM pruning with the suite's engine (``bench/compress/admm.py``,
``FilterColumn``) on the shared LeNet-5 recipe (``bench/compress/mnist_lenet.py``), then ``method.py``'s
purification and unused path removal and a masked retraining (``experiment.py``).

**Deviations and assumptions.**

- The paper's body was not reachable (its abstract and introduction were) and no code of P-RM was found: the
  purification rule (``method.py``; the paper's emptiness ratio ``η`` and importance score ``σ`` are named in
  a third-party summary, their formulas were not reachable), its thresholds (η 0.9, σ 0.5), the structured
  rate before P-RM (120×, the template's layer proportions) and the retraining after P-RM (10 epochs, 0.25 at
  the ``cpu`` scale) are this suite's assumptions, fixed before any verdict run.
- Filters and columns are pruned by one joint projection per layer (``FilterColumn``); the authors' engine runs
  column pruning, then filter pruning with the zeros frozen.
- ``cpu`` scale: 2 epochs of pretraining, 1 ADMM epoch and 0.5 retraining epoch instead of 10.67 and 40 + 40.
- ResNet-18 on CIFAR-10 (60×) is not implemented yet (``claims.yaml``).
"""
