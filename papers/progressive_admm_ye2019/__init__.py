"""Progressive DNN Compression: A Key to Achieve Ultra-High Weight Pruning and Quantization Rates using ADMM.

Shaokai Ye, Xiaoyu Feng, Tianyun Zhang, Xiaolong Ma, Sheng Lin, Zhengang Li, Kaidi Xu, Wujie Wen, Sijia Liu,
Jian Tang, Makan Fardad, Xue Lin, Yongpan Liu, Yanzhi Wang. arXiv:1903.09769. Code:
https://github.com/yeshaokai/Robustness-Aware-Pruning-ADMM (the group's PyTorch ADMM engine; its README cites
this paper).

**Idea.** Weight pruning (or quantization) as a constrained problem ``min f(W) s.t. W ∈ S``, solved by ADMM:
training with the augmented term ``0.5·ρ·‖W − Z + U‖²`` pulls the weights toward their projection onto ``S``,
which is then applied hard and followed by masked retraining. Reaching a very high rate in one step asks too
much of one ADMM run; the progressive schedule reaches it in steps, each step's pruned weights frozen at zero
while the next, higher target is trained toward: 246× on LeNet-5, 36× on AlexNet and 8× on ResNet-50 without
accuracy loss, and a fully binarized LeNet-5 without loss.

**What is here.** This paper owns the suite's ADMM engine, ``bench/compress/admm.py`` (the projections,
``Z``/``U``/``ρ`` updates, hard projection, masks), and the LeNet-5/MNIST recipe of the authors' template,
``bench/compress/mnist_lenet.py``, which the other LeNet-5 ADMM papers share. ``experiment.py`` compares
one-shot and progressive ADMM pruning at equal epochs and runs the binarization of every layer.

**Deviations and assumptions.**

- The paper's body was not reachable from this project's machines (its abstract was); the settings are the
  authors' template (``mnist_lenet.py``), which is a template and not the paper's recorded run.
- Progressive schedule: two steps, the first at half the final rate (123×, then 246×) [assumption: a
  third-party reading of the paper says step 1 aims at about 1.5× the previous best rate and step 2 doubles
  it]; both arms spend the same epochs (one-shot: one stage of twice the ADMM and retraining epochs).
- Per-layer ratios at 246× keep the template's proportions (its ratios give 74.5×; every layer's kept
  fraction is scaled by the same factor). The paper's own per-layer ratios were not reachable.
- Pruning is irregular (the |w| percentile per layer); biases are not pruned and not counted in the rate.
- Binarization: the middle layers first, then the first and last [3rd-party reading]; after the last hard
  projection only the biases train. ``ρ`` grows ×1.3 per update as in pruning (the quantization code of the
  paper was not released; a descendant repository uses ×1.1).
- ``cpu`` scale: 2 epochs of pretraining and 1 ADMM epoch + 0.5 retraining epoch per stage instead of
  10.67 and 40 + 40, ``claims.yaml`` says so per experiment.
"""
