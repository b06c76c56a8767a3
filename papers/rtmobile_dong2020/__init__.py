"""RTMobile: Beyond Real-Time Mobile Acceleration of RNNs for Speech Recognition.

Peiyan Dong, Siyue Wang, Wei Niu et al. DAC 2020, arXiv:2002.11474 (v1, Feb 2020). Code: the CoCoPIE model zoo
(``CoCoPIE-Pruning/CoCoPIE-ModelZoo``, ``speech_recognition/``: pruned TIMIT GRUs and their logs) and the group's RNN
ADMM file with ``block_prune_filter`` (read through ``../shared/SOURCES-WAVE2.md``; nothing copied).

**State.** Measured at ``cpu`` (3 seeds, 2-core Intel Xeon, 487 s): BSP's perplexity is 1.54× unstructured
pruning's at 10× (``bsp-near-unstructured`` not reproduced), and well below whole-row pruning's (``bsp-beats-row``
reproduced). The recipe that made the proxy learn in budget (Adam pretraining, SGD for ADMM) was chosen on
calibration seed 1000 by health alone, after plain SGD had left the model near a unigram model's perplexity.

**Idea.** RNN compression is either irregular (accurate, but the index and the scattered accesses cost on hardware)
or structured (regular, but accuracy falls). Block-based structured pruning (BSP) cuts each weight matrix into
column blocks and prunes whole rows *inside each block*: regular enough for a compiler to generate dense code per
block, fine enough to keep accuracy. With ADMM training and a mobile compiler, a GRU for speech recognition runs in
real time on a phone GPU, about 40× more energy-efficiently than an FPGA design.

**What is here.** ``experiment.py``: a PTB GRU language model (the shared recipe ``bench/compress/ptb_lm.py``),
pretrained dense, then BSP, unstructured and whole-row pruning at the same 10× on every recurrent matrix, by the
same ADMM (``bench/compress/admm.py``) and masked retraining, test perplexity; ``method.py``: the three constraint
sets (``BlockRows`` from ``bench/compress/structured.py``, 4 column blocks as the group's ``cross_x = 4``).

**Deviations and assumptions.**

- TIMIT (LDC-licensed) and the PyTorch-Kaldi pipeline are not available: the mechanism is tested on a word-level
  PTB GRU language model, 2 × 128 units trained on PTB's whole training text for less than one epoch: 1510
  pretraining steps by Adam (1e-3, clipped), then per arm 396 ADMM steps and 199 retraining steps by clipped SGD at
  0.5, perplexity on a 20k-token test prefix (``RTMobileConfig``). The zoo's GRU is 2 × 1024 with batch norm and
  RMSprop. Plain SGD at lr 1 (Zaremba et al.'s recipe) did not learn context in budget, and ADMM under Adam did not
  converge, both on calibration seed 1000 (the config's comments).
- Every recurrent matrix (``weight_ih_l{k}`` and ``weight_hh_l{k}``, gates stacked, PyTorch's ``(3·hidden, in)``
  layout) is pruned at the same ratio; the embedding, decoder and biases stay dense. Whether RTMobile applies one
  ratio to every matrix is not known; the zoo's logs print equal per-layer ratios.
- One ADMM stage at the target ratio: the zoo's logs imply earlier stages (column pruning or progressive rounds)
  before the logged BSP stage, whose schedule is unverified.
- ρ grows by the engine's fixed factor (the group's adaptive ρ rule, ``bench/compress/adaptive_rho.py``, is not
  used).
- The compiler, the phone GPU and the FPGA comparison are not here: those claims are ``not_testable``. The index
  bits per kept weight of the block format (a row bitmap per block) and of CSR are reported as context.
  ``latency.py`` times a batch-1 product with a 3072×1024 GRU matrix at 10× (4 column blocks) dense, in CSR and
  block-compacted (``bench.compress.sparse_exec.py``) for ``pytest bench/test_latency.py``.
"""
