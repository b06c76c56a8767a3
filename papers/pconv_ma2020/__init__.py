"""An Image Enhancing Pattern-based Sparsity for Real-time Inference on Mobile Devices (PCONV).

Xiaolong Ma, Wei Niu, Tianyun Zhang, Sijia Liu, Sheng Lin, Hongjia Li, Xiang Chen, Jian Tang, Kaisheng Ma, Bin Ren,
Yanzhi Wang. ECCV 2020, arXiv:2001.07710. No official code found; the only implementation is an unofficial
PatDNN repository (``7bvcxz/PatDNN``, read for the library rule, not copied).

**State.** Measured at ``cpu`` (3 seeds, 2-core Intel Xeon): pattern pruning loses accuracy here, 2.6 pp below
dense and 1.4 pp below irregular pruning at the same sparsity (not reproduced), and the extracted library does no
better than a random one (0.6 pp below, inconclusive). The network is a toy and the schedule short (below), so
this says the enhancement does not appear on the suite's setting, not that it fails on VGG-16.

**Idea.** A sparsity between irregular and structured: each 3×3 kernel keeps a few weights in one of a small
library of *patterns* (pattern sparsity), and whole kernels are removed (connectivity sparsity). The patterns act
like image-enhancing filters, so pruning by them is claimed to *raise* accuracy, and their regularity lets a
compiler generate fast mobile code (up to 39.2× over TFLite).

**What is here.** ``experiment.py``: one pretrained 4-conv 3×3 CNN per seed on a 10k-image CIFAR-10 (JPEG q75)
subset, then four arms for the same epochs: dense training on, ADMM onto the extracted pattern library,
ADMM onto a random library, ADMM onto irregular sparsity at the same 5/9; ``method.py``: the network and the two
libraries. The projections are the shared engine's (``bench/compress/structured.py``: ``Pattern``,
``pattern_library``; ``bench/compress/admm.py``: the ADMM loop and masked retraining).

**Deviations and assumptions.**

- The library rule is the unofficial PatDNN code's (SOURCES-WAVE2.md): a kernel's candidate is its centre plus its
  three largest other weights; the library is the 8 most frequent candidates of the pretrained network (one
  library for the whole network, every 3×3 conv patterned, the first included). Whether PCONV re-extracts the
  library during training, or keeps one per layer, is not known: one fixed library is assumed.
- Pattern sparsity only (5/9 of every kernel pruned, 2.25×); connectivity pruning, PCONV's second dimension, is
  left to PatDNN's folder, whose claim it carries.
- A toy network (16-16-32-32 channels, batch norm, 14.4K conv weights) on a 10k-image subset for 10 + 6 epochs,
  not VGG-16 or ResNet-50 for hundreds: the claims are tested for direction on the suite's setting. The ADMM
  schedule (ρ 0.3 × 1.3 every half epoch, SGD; ρ chosen on a calibration seed by the ADMM residual alone) is the
  suite's; the unofficial code's (Adam 3e-4, ρ 1e-2, 120
  ADMM epochs) does not fit the ``cpu`` scale.
- The compiler and the phones are not here: the speed claims are ``not_testable``.
"""
