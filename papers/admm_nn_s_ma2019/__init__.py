"""Non-structured DNN Weight Pruning -- Is It Beneficial in Any Platform? (ADMM-NN-S).

Xiaolong Ma, Sheng Lin, Shaokai Ye, Zhezhi He, Linfeng Zhang, Geng Yuan, Sia Huat Tan, Zhengang Li, Deliang Fan,
Xuehai Qian, Xue Lin, Kaisheng Ma, Yanzhi Wang. arXiv:1907.02124 (IEEE TNNLS 2021).

**Idea.** ADMM-NN-S is the group's ADMM pruning with masked retraining, pushed to 348× on LeNet-5. With it as
the strongest irregular pruning, the paper asks whether irregular (non-structured) sparsity pays off anywhere:
at the same accuracy and the same quantization, the indices irregular weights need outweigh the weights it
saves, and sparse kernels run slower than the smaller dense layers structured pruning leaves; so structured
pruning wins on storage and on speed.

**What is here.** ``experiment.py`` prunes one pretrained LeNet-5 per seed two ways with the suite's ADMM engine
(``bench/compress/admm.py``: ``Irregular``; ``FilterColumn``, a joint projection onto filters and columns) in
three progressive stages each, quantizes each stage to 8 and 4 bits, counts storage with index overhead, reads
both runs at the same accuracy, and times CSR against compacted dense layers on the CPU. ``method.py`` holds
the storage model and the timed GEMMs.

**Deviations and assumptions.**

- The paper's body was not reachable (its abstract was): its storage accounting, per-layer ratios and tables
  are not known here. The index encoding is Deep Compression's relative index (the group's ADMM-NN counts an
  index per weight), at the best width per layer; structured storage is the compacted dense matrix.
- Quantization after pruning is a plain projection onto ``k``-bit levels (``KBit``, one ``α`` per layer) without
  retraining, the same for both forms; the paper quantizes by ADMM.
- Structured pruning keeps the same fraction of every layer (``structured_projections``): rows and columns alike.
- Matched accuracy: ``baseline − 0.5`` pp, or the best accuracy the weaker run reaches if that is lower (at the
  ``cpu`` scale no stage comes within 0.5 pp), interpolated between stages (``*_bracketed`` says whether the stages
  bracket it); the speed comparison uses the last stage of each run meeting it in 8 bits, batch 1, the
  2-core CPU of the run (the paper's platforms are not modelled).
- ``cpu`` scale: 2 epochs of pretraining, per stage 0.75 ADMM epoch (3 updates) and 0.25 retraining epoch
  instead of 40 + 40.
"""
