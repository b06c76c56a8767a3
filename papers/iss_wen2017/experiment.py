"""ISS's proxy: a PTB LSTM language model learns Intrinsic Sparse Structures by group Lasso, is rebuilt smaller and
fine-tuned, and is compared with the dense model trained on for the same steps, with an LSTM of the learned sizes
trained from scratch, and in CPU inference time.

Per seed: one dense 2-layer LSTM LM is pretrained (``bench.compress.ptb_lm``: Adam, as RTMobile's and DARB's
proxies). From the same weights:

- ``dense``: trained on with exactly the ISS arm's two phases (steps, rates, cosine schedules), without the
  penalty, the zeroing or the frozen zeros (the no-loss reference; ``train_on``);
- ``iss``: trained with the ISS group Lasso (``method.iss_penalty``, weight ``lam``, each layer's term weighted by
  the square root of its group size) and the per-step zeroing of weights below 1e-4 for ``admm_epochs`` from
  ``admm_lr`` cosine-annealed to 0 (the phase field names are the recipe's), rebuilt as an LSTM
  of the surviving components (``method.shrink``), then fine-tuned with its zeros frozen for ``retrain_epochs``
  from ``retrain_lr``, cosine-annealed;
- ``scratch``: an LSTM of the sizes ISS learned, freshly initialized, trained with the same optimizers for as many
  steps as the ISS model had in all (pretraining, ISS and fine-tuning).

Metrics: test perplexity per arm on a prefix of ``ptb.test.txt``; the learned hidden sizes and their kept fraction;
the CPU inference speedup of the learned LSTM's layers over the dense LSTM's (one thread, batch 1, a ``bptt``-long
window of embedded input; ``bench.latency.time_interleaved``, the median of interleaved rounds); the fraction of the
model's weights that remain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from bench.compress import ptb_lm
from bench.latency import median_speedups, time_interleaved
from bench.registry import experiment
from bench.train import classification_loss, seed_everything, train
from papers.iss_wen2017 import method


@dataclass
class ISSConfig(ptb_lm.PTBPruneConfig):
    """The suite's recipe [assumption: ISS's small configuration (2 × 200, 13 SGD epochs) does not fit the cpu
    scale; 2 × 128 units, Adam pretraining, and an ISS phase of a few hundred SGD steps instead]."""

    cell: str = "lstm"
    hidden: int = 128
    train_tokens: int = 929_589  # all of ptb.train.txt, read for less than one epoch
    test_tokens: int = 20_000
    bptt: int = 20  # Zaremba's small configuration (ISS's SmallConfig: 20 steps)
    optimizer: str = "adam"  # pretraining (plain SGD does not learn context in budget: rtmobile_dong2020's config)
    lr: float = 1e-3
    decay_after: float = 100.0  # no decay inside the short pretraining
    pretrain_epochs: float = 0.8  # 1858 steps (DARB's; 1510 left the LSTM at 312 on calibration seed 1000)
    prune_optimizer: str = "sgd"  # the ISS phase and fine-tuning (ISS's code: plain SGD)
    admm_epochs: float = 0.17  # the ISS phase: 395 steps at admm_lr, constant
    admm_lr: float = 0.5
    retrain_epochs: float = 0.086  # fine-tuning: 199 steps from retrain_lr, cosine-annealed
    retrain_lr: float = 0.5
    # Chosen on calibration seed 1000 before any verdict run, by the sizes alone (no perplexity of an arm was looked
    # at): at a constant rate no component reached exactly zero (lam 0.02 to 0.1: every weight hovered around zero
    # under the subgradient, so the element-wise zeroing never caught a whole group), hence the rate annealed to 0
    # as ISS's own schedule decays it; with one lam for both layers the first layer's groups (1664 weights) died
    # long before the second's (11152, the decoder's columns among them): lam 0.05 kept (85, 128) units, 0.1 kept
    # (0, 95), so each layer's term is weighted by sqrt(group size) (Yuan & Lin); lam was then the smallest of
    # 0.0006, 0.0008, 0.001, 0.0012, 0.0017, 0.0025 keeping at most 40% of each layer: 0.0012 kept (43, 22)
    # (0.001 kept (116, 64); 0.0017 cut the first layer to 0, so the operating point sits near a cliff)
    iss_anneal: bool = True  # the ISS phase's rate cosine-annealed to 0
    size_weighted: bool = True  # each layer's lam times sqrt(its group size)
    lam: float = 0.0012  # the group-Lasso weight (ISS's code: 0.00245 at lr 1 for 55 epochs, unweighted)
    zero_threshold: float = method.ZERO_THRESHOLD
    timing_rounds: int = 30


def _iss_loss(lam: float, size_weighted: bool):
    def loss(wrapper: ptb_lm.TruncatedBPTT, batch) -> torch.Tensor:
        return classification_loss(wrapper, batch) + method.iss_penalty(wrapper.lm, lam, size_weighted)
    return loss


def _phase(model, ids: torch.Tensor, cfg: ISSConfig, epochs: float, lr: float, anneal: bool, desc: str, **hooks):
    """``epochs`` of clipped training at ``lr`` (cosine-annealed to 0 when ``anneal``) with the prune optimizer."""
    steps = ptb_lm.epoch_steps(cfg, len(ids), epochs)
    opt = ptb_lm.make_optimizer(model.parameters(), cfg, lr, cfg.prune_optimizer)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if anneal else None
    train(ptb_lm.TruncatedBPTT(model), ptb_lm.windows(ids, cfg), steps=steps, optimizer=opt, scheduler=sched,
          desc=desc, **hooks)


def train_on(base: ptb_lm.RecurrentLM, ids: torch.Tensor, cfg: ISSConfig) -> ptb_lm.RecurrentLM:
    """The dense arm: a copy of ``base`` trained with exactly the ISS arm's two phases (steps, rates, schedules),
    without the penalty, the zeroing or the frozen zeros."""
    model = copy.deepcopy(base)
    _phase(model, ids, cfg, cfg.admm_epochs, cfg.admm_lr, cfg.iss_anneal, "dense train")
    _phase(model, ids, cfg, cfg.retrain_epochs, cfg.retrain_lr, True, "dense anneal")
    return model


def learn_iss(base: ptb_lm.RecurrentLM, ids: torch.Tensor, cfg: ISSConfig, desc: str = "iss") -> ptb_lm.RecurrentLM:
    """A copy of ``base`` trained with the ISS penalty and the per-step zeroing (the ISS phase)."""
    model = copy.deepcopy(base)
    _phase(model, ids, cfg, cfg.admm_epochs, cfg.admm_lr, cfg.iss_anneal, desc,
           loss_fn=_iss_loss(cfg.lam, cfg.size_weighted),
           after_step=lambda s: method.zero_small_(model, cfg.zero_threshold))
    return model


def fine_tune(model: method.ShrunkLM, ids: torch.Tensor, cfg: ISSConfig, desc: str = "fine-tune") -> None:
    """Fine-tune the rebuilt LSTM with its zeros frozen, from ``retrain_lr`` cosine-annealed to 0."""
    masks = method.nonzero_masks(model)
    _phase(model, ids, cfg, cfg.retrain_epochs, cfg.retrain_lr, True, desc, after_backward=masks.apply_grad_,
           after_step=masks.apply_)


def from_scratch(sizes, cfg: ISSConfig, streams: ptb_lm.PTBStreams, device: torch.device) -> method.ShrunkLM:
    """An LSTM of ``sizes`` trained from a fresh initialization with the ISS model's optimizers and step counts."""
    model = method.ShrunkLM(streams.vocab, cfg.hidden, sizes).to(device)
    with torch.no_grad():  # Zaremba's initialization, as RecurrentLM
        for p in model.parameters():
            p.uniform_(-cfg.init_scale, cfg.init_scale)
    ptb_lm.train_lm(model, streams.train, cfg, epochs=cfg.pretrain_epochs, desc="scratch pretrain")
    _phase(model, streams.train, cfg, cfg.admm_epochs, cfg.admm_lr, cfg.iss_anneal, "scratch train")
    _phase(model, streams.train, cfg, cfg.retrain_epochs, cfg.retrain_lr, True, "scratch anneal")
    return model


def lstm_speedup(dense: method.ShrunkLM, small: method.ShrunkLM, cfg: ISSConfig) -> float:
    """Median speedup of ``small``'s LSTM layers over ``dense``'s on one thread: batch 1, a ``bptt`` window."""
    x = torch.randn(1, cfg.bptt, cfg.hidden)
    dense, small = dense.cpu().eval(), small.cpu().eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            times = time_interleaved({"dense": lambda: dense.recurrent_forward(x),
                                      "iss": lambda: small.recurrent_forward(x)},
                                     torch.device("cpu"), cfg.timing_rounds, 3)
    finally:
        torch.set_num_threads(threads)
    return median_speedups(times)["iss"]


@experiment(config=ISSConfig, metrics=(
    "iss_over_dense_ppl_ratio", "scratch_minus_iss_ppl", "max_hidden_kept_fraction", "lstm_speedup",
    "pretrained_ppl", "ppl_dense", "ppl_iss", "ppl_iss_before_finetune", "ppl_scratch", "hidden_l0", "hidden_l1",
    "weights_kept_fraction"))
def ptb_lstm_iss(cfg: ISSConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Dense, ISS (learned, rebuilt, fine-tuned) and same-size-from-scratch arms of one pretrained PTB LSTM LM."""
    if cfg.layers != 2:
        raise ValueError("the metrics name two layers (hidden_l0, hidden_l1)")
    streams = ptb_lm.ptb_streams(cfg, device)
    seed_everything(seed)
    base = ptb_lm.pretrain(cfg, streams, device, desc=f"pretrain seed {seed}")
    out = {"pretrained_ppl": ptb_lm.lm_perplexity(base, streams.test, cfg)}
    seed_everything(seed * 7919 + 20)
    out["ppl_dense"] = ptb_lm.lm_perplexity(train_on(base, streams.train, cfg), streams.test, cfg)
    seed_everything(seed * 7919 + 30)
    learned = learn_iss(base, streams.train, cfg)
    small = method.shrink(learned)
    out["ppl_iss_before_finetune"] = ptb_lm.lm_perplexity(small, streams.test, cfg)
    fine_tune(small, streams.train, cfg)
    out["ppl_iss"] = ptb_lm.lm_perplexity(small, streams.test, cfg)
    out["hidden_l0"], out["hidden_l1"] = (float(s) for s in small.sizes)
    out["max_hidden_kept_fraction"] = max(small.sizes) / cfg.hidden
    total = sum(p.numel() for p in method.grouped_weights(base))
    kept = sum(int((p != 0).sum()) for n, p in small.named_parameters() if "weight" in n and "embed" not in n)
    out["weights_kept_fraction"] = kept / total
    out["lstm_speedup"] = lstm_speedup(method.as_shrunk(base), small, cfg)
    seed_everything(seed * 7919 + 40)
    scratch = from_scratch(small.sizes, cfg, streams, device)
    out["ppl_scratch"] = ptb_lm.lm_perplexity(scratch, streams.test, cfg)
    out["iss_over_dense_ppl_ratio"] = out["ppl_iss"] / out["ppl_dense"]
    out["scratch_minus_iss_ppl"] = out["ppl_scratch"] - out["ppl_iss"]
    return out
