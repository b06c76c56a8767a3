"""DARB's proxy: density-adaptive regular blocks against irregular pruning, block-max masking and regular block
pruning of a PTB LSTM language model, by the same ADMM, from the same pretrained weights.

Per seed: one dense LSTM LM (``bench.compress.ptb_lm``: 2 layers, Zaremba-style recipe on a PTB train prefix) is
pretrained. From the same weights, five arms get the same ADMM and retraining epochs, every recurrent matrix
(``weight_ih_l{k}``, ``weight_hh_l{k}`` of both layers) constrained:

- ``dense``: trained on unconstrained for the same epochs (the no-loss reference);
- ``irregular``: ``Irregular`` at ``1/compression`` kept (16×);
- ``bmwm``: block-max weight masking, ``BlockMax`` with one block length ``round(compression)`` (16);
- ``darb``: ``method.DensityAdaptiveBlocks`` with per-line lengths from ``method.darb_block_sizes`` of the
  pretrained matrix (at most the irregular kept count);
- ``block``: ``method.Blocks2D`` (4×4 blocks) at ``block_advantage`` times DARB's kept share (2.8: the low end of
  the abstract's "2.8× to 4.3×" over structured counterparts), i.e. 16/2.8 = 5.7× compression.

Metrics: test perplexity per arm on a prefix of ``ptb.test.txt``, the ratios and differences the claims test, the
index bits per kept weight of each arm's format (CSR for irregular), kept fractions and ADMM residuals (health).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.compress import ptb_lm
from bench.compress.admm import ADMM, Irregular
from bench.compress.structured import BlockMax, block_max_storage, csr_storage
from bench.registry import experiment
from bench.train import seed_everything
from papers.darb_ren2019 import method

ARMS = ("dense", "irregular", "bmwm", "darb", "block")
PRUNED = ARMS[1:]


@dataclass
class DARBConfig(ptb_lm.PTBPruneConfig):
    """The suite's recipe [assumption: DARB's PTB setting (LSTM-1500, per the group's hard-coded sizes) and
    schedule were not reachable; the density-to-block-size rule is the suite's (method.darb_block_sizes)]."""

    cell: str = "lstm"
    hidden: int = 128  # 2 × 128 LSTM: a seed fits the cpu scale
    train_tokens: int = 929_589  # all of ptb.train.txt, read for less than one epoch
    test_tokens: int = 20_000
    bptt: int = 20  # Zaremba's small configuration
    # Adam pretraining (the ADMM group's RNN code trains with Adam): plain SGD at lr 1 had not learnt context in
    # budget (calibration seed 1000: test perplexity 664 after 856 steps, a unigram model's being 665)
    optimizer: str = "adam"
    lr: float = 1e-3
    decay_after: float = 100.0  # no decay inside the short pretraining
    pretrain_epochs: float = 0.8  # 1858 steps
    # ADMM and retraining by clipped SGD: with Adam (lr 1e-3) ADMM did not converge on RTMobile's calibration seed
    # (relative residual 0.84 at rho 0.01, 1.08 at rho 1.0); SGD at 0.5 with rho 0.05 left it at 0.085
    prune_optimizer: str = "sgd"
    admm_lr: float = 0.5
    retrain_lr: float = 0.5
    admm_epochs: float = 0.1  # 232 steps, the dual update every 33 steps (7 updates)
    admm_updates_per_epoch: int = 70
    retrain_epochs: float = 0.05  # 116 steps
    compression: float = 16.0  # total / kept weights of every recurrent matrix (inside the abstract's 13-25×)
    block_advantage: float = 2.8  # regular block pruning keeps this many times DARB's share
    block_shape: tuple[int, int] = (4, 4)
    # ρ: RTMobile's calibrated value (same recipe and ADMM engine). Checked on calibration seed 1000 with these
    # settings, by health alone, before any verdict run: pretrained perplexity 281 (< 300), largest relative ADMM
    # residual 0.024 (BMWM) to 0.038 (irregular) (< 0.1), kept fractions exact (0.0625; block 0.175); 132 s with
    # two threads
    rho: float = 0.05

    def __post_init__(self):
        self.block_shape = tuple(self.block_shape)


def _bits(model, fmt) -> float:
    """Index bits per kept weight over all recurrent matrices in format ``fmt(name, weight) -> Storage``."""
    st = [fmt(n, w.detach()) for n, w in ptb_lm.recurrent_weights(model).items()]
    return sum(s.index_bits for s in st) / max(1, sum(s.kept for s in st))


@experiment(config=DARBConfig, metrics=(
    "darb_over_irregular_ppl_ratio", "darb_over_dense_ppl_ratio", "bmwm_over_irregular_ppl_ratio",
    "bmwm_minus_darb_ppl", "block_minus_darb_ppl", "darb_over_csr_index_bits", "pretrained_ppl",
    *(f"ppl_{a}" for a in ARMS), *(f"admm_residual_{a}" for a in PRUNED), *(f"kept_fraction_{a}" for a in PRUNED),
    *(f"index_bits_per_kept_{a}" for a in PRUNED), "darb_mean_block", "line_density_spread"))
def ptb_lstm_darb(cfg: DARBConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense, irregular, BMWM, DARB and regular-block arms from one pretrained PTB LSTM LM."""
    streams = ptb_lm.ptb_streams(cfg, device)
    seed_everything(seed)
    base = ptb_lm.pretrain(cfg, streams, device, desc=f"pretrain seed {seed}")
    out = {"pretrained_ppl": ptb_lm.lm_perplexity(base, streams.test, cfg)}
    ratio = 1 - 1 / cfg.compression
    block_ratio = 1 - cfg.block_advantage / cfg.compression
    weights = ptb_lm.recurrent_weights(base)
    darb = {n: method.DensityAdaptiveBlocks(ratio, sizes=method.darb_block_sizes(w, ratio)) for n, w in weights.items()}
    projections = {
        "irregular": {n: Irregular(ratio) for n in weights},
        "bmwm": {n: BlockMax(ratio) for n in weights},
        "darb": darb,
        "block": {n: method.Blocks2D(block_ratio, block=cfg.block_shape) for n in weights},
    }
    models = {}
    for i, arm in enumerate(ARMS):
        seed_everything(seed * 7919 + 10 * (i + 2))  # dropout's draws, if any, per arm
        pruned = ptb_lm.admm_prune_lm(base, projections.get(arm, {}), streams.train, cfg, desc=arm, admm_cls=ADMM)
        model = pruned.model
        if arm != "dense":
            out[f"admm_residual_{arm}"] = pruned.residual
            out[f"kept_fraction_{arm}"] = ptb_lm.kept_fraction(model)
        models[arm] = model
        out[f"ppl_{arm}"] = ptb_lm.lm_perplexity(model, streams.test, cfg)
    formats = {"irregular": lambda n, w: csr_storage(w), "bmwm": lambda n, w: block_max_storage(w, BlockMax(ratio)),
               "darb": lambda n, w: method.darb_storage(w, darb[n]),
               "block": lambda n, w: method.block2d_storage(w, projections["block"][n])}
    for arm, fmt in formats.items():
        out[f"index_bits_per_kept_{arm}"] = _bits(models[arm], fmt)
    out["darb_over_irregular_ppl_ratio"] = out["ppl_darb"] / out["ppl_irregular"]
    out["darb_over_dense_ppl_ratio"] = out["ppl_darb"] / out["ppl_dense"]
    out["bmwm_over_irregular_ppl_ratio"] = out["ppl_bmwm"] / out["ppl_irregular"]
    out["bmwm_minus_darb_ppl"] = out["ppl_bmwm"] - out["ppl_darb"]
    out["block_minus_darb_ppl"] = out["ppl_block"] - out["ppl_darb"]
    out["darb_over_csr_index_bits"] = out["index_bits_per_kept_darb"] / out["index_bits_per_kept_irregular"]
    sizes = [b for p in darb.values() for b in p.sizes]
    out["darb_mean_block"] = sum(sizes) / len(sizes)
    spread = []
    for w in weights.values():  # max/min line density of the pretrained matrix's irregular pruning (lines kept > 0)
        k = Irregular(ratio).support(w.detach()).sum(0).double()
        spread.append(float(k.max() / k[k > 0].min()))
    out["line_density_spread"] = max(spread)
    return out
