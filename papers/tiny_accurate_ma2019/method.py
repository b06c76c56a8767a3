"""Tiny but Accurate's own pieces: distillation from the software model, 8-bit memristor weights, and the crossbars
a LeNet-5 takes. Purification and unused path removal are P-RM's (``papers/prm_ma2019/method.py``), imported.

**Knowledge distillation** (Hinton, Vinyals and Dean 2015; the paper retrains with "distilled knowledge from the
software model" [paper excerpt, third-party copy], its Algorithm 2 [3rd]): with student logits ``s``, teacher logits
``t``, temperature ``T`` and weight ``α``,

.. math::

    \\mathcal{L} = α\\,T^2\\,\\mathrm{KL}\\big(\\mathrm{softmax}(t/T)\\,\\|\\,\\mathrm{softmax}(s/T)\\big)
                 + (1 - α)\\,\\mathrm{CE}(s, y),

the KL divergence of the student's softened distribution from the teacher's, batch-averaged (``F.kl_div`` with the
student's log-probabilities), ``T²`` keeping its gradients on the scale of the cross-entropy's. ``T`` and ``α`` are
not in any source read here: :data:`TEMPERATURE` and :data:`ALPHA` are assumptions.

**8-bit weights**: every layer's weight projected onto 8-bit symmetric levels ``α·q``, ``q ∈ {−127, …, 127}``, with
the error-minimizing scale per layer (``bench.compress.admm.KBit``, the last projection of the group's ADMM
quantization); a pruned weight rounds to ``q = 0`` and stays zero. Biases stay in floating point.

**Crossbars** (:data:`ARRAY`): 128×64 crossbars of 4-bit cells, an 8-bit weight in two cells [3rd: a notes file built
from the paper's full text, below]; the sign as a positive and a negative copy (differential) is this suite's
assumption, following the same group's ISLPED'19 framework (``papers/memristor_admm_yuan2019``). A layer's matrix
``W.reshape(out, −1)`` is mapped with ``bench.hardware.imc.mapped_arrays``: inputs whose weights are all zero are
dropped, the rest cut into blocks of 128 rows, and per block only the outputs with a nonzero weight there are mapped.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from bench.compress import mnist_lenet as lenet
from bench.compress.admm import KBit
from bench.hardware.imc import IMCArray, mapped_arrays
from bench.train import Batch

TEMPERATURE = 4.0  # [assumption] Hinton's softening temperature; the paper's was not found
ALPHA = 0.9  # [assumption] weight of the distillation term against the cross-entropy on labels
WEIGHT_BITS = 8  # the paper's memristor weight representation (abstract)

SOURCE = ("[3rd] 128x64 crossbars, 4-bit cells, an 8-bit weight in two cells: a notes file built from the paper's full "
          "text (code index id 71108448300: 'array_size: 128x64', 'bits_weight: 8b (2x4-bit cells)'); the "
          "differential sign, 8-bit bit-serial inputs and one ADC per crossbar are the suite's assumptions")
ARRAY = IMCArray(rows=128, cols=64, weight_bits=WEIGHT_BITS, cell_bits=4, sign="differential", input_bits=8,
                 source=SOURCE)
# memristor_admm_yuan2019's 32x32 crossbars of 4-bit cells with 8-bit weights: a finer grain, for context only
SMALL_ARRAY = IMCArray(rows=32, cols=32, weight_bits=WEIGHT_BITS, cell_bits=4, sign="differential", input_bits=8,
                       source="[3rd] memristor_admm_yuan2019's 32x32 crossbars of 4-bit cells (its method.ARRAY), "
                              "with 8-bit weights")


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, targets: torch.Tensor, temperature: float,
                      alpha: float) -> torch.Tensor:
    """Hinton's loss: ``α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y)`` (module docstring)."""
    if temperature <= 0 or not 0.0 <= alpha <= 1.0:
        raise ValueError("temperature must be > 0 and alpha in [0, 1]")
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1), F.softmax(teacher / temperature, dim=1),
                    reduction="batchmean")  # KL(p_teacher ‖ p_student), mean over the batch
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(student, targets)


class DistillationLoss:
    """A ``bench.train.train`` loss: the student's distillation loss against a fixed teacher's logits."""

    def __init__(self, teacher: nn.Module, temperature: float = TEMPERATURE, alpha: float = ALPHA):
        self.teacher = teacher.eval()
        self.temperature, self.alpha = temperature, alpha

    def __call__(self, model: nn.Module, batch: Batch) -> torch.Tensor:
        x, y = batch
        with torch.no_grad():
            t = self.teacher(x)  # (B, classes): the software model's logits
        return distillation_loss(model(x), t, y, self.temperature, self.alpha)


def quantize_weight(w: torch.Tensor, bits: int = WEIGHT_BITS) -> torch.Tensor:
    """``w`` on ``bits``-bit symmetric levels with the best scale (``KBit``); zeros stay zero."""
    return KBit(bits=bits)(w)


@torch.no_grad()
def quantize_(model: nn.Module, bits: int = WEIGHT_BITS) -> nn.Module:
    """Every LeNet-5 layer's weight onto ``bits``-bit levels, in place (biases untouched); returns ``model``."""
    for w in lenet.weights(model).values():
        w.copy_(quantize_weight(w, bits))
    return model


def quantized(model: nn.Module, bits: int = WEIGHT_BITS) -> nn.Module:
    """A ``bits``-bit copy of ``model`` (the model itself is left as it was)."""
    return quantize_(copy.deepcopy(model), bits)


def crossbars(model: nn.Module, array: IMCArray = ARRAY) -> int:
    """The crossbars LeNet-5's four layers take on ``array``, pruned inputs and outputs packed away."""
    return sum(mapped_arrays(w.detach(), array) for w in lenet.weights(model).values())
