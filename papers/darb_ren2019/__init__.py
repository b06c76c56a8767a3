"""DARB: A Density-Aware Regular-Block Pruning for Deep Neural Networks.

Ao Ren, Tao Zhang, Yuhao Wang et al. arXiv:1911.08020 (v1, Nov 2019). No repository is named for it; the group's RNN
ADMM file has the block-max masking (``mask_block_max``) and hard-coded sizes of PTB LSTM-1500 (read through
``../shared/SOURCES-WAVE2.md``; nothing copied).

**State.** Measured at ``cpu`` (3 seeds, 2-core Intel Xeon, 461 s): DARB beats BMWM at the same 16×
(``density-adaptive-beats-bmwm`` reproduced), but neither reaches irregular pruning's perplexity within 3%, DARB at 16×
is 1.39× the dense model's, 4×4-block pruning at 5.7× does better than DARB at 16×, and DARB's index is 0.45 of CSR's
(not reproduced). The recipe (Adam pretraining, SGD for ADMM) was chosen on calibration seed 1000 by health alone,
after plain SGD had left the model near a unigram model's perplexity.

**Idea.** Irregularly pruned matrices have rows of very different density, and their kept weights are spread
along each row. Block-max weight masking (BMWM) cuts each row into blocks of equal length and keeps the largest
weight of each block: one short offset per kept weight, no row pointers. DARB then gives each row its own block
length from a small regular set according to its density (dense rows get short blocks), so that the pruning
follows the irregular pattern's density while staying regular: 13-25× pruning, 2.8-4.3× the ratio of structured
counterparts, 14.3× the decoding efficiency of block pruning.

**What is here.** ``experiment.py``: a PTB LSTM language model (the shared recipe ``bench/compress/ptb_lm.py``)
pretrained dense, then five arms from the same weights with the same ADMM and retraining epochs: dense, irregular,
BMWM and DARB at 16× on every recurrent matrix, and regular 4×4-block pruning at 16/2.8 = 5.7×; test perplexity and
index bits per kept weight of each format. ``method.py``: DARB's constraint set (an exact projection for fixed
block lengths), the block-length rule, the 4×4-block projection and the storage of both formats; BMWM is
``BlockMax`` in ``bench/compress/structured.py``.

**Deviations and assumptions.**

- **DARB's density-to-block-length rule is the suite's assumption** (the paper's was not reachable;
  ``method.darb_block_sizes``): the lengths are powers of two up to 64; each line's density is its kept share in a
  magnitude pruning of the *pretrained* matrix at the target ratio; each line first gets the shortest length that
  keeps no more than that pruning kept in it, then, while the matrix's budget (the irregular kept count) allows,
  the line kept furthest below its density has its length halved. The lengths are fixed before ADMM, so the
  constraint set is fixed and its projection exact. Sensitivity-based adjustments the abstract mentions are not
  modelled.
- Orientation as the group's ``mask_block_max``: a "row" in DARB's sense is one input's outgoing weights, a column
  of ``nn.LSTM``'s ``(4·hidden, in)`` matrix; runs follow the gate-stacked output axis.
- The paper's LSTM (1500 units, per the group's sizes) is beyond the ``cpu`` scale: 2 × 128 units trained on PTB's
  whole training text for less than one epoch, 1858 pretraining steps by Adam (1e-3, clipped; the ADMM group's RNN
  code trains with Adam), then per arm 232 ADMM steps and 116 retraining steps by clipped SGD at 0.5 (with Adam,
  ADMM did not converge on the calibration seed), perplexity on a 20k-token test prefix (``DARBConfig``); ADMM by
  the suite's engine. The dense model is far from the literature's perplexities (its own is recorded per seed).
- Every recurrent matrix is pruned at the same ratio; embedding, decoder and biases stay dense. Whether the paper's
  ratios count the embedding and softmax is not known.
- The "structured counterpart" is 4×4 block pruning (the suite's choice); "decoding efficiency" has no definition
  here and is ``not_testable``. Index bits count only the index (offsets, length codes, column indices,
  pointers), not values.
"""
