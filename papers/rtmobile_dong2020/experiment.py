"""RTMobile's proxy: block row pruning (BSP) of a PTB GRU language model against unstructured and whole-row pruning
at the same compression, by the same ADMM, from the same pretrained weights.

Per seed: one dense GRU LM (``bench.compress.ptb_lm``: 2 layers, Zaremba-style recipe on a PTB train prefix) is
pretrained. From the same weights, three arms get the same ADMM and retraining epochs, each with every recurrent
matrix (``weight_ih_l{k}``, ``weight_hh_l{k}`` of both layers) constrained at prune ratio ``ratio`` (0.9: 10×):

- ``bsp``: ``BlockRows(ratio, blocks)``, 4 column blocks each keeping its rows of largest norm (RTMobile);
- ``unstructured``: ``Irregular(ratio)``;
- ``row``: ``BlockRows(ratio, 1)``, whole rows.

Metrics: test perplexity of each arm on a prefix of ``ptb.test.txt``, the pretrained model's, the ratios and
differences the claims test, the ADMM residuals and kept fractions (health), and the index bits per kept weight of
the BSP format against CSR (context).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.compress import ptb_lm
from bench.compress.admm import ADMM
from bench.registry import experiment
from bench.train import seed_everything
from papers.rtmobile_dong2020 import method


@dataclass
class RTMobileConfig(ptb_lm.PTBPruneConfig):
    """The suite's recipe [assumption: RTMobile's TIMIT recipe (PyTorch-Kaldi GRU 2×1024, RMSprop) does not apply
    to a PTB LM; the multi-stage pruning schedule behind the zoo's logs is unverified, so one ADMM stage]."""

    cell: str = "gru"
    hidden: int = 128  # 2 × 128 GRU: a seed fits the cpu scale (2 × 200 took ~2× longer per token)
    train_tokens: int = 929_589  # all of ptb.train.txt, read for less than one epoch
    test_tokens: int = 20_000
    bptt: int = 20  # Zaremba's small configuration
    # Settings chosen on calibration seed 1000 by health alone (pretrained test perplexity < 300, the largest
    # relative ADMM residual < 0.1), before any verdict run. Plain SGD at lr 1 (Zaremba) had not learnt context in
    # budget (perplexity 575 after 856 steps of a 150k-token prefix, 376 after 1500 steps of the whole text; a
    # unigram model's is 665): Adam at 1e-3, as the ADMM group's RNN code trains, reached 249 in 1510 steps.
    optimizer: str = "adam"
    lr: float = 1e-3
    decay_after: float = 100.0  # no decay inside the short pretraining
    pretrain_epochs: float = 0.65  # 1510 steps
    # ADMM and retraining by clipped SGD: with Adam at 1e-3 ADMM did not converge (BSP's residual 0.84 at rho
    # 0.01, 0.99 at 0.1, 1.08 at 1.0); SGD at 0.5 with rho 0.05 left it at 0.085 (rho 0.5: 0.010; the smaller
    # passing rho was taken)
    prune_optimizer: str = "sgd"
    admm_lr: float = 0.5
    retrain_lr: float = 0.5
    admm_epochs: float = 0.17  # 396 steps, the dual update every 66 steps (6 updates)
    admm_updates_per_epoch: int = 35
    retrain_epochs: float = 0.086  # 199 steps
    ratio: float = 0.9  # prune ratio of every recurrent matrix (10×, the zoo's smallest compression)
    blocks: int = 4  # column blocks of BSP (the group's cross_x = 4)
    rho: float = 0.05


def _storage_bits(model, fmt) -> float:
    """Index bits per kept weight over all recurrent matrices in format ``fmt`` (a function of a weight)."""
    st = [fmt(w.detach()) for w in ptb_lm.recurrent_weights(model).values()]
    return sum(s.index_bits for s in st) / max(1, sum(s.kept for s in st))


@experiment(config=RTMobileConfig, metrics=(
    "bsp_over_unstructured_ppl_ratio", "row_minus_bsp_ppl", "pretrained_ppl",
    *(f"ppl_{a}" for a in method.ARMS), *(f"admm_residual_{a}" for a in method.ARMS),
    *(f"kept_fraction_{a}" for a in method.ARMS), "bsp_index_bits_per_kept", "csr_index_bits_per_kept"))
def ptb_gru_block_row_pruning(cfg: RTMobileConfig, seed: int, device: torch.device) -> dict[str, float]:
    """BSP, unstructured and whole-row ADMM pruning of one pretrained PTB GRU LM, at equal compression."""
    streams = ptb_lm.ptb_streams(cfg, device)
    seed_everything(seed)
    base = ptb_lm.pretrain(cfg, streams, device, desc=f"pretrain seed {seed}")
    out = {"pretrained_ppl": ptb_lm.lm_perplexity(base, streams.test, cfg)}
    models = {}
    for i, arm in enumerate(method.ARMS):
        seed_everything(seed * 7919 + 10 * (i + 2))  # dropout's draws, if any, per arm
        proj = method.projection(arm, cfg.ratio, cfg.blocks)
        projections = {n: proj for n in ptb_lm.recurrent_weights(base)}
        pruned = ptb_lm.admm_prune_lm(base, projections, streams.train, cfg, desc=arm, admm_cls=ADMM)
        models[arm] = pruned.model
        out[f"ppl_{arm}"] = ptb_lm.lm_perplexity(pruned.model, streams.test, cfg)
        out[f"admm_residual_{arm}"] = pruned.residual
        out[f"kept_fraction_{arm}"] = ptb_lm.kept_fraction(pruned.model)
    out["bsp_over_unstructured_ppl_ratio"] = out["ppl_bsp"] / out["ppl_unstructured"]
    out["row_minus_bsp_ppl"] = out["ppl_row"] - out["ppl_bsp"]
    bsp_proj = method.bsp(cfg.ratio, cfg.blocks)
    out["bsp_index_bits_per_kept"] = _storage_bits(models["bsp"], lambda w: method.block_rows_storage(w, bsp_proj))
    out["csr_index_bits_per_kept"] = _storage_bits(models["unstructured"], method.csr_storage)
    return out
