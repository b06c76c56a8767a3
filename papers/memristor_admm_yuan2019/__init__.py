"""An Ultra-Efficient Memristor-Based DNN Framework with Structured Weight Pruning and Quantization Using ADMM.

Geng Yuan, Xiaolong Ma, Caiwen Ding, Sheng Lin, Tianyun Zhang, Zeinab S. Jalali, Yilong Zhao, Li Jiang, Sucheta
Soundarajan, Yanzhi Wang. ISLPED 2019, arXiv:1908.11691. No official code (models at a short link); the crossbar-block
projection follows the group's ``balanced_block_prune_filter`` (read through ``../shared/SOURCES-WAVE2.md``).

**Idea.** Memristor crossbars compute matrix-vector products in place, but a dense network needs many crossbars and
many ADC conversions. Prune and quantize with the crossbars in mind: ADMM onto pruning in crossbar blocks (each
crossbar's share of a layer keeps the same number of columns, so the pruned columns pack away), onto the conductance
levels of the devices (few bits per weight), then masked mapping and retraining. Abstract: 29.81x (VGG-16) and
20.88x (ResNet-18) compression with 0.5% and 0.76% accuracy loss, 96-98% less power and area.

**What is here.** ``method.py``: the crossbar-block constraint set (the engine's ``BalancedBlocks`` with one block per
crossbar height of inputs), the quantization, the arrays (``bench.hardware.imc.IMCArray``) and the lowered
inputs of a network for counting ADC conversions. ``experiment.py``: Caffe's CIFAR-10 ConvNet (the paper's own
small CIFAR network), dense, crossbar-block and irregular arms from the same pretrained weights, each mapped.

**Deviations and assumptions.**

- The paper was not reachable; the ConvNet's figures, the 32x32 crossbars, the 4-bit cells, the positive and
  negative crossbars and the 9-bit baseline come from a third-party notes file built from its full text [3rd].
- The arrays, power and area are the suite's model (``bench.hardware.imc.IMCArray``), not the authors' MATLAB
  model: area as the number of crossbars, power as ADC conversions per image with 8-bit bit-serial inputs, every
  fragment read, one conversion per used column per input bit; no device model, no peripheral energy.
- conv1 (2.4K of 89K weights, 3 input channels) stays dense; conv2, conv3 and ip1 are pruned at the rate that makes
  the whole network 5.88x. The quantization is the final projection of ADMM quantization (the best scale per
  layer, 5 bits), without the ADMM quantization phase and its retraining.
- A 10k-image subset (the JPEG q75 re-encoding) and pneumonia_li2019's short schedule, not the paper's.
- aihwkit (IBM's analog-device simulator) was not used: its only wheel for this Python (1.1.0) imports beside the
  suite's torch 2.15 but fails at the first tile ("weights must be a CPU tensor", an ABI mismatch with the torch it
  was built for), 1.2.0 is a source distribution (CMake, BLAS), and a second environment with its own CUDA build
  of torch (about 5.5 GB) did not fit the CI machine's disk, which the suite's own install already ran out of.
  This proxy has no device noise; the model counts structure only.
"""
