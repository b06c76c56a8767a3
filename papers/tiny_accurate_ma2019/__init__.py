"""Tiny but Accurate: A Pruned, Quantized and Optimized Memristor Crossbar Framework for Ultra Efficient DNN
Implementation.

Xiaolong Ma, Geng Yuan, Sheng Lin, Caiwen Ding, Fuxun Yu, Tao Liu, Wujie Wen, Xiang Chen, Yanzhi Wang. ASP-DAC 2020,
arXiv:1908.10017 (v1). No official code (models at a short link).

**Idea.** Memristor crossbars compute matrix-vector products in place; a network that is pruned in whole rows and
columns and has few-bit weights needs fewer crossbars and fewer, cheaper peripherals. The paper prunes filters and
columns with ADMM, then post-processes the pruned network with the group's network purification and unused path
removal (P-RM: weights that survive ADMM but do nothing useful, and paths no layer reads any more), retrains it with
knowledge distilled from the software (unpruned) model, and quantizes its weights to the 8-bit memristor
representation. Abstract: "extreme high compression ratio ... with minimum accuracy loss" and "nearly no accuracy loss
after quantizing weights to 8-bit"; through a third-party reading of the full text [3rd]: LeNet-5 231.82x at 98.05%
after 8 bits (dense 99.17%), ResNet-18 on CIFAR-10 59.84x, and crossbar area and power cut by P-RM (Table 2).

**What is here.** ``method.py``: Hinton's distillation loss (a ``bench.train.train`` loss against a frozen
teacher), the 8-bit weights (``bench.compress.admm.KBit``; zeros stay zero) and the crossbar count of a LeNet-5
(``bench.hardware.imc.mapped_arrays`` on the paper's 128x64 crossbars). Purification and unused path removal are
``papers/prm_ma2019/method.py``'s, imported. ``experiment.py``: on the shared LeNet-5/MNIST recipe
(``bench/compress/mnist_lenet.py``), one pretrained dense network per seed, filter+column ADMM at 120x and masked
retraining, P-RM, then two arms from the same weights and data order (plain masked retraining, and masked retraining
distilled from the dense network), 8-bit weights on each, and the crossbars of the dense network, of the 8-bit network
before P-RM and of the 8-bit distilled one after it.

**Deviations and assumptions.**

- The paper was not reachable. Its numbers other than the abstract's qualitative statements, the 128x64 crossbars,
  the 4-bit cells (an 8-bit weight in two), the deeper teacher and the MATLAB/NVSim cost model come from a notes file
  built from its full text [3rd] (``claims.yaml`` says where); the distillation from the software model from an excerpt
  of its introduction.
- Distillation: the teacher is the dense pretrained LeNet-5 (the software model); the paper distils from "a deeper
  teacher" [3rd], not available for LeNet-5 here. ``T = 4`` and ``alpha = 0.9`` are assumptions (no source gave them).
  Distillation is used in the retraining after P-RM only (the ADMM stage and its retraining use cross-entropy), and
  the 8-bit weights are a final projection without ADMM quantization or retraining after it (the paper uses ADMM
  onto the memristor's levels with distillation, its Algorithm 2 [3rd]).
- The ADMM rate before P-RM (120x, the template's layer proportions), the purification thresholds (η 0.9, σ 0.5) and
  the retraining after P-RM (10 epochs; 0.25 at ``cpu``) are ``prm_ma2019``'s assumptions; the paper's rate before
  P-RM is not known.
- The crossbars are the suite's model (``bench.hardware.imc.IMCArray``), not the authors' MATLAB and NVSim model:
  area as the number of crossbars; the sign as a positive and a negative copy (an assumption after the same group's
  ISLPED'19 framework, ``papers/memristor_admm_yuan2019``); no power figure, no device model. The counts on
  ``memristor_admm_yuan2019``'s 32x32 crossbars are reported beside them for context.
- ``cpu`` scale: prm_ma2019's (2 epochs of pretraining, 1 ADMM epoch, 0.5 retraining epoch, 0.25 epoch per arm after
  P-RM) instead of 10.67, 40 + 40 and 10.
- ResNet-18 and VGG-16 (CIFAR-10), the ConvNet against Group Scissor, AlexNet and ResNet-50 (ImageNet) and the absolute
  area and power are not run (``claims.yaml`` says why).
"""
