"""S2O: Early Stopping for Sparse Attention via Online Permutation.

Yu Zhang, Songwei Liu, Chenqian Yan, Sheng Lin, Beichen Ning, Fangmin Chen, Xing Wang. ACL 2026,
arXiv:2602.22575 (v1). No public code found.

**Idea.** Block-sparse attention loads a few contiguous key blocks per query block; because important tokens are
scattered, coarse contiguous blocks put a ceiling on how sparse it can be at a given error. S2O factorises
FlashAttention so tokens can be loaded non-contiguously through an index-guided online permutation (a
virtual-to-physical mapping), packs the important tokens into a few high-priority virtual blocks, processes
blocks from high to low importance and stops early when a block's score falls below a threshold. On
Llama-3.1-8B at 128K tokens the abstract reports 3.82× lower single-operator MSE at matched sparsity, 3.31× lower
prefill compute density at matched MSE, preserved end-to-end accuracy, and 7.51× attention and 3.81× end-to-end
speedups.

**What is here.**

- ``model.py``: a 2-layer, 4-head causal transformer LM (nanoGPT's shape, toy size) whose per-head queries, keys
  and values can be read out, and whose attention can be replaced.
- ``method.py``: causal block-sparse attention given loaded keys; contiguous top-k blocks by pooled scores;
  S2O's permuted, early-stopped virtual blocks; the density count.
- ``experiment.py``: the LM trained on PTB; on every head of held-out windows, both selections over a grid of
  thresholds, compared at matched density and at matched MSE; the perplexity with S2O in every layer.

**Deviations and assumptions.**

- The block score, the threshold rule, the permutation granularity and the baselines were not reachable (the
  abstract only). The suite's reading (``method.py``): a token-level importance estimate from the query block's
  mean query, keys permuted by it and regrouped into blocks of 16, and a stop when a block's best estimated
  attention weight relative to the best key's falls below τ; the baseline is contiguous top-k by pooled
  estimates (MInference and FlexPrefill style). Both always load the diagonal block.
- A toy LM on PTB (context 256, a few hundred steps at the ``cpu`` scale) instead of Llama-3.1-8B at 128K tokens:
  its heads are less sparse and far shorter, so the ratios test the direction of the claims, not their size.
- Speedups need the paper's GPU kernel and model: not testable here. No roofline figure is given: the kernel's
  memory traffic is not published.
"""
