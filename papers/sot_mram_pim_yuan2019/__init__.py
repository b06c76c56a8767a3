"""A SOT-MRAM-based Processing-In-Memory Engine for Highly Compressed DNN Implementation.

Geng Yuan, Xiaolong Ma, Sheng Lin, Zhengang Li, Caiwen Ding. arXiv:1912.05416v1 (24 Nov 2019); published as "A DNN
Compression Framework for SOT-MRAM-based Processing-In-Memory Engine", IEEE SoCC 2020 (Jieren Deng added as an
author). No official code.

**Idea.** A SOT-MRAM array can compute in place: the MACs of conv and FC layers become bitwise AND, bit-count
and bit-shift over bit planes of weights and activations stored in the cells, with near-zero standby power. But
SOT-MRAM is slow and costly to write and the engine needs low bit-width data, so a dense float network fits it
badly. Compress for the engine: ADMM weight pruning and ADMM quantization to few levels (constraints the engine
imposes, met by the training rather than by rounding afterwards), so fewer cells hold the network and fewer
bitwise operations run per image. Abstract: accuracy and compression better than the reference works; area,
power and throughput of the engine significantly improved (no number in the abstract).

**What is here.** ``method.py``: the weight quantizer of the engine's bit width, the bitwise multiply (AND, popcount,
shift over two's complement bit planes, checked against the integer dot product), the per-image count of one-bit AND
operations and of cells of a network stored as compacted filter+column matrices (activations are put on 8-bit levels
by ``bench.hardware.analog.quantized_inputs``). ``experiment.py``: LeNet-5/MNIST (the shared recipe
``bench/compress/mnist_lenet.py``): filter+column ADMM pruning, masked retraining, ADMM quantization of the kept
weights with the pruning masks frozen (a second ``admm_stage``); against the dense network trained for the same
epochs, and against the same stage without the ADMM term followed by direct rounding. The counting model lives in
``method.py`` (no shared ``bench/`` module has a bitwise PIM count; it reuses ``bench.hardware.crossbar._matrix`` for
the lowering).

**Sources.** Title, authors, dates and abstract: the arXiv listing (read through mirrors: arxiv.boxedpaper.com,
emergentmind, paperswithcode); the SoCC 2020 version: UMN's experts page and a library record. The bitwise
operation set (AND, bit-count, bit-shift), SOT-MRAM's higher write latency and energy than SRAM/DRAM, and the
authors' view that binarized weights cost too much accuracy: the paper's introduction in deepai.org's copy of the
arXiv text [3rd]. Nothing past the introduction was reachable.

**Deviations and assumptions.**

- Weight bit width: 2 bits, ternary levels ``{−α, 0, α}`` per layer in every layer [assumption: the paper's
  bit widths were not reachable; ../shared/PAPERS.md says 1-2 bits [unverified], and the introduction argues
  against binary weights]. Two's complement holds them in 2 bits.
- Activations: 8 bits [assumption: not reachable], applied at evaluation only (each layer's input rounded to
  8-bit integers with a per-layer scale from 1000 training images; signed where the input has negative values,
  since Caffe's LeNet-5 has no ReLU after its convolutions). No training with quantized activations, hence no
  straight-through estimator. The compressed network's accuracy with float activations is reported beside.
- Pruning: filter+column ADMM at 40x [assumption: the paper's LeNet-5 rate was not reachable] in the shared
  template's per-layer proportions (``structured_projections(40, "template")``).
- The quantization stage: ADMM onto the levels for ``quant_epochs`` with updates every ``quant_period`` and
  initial ``quant_rho`` (the template's 40, 4 and 1e-3 at the full scale [assumption: the paper's quantization
  schedule was not reachable]), the pruning masks frozen, then the hard projection; no retraining after it. At
  the ``cpu`` scale (0.5 epoch, 4 updates) ``quant_rho`` is 0.22, so that ρ summed over the stage's steps equals
  the template's (160) [assumption, a rule fixed before any run at that scale]: with the template's 1e-3 the
  ADMM term would move a weight by about 1e-3 over 470 steps, against a rounding error of about 1e-2, and the
  stage would be rounding under another name. The pruning stage keeps the recipe's ρ (1e-3), as in prm_ma2019.
- The rounding baseline gets the same stage without the ADMM term (an ADMM stage with no constrained layer: the
  same SGD, schedule, data order and masks), then the same projection: equal epochs, so any gap is the ADMM term.
- Cost model (the suite's, not the authors'): one AND + popcount per pair of weight and activation bit planes,
  counted as one-bit ANDs per image, and one cell per stored bit; compacted filter+column matrices need no index;
  the dense reference at 8-bit weights and 8-bit activations [assumption]. No SOT-MRAM device constants (energy
  per operation, write latency, sub-array size, peripherals): only counts, whose ratios follow from the rate and
  the bit widths by construction. Biases and pooling are not counted.
- ``cpu`` scale: prm_ma2019's schedule (2 pretraining epochs, 1 ADMM epoch with 4 updates, 0.5 retraining
  epoch) plus a 0.5-epoch quantization stage with 4 updates, the same for the rounding arm and 2 epochs for the
  dense arm: 6.5 training epochs of 60k images per seed, about 2 minutes per seed on 2 cores (prm_ma2019's
  3.75 epochs took 61 s per seed on the 2-core AMD EPYC), about 6 minutes for 3 seeds.
"""
