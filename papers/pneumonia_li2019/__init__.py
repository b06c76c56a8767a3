"""Deep Compressed Pneumonia Detection for Low-Power Embedded Devices.

Hongjia Li, Sheng Lin, Ning Liu et al. Springer LNCS 2019 (doi 10.1007/978-3-030-33642-4_10), arXiv:1911.02007.
No code found.

**Idea.** A pneumonia detector (106 layers, consistent with YOLOv3's darknet configuration) trained on the RSNA
Pneumonia Detection Challenge is compressed by the group's ADMM structured pruning with filter sparsity, column
sparsity or both combined: up to 36× with no accuracy degradation, then run on a Jetson TX2 at low power.

**What is here.** A proxy of the pruning method (tier C + proxy in PAPERS.md): ``experiment.py`` pretrains Caffe's
CIFAR-10 ConvNet (``bench/compress/cifar_convnet.py``) per seed on a 10k-image CIFAR-10 (JPEG q75) subset, then four
arms for the same epochs: dense training on, and ADMM onto filter, column or combined sparsity of conv2 and conv3 at
the same 4× per layer, hard projection and masked retraining (the shared engine, ``bench/compress/admm.py``:
``Filter``, ``Column``, ``FilterColumn``). ``method.py`` maps the three sparsities onto those projections.

**Deviations and assumptions.**

- Nothing of the detector, RSNA or the Jetson is here: the headline and the energy claim are ``not_testable``.
- Equal compression per pruned layer: filter or column alone keeps 1/4 of the rows or columns, combined keeps
  1/2 of each. The first conv (3 input channels, 2.4K weights) and the classifier are not pruned (assumption: the
  paper's per-layer choice was not read).
- The combined projection is the engine's ``FilterColumn``: exact when one side's subsets are few, otherwise the
  better of filter-then-column and column-then-filter refined by alternation (its docstring); the group's code
  prunes one structure after the other.
- The schedule (6 pretraining epochs, 2.5 ADMM + 1 retraining epochs, SGD with cosine decay, ρ 1.0 ×1.3 every half
  epoch) is the suite's; it was chosen on a calibration seed by time and the ADMM residual alone
  (``experiment.CombinedConfig``).
"""
