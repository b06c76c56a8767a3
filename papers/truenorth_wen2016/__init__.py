"""A New Learning Method for Inference Accuracy, Core Occupation, and Performance Co-optimization on TrueNorth Chip.

Wei Wen, Chunpeng Wu, Yandan Wang, Kent Nixon, Qing Wu, Mark Barnell, Hai Li, Yiran Chen. DAC 2016,
arXiv:1604.00697. No code was found.

**Idea.** TrueNorth's synapses are binary: a network trained with real-valued weights is deployed by drawing
each synapse on with a probability (Esser et al., NeurIPS 2015), and several independently drawn copies are
averaged, in space (more cores) or in time (more ticks), to approach the trained network's accuracy. The paper's
learning method constrains the random variance of each copy during training, so fewer copies reach the same
accuracy: up to 68.8% fewer cores, or a 6.5× speedup, at equal or better accuracy.

**What is here.** ``method.py``: the deployment (per layer ``s·sign(w)·Bernoulli(|w|/s)``, with a fixed
``s = 3/√fan_in`` and the weights kept in ``[−s, s]``), the ensemble accuracy against the number of copies,
and the variance penalty ``λ·Σ p(1 − p)``; the core model is ``bench/hardware/truenorth.py`` (256 × 256
cores, simulated). ``experiment.py``: an MLP on MNIST trained with and
without the penalty from the same initialization; copies the method needs for the baseline's accuracy.

**Deviations and assumptions.** The paper's body was not reachable (its abstract and introduction were), so
everything below is this suite's reconstruction, fixed before any verdict run:

- **The penalty** is the summed Bernoulli variance ``Σ p(1 − p)`` (zero at p = 0 or 1, largest at 0.5): the
  paper "constrains the random variance of each computation copy"; a later paper of the group (Cheng et al.,
  DATE 2017) calls it probability-biased learning, biasing connection probabilities toward 0 or 1. Its exact
  form and strength are unknown; ``λ`` was chosen on a calibration seed (``claims.yaml``).
- **The baseline** trains the expected network (real weights) and deploys it; Esser et al.'s training through a
  probabilistic spiking model is not reproduced. Neurons are ReLU units computing in floating point with the
  sampled ``{−s, 0, +s}`` weights (no spikes, leak or thresholds); biases are deterministic; copies are averaged
  at the output.
- **Network**: an MLP 784-512-512-10 (the paper's networks were not reachable), tiled on ``⌈in/256⌉·⌈out/256⌉``
  cores per layer (14 cores per copy); in this model cores and ticks both scale with the copies, so the cores
  ratio and the speedup are two readings of the copies needed: at the baseline's accuracy with 16 copies
  (cores) and with 32 (speed).
"""
