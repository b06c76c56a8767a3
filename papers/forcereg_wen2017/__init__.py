"""Coordinating Filters for Faster Deep Neural Networks (Force Regularization).

Wei Wen, Cong Xu, Chunpeng Wu, Yandan Wang, Yiran Chen, Hai Li. ICCV 2017, arXiv:1703.09746. Code:
https://github.com/wenwei202/caffe (branch master: ``ForceRegularize`` in ``src/caffe/solvers/sgd_solver.cpp``,
``python/nn_decomposer.py``; the poster ``docs/ICCV17-Poster.pdf``).

**Idea.** Filters of a trained layer spread over many directions, so a low-rank approximation (PCA over the
filters) needs a high rank for a small error. Force regularization adds, during training, an attractive force
between the normalized filters of a layer, projected on the tangent of the sphere so that it rotates filters
toward each other without changing their norms to first order. The coordinated filters span a lower-dimensional
space: at the same PCA error the rank is lower, the decomposed network (r basis filters + a 1×1 combination)
is cheaper, and, the paper says, it starts fine-tuning from a better point.

**What is here.**

- ``method.py``: the force of the Caffe solver (L2 "Degradation" and L1 "Constant" forms, near-zero filters and
  coincident pairs skipped, scaled by the filter norm, added as ``−λ·ΔW`` to the gradient).
- The decomposition is the shared toolkit's (``bench/compress/lowrank.py``): the channel scheme with
  ``balance=1`` builds ``nn_decomposer.py``'s layers (basis filters ``U_rᵀ·W`` without bias, a 1×1
  combination ``U_r`` carrying the bias; the PCA is not centered, as in the repo since commit a53761bc).
- ``experiment.py``: LeNet/MNIST and ResNet-20/CIFAR-10 trained without and with the force from the same
  initialization and data order; ranks at ≤ 5% PCA error; accuracy decomposed at own and at equal ranks; a
  short fine-tuning at equal ranks; and the AlexNet conv3–conv5 speedups at the poster's ranks, timed side by
  side by ``bench.latency`` (``latency.py`` also gives the cases to pytest-benchmark).

**Deviations and assumptions.**

- Paper values come from the poster (Tables 4 and 6, rank figures) and issue #29 (ResNet-20 ranks and errors);
  the paper's body was not reachable. "≤ 5% PCA error" is read as keeping 95% of the eigenvalue sum, which is
  ``nn_decomposer.py``'s ``--rankratio 0.95``.
- LeNet: the README's recipe (batch 64, lr 0.01 × 0.9 at 50/70/80/90/95% of the run, momentum 0.9, wd 5e-4,
  Constant force 1e-3 on conv1 and conv2); both networks of a pair use this schedule. The ``cpu`` scale trains
  2 epochs instead of 10.67 and uses the force strength chosen on a calibration seed (``claims.yaml``).
- ResNet-20: the repo's solver and net (``force_mult`` on the 18 residual-branch convs); its force strength and
  type are not recorded anywhere reachable: the L2 force at 1e-3 is assumed.
- Fine-tuning speed is measured as the accuracy after the same short fine-tuning (0.1 epoch at lr 0.001) of
  both networks decomposed at the force network's ranks, not as the poster's full 150k-iteration curves.
- AlexNet: grouped layers are decomposed group by group (the only reading that reproduces the table's
  theoretical speedups); the split of an odd rank between the groups and the timing batch (10, Caffe's
  ``deploy.prototxt``) are assumptions (``latency.py``). The paper's processors are not named in the poster,
  so no roofline of them is simulated.
"""
