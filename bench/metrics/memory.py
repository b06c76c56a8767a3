"""Training memory of one step: the bytes autograd saves for backward, and the device's peak.

The activation memory of training is what the forward pass keeps alive for the backward pass. PyTorch hands
every tensor it saves for backward to ``torch.autograd.graph.saved_tensors_hooks``; :func:`saved_tensors`
records them there, without changing what is saved. A tensor saved twice (the same input of two ops), or two
views of one buffer, hold one buffer: bytes are counted once per underlying storage, at the storage's size,
which is the memory actually held (so save a slice of a large tensor, such as a batch cut from a whole dataset,
and the whole tensor is counted: the slice keeps it alive). The count is taken when the block ends, over the
saved tensors still alive then: a branch of the graph that the forward pass dropped (an unused output) has freed
what it saved, and is not counted. Parameters are saved by the ops that use them but exist whether or not one
trains; they are counted apart (``parameter_bytes``) so ``activation_bytes`` is the training overhead that
memory-saving methods (recomputation, reversible layers and nodes, checkpointing) remove.

Use::

    with saved_tensors(model.parameters()) as saved:
        loss = model(x).sum()
    loss.backward()
    saved.activation_bytes, saved.parameter_bytes, saved.tensors

A component's own share (what a spiking node adds to a network's saved set, beyond the tensors its neighbours
save anyway, such as its output that the next layer keeps) comes from scopes: run the component inside
``with saved.scope("node"):`` and read ``saved.exclusive_bytes("node")``, the bytes of storages saved inside
that scope and nowhere else.

:func:`peak_memory` reports the peak of the device allocator during a block: CUDA's
``max_memory_allocated`` above what was allocated at the start. On the CPU PyTorch keeps no such counter, so the
peak is ``None`` there and a paper's claim about CPU memory rests on the saved bytes (the process's peak RSS,
which ``bench.cost`` records per cell, includes the dataset and the interpreter).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch


def _storage_key(t: torch.Tensor) -> tuple[str, int]:
    return (str(t.device), t.untyped_storage().data_ptr())


@dataclass
class SavedTensors:
    """What autograd saved for backward inside a :func:`saved_tensors` block (counted when the block ends)."""

    activation_bytes: int = 0  # unique storages that are not parameters
    parameter_bytes: int = 0  # unique storages of the parameters given
    tensors: int = 0  # pack calls (a tensor saved by two ops counts twice here, once in the bytes)
    _saved: list = field(default_factory=list, repr=False)  # (weakref to the tensor, its storage, scope)
    _scopes: dict = field(default_factory=dict, repr=False)  # storage -> the scopes that saved it, once counted
    _bytes: dict = field(default_factory=dict, repr=False)  # storage -> its bytes, once counted
    _params: set = field(default_factory=set, repr=False)
    _scope: str | None = field(default=None, repr=False)

    @property
    def total_bytes(self) -> int:
        return self.activation_bytes + self.parameter_bytes

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        self.tensors += 1
        # autograd keeps what this returns; a detached alias (same storage, no grad_fn) rather than ``t`` itself,
        # which for a saved output would close a reference cycle through its grad_fn that nothing frees
        saved = t.detach()
        if t.layout == torch.strided and t.device.type != "meta":
            self._saved.append((weakref.ref(saved), _storage_key(t), t.untyped_storage().nbytes(), self._scope))
        return saved

    def _count(self) -> None:
        """Sum the storages of the saved tensors still alive (those the graph keeps for backward)."""
        gc.collect()  # graphs of dropped branches that sit in Python reference cycles
        for ref, key, nbytes, scope in self._saved:
            if ref() is None:
                continue
            self._scopes.setdefault(key, set()).add(scope)
            self._bytes[key] = nbytes
        self._saved.clear()
        self.parameter_bytes = sum(b for k, b in self._bytes.items() if k in self._params)
        self.activation_bytes = sum(b for k, b in self._bytes.items() if k not in self._params)

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Attribute the tensors saved inside this block to ``name`` (scopes do not nest)."""
        if self._scope is not None:
            raise RuntimeError(f"scope {name!r} opened inside scope {self._scope!r}")
        self._scope = name
        try:
            yield
        finally:
            self._scope = None

    def exclusive_bytes(self, name: str) -> int:
        """Activation bytes of storages saved inside scope ``name`` and by nothing outside it."""
        return sum(self._bytes[k] for k, scopes in self._scopes.items()
                   if scopes == {name} and k not in self._params)


@contextmanager
def saved_tensors(parameters: Iterable[torch.Tensor] = ()) -> Iterator[SavedTensors]:
    """Count the tensors autograd saves for backward in this block (``parameters`` counted apart)."""
    meter = SavedTensors()
    meter._params = {_storage_key(p) for p in parameters}
    with torch.autograd.graph.saved_tensors_hooks(meter._pack, lambda t: t):
        yield meter
    meter._count()


@dataclass
class Peak:
    """The device allocator's peak above the start of a :func:`peak_memory` block (None on the CPU)."""

    bytes: int | None = None


@contextmanager
def peak_memory(device: torch.device | str) -> Iterator[Peak]:
    """Peak allocated bytes during the block on a CUDA device, above what was allocated when it began."""
    device = torch.device(device)
    peak = Peak()
    if device.type != "cuda":
        yield peak
        return
    torch.cuda.synchronize(device)
    start = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    try:
        yield peak
    finally:
        torch.cuda.synchronize(device)
        peak.bytes = torch.cuda.max_memory_allocated(device) - start
