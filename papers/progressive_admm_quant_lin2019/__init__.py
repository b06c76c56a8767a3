"""Toward Extremely Low Bit and Lossless Accuracy in DNNs with Progressive ADMM.

Sheng Lin, Xiaolong Ma, Shaokai Ye, Geng Yuan, Kaisheng Ma, Yanzhi Wang. arXiv:1905.00789. No code of this
paper was released; the quantization projections follow the group's descendant code (read for this suite:
``Zhoushanglin100/SLR_Quant``, binary ``sign(W + U)`` with ``α = ⟨W + U, Q⟩/⟨Q, Q⟩``, one ``α`` per layer).

**Idea.** Quantization as ADMM onto the set of binary (or ternary, k-bit) weights, applied progressively: a
first ADMM run quantizes part of the network, which then stays fixed while a second run quantizes the rest.
The abstract claims the first lossless fully binarized LeNet-5 (every layer, the first and the last
included).

**What is here.** The suite's ADMM engine (``bench/compress/admm.py``: ``Binary`` is the exact Euclidean
projection ``α = mean|v|``, ``s = sign(v)``) and the shared LeNet-5 recipe (``bench/compress/mnist_lenet.py``,
``binarize``): one-shot (all layers in one stage) against progressive (conv2 and fc1, then conv1 and fc2) at
equal epochs, from the same pretrained network.

**Deviations and assumptions.**

- The paper's body was not reachable (its abstract was): the order of the progressive steps (middle layers
  first, then the first and last) is a third-party reading of the companion paper (arXiv 1903.09769); the
  settings are the group's ADMM template for MNIST (``mnist_lenet.py``); ``ρ`` grows ×1.3 per update as in
  that template (the quantization descendant uses ×1.1, PAPERS.md's "×1.5 capped at 100" was not found in any
  code).
- After the last hard projection the binary weights are fixed and only the biases train (``retrain_epochs``).
- ``cpu`` scale: 2 epochs of pretraining and 1 ADMM epoch per stage instead of 10.67 and 40.
"""
