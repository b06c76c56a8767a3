"""Learning Structured Sparsity in Deep Neural Networks.

Wei Wen, Chunpeng Wu, Yandan Wang, Yiran Chen, Hai Li. NeurIPS 2016. arXiv:1608.03665 (v4).
Code: https://github.com/wenwei202/caffe/tree/scnn (Caffe fork, branch ``scnn``).

**Idea.** Sparsity only speeds a network up when it has structure a dense kernel can exploit. SSL adds a group
Lasso term Σ_g ||W_g||₂ over structures of each layer (filters, channels, filter shapes, whole layers) to the
training loss; whole groups go to exactly zero, and removing them leaves a smaller *dense* network: fewer
filters and channels, smaller filter shapes, fewer layers. In the lowered (im2col) view of a convolution, a
zero filter is a zero row and a zero shape a zero column of the GEMM weight matrix, so concatenating the
remaining rows and columns gives a smaller GEMM that off-the-shelf BLAS runs fast: 5.1× (CPU) and 3.1× (GPU)
on AlexNet's conv layers, about twice what non-structured sparsity achieves in CSR.

**Implemented** (``method.py``): group norms and penalty for filter, channel, shape and depth groups; the
group-Lasso subgradient added to the loss gradient before the momentum step, w/||w_g|| and 0 for a zero group
(as ``GroupLassoRegularize`` in the repo's ``sgd_solver.cpp``); the 1e-4 zeroing of every learnable value
after each update (``Net::Update`` → ``Zerout``); fine-tuning with zero groups frozen (Caffe's
``DISCONNECTED_GRPWISE`` / ``_ELTWISE`` masks); physical compaction of a feed-forward chain into smaller dense
GEMMs with the constant outputs of removed filters folded into the next layer's bias (exact: the compacted
network's output equals the original's). ``latency.py`` builds AlexNet's conv layers as lowered GEMMs at the
paper's per-layer sparsity: dense, compacted (structured), and CSR (non-structured).

**Experiments** (``experiment.py``): LeNet/MNIST filter+channel and shape-wise SSL from one baseline (Tables 1
and 2); MLP/MNIST neuron removal; AlexNet conv-layer GEMM speedups (structured, ℓ1 CSR, CSR at equal
sparsity); ResNet-20/CIFAR-10 depth-wise SSL (full scale only).

**Deviations and assumptions.**

- The paper's body (its tables and the λ values used for LeNet and the MLP) could not be reached from this
  project's machines. Table values in ``claims.yaml`` are recalled and marked [unverified]; they agree with
  their own FLOP columns, and the AlexNet per-layer speedups average to the abstract's 5.1× and 3.1×. The
  ResNet numbers are confirmed by the authors' poster and slides (in the repo's ``docs/``).
- ``full`` uses the repo's ``lenet_grouplasso_solver.prototxt`` (its header calls it an example, not the
  paper's setting): λ = 0.005 for every group kind, SSL at the baseline learning rate with weight decay 0 and
  steps ×0.1 at 60% and 80%, 10k iterations per stage; fine-tuning at 0.1× that rate with weight decay 5e-4
  (assumed). The same λ for every layer (the repo's AlexNet scales λ per layer by √(group size); no such
  scaling is documented for LeNet).
- ``cpu`` trains each stage for 0.5–2 epochs instead; its λ (0.02 for LeNet, 0.005 for the MLP) and its
  fine-tuning rate (0.01) were chosen on seed 1000, never a verdict seed, after the criteria were fixed
  (``CALIBRATION.md``). Every SSL network is compared with a *control*: the same baseline continued through
  the same schedule with λ = 0, so that extra training is not counted as SSL's merit.
- The MLP uses Caffe's msra initialisation (``examples/mnist/mlp.prototxt``); its baseline is trained with the
  LeNet solver's ``inv`` schedule, not ``mlp_solver``'s steps at 10k/14k/18k iterations.
- Filter-wise groups on conv1 and conv2, channel-wise on conv2 only (conv1's single input channel is the
  image). Shape-wise groups on conv1 and conv2. Fully connected layers are not regularized in the LeNet runs.
- torch.optim.SGD puts the learning rate outside the momentum buffer (Caffe inside); they differ only right
  after a learning-rate change.
- Speedups are GEMM-only, one image per GEMM, lowering excluded, as the repo's README describes the paper's
  measurement; non-structured sparsity uses ``torch.sparse`` CSR (MKL sparse BLAS on x86 CPUs, cuSPARSE on
  GPUs). The zero positions are drawn at random at the paper's per-layer sparsity (the trained AlexNet's
  exact patterns are not used).
- ResNet: the repo's generator (1×1 projection shortcuts, batch 256, lr 0.1, wd 1e-4, λ_depth 0.007, one group
  per residual-branch conv); a layer whose weights are all zero counts as removed, and accuracy is measured on
  the network as trained (the paper's SSL-ResNet-# does the same), since a zeroed conv followed by BatchNorm
  still adds a per-channel constant. CIFAR-10 here is the JPEG q75 re-encoding.
"""
