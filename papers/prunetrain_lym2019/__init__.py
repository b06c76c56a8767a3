"""PruneTrain: Fast Neural Network Training by Dynamic Sparse Model Reconfiguration.

Sangkug Lym, Esha Choukse, Siavash Zangeneh, Wei Wen, Sujay Sanghavi, Mattan Erez. SC'19, arXiv:1901.09290. Code:
a mirror of the authors' repository, ``VictorSuciu/prunetrain`` (``src/custom/group_lasso_regs.py``, ``src/cifar.py``,
``src/custom/checkpoint_utils.py``, ``configs/cifar_resnet32.yaml``; read through ``../shared/SOURCES-WAVE2.md``,
nothing copied).

**State.** Measured at the ``cpu`` scale (3 seeds, 559 s, Intel Xeon): a ResNet-20 at half width on 10k CIFAR-10
images for 8 epochs. At the paper's λ rule no channel reached zero, so nothing was removed: training and inference
FLOPs are the dense network's, the loop is 4% slower, the accuracy the same. The three measured claims are not
reproduced in this regime, which is too short for the rule (the summed learning rate of the run, which scales the
penalty's pull on each group, is about 114 times smaller than over the code's 182 epochs). The reconfiguration
itself is tested exact; the ``full`` scale is the code's ResNet-32 configuration, beyond a lent GPU's 15 minutes
at both arms' 182 epochs.

**Idea.** Pruning usually makes inference cheaper after a full training run. PruneTrain makes the training itself
cheaper: a group Lasso over channels, its weight set once at the first batch so that it is a fifth of the objective,
drives whole channels to zero while the network trains from scratch, and every few epochs the network is rebuilt
from its surviving channels, so every later step runs a smaller dense network. The abstract (v1): 30-50% fewer
training FLOPs and 20-30% less measured GPU training time on ResNets and VGGs for CIFAR-10/100 and ImageNet.

**What is here.** ``method.py``: a CIFAR ResNet with explicit widths (:class:`method.PrunableResNet`), PruneTrain's
channel groups as terms of SSL's group Lasso (``papers.ssl_wen2016.method``; no second implementation), the
first-batch λ, the zeroing, and the reconfiguration with the union rule at residual joins and the optimizer's
momentum carried over (tested: the rebuilt network computes exactly what the masked one does); training FLOPs by
``torch.utils.flop_counter`` through a ledger of the architecture in force. ``experiment.py``: dense and PruneTrain
arms from the same initial weights and data order, compared in cumulative training FLOPs, final inference FLOPs,
CPU training time and accuracy.

**Deviations and assumptions.**

- The code's zeroing is broken in every reachable copy (``torch.where(param < threshold, 0, param)``: no ``abs``,
  and the result is bound to a local name, so no weight is ever zeroed there); the suite zeroes ``|w| < 1e-4`` in
  place and tests liveness on ``|w|``, which is what the code means to do.
- The network at ``cpu`` is a small CIFAR ResNet on a subset of CIFAR-10 (the suite's JPEG re-encoding) for a few
  epochs, reconfigured every epoch (the code: ResNet-32, 182 epochs, every 10); the ``full`` scale is the code's
  configuration.
- An inner channel (conv1's output, conv2's input) is removed when either its conv1 filter or its conv2 input slice
  is all zero: with a zero filter the channel still carries the constant ``relu(bn1(0))`` into conv2, which the
  removal drops (``method``'s docstring); the code removes such channels too (a channel is dense only if its
  weights are).
- The shortcut where a stage changes width is a 1×1 convolution with BatchNorm (the code's ResNets); its filters
  and input channels are grouped like any conv's.
- The optimizer's momentum buffers are sliced and carried into the rebuilt network's optimizer (the issue asks for
  it); the code also re-creates its SGD optimizer every epoch (``carry_state: false`` does that at each
  reconfiguration).
- Training FLOPs count convolutions and matrix products (forward and backward) as ``FlopCounterMode`` does; BatchNorm,
  ReLU, pooling and the optimizer's update are not counted, in either arm.
- Training time is measured on this machine's CPU, not the paper's GPUs; both arms run in one process, one after
  the other.
"""
