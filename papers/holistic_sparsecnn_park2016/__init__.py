"""Faster CNNs with Direct Sparse Convolutions and Guided Pruning ("Holistic SparseCNN").

Jongsoo Park, Sheng Li, Wei Wen, Ping Tak Peter Tang, Hai Li, Yiran Chen, Pradeep Dubey. ICLR 2017,
arXiv:1608.01409. Code: ``IntelLabs/SkimCaffe`` (discontinued; ``src/caffe/solvers/sgd_solver.cpp``, ``README.md``,
``models/*/train_script.sh`` read, nothing copied).

**Idea.** Pruning the fully connected layers shrinks a CNN but barely speeds it up; structured pruning speeds it up
but limits the sparsity. Instead: a direct sparse convolution (a sparse weight times shifted views of the input,
without lowering) that runs kernels of any sparsity pattern fast, a performance model that says per layer and
per processor which sparsity makes the sparse kernel pay, and pruning guided by it (L1 with a gradient-aware
threshold on the layers where sparsity pays). Abstract: 3.1-7.3x convolution speedups over dense in AlexNet on
Atom, Xeon and Xeon Phi.

**What is here.** ``bench/compress/sparse_conv.py``: any convolution or fc layer as a CSR product on the lowered
input, and its crossover sparsity against the dense operator, measured. ``method.py``: SkimCaffe's L1 with the
gradient-aware threshold (as the code applies it), the guidance by the measured crossovers, and the deployment of
each layer in its faster form. ``experiment.py``: CaffeNet's conv2-conv5 at SkimCaffe's sparsities on this CPU
(``alexnet_sparse_conv``), and dense, uniform and guided pruning of Caffe's CIFAR-10 ConvNet (``cifar_guided``).

**Deviations and assumptions.**

- The sparse kernel is PyTorch's CSR product on the lowered input, not the paper's direct sparse convolution
  (hand-written, without lowering, tuned per processor): the speed claims are tested with a stock sparse kernel on
  this machine's Xeon, which says whether the sparsity pays without the paper's kernel, not what its kernel does.
- Batch 1 for every timing [assumption: the paper's batch per processor was not read].
- The performance model is a measurement (each layer shape's crossover sparsity on this machine), not the paper's
  analytic model; the guidance prunes the layers whose crossover is at most 90% and leaves the others dense
  [assumption: the paper's guided sparsity learning is described in the paper; the code only shows which layers
  the ``*_gesl*`` prototxts regularise].
- The threshold reads the optimizer's step, not the raw gradient, as SkimCaffe's code does (``method``).
- A 10k-image CIFAR-10 subset (the JPEG q75 re-encoding) and Caffe's ConvNet stand in for ImageNet and AlexNet in
  the training claims; the phases' lengths and the L1 strength are the suite's (``claims.yaml``).
"""
