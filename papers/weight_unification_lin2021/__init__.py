"""Efficient Micro-Structured Weight Unification and Pruning for Neural Network Compression.

Sheng Lin, Wei Jiang, Wei Wang et al. (Tencent Media Lab), arXiv:2106.08301. No code found; a Tencent patent
(US-11935271, "selective structured weight unification") describes the same scheme (SOURCES-WAVE2.md).

**Idea.** Instead of removing weights, make the weights of a selected micro-block (1×4, 2×2, ... of the lowered
weight matrix) share one magnitude, signs kept: the block stores one value and its signs, and its products share a
multiplier, while no connection is removed. Pruning is the special case of a zero magnitude. An ADMM framework
trains the network onto the unified set.

**What is here.** ``method.py``: the constraint set (``bench.compress.structured.Unify``: the exact projection
unifies the blocks of smallest unification error ``Σ(|vᵢ| − mean|v|)²``, each to ``mean|v|·sign(v)``), retraining
with the unified blocks fixed, and the storage count. ``experiment.py``: per seed, PCONV's pretrained 4-conv 3×3 CNN
on a 10k-image CIFAR-10 (JPEG q75) subset, then three arms for the same epochs: dense, ADMM unification, one-shot
unification.

**Deviations and assumptions.**

- Unification only: 3/4 of the 1×4 blocks of conv2–conv4 unified (SOURCES-WAVE2.md proposes 50–75%; the paper's
  shapes and shares were not read). Unification mixed with pruning (some blocks at zero, under their own count) is
  not built: a projection onto the mixed set needs an assignment of blocks to keep / unify / prune, and the
  paper's selection rule is not known.
- Retraining keeps the unified blocks fixed and trains the others, as the patent describes; whether the paper
  instead trains the shared magnitudes was not read.
- Storage: a unified 1×4 block as one 32-bit magnitude and 4 sign bits, the others as 32-bit floats, one flag bit
  per block; the paper goes on to quantisation and entropy coding (MPEG-NNR), not built.
- The schedule is PCONV's cpu setting (ρ 0.3 ×1.3 every half epoch, SGD), not the paper's.
"""
