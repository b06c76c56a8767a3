"""Compression toolkits that several papers build on (low-rank decomposition, ...).

Like ``bench/hardware`` and ``bench/metrics``, a module here counts in a paper's code hash only when the paper
imports it by name (``bench.provenance.code_files``), so a new toolkit does not mark other papers' results stale.

- :mod:`bench.compress.lowrank`: conv layers as products of two smaller convs (Force Regularization's PCA
  basis filters, Trained Rank Pruning's channel and spatial SVD schemes), the rank rules (energy ratio,
  singular-value threshold), the nuclear-norm subgradient, and the FLOPs of a decomposed network.
"""
