"""TRP: Trained Rank Pruning for Efficient Deep Neural Networks.

Yuhui Xu, Yuxi Li, Shuai Zhang, Wei Wen, Botao Wang, Yingyong Qi, Yiran Chen, Weiyao Lin, Hongkai Xiong.
arXiv:1812.02402 (IJCAI 2020 as "TRP: Trained Rank Pruning for Efficient Deep Neural Networks", arXiv
1910.04576). Code: https://github.com/yuhuixu1993/Trained-Rank-Pruning (``cifar-TRP.py``, ``decompose.py``,
``resnet.py``; read at commit 8cc7470).

**Idea.** Decomposing a trained network into low-rank layers after training loses accuracy that fine-tuning
must win back. TRP trains the network toward low rank instead: every ``period`` iterations each conv is
replaced by its truncated-SVD reconstruction (keeping 90% of the energy ``Σσ²``), so training continues from
low-rank weights and adapts to them, and a nuclear-norm subgradient ``λ·U_r·V_rᵀ`` pushes the singular values
down. At the end the network is decomposed (singular values below 0.05 dropped) with no fine-tuning.

**What is here.**

- ``method.py``: the substitution and the nuclear-norm subgradient as training hooks, which layers TRP
  touches (every conv larger than 1×1 but the stem; stride-2 ones too), and the deployment decomposition
  (stride-1 layers only, as ``decompose.py`` does). The SVD, rank rules, the channel and spatial schemes, the
  decomposed layers and the FLOP count are the shared toolkit's (``bench/compress/lowrank.py``).
- ``experiment.py``: a baseline and a TRP network from one initialization and data order per seed; the TRP
  network deployed; the baseline decomposed post hoc at the largest energy that fits the TRP network's FLOPs.

**Deviations and assumptions.**

- Paper values are the repository README's table (posted in April 2019, before the code as it now stands:
  the energy threshold of the training-time truncation moved from 0.99 to 0.9 in commit 3a41d10); the
  paper's own comparison with post-hoc decomposition was not reachable. The README's command (period 1,
  energy 0.9, nuclear weight 3e-4, 164 epochs, lr steps at 81 and 122) is the ``full`` scale.
- The ``cpu`` scale is a proxy: ResNet-8 (the same blocks, one per stage) for a fraction of an epoch budget
  (``claims.yaml``), on CIFAR-10 (JPEG q75); ResNet-20 runs at ``full`` only.
- Images are standardized with the training set's statistics of this CIFAR-10 variant (the repo uses fixed
  constants close to them). Accuracy is measured once, after the last epoch (the repo reports the best test
  accuracy over epochs, i.e. selects on the test set).
- The FLOP reduction counts every conv's MACs (stem and projection shortcuts included, fc excluded), as the
  repo's ``show_low_rank``; the deployed layers' stride-2 convs stay full rank.
- Post-hoc decomposition of the baseline: the repo decomposes baselines with an energy rule; here the energy
  is the largest (bisection) whose network has at most the TRP network's FLOPs, the same scheme and layers.
"""
