"""Hydraulis: Balancing Large Transformer Model Training via Co-designing Parallel Strategies and Data Assignment.

Haoyang Li, Fangcheng Fu, Sheng Lin et al. arXiv, December 2024 (the seed listing gives no identifier).
Code: https://github.com/lhy101/Hydraulis (a Hetu-based system), read at commit
4489487ed77d783b710eae0f7a45d8096ca17ab4.

**Idea.** Training data is imbalanced in two ways: sequence lengths are long-tailed (sampling imbalance), and
packing sequences by memory (linear in length) leaves their attention time (quadratic) unequal (packing
imbalance). Hydraulis plans several parallel strategies at once (replicas with different tensor and pipeline
degrees, each holding a range of lengths), picks one plan per iteration, dispatches sequences to replicas by
length and cost (stage 1) and packs each replica's sequences into balanced micro-batches (stage 2). The abstract
reports 1.32-2.66x over existing systems.

**What is here, and how it is labelled.** Every figure is *simulated*: no GPU runs.

- ``costmodel.py``: the repository's time model ``t_k(s) = a_k s² + b_k s + c_k`` and memory model, with its 13
  profiled LLaMA-7B / A800 ⟨TP, PP⟩ schemes and constants (cited line by line).
- ``planner.py``: the strategy-proposal DP, stage-1 dispatch, stage-2 packing, and the homogeneous baselines
  (batching methods 0 and 1 of the repository), all on that cost model.
- ``experiment.py``: per seed, a long-tailed and a near-uniform workload on 32 GPUs at 100,000 tokens per
  iteration; Hydraulis's simulated iteration time against the best single strategy with padding or packing.

**Deviations and assumptions.**

- The length distributions are the suite's: lognormal with median 1,024 tokens and σ = 1.2, truncated at 32,768
  (about 1% of sequences above 16K), and uniform on 3,584-4,608 tokens. The paper's CommonCrawl and GitHub
  histograms are not in the repository (its planner reads a ``web_counter.pkl`` that is not published).
- The planner sees one iteration's expected workload (a histogram of 50 iterations' sequences, each counting
  1/50); the repository passes the whole dataset's histogram. The two differ only in the weight of the
  per-micro-batch constant and the pipeline warm-up term.
- Stage 2 packs greedily (longest work first onto the least-loaded micro-batch with room) instead of the
  repository's integer programme per micro-batch count; the greedy can only overstate Hydraulis's time.
- Stage 1 follows the repository's randomized greedy (50 random orders); the exact ILP kept in its code is
  unreachable there and is not used here either.
- The 300 ms heterogeneous-DP communication constant of the 7B coefficient file is read by no planner code in
  the repository and is left out here too; the optimizer-state synchronisation is not modelled for any method.
- Baselines: the repository's own batching methods on one strategy for every GPU, the best strategy for the whole
  run. Megatron-LM and DeepSpeed, which the paper compares against, are not simulated.
"""
