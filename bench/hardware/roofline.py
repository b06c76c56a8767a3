"""A roofline model of the papers' own processors (simulated): time = Σ over operators of max(compute, memory).

**What it computes.** A callable (a layer, a model's forward, a GEMM) runs once under a PyTorch dispatch mode
that sees every ATen operator it executes. For each operator:

- FLOPs from PyTorch's own formulas (``torch.utils.flop_counter``'s registry: 2·m·n·k for a matmul, the same
  for convolutions, …); operators without a formula (element-wise ones, pooling) count 0 FLOPs;
- bytes = the sizes of its tensor inputs plus its outputs, each moved once (no reuse between operators, no
  cache); views (``OpOverload.is_view``) move nothing.

On a device with peak rate P (FLOP/s) and memory bandwidth B (bytes/s), an operator takes
``max(flops / P, bytes / B)`` and the callable the sum over its operators: the ideal (roofline) time, a lower
bound on what the device can do, reached only by a perfect library. A speedup is the ratio of two such times
on one device.

**Sources and assumptions.** Peak rates are single-precision FMA throughput (2 FLOPs per lane per cycle) at the
clock named in :class:`Device`; bandwidths are the memory interface's peak; both come from the vendors'
datasheets named in each entry. Real kernels reach a fraction of both, differently for dense and compacted
shapes: that gap is what the measured speedups show and this model does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

NAME = "bench.hardware.roofline (per-operator max of compute and memory time)"
VERSION = "1"


@dataclass(frozen=True)
class Device:
    name: str
    kind: str  # "cpu" or "gpu"
    peak_flops: float  # FP32 FLOP/s
    bandwidth: float  # bytes/s
    source: str


DEVICES = {
    # SSL (NeurIPS'16), its CPU and GPU
    "xeon-e5-2630-v2": Device(
        "Intel Xeon E5-2630 v2", "cpu", 6 * 2.6e9 * 16, 51.2e9,
        "Intel ARK: 6 cores, 2.6 GHz base, AVX (8-wide FP32 add + multiply per cycle: 16 FLOPs/cycle/core); "
        "4 channels DDR3-1600, 51.2 GB/s"),
    "gtx-titan": Device(
        "NVIDIA GeForce GTX Titan (Kepler GK110)", "gpu", 2688 * 837e6 * 2, 288.4e9,
        "NVIDIA specifications: 2688 CUDA cores at 837 MHz base, FMA; 6 GB GDDR5, 384-bit, 6.008 Gbps: 288.4 GB/s"),
    # TernGrad (NeurIPS'17), Force Regularization (ICCV'17)
    "gtx-1080": Device(
        "NVIDIA GeForce GTX 1080 (Pascal GP104)", "gpu", 2560 * 1733e6 * 2, 320e9,
        "NVIDIA specifications: 2560 CUDA cores at 1733 MHz boost, FMA; GDDR5X 256-bit at 10 Gbps: 320 GB/s"),
    "tesla-p100": Device(
        "NVIDIA Tesla P100 SXM2 (Pascal GP100)", "gpu", 3584 * 1480e6 * 2, 732e9,
        "NVIDIA Tesla P100 datasheet: 3584 CUDA cores at 1480 MHz boost, 10.6 TFLOP/s FP32; HBM2 732 GB/s"),
    "gtx-titan-x": Device(
        "NVIDIA GeForce GTX Titan X (Maxwell GM200)", "gpu", 3072 * 1075e6 * 2, 336.5e9,
        "NVIDIA specifications: 3072 CUDA cores at 1075 MHz boost, FMA; GDDR5 384-bit at 7 Gbps: 336.5 GB/s"),
}


@dataclass(frozen=True)
class OpCost:
    op: str
    flops: int
    bytes: int

    def time_on(self, device: Device) -> float:
        return max(self.flops / device.peak_flops, self.bytes / device.bandwidth)


def _nbytes(tree) -> int:
    leaves, _ = tree_flatten(tree)
    return sum(t.numel() * t.element_size() for t in leaves if isinstance(t, torch.Tensor))


class _Recorder(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.costs: list[OpCost] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        flops = int(flop_registry[packet](*args, **kwargs, out_val=out)) if packet in flop_registry else 0
        moved = 0 if func.is_view else _nbytes((args, kwargs)) + _nbytes(out)
        self.costs.append(OpCost(str(packet), flops, moved))
        return out


def op_costs(fn: Callable[[], object]) -> list[OpCost]:
    """Run ``fn()`` once and return the FLOPs and bytes of every ATen operator it executed, in order."""
    with torch.no_grad(), _Recorder() as rec:
        fn()
    return rec.costs


def roofline_time(costs: list[OpCost], device: Device) -> dict[str, float]:
    """The ideal time of the operators on ``device``, with its FLOPs, bytes and compute-bound share."""
    times = [c.time_on(device) for c in costs]
    compute = sum(t for c, t in zip(costs, times, strict=True) if c.flops / device.peak_flops >= t)
    total = sum(times)
    return {"time_s": total, "flops": float(sum(c.flops for c in costs)),
            "bytes": float(sum(c.bytes for c in costs)),
            "compute_bound_fraction": compute / total if total else 0.0}


def describe(*devices: Device) -> dict:
    """The model's name, version and device parameters, for the results' provenance."""
    return {"model": NAME, "version": VERSION, "devices": [asdict(d) for d in devices]}
