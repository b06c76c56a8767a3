"""The suite's analytic DRAM-traffic, time and energy model of CNN training, layer by layer and with MBS.

A network is a list of :class:`Layer` (convolutions and the fully connected layer, in execution order) over
numbered tensors (per-sample element counts; tensor 0 is the network input). A layer reads one GEMM input tensor
and, optionally, an add operand (a residual shortcut, the add fused into the layer), writes one output tensor and
holds ``weights`` elements. Batch normalization, ReLU and pooling are taken as fused into the neighbouring conv's
reads and writes (no traffic of their own): the suite's simplification.

**Traffic rules (the suite's model, bytes = elements × ``word``).** A *group* is a run of consecutive layers that
processes the mini-batch of ``B`` samples in sub-batches of ``s``; a group of one layer is layer-by-layer
execution (``s = B``, intra-layer tiling taken as perfect). For every layer and every tensor:

- forward: a tensor read by a layer crosses DRAM (``B·elems``) unless its producer is in the same group; a
  layer's output is written (``B·elems``) if a consumer is outside the group, or (``inner="store"``) if it is the
  GEMM input of some layer (saved for backward);
- backward: each layer reads its saved GEMM input (``store``; with ``recompute`` only the group's input tensors
  are read and the group's forward is run again on chip); the gradient of a tensor crosses DRAM (written by the
  consumer's backward, read by the producer's) unless producer and consumer share the group; the network input
  needs no gradient;
- weights: read once per sub-batch pass in forward and once in backward; weight gradients are partial sums
  written once per pass and read back once per pass after the first (``2·n − 1`` crossings for ``n = ⌈B/s⌉``).

The baseline is every layer in a group of its own: each inter-layer tensor crosses DRAM once per producer write
and once per consumer read, and weights once per pass per mini-batch.

**Sub-batch size.** Layer ``i`` processing ``s`` samples needs ``word·(s·(2·in + out + held) + 2·weights)`` bytes
on chip (backward's saved input, input gradient and output gradient, the tensors held across it for a later layer
of the group, weights and their gradients); a group's ``s`` is the largest ``s ≤ B`` for which every layer fits
in the buffer ``M``. **Grouping** (the suite's greedy rule): walk the layers in order and extend the current
group by the next layer when the extended group's traffic is no more than the current group's plus that layer
run alone; otherwise start a new group.

**Time and energy.** Each GEMM (forward, backward-data, weight-gradient; per sub-batch pass) is timed with
``bench.hardware.systolic.ws_calc_cycles`` on one ``A×A`` weight-stationary array, the cycles split evenly over
``arrays`` arrays; a group's time is ``max(cycles / freq, bytes / bandwidth)`` (a roofline per group, per layer
for the baseline). Energy is ``bytes × pJ/byte + MACs × pJ/MAC``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from bench.hardware.systolic import ArrayConfig, Gemm, ws_calc_cycles


@dataclass(frozen=True)
class Layer:
    """A conv or fc layer: GEMM input tensor, optional add operand, output tensor, weights and the GEMM shape per
    sample (``m`` output pixels, ``n`` output channels, ``k = C_in·kh·kw``)."""

    name: str
    inp: int  # tensor id of the GEMM input
    out: int  # tensor id of the output
    weights: int  # elements
    m: int
    n: int
    k: int
    add: int | None = None  # tensor id of a residual operand added into the output (fused), if any


@dataclass
class Net:
    """Layers in execution order and the per-sample element count of every tensor (id -> elements)."""

    layers: list[Layer]
    elems: dict[int, int] = field(default_factory=dict)

    @cached_property
    def _producers(self) -> dict[int, int]:
        return {lay.out: i for i, lay in enumerate(self.layers)}

    @cached_property
    def _consumers(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {t: [] for t in self.elems}
        for i, lay in enumerate(self.layers):
            for t in (lay.inp, lay.add):
                if t is not None:
                    out[t].append(i)
        return out

    def producer(self, t: int) -> int | None:
        """Index of the layer writing tensor ``t`` (None for the network input)."""
        return self._producers.get(t)

    def consumers(self, t: int) -> list[int]:
        """Indices of the layers reading tensor ``t`` (as GEMM input or add operand)."""
        return self._consumers[t]


def chain(widths: list[int], hw: int = 1) -> Net:
    """A chain of 1×1 layers (``widths[0]`` input channels, ``hw`` pixels): the tests' small nets."""
    layers, elems = [], {0: widths[0] * hw}
    for i, (c_in, c_out) in enumerate(zip(widths, widths[1:], strict=False)):
        layers.append(Layer(f"l{i}", i, i + 1, c_in * c_out, hw, c_out, c_in))
        elems[i + 1] = c_out * hw
    return Net(layers, elems)


def resnet50(image: int = 224, classes: int = 1000, stages: tuple[int, ...] = (3, 4, 6, 3)) -> Net:
    """ResNet-50 (torchvision's v1.5: stride in the 3×3 conv) at ``image``×``image``: 53 convs and the fc."""
    layers: list[Layer] = []
    elems: dict[int, int] = {0: 3 * image * image}

    def conv(name, inp, c_in, c_out, kk, h_out, add=None):
        t = len(elems)
        elems[t] = c_out * h_out * h_out
        layers.append(Layer(name, inp, t, c_in * c_out * kk * kk, h_out * h_out, c_out, c_in * kk * kk, add))
        return t

    h = (image + 1) // 2
    x = conv("conv1", 0, 3, 64, 7, h)
    h = (h + 1) // 2  # 3×3 max-pool, stride 2 (fused into conv1's write)
    c = 64
    for si, (blocks, width) in enumerate(zip(stages, (64, 128, 256, 512), strict=True)):
        for b in range(blocks):
            stride = 2 if (b == 0 and si > 0) else 1
            p = f"layer{si + 1}.{b}"
            h_out = (h + stride - 1) // stride
            a = conv(f"{p}.conv1", x, c, width, 1, h)
            a = conv(f"{p}.conv2", a, width, width, 3, h_out)
            if b == 0:  # projection shortcut: torchvision runs it after conv3; the add is fused into it
                a = conv(f"{p}.conv3", a, width, 4 * width, 1, h_out)
                x = conv(f"{p}.downsample", x, c, 4 * width, 1, h_out, add=a)
            else:
                x = conv(f"{p}.conv3", a, width, 4 * width, 1, h_out, add=x)
            h, c = h_out, 4 * width
    t = len(elems)
    elems[t] = classes
    layers.append(Layer("fc", x, t, c * classes, 1, classes, c))  # global average pool fused into the read
    return Net(layers, elems)


def _gemm_inputs(net: Net) -> set[int]:
    return {lay.inp for lay in net.layers}


def held(net: Net, group: range, i: int) -> int:
    """Per-sample elements kept on chip across layer ``i`` of ``group`` for a later layer of the group: tensors
    produced by an earlier layer of the group and read by a later one (a residual shortcut)."""
    lay = net.layers[i]
    total = 0
    for t, e in net.elems.items():
        p = net.producer(t)
        if t in (lay.inp, lay.out, lay.add) or p is None or p not in group or p >= i:
            continue
        if any(c in group and c > i for c in net.consumers(t)):
            total += e
    return total


def footprint(net: Net, group: range, i: int, s: int, word: int) -> int:
    """Bytes on chip while layer ``i`` of ``group`` processes ``s`` samples (see the module docstring)."""
    lay = net.layers[i]
    return word * (s * _per_sample(net, group, i) + 2 * lay.weights)


def _per_sample(net: Net, group: range, i: int) -> int:
    lay = net.layers[i]
    return 2 * net.elems[lay.inp] + net.elems[lay.out] + held(net, group, i)


def sub_batch(net: Net, group: range, batch: int, buffer: int, word: int) -> int:
    """The largest sub-batch ``s ≤ batch`` with which every layer of ``group`` fits in ``buffer`` bytes; a group of
    one layer runs layer by layer (``batch``). ValueError when one sample does not fit."""
    if len(group) == 1:
        return batch
    s = batch
    for i in group:
        s = min(s, (buffer // word - 2 * net.layers[i].weights) // _per_sample(net, group, i))
    if s < 1:
        need = max(footprint(net, group, i, 1, word) for i in group)
        raise ValueError(f"a buffer of {buffer} bytes cannot hold one sample of layers {net.layers[group[0]].name}.."
                         f"{net.layers[group[-1]].name}: the MBS model needs at least {need} bytes")
    return s


@dataclass(frozen=True)
class Hardware:
    """The suite's WaveCore-like accelerator and energy constants [assumptions, not the paper's figures]."""

    array: int = 128  # rows = cols of each weight-stationary systolic array
    arrays: int = 2
    freq_hz: float = 0.7e9
    dram_bytes_per_s: float = 300e9
    dram_pj_per_byte: float = 31.2  # HBM2-class, 3.9 pJ/bit
    mac_pj: float = 1.5  # fp16 multiply-add


def group_traffic(net: Net, group: range, batch: int, buffer: int, word: int, inner: str = "store") -> dict:
    """DRAM bytes, sub-batch size, passes and the GEMMs of one group (see the module docstring)."""
    if inner not in ("store", "recompute"):
        raise ValueError(f"inner must be 'store' or 'recompute', not {inner!r}")
    s = sub_batch(net, group, batch, buffer, word)
    passes = math.ceil(batch / s)
    saved = _gemm_inputs(net)
    recompute = inner == "recompute" and len(group) > 1
    act = wts = 0
    gemms: list[tuple[Gemm, int]] = []  # (GEMM of one sample, the axis that grows with the samples: 1 m, 2 k)
    for i in group:
        lay = net.layers[i]
        for t in (lay.inp, lay.add):
            if t is None or net.producer(t) in group:
                continue
            act += batch * net.elems[t] * (2 if recompute else 1)  # forward read (again when recomputing)
            if net.producer(t) is not None:
                act += 2 * batch * net.elems[t]  # its gradient: written here in backward, read by the producer
        cons = net.consumers(lay.out)
        if not cons or any(c not in group for c in cons) or (lay.out in saved and not recompute):
            act += batch * net.elems[lay.out]  # forward write
        if not recompute:
            act += batch * net.elems[lay.inp]  # the saved GEMM input, read by backward
        wts += lay.weights * ((5 if recompute else 4) * passes - 1)
        gemms += [(Gemm(m=lay.m, n=lay.n, k=lay.k), 1)] * (2 if recompute else 1)  # forward
        gemms.append((Gemm(m=lay.m, n=lay.k, k=lay.n), 1))  # backward data: dX = dY·Wᵀ
        gemms.append((Gemm(m=lay.k, n=lay.n, k=lay.m), 2))  # weight gradient: dW = Xᵀ·dY
    return {"bytes": word * (act + wts), "act_bytes": word * act, "weight_bytes": word * wts, "sub_batch": s,
            "passes": passes, "gemms": gemms}


def _cycles(gemms, batch: int, s: int, hw: Hardware) -> tuple[int, int]:
    """Compute cycles (over ``hw.arrays`` arrays) and MACs of a group's GEMMs for ``batch`` samples in passes of
    ``s`` (the last pass takes what remains)."""
    cfg = ArrayConfig(rows=hw.array, cols=hw.array, dataflow="ws", bandwidth_mode="CALC")
    sizes = [s] * (batch // s) + ([batch % s] if batch % s else [])
    cyc = macs = 0
    for g, axis in gemms:
        for n in sizes:
            gg = Gemm(m=g.m * n, n=g.n, k=g.k) if axis == 1 else Gemm(m=g.m, n=g.n, k=g.k * n)
            cyc += ws_calc_cycles(gg, cfg)
            macs += gg.macs
    return math.ceil(cyc / hw.arrays), macs


def check_fits(net: Net, buffer: int, word: int) -> None:
    """ValueError, naming the layer, when the buffer cannot hold one sample of some layer (MBS needs that much)."""
    for i, lay in enumerate(net.layers):
        need = footprint(net, range(i, i + 1), i, 1, word)
        if need > buffer:
            raise ValueError(f"a buffer of {buffer} bytes cannot hold one sample of layer {lay.name} "
                             f"({need} bytes with its weights and weight gradients): MBS cannot run")


def greedy_groups(net: Net, batch: int, buffer: int, word: int, inner: str = "store") -> list[range]:
    """The suite's greedy grouping: extend the group by the next layer when that costs no more DRAM traffic."""
    check_fits(net, buffer, word)

    def cost(g: range) -> float:
        try:
            return group_traffic(net, g, batch, buffer, word, inner)["bytes"]
        except ValueError:  # one sample of the group does not fit
            return math.inf

    groups, start = [], 0
    for i in range(1, len(net.layers)):
        if cost(range(start, i + 1)) > cost(range(start, i)) + cost(range(i, i + 1)):
            groups.append(range(start, i))
            start = i
    groups.append(range(start, len(net.layers)))
    return groups


def singletons(net: Net) -> list[range]:
    """Layer-by-layer execution: every layer a group of its own (the baseline)."""
    return [range(i, i + 1) for i in range(len(net.layers))]


def evaluate(net: Net, groups: list[range], batch: int, buffer: int, word: int, hw: Hardware = Hardware(),
             inner: str = "store") -> dict[str, float]:
    """Total DRAM bytes, time (s), energy (J), MACs and the groups' sub-batch sizes of one schedule."""
    if [i for g in groups for i in g] != list(range(len(net.layers))):
        raise ValueError("groups must cover the layers in order, each once")
    total = act = wts = macs = 0
    time_s = 0.0
    subs = []
    for g in groups:
        r = group_traffic(net, g, batch, buffer, word, inner)
        cyc, mac = _cycles(r["gemms"], batch, r["sub_batch"], hw)
        time_s += max(cyc / hw.freq_hz, r["bytes"] / hw.dram_bytes_per_s)
        total += r["bytes"]
        act += r["act_bytes"]
        wts += r["weight_bytes"]
        macs += mac
        subs.append(r["sub_batch"])
    energy = (total * hw.dram_pj_per_byte + macs * hw.mac_pj) * 1e-12
    return {"bytes": float(total), "act_bytes": float(act), "weight_bytes": float(wts), "time_s": time_s,
            "energy_j": energy, "macs": float(macs), "groups": float(len(groups)),
            "mean_sub_batch": sum(subs) / len(subs)}
