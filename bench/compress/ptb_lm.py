"""A word-level recurrent language model on PTB and its training recipe, shared by the papers that prune recurrent
weight matrices (RTMobile's GRU, DARB's LSTM) and by structured-sparsity-in-training papers with an LSTM.

The recipe is Zaremba, Sutskever & Vinyals (2014), "Recurrent Neural Network Regularization", in its small
configuration's style: embedding → ``layers`` stacked LSTM (or GRU) layers of ``hidden`` units → a linear decoder
over the 10k-word vocabulary (Mikolov's PTB, ``bench.data.load("ptb")``); weights uniform in ``±init_scale``;
plain SGD at lr 1 with the global gradient norm clipped at 5; the training stream cut into ``batch_size`` rows read
in windows of ``bptt`` tokens, the recurrent state carried from one window to the next and detached (truncated
BPTT, ``bench.train.bptt_batches`` and :class:`TruncatedBPTT`); the learning rate halved every epoch after the
first ``decay_after`` epochs; perplexity ``exp(mean cross-entropy)`` over a test stream read the same way with the
state carried (``bench.train.perplexity``, batch 10).

Departures, for the suite's ``cpu`` scale (each a field of :class:`PTBConfig`, so a paper's ``full`` scale can undo
it):

- a **train-token subset**: the first ``train_tokens`` tokens of ``ptb.train.txt`` (929k in all), and the first
  ``test_tokens`` / ``valid_tokens`` tokens of the test / valid files (82k / 74k in all): the perplexities are of
  those prefixes, not the full splits. The vocabulary stays the full 10k (so a perplexity is comparable in kind to
  the literature's, not in value);
- **fewer epochs** than Zaremba's 13 and a hidden size the paper picks (Zaremba: 200), so the dense model is far
  from the 115 perplexity of the small configuration;
- ``bptt`` 35 (Zaremba's medium and large configurations; small used 20) and optional dropout on the
  non-recurrent connections (Zaremba's regularizer; 0 in the small configuration);
- the clipping lives in the optimizer (:class:`ClippedSGD` clips before each step), so that it applies in the
  ADMM engine's loops too, whose ``after_backward`` hook is taken; it clips whatever gradient is there, the ADMM
  penalty's included (as the group's code, which adds the penalty to the loss before clipping);
- optionally **Adam** instead of SGD (``optimizer="adam"``, :class:`ClippedAdam`, clipped the same way), as the ADMM
  group's RNN code trains: at the suite's budgets plain SGD at lr 1 learns too slowly (measured on calibration seed
  1000: a 2 × 128 GRU reached test perplexity 376 after 1500 SGD steps, 251 with Adam at 1e-3, a unigram model's
  being 665 on the same prefix).

Pruning (:func:`admm_prune_lm`, for the papers of the ADMM group): from a pretrained model, ADMM onto one
projection per recurrent matrix (``bench/compress/admm.py``) for ``admm_epochs`` at ``admm_lr``, the dual update
``admm_updates_per_epoch`` times an epoch, then the hard projection and masked retraining for ``retrain_epochs``
from ``retrain_lr``, cosine-annealed to 0 (:class:`PTBPruneConfig`). ADMM's and retraining's schedules are the
suite's. The group's RNN code trains with Adam or RMSprop on TIMIT (SOURCES-WAVE2.md); here the optimizer is chosen
per phase: ``optimizer`` for pretraining, ``prune_optimizer`` for ADMM and retraining (the suite's ADMM engine adds
``ρ(W − Z + U)`` to the gradient; under Adam that pull is rescaled per weight, and at short budgets it did not
bring the weights to the constraint set on a calibration seed, so the papers here prune with SGD).

:func:`recurrent_weights` names the matrices a pruning paper constrains: every layer's input-to-hidden
``weight_ih_l{k}`` (gates stacked: ``(G·hidden, input)``, ``G = 4`` for LSTM in PyTorch's order i, f, g, o;
``G = 3`` for GRU: r, z, n) and hidden-to-hidden ``weight_hh_l{k}`` (``(G·hidden, hidden)``); the biases, the
embedding and the decoder are left dense.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from bench import data
from bench.compress.admm import ADMM, Projection, admm_train, masked_retrain
from bench.registry import ExperimentConfig
from bench.train import Batch, bptt_batches, perplexity, steps_for, train

CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentLM(nn.Module):
    """Embedding → stacked LSTM or GRU → linear decoder. ``forward(x, state)`` returns logits ``(B, T, V)`` and the
    final state as a tuple (``(h, c)`` for an LSTM, ``(h,)`` for a GRU) that the next window can take back."""

    def __init__(self, vocab: int, hidden: int = 200, layers: int = 2, cell: str = "lstm", dropout: float = 0.0,
                 init_scale: float = 0.1):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
        self.cell = cell
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = CELLS[cell](hidden, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden, vocab)
        with torch.no_grad():  # Zaremba et al.: every parameter uniform in ±init_scale
            for p in self.parameters():
                p.uniform_(-init_scale, init_scale)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        h = self.drop(self.embed(x))  # (B, T, H)
        if state is not None and self.cell == "gru":
            state = state[0]
        out, new = self.rnn(h, state)  # (B, T, H)
        logits = self.decoder(self.drop(out))  # (B, T, V)
        return logits, (new,) if self.cell == "gru" else tuple(new)


def recurrent_weights(model: RecurrentLM) -> dict[str, nn.Parameter]:
    """Every layer's ``weight_ih_l{k}`` and ``weight_hh_l{k}`` (the matrices a pruning paper constrains), by name."""
    return {f"{kind}_l{k}": getattr(model.rnn, f"{kind}_l{k}")
            for k in range(model.rnn.num_layers) for kind in ("weight_ih", "weight_hh")}


class TruncatedBPTT(nn.Module):
    """The LM seen by ``bench.train.train`` (and so by the ADMM engine's loops): ``forward(x)`` returns the logits
    flattened to ``(B·T, V)`` for the default classification loss, and carries the recurrent state from one window
    to the next, detached (truncated BPTT). Its parameters are the wrapped model's; one wrapper per training phase
    (a new one starts from a zero state)."""

    def __init__(self, lm: RecurrentLM):
        super().__init__()
        self.lm = lm
        self.state: tuple[torch.Tensor, ...] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.state is not None:
            self.state = tuple(s.detach() for s in self.state)
        logits, self.state = self.lm(x, self.state)  # (B, T, V)
        return logits.flatten(0, 1)


class _ClipBeforeStep:
    """Clips the global gradient norm of the optimizer's parameters to ``self.clip`` before every step (0: none)."""

    clip: float

    def step(self, closure=None):
        if self.clip > 0:
            nn.utils.clip_grad_norm_([p for g in self.param_groups for p in g["params"]], self.clip)
        return super().step(closure)


class ClippedSGD(_ClipBeforeStep, torch.optim.SGD):
    """Plain SGD that clips the global gradient norm of its parameters to ``clip`` before every step (0: no
    clipping)."""

    def __init__(self, params, lr: float, clip: float = 5.0, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        self.clip = clip


class ClippedAdam(_ClipBeforeStep, torch.optim.Adam):
    """Adam that clips the global gradient norm of its parameters to ``clip`` before every step (0: no clipping)."""

    def __init__(self, params, lr: float, clip: float = 5.0, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        self.clip = clip


OPTIMIZERS = {"sgd": ClippedSGD, "adam": ClippedAdam}


def make_optimizer(params, cfg: PTBConfig, lr: float, name: str | None = None) -> torch.optim.Optimizer:
    """The optimizer ``name`` (default ``cfg.optimizer``; ``"sgd"`` or ``"adam"``) at ``lr``, clipping at
    ``cfg.clip``."""
    name = cfg.optimizer if name is None else name
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name](params, lr=lr, clip=cfg.clip)


@dataclass
class PTBConfig(ExperimentConfig):
    """The recipe's knobs (module docstring); a paper subclasses it with its own phases and defaults."""

    cell: str = "lstm"  # "lstm" or "gru"
    train_tokens: int = 200_000  # prefix of ptb.train.txt (929k tokens in all)
    valid_tokens: int = 20_000  # prefix of ptb.valid.txt (74k)
    test_tokens: int = 20_000  # prefix of ptb.test.txt (82k)
    batch_size: int = 20  # rows of the training stream (Zaremba: 20)
    bptt: int = 35  # truncated-BPTT window (Zaremba medium/large: 35; small: 20)
    hidden: int = 200  # embedding and recurrent width (Zaremba small: 200)
    layers: int = 2
    dropout: float = 0.0  # on non-recurrent connections (Zaremba small: 0)
    init_scale: float = 0.1
    optimizer: str = "sgd"  # "sgd" (Zaremba) or "adam" (the ADMM group's RNN code)
    lr: float = 1.0  # plain SGD (Zaremba: 1)
    clip: float = 5.0  # global gradient-norm clip (Zaremba: 5)
    pretrain_epochs: float = 4.0
    decay_after: float = 2.0  # epochs at full lr, then × lr_decay per epoch (Zaremba small: 4 of 13)
    lr_decay: float = 0.5
    eval_batch: int = 10


@dataclass(frozen=True)
class PTBStreams:
    """Token-id streams of the three splits (prefixes, see :class:`PTBConfig`) and the vocabulary size."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    vocab: int


def ptb_streams(cfg: PTBConfig, device: torch.device) -> PTBStreams:
    """The configured prefixes of PTB's three splits, on ``device``."""
    ds = data.load("ptb")
    s = ds.splits
    return PTBStreams(s["train"].x[:cfg.train_tokens].to(device), s["valid"].x[:cfg.valid_tokens].to(device),
                      s["test"].x[:cfg.test_tokens].to(device), len(ds.vocab))


def build_model(cfg: PTBConfig, vocab: int, device: torch.device) -> RecurrentLM:
    """A freshly initialized :class:`RecurrentLM` of the configured shape (seed the RNG first)."""
    return RecurrentLM(vocab, cfg.hidden, cfg.layers, cfg.cell, cfg.dropout, cfg.init_scale).to(device)


def epoch_steps(cfg: PTBConfig, tokens: int, epochs: float) -> int:
    """Optimizer steps in ``epochs`` passes over a ``tokens``-long stream in ``batch_size × bptt`` windows."""
    return steps_for(epochs, tokens // cfg.batch_size, cfg.bptt)


def windows(ids: torch.Tensor, cfg: PTBConfig) -> Iterator[Batch]:
    """Endless training windows ``(x (B, T), y (B·T,))`` (``bench.train.bptt_batches``, targets flattened for
    :class:`TruncatedBPTT`); every phase reads the stream from its start, as Zaremba's epochs do."""
    for x, y in bptt_batches(ids, cfg.batch_size, cfg.bptt):
        yield x, y.reshape(-1)


def decay_schedule(opt: torch.optim.Optimizer, cfg: PTBConfig, steps_per_epoch: int, lr_decay: float | None = None,
                   decay_after: float | None = None) -> torch.optim.lr_scheduler.LambdaLR:
    """Zaremba's schedule as a per-step factor: 1 for ``decay_after`` epochs, then × ``lr_decay`` per epoch."""
    decay = cfg.lr_decay if lr_decay is None else lr_decay
    after = cfg.decay_after if decay_after is None else decay_after

    def factor(step: int) -> float:
        epoch = step / max(1, steps_per_epoch)
        return decay ** (math.floor(epoch - after) + 1) if epoch >= after else 1.0

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def train_lm(model: RecurrentLM, ids: torch.Tensor, cfg: PTBConfig, *, epochs: float, lr: float | None = None,
             decay_after: float | None = None, desc: str = "train lm") -> list[float]:
    """Train ``model`` for ``epochs`` on ``ids`` with the recipe (clipped SGD, decay schedule, carried state);
    return the logged training losses."""
    steps = epoch_steps(cfg, len(ids), epochs)
    opt = make_optimizer(model.parameters(), cfg, cfg.lr if lr is None else lr)
    per_epoch = epoch_steps(cfg, len(ids), 1.0)
    return train(TruncatedBPTT(model), windows(ids, cfg), steps=steps, optimizer=opt,
                 scheduler=decay_schedule(opt, cfg, per_epoch, decay_after=decay_after), desc=desc)


def pretrain(cfg: PTBConfig, streams: PTBStreams, device: torch.device, desc: str = "pretrain") -> RecurrentLM:
    """A dense model trained from scratch for ``cfg.pretrain_epochs`` (seed the RNG first)."""
    model = build_model(cfg, streams.vocab, device)
    train_lm(model, streams.train, cfg, epochs=cfg.pretrain_epochs, desc=desc)
    return model


def lm_perplexity(model: nn.Module, ids: torch.Tensor, cfg: PTBConfig) -> float:
    """Perplexity over a stream (``bench.train.perplexity`` with the configured eval batch and window)."""
    return perplexity(model, ids, cfg.eval_batch, cfg.bptt)



@dataclass
class PTBPruneConfig(PTBConfig):
    """The recipe plus the ADMM pruning phases of :func:`admm_prune_lm`."""

    admm_epochs: float = 1.0  # ADMM-regularized training from the pretrained weights
    admm_updates_per_epoch: int = 4  # Z, U updates (and ρ ← ρ·rho_mult) per epoch
    prune_optimizer: str = "sgd"  # of the ADMM and retraining phases ("sgd" or "adam")
    admm_lr: float = 0.5  # constant during ADMM
    rho: float = 0.01
    rho_mult: float = 1.3
    retrain_epochs: float = 0.5  # masked retraining after the hard projection
    retrain_lr: float = 0.5  # cosine-annealed to 0 over retraining


@dataclass(frozen=True)
class PrunedLM:
    """An arm's outcome: the pruned model and the largest relative ADMM residual ``‖W − Z‖/‖W‖`` at the end of
    the ADMM phase (how far training was from the constraint set when it was projected)."""

    model: RecurrentLM
    residual: float


def admm_prune_lm(base: RecurrentLM, projections: Mapping[str, Projection], ids: torch.Tensor,
                  cfg: PTBPruneConfig, *, desc: str = "prune", admm_cls: type[ADMM] = ADMM) -> PrunedLM:
    """A copy of ``base`` trained by ADMM onto ``projections`` (recurrent-matrix name → its projection, names as
    :func:`recurrent_weights`), hard-projected, and retrained with the supports fixed. With no projections, the
    same two phases without constraint (a dense arm trained on for the same steps and schedule; residual 0).
    ``admm_cls`` lets a mutant swap the engine."""
    model = copy.deepcopy(base)
    weights = recurrent_weights(model)
    unknown = sorted(set(projections) - set(weights))
    if unknown:
        raise KeyError(f"no recurrent matrix named {', '.join(unknown)} (known: {', '.join(weights)})")
    per_epoch = epoch_steps(cfg, len(ids), 1.0)
    per_update = max(1, per_epoch // cfg.admm_updates_per_epoch)
    updates = max(1, round(cfg.admm_epochs * per_epoch / per_update))
    opt = make_optimizer(model.parameters(), cfg, cfg.admm_lr, cfg.prune_optimizer)
    steps = epoch_steps(cfg, len(ids), cfg.retrain_epochs)
    if not projections:
        train(TruncatedBPTT(model), windows(ids, cfg), steps=updates * per_update, optimizer=opt, desc=f"{desc} train")
        opt = make_optimizer(model.parameters(), cfg, cfg.retrain_lr, cfg.prune_optimizer)
        train(TruncatedBPTT(model), windows(ids, cfg), steps=steps, optimizer=opt,
              scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps), desc=f"{desc} train on")
        return PrunedLM(model, 0.0)
    engine = admm_cls({n: (weights[n], p) for n, p in projections.items()}, rho=cfg.rho, rho_mult=cfg.rho_mult)
    admm_train(TruncatedBPTT(model), engine, windows(ids, cfg), updates=updates, steps_per_update=per_update,
               optimizer=opt, desc=f"{desc} admm")
    residual = max(engine.residuals().values())
    masks = engine.project_()
    opt = make_optimizer(model.parameters(), cfg, cfg.retrain_lr, cfg.prune_optimizer)
    masked_retrain(TruncatedBPTT(model), masks, windows(ids, cfg), steps=steps, optimizer=opt,
                   scheduler=torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps), desc=f"{desc} retrain")
    return PrunedLM(model, residual)


def kept_fraction(model: RecurrentLM, names: list[str] | None = None) -> float:
    """Nonzero share of the named recurrent matrices (all of them by default)."""
    ws = [w for n, w in recurrent_weights(model).items() if names is None or n in names]
    return sum(int((w != 0).sum()) for w in ws) / sum(w.numel() for w in ws)
