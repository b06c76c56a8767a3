r"""Intrinsic Sparse Structures (ISS) of a stacked LSTM: the groups, their group-Lasso penalty, the per-step zeroing,
and the reconfiguration that rebuilds a smaller LSTM from the surviving components.

**The groups** (the authors' ``add_structure_grouplasso`` in ``wenwei202/iss-rnns``, read through
``../shared/SOURCES-WAVE2.md``). Component ``k`` of LSTM layer ``l`` (hidden size ``h``) is everything that
exists only because hidden unit ``k`` exists: in PyTorch's layout (gates stacked i, f, g, o as rows),

- rows ``k, h+k, 2h+k, 3h+k`` of ``weight_ih_l{l}`` ``(4h, in)`` and of ``weight_hh_l{l}`` ``(4h, h)`` (the unit's
  input update, three gates and so its cell and output),
- column ``k`` of ``weight_hh_l{l}`` (the unit's output fed back to every gate),
- column ``k`` of the next consumer of the layer's output: ``weight_ih_l{l+1}`` for a lower layer, the decoder's
  weight ``(V, h)`` for the top layer (the code's ``couple_split_num`` 2 and 1).

The four entries shared by the unit's recurrent rows and its recurrent column (``weight_hh[g·h+k, k]``) are counted
in both, as a sum of the row and column reductions counts them (an assumption: whether the code's sum takes the union
was not checked; it changes the weight of four entries in about ``10h``).

The penalty is :math:`\lambda \sum_l \sum_k \sqrt{\lVert w_{l,k} \rVert_2^2 + 10^{-8}}` (the code's ``1e-8``), added
to the loss so that autograd gives its gradient. SSL's ``GroupLasso`` (``papers.ssl_wen2016.method``) is not reused:
its groups are rows, columns or shapes of *one* weight, with Caffe's explicit subgradient; an ISS group spans five
tensors. The form of the term is the same (a sum of group L2 norms).

**Zeroing** (the code's sparsity-statistics op, every step): every weight of the grouped matrices whose magnitude is
below ``max(1e-4, 2·weight_decay)`` is set to 0, element by element (not group by group). A component is *removed*
when every weight of its group is 0; its biases do not matter then: with its inputs and its outputs all zero, the
unit no longer affects anything.

**Reconfiguration** (:class:`ShrunkLM`, :func:`shrink`): a stack of single-layer ``nn.LSTM`` of the surviving sizes
(each layer its own, which ``nn.LSTM(num_layers=2)`` cannot hold), with the surviving rows and columns copied.
It computes exactly what the masked model computes (``tests/papers/test_iss_wen2017.py``). The embedding width is
kept (ISS does not shrink the input of the first layer).

Fine-tuning freezes the zeros element-wise (the code's ``--freeze_mode element``: gradients of weights below 1e-4
are zeroed), here as a mask of the nonzero weights of the shrunk model.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from bench.compress.admm import Masks
from bench.compress.ptb_lm import RecurrentLM

EPS = 1e-8  # inside the square root, as the authors' code
ZERO_THRESHOLD = 1e-4  # max(1e-4, 2·weight_decay) with the code's weight decay 0


def _layer_parts(model: RecurrentLM, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``weight_ih_l{l}``, ``weight_hh_l{l}`` and the next consumer's weight (``weight_ih_l{l+1}`` or the decoder's)."""
    rnn = model.rnn
    nxt = getattr(rnn, f"weight_ih_l{layer + 1}") if layer + 1 < rnn.num_layers else model.decoder.weight
    return getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}"), nxt


def component_sq_norms(model: RecurrentLM) -> list[torch.Tensor]:
    """Per layer, ``(h,)``: the squared L2 norm of every ISS component's group (differentiable)."""
    if model.cell != "lstm":
        raise ValueError("ISS groups are defined for LSTMs")
    h = model.rnn.hidden_size
    out = []
    for layer in range(model.rnn.num_layers):
        w_ih, w_hh, nxt = _layer_parts(model, layer)
        sq = w_ih.pow(2).view(4, h, -1).sum((0, 2)) + w_hh.pow(2).view(4, h, h).sum((0, 2))  # gate rows
        sq = sq + w_hh.pow(2).sum(0) + nxt.pow(2).sum(0)  # the unit's outputs: recurrent and next consumer
        out.append(sq)
    return out


def group_sizes(model: RecurrentLM) -> list[int]:
    """Per layer, the number of weights in one component's group (the four shared entries counted twice)."""
    h = model.rnn.hidden_size
    return [4 * w_ih.shape[1] + 8 * h + nxt.shape[0]
            for w_ih, _, nxt in (_layer_parts(model, i) for i in range(model.rnn.num_layers))]


def iss_penalty(model: RecurrentLM, lam: float, size_weighted: bool = False) -> torch.Tensor:
    """``λ Σ_l Σ_k sqrt(‖w_{l,k}‖² + 1e-8)``; with ``size_weighted`` each layer's term is multiplied by the square
    root of its group size (Yuan & Lin's group-Lasso weighting)."""
    sq = component_sq_norms(model)
    scale = [n ** 0.5 for n in group_sizes(model)] if size_weighted else [1.0] * len(sq)
    return lam * sum(c * torch.sqrt(s + EPS).sum() for c, s in zip(scale, sq, strict=True))


def grouped_weights(model: RecurrentLM) -> list[nn.Parameter]:
    """Every matrix an ISS group touches: each layer's ``weight_ih``/``weight_hh`` and the decoder's weight."""
    rnn = model.rnn
    return [getattr(rnn, f"{k}_l{i}") for i in range(rnn.num_layers) for k in ("weight_ih", "weight_hh")] + \
        [model.decoder.weight]


@torch.no_grad()
def zero_small_(model: RecurrentLM, threshold: float = ZERO_THRESHOLD) -> None:
    """Set every grouped weight with ``|w| < threshold`` to 0 (element-wise, after every step)."""
    for w in grouped_weights(model):
        w.masked_fill_(w.abs() < threshold, 0.0)


@torch.no_grad()
def alive_components(model: RecurrentLM) -> list[torch.Tensor]:
    """Per layer, a boolean ``(h,)``: the components with at least one nonzero weight in their group."""
    return [sq > 0 for sq in component_sq_norms(model)]


class ShrunkLM(nn.Module):
    """Embedding → one single-layer ``nn.LSTM`` per layer, each of its own width → linear decoder. The recurrent
    state is a flat tuple ``(h_0, c_0, h_1, c_1, …)`` so that :class:`bench.compress.ptb_lm.TruncatedBPTT` can carry
    and detach it."""

    def __init__(self, vocab: int, embed: int, sizes: Sequence[int]):
        super().__init__()
        if not sizes or min(sizes) < 1:
            raise ValueError(f"every layer needs at least one unit, got sizes {list(sizes)}")
        self.sizes = tuple(int(s) for s in sizes)
        self.embed = nn.Embedding(vocab, embed)
        self.layers = nn.ModuleList(nn.LSTM(i, o, batch_first=True)
                                    for i, o in zip((embed, *self.sizes[:-1]), self.sizes, strict=True))
        self.decoder = nn.Linear(self.sizes[-1], vocab)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, ...] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        out = self.embed(x)  # (B, T, E)
        new: list[torch.Tensor] = []
        for i, lstm in enumerate(self.layers):
            s = None if state is None else (state[2 * i], state[2 * i + 1])
            out, (h, c) = lstm(out, s)  # (B, T, H_i)
            new += [h, c]
        return self.decoder(out), tuple(new)

    def recurrent_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The LSTM layers alone on embedded input ``(B, T, E)`` (what the inference speedup times)."""
        for lstm in self.layers:
            x = lstm(x)[0]
        return x


def as_shrunk(model: RecurrentLM) -> ShrunkLM:
    """The same network as a :class:`ShrunkLM` with every component kept (the dense reference for timing)."""
    return shrink(model, [torch.ones(model.rnn.hidden_size, dtype=torch.bool)] * model.rnn.num_layers)


@torch.no_grad()
def shrink(model: RecurrentLM, keep: Sequence[torch.Tensor] | None = None) -> ShrunkLM:
    """The smaller LSTM of the kept components (default: :func:`alive_components`), weights copied. Raises
    ``ValueError`` when a layer keeps no component (the network would be cut)."""
    if model.cell != "lstm":
        raise ValueError("ISS reconfiguration is defined for LSTMs")
    keep = alive_components(model) if keep is None else list(keep)
    idx = [k.nonzero(as_tuple=True)[0] for k in keep]
    if any(len(i) == 0 for i in idx):
        raise ValueError(f"a layer lost every component (kept {[len(i) for i in idx]}): the network is cut")
    rnn, h = model.rnn, model.rnn.hidden_size
    out = ShrunkLM(model.embed.num_embeddings, model.embed.embedding_dim, [len(i) for i in idx])
    out = out.to(model.embed.weight.device)
    out.embed.weight.copy_(model.embed.weight)
    for layer, lstm in enumerate(out.layers):
        rows = torch.cat([g * h + idx[layer] for g in range(4)])  # the kept units' rows of every gate
        w_ih = getattr(rnn, f"weight_ih_l{layer}")[rows]
        if layer > 0:
            w_ih = w_ih[:, idx[layer - 1]]
        lstm.weight_ih_l0.copy_(w_ih)
        lstm.weight_hh_l0.copy_(getattr(rnn, f"weight_hh_l{layer}")[rows][:, idx[layer]])
        lstm.bias_ih_l0.copy_(getattr(rnn, f"bias_ih_l{layer}")[rows])
        lstm.bias_hh_l0.copy_(getattr(rnn, f"bias_hh_l{layer}")[rows])
    out.decoder.weight.copy_(model.decoder.weight[:, idx[-1]])
    out.decoder.bias.copy_(model.decoder.bias)
    return out


def nonzero_masks(model: nn.Module) -> Masks:
    """The nonzero supports of every LSTM and decoder weight matrix of ``model`` (the zeros fine-tuning freezes),
    as the ADMM engine's :class:`bench.compress.admm.Masks`."""
    return Masks({n: (p, p.detach() != 0) for n, p in model.named_parameters() if "weight" in n and "embed" not in n})
