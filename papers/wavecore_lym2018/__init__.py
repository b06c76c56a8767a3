"""Mini-batch Serialization: CNN Training with Inter-layer Data Reuse (MBS and the WaveCore accelerator).

Sangkug Lym, Armand Behroozi, Wei Wen, Ge Li, Yongkee Kwon, Mattan Erez. arXiv:1810.00307 (v1, September 2018;
the seed's abstract); a later version appeared at MLSys (SysML) 2019. No code was found.

**Idea.** Layer-by-layer training of a deep CNN writes every layer's output activations to DRAM and reads them
back, because one layer's activations for the whole mini-batch do not fit on chip. MBS serializes the mini-batch
across groups of consecutive layers: a group runs all its layers on a sub-batch small enough that the
inter-layer data stays in the on-chip buffer, then the next sub-batch, so activations cross DRAM only at group
boundaries, at the price of re-reading the group's weights once per sub-batch. WaveCore is a systolic training
accelerator built for it. v1's abstract: DRAM traffic -73%, performance +45%, system energy -24% (the later
version: -75%, +53%, -26%).

**What is here.** Every figure is *simulated*, by the suite's model, not the paper's simulator.

- ``method.py``: the suite's analytic DRAM-traffic model of one training step (forward, backward-data and
  weight-gradient passes) over ResNet-50's conv and fc shapes (written in code: torchvision's v1.5, 53 convs and
  the fc, residual adds fused into the last conv of each block), MBS grouping and sub-batch sizing, and a
  roofline time and energy model with ``bench.hardware.systolic.ws_calc_cycles`` for the GEMM cycles.
- ``experiment.py``: ``resnet50_mbs_traffic``, MBS against layer by layer at one buffer size and mini-batch.

**Deviations and assumptions** (the paper's body was not reachable: the literature search found only abstract
pages, e.g. https://arxiv.org/abs/1810.00307 and https://ar5iv.labs.arxiv.org/html/1810.00307, whose stored text
stops in the introduction; every figure below is the suite's, fixed before the first verdict run):

- **Buffer** 10 MiB of on-chip global buffer [unverified belief of the suite about WaveCore]; **mini-batch** 32
  per accelerator; **fp16** words (2 bytes) for activations, weights and gradients.
- **Traffic rules**: BN, ReLU, pooling and residual adds are fused into a conv's reads and writes; a layer-by-layer
  layer's tiling is taken as perfect (each tensor crosses DRAM once per producer write and once per consumer read;
  weights once per pass). Inside an MBS group the tensors a layer's backward needs are **stored** to DRAM in
  forward and read back in backward (``inner="store"``, the headline; the paper's choice is not known), while the
  forward read and both crossings of the gradient of an inner tensor are saved; the variant that keeps only the
  group inputs and recomputes the group's forward in backward (``inner="recompute"``) is reported beside it.
  Weight gradients are partial sums written per sub-batch pass and read back on each later pass.
- **Sub-batch size**: the largest ``s <= B`` for which every layer of the group fits with ``s`` samples of its
  saved input, input gradient, output gradient and held shortcut tensors, plus its weights and weight gradients.
  **Grouping**: the suite's greedy rule (extend the group by the next layer when that costs no more traffic); the
  paper's grouping rule was not found.
- **Array and time**: two 128x128 weight-stationary systolic arrays at 0.7 GHz (TPU-v2-like), work split evenly,
  SCALE-Sim's closed-form cycles per GEMM; DRAM 300 GB/s; time per group is the roofline
  ``max(cycles / freq, bytes / bandwidth)``. Both schedules run on the same array: WaveCore's own utilization
  gains over the paper's conventional accelerator are not modelled.
- **Energy**: 31.2 pJ per DRAM byte (HBM2-class, 3.9 pJ/bit) and 1.5 pJ per fp16 multiply-add; on-chip SRAM
  accesses, static power and the host are left out, so "system energy" is read as DRAM plus MAC energy.
- The paper evaluates several modern CNNs; only ResNet-50 at 224x224 is modelled here.
"""
