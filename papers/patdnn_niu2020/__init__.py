"""PatDNN: Achieving Real-Time DNN Execution on Mobile Devices with Pattern-based Weight Pruning.

Wei Niu, Xiaolong Ma, Sheng Lin, Shihao Wang, Xuehai Qian, Xue Lin, Yanzhi Wang, Bin Ren. ASPLOS 2020,
arXiv:2001.00138. No official code found; the only implementation is an unofficial repository (``7bvcxz/PatDNN``,
read for the two-dual ADMM and the connectivity rule, not copied).

**Idea.** Between non-structured pruning (accurate, irregular) and structured pruning (regular, lossy), prune
*patterns inside coarse structures*: every 3×3 kernel keeps 4 weights in one of a few library patterns, and whole
kernels are removed (connectivity). An extended ADMM gives each constraint set its own auxiliary variable and dual;
a compiler (kernel reordering by pattern, compressed storage, register-load elimination, auto-tuning) turns the
regularity into mobile speed: up to 44.5× over TFLite with no accuracy compromise.

**What is here.** ``method.py``: the two constraint sets as two ADMM targets on each conv weight (the shared engine,
``bench/compress/admm.py`` and ``bench/compress/structured.py``), and the baselines' targets at the same per-layer
fraction. ``experiment.py``: per seed, one pretrained 4-conv 3×3 CNN (PCONV's) on a 10k-image CIFAR-10 (JPEG q75)
subset, then five arms for the same epochs: dense, PatDNN's two-dual ADMM, one-shot projection into the same sets,
ADMM filter pruning and ADMM irregular pruning of the same fraction of every conv.

**Deviations and assumptions.**

- The connectivity rate is the unofficial code's default, one kernel in 3.6, on every conv but the first (3 input
  channels); the paper's per-model rates were not read. Patterns: 8 patterns of 4 (the centre always kept),
  extracted from the pretrained network as in PCONV's folder.
- The penalty is the engine's squared norm ``ρ/2·‖W − Z + U‖²`` for each set, not the unofficial code's
  non-squared norm (SOURCES-WAVE2.md); ρ 0.3 ×1.3 every half epoch and SGD are PCONV's cpu setting (chosen there on
  a calibration seed by the ADMM residual alone), not the unofficial code's Adam 3e-4, ρ 1e-2 and 120 ADMM epochs.
- A toy network (16-16-32-32 channels, 16.6K conv weights) on a 10k-image subset for 10 + 6 epochs, not VGG-16 or
  ResNet-50: the accuracy claims are tested for direction on the suite's setting.
- The compiler and the phones are not here: the speed claims are ``not_testable``.
"""
