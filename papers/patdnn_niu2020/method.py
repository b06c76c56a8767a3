"""PatDNN's compression: kernel patterns and kernel connectivity, each its own ADMM constraint set.

PatDNN prunes a 3×3 conv in two dimensions at once: inside every kernel, 4 of the 9 weights survive in one of a
small library of patterns (the centre always kept, :class:`bench.compress.structured.Pattern`), and whole kernels
are removed so that one kernel in ``ρ_c`` survives (connectivity, :class:`bench.compress.structured.Connectivity`,
by kernel L2 norm). The extended ADMM gives each set its own auxiliary variable and dual (``Z, U`` for the
patterns, ``Y, V`` for the connectivity): in the shared engine (``bench.compress.admm.ADMM``) that is two targets on
the same parameter, and the hard projection at the end applies connectivity first, then the pattern, as the
unofficial PatDNN code does (SOURCES-WAVE2.md, family F1).

The network and the library are PCONV's (``papers.pconv_ma2020.method``): the same 4-conv 3×3 CNN, the library of
the 8 most frequent centre-plus-three candidates of the pretrained network.

**Assumption.** Connectivity is applied to every conv but the first (3 input channels: 48 kernels of 27 weights in
all); PatDNN's per-model connectivity rates are not reachable, so the unofficial code's default ``ρ_c = 3.6`` is
taken. Conv compression at these rates: the first conv 9/4 = 2.25×, the others (9/4)·3.6 ≈ 8.1×.
"""

from __future__ import annotations

from bench.compress.admm import Filter, Irregular, Projection, _kept
from bench.compress.structured import Connectivity, Pattern
from papers.pconv_ma2020.method import CONVS, PatternCNN, conv_weights, extracted_library

__all__ = ["CONVS", "PatternCNN", "conv_weights", "extracted_library", "patdnn_targets", "layer_prune_ratios",
           "equal_count_targets"]

CONNECTIVITY_RATE = 3.6  # ρ_c: one kernel in 3.6 kept (the unofficial code's --connect_perc default)
CONNECTED = ("conv2", "conv3", "conv4")  # connectivity-pruned layers (assumption: not the first)


def patdnn_targets(model: PatternCNN, library, rate: float = CONNECTIVITY_RATE) -> dict[str, tuple]:
    """ADMM targets: ``<conv>/connectivity`` (listed first, so the hard projection applies it first) and
    ``<conv>/pattern`` on the same weight parameters."""
    out: dict[str, tuple] = {}
    weights = conv_weights(model)
    for name in CONNECTED:
        out[f"{name}/connectivity"] = (weights[name], Connectivity(1 - 1 / rate))
    for name, w in weights.items():
        out[f"{name}/pattern"] = (w, Pattern(library=tuple(library)))
    return out


def layer_prune_ratios(model: PatternCNN, rate: float = CONNECTIVITY_RATE) -> dict[str, float]:
    """The fraction of each conv's weights that PatDNN's two sets prune (what the baselines prune too)."""
    ratios = {}
    for name, w in conv_weights(model).items():
        kernels = w.shape[0] * w.shape[1]
        kept_kernels = _kept(kernels, 1 - 1 / rate) if name in CONNECTED else kernels
        ratios[name] = 1 - kept_kernels * 4 / (kernels * 9)
    return ratios


def equal_count_targets(model: PatternCNN, kind: str, rate: float = CONNECTIVITY_RATE) -> dict[str, tuple]:
    """One target per conv for a baseline pruning the same fraction of each layer: ``irregular`` (anywhere in the
    layer) or ``filter`` (whole output filters; the nearest filter count)."""
    cls: type[Projection] = {"irregular": Irregular, "filter": Filter}[kind]
    ratios = layer_prune_ratios(model, rate)
    return {n: (w, cls(ratios[n])) for n, w in conv_weights(model).items()}
