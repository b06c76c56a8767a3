"""Towards Zero Memory Footprint Spiking Neural Network Training.

Bin Lei, Sheng Lin, Pei-Hung Lin, Chunhua Liao, Caiwen Ding. arXiv:2308.08649 (v1, August 2023). No public
code found.

**Idea.** Training a spiking network by backpropagation through time keeps every node's states at every time
step. A reversible spiking node recomputes its internal states and its input from its output during backward,
so it keeps (almost) nothing: the abstract reports 58.65× less memory than the current SNN node, and, because
the node's backward is streamlined, 23.8% less training time than backpropagation through existing reversible
layer architectures.

**What is here.**

- ``method.py``: snnTorch's LIF node (the standard node); the suite's reversible node, an additive coupling of
  two LIF neurons over channel halves as a custom autograd Function that saves only its output and, in backward,
  reconstructs its input and recomputes the LIF runs; a RevNet-style reversible spiking layer (coupling around
  linear + LIF branches) as the reversible-layer baseline.
- ``experiment.py``: three spiking MLPs on Fashion-MNIST (standard nodes, reversible nodes, reversible layers)
  trained for equal epochs from one seed and data order; bytes saved for backward per training step and by the
  nodes alone (``bench.metrics.memory``); time per training step, side by side.

**Library.** snnTorch (``snntorch.Leaky``, ``snntorch.surrogate.atan``) rather than SpikingJelly: snnTorch 1.0 is
pure Python with no required dependencies, while SpikingJelly 2.0 requires torchaudio (pinned to the exact torch
build), tensorboard and SciencePlots; the suite needs only the LIF neuron and its surrogate gradient.

**Deviations and assumptions.**

- The paper's node equations, its networks (ConvNets on CIFAR-10/100, DVS Gesture, Tiny-ImageNet, per the
  reviews of its ICLR 2024 submission), T and β were not reachable. The node here is the suite's additive
  coupling (../shared/SOURCES-WAVE2.md), labelled as such in the report; its output is real-valued, as the
  reviewers describe the paper's node.
- Because the node saves only its output, which the next linear layer saves anyway as its input, it adds no
  bytes of its own to a training step: the node-memory claim follows from this design (evidence ``derived``);
  what is measured is the standard node's share and the step's total bytes.
- Fashion-MNIST MLP 784-256-256-256-10, T = 4, direct input encoding, logits averaged over time, Adam at 1e-3,
  β = 0.9, threshold 1, subtractive reset, arctan surrogate [assumptions].
- The reversible-layer baseline couples half-width linear maps (a layer has half the weights of the dense
  H×H layer of the other two networks), which favours it in time; it is the RevNet construction, not Zhang &
  Zhang's RevSResNet.
"""
