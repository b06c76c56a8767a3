"""Classification Accuracy Improvement for Neuromorphic Computing Systems with One-level Precision Synapses.

Yandan Wang, Wei Wen, Linghao Song, Hai Li. ASP-DAC 2017 (best paper), arXiv:1701.01791. No code was found.

**Idea.** Memristor devices reliably hold only one conductance level, so a crossbar's synapses are binary. Three
methods reduce the accuracy lost when a trained network's weights are quantized to one level:
distribution-aware quantization (DQ), quantization regularization (QR) and bias tuning (BT). With them the drop
against the ideal floating-point system is at most 0.19% on MNIST (an MLP and a CNN) and 5.53% on CIFAR-10.

**What is here.** ``method.py``: the one-level quantizers (naive and DQ), the QR term and the quantization;
``experiment.py``: the ladder naive → DQ → DQ+QR → DQ+QR+BT for an MLP and for LeNet on MNIST against the float
network trained for as many iterations.

**Deviations and assumptions.** The paper's body was not reachable (its abstract and introduction were), so the
three methods are this suite's reconstructions from their names, fixed before any verdict run:

- **One level**: a layer's weights take ``{−α, 0, +α}`` (one nonzero conductance, the sign from a differential
  pair of crossbars), ``α`` per layer; biases stay real (neurons), as BT needs.
- **Naive quantization**: one ``α`` for the whole network (the mean ``|w|``), nearest level; **DQ**: per layer, the
  ``α`` and threshold of least squared error (the exact ternary fit); **QR**: ``λ·Σ (w − Q(w))²`` during a further
  training, ``Q`` the DQ quantizer refreshed every 50 steps, ``λ`` chosen on a calibration seed; **BT**: the
  biases alone trained with the quantized weights fixed (Adam, lr 1e-3).
- Networks: an MLP 784-500-300-10 and Caffe's LeNet, trained with Caffe's LeNet recipe (SGD lr 0.01, momentum
  0.9, weight decay 5e-4, batch 64); the float reference is trained for as many iterations as the QR arm.
- ``cpu`` scale: fewer epochs (``claims.yaml``). CIFAR-10 (5.53%) is not implemented yet (``claims.yaml``).
"""
