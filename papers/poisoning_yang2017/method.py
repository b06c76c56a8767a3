"""The direct gradient and the generative poisoning methods, and the loss-based detector, on a functional MLP.

Both attacks follow the authors' MXNet scripts (``yangcf10/Poisoning-attack`` @ 4ca96be, ``mnist_direct.py`` and
``mnist_generative.py``; read, not copied). The attacked model takes **one SGD step** on a poisoned sample (learning
rate 0.05, biases twice that, as the scripts' ``SGD``), and the attacker wants the step to raise the loss on clean
data (``num_normal`` clean training samples).

- :func:`direct_poison`: finite differences per pixel: each pixel of the poison nudged by ``h``, the one-step
  update taken from the pretrained weights, the clean loss compared with the current poison's; the poison moves
  ``step`` along the signs and is clipped to [0, 1]. The scripts loop over the 784 pixels one model update at a
  time; here the 784 updates of a round run as one batch with ``torch.func.vmap`` (the same arithmetic, far faster),
  so the speed comparison is between the methods, not against a slow loop.
- :func:`generative_poisons`: an auto-encoder (784-200-200-784, sigmoid output, as ``model/aemodel_2.json``)
  turns seed images into poisons; each round the target takes the one-step update on each poison, and the
  auto-encoder's output receives ``−sign(Σ ∂L_clean/∂x_clean) · sign(L_clean − L_clean of the previous round)``
  as its gradient, then an SGD step (learning rate 0.005): the target model acts as the discriminator.
- :func:`update_effect`: the loss-based detector's score: how much a one-step update on a sample raises the
  pretrained model's loss on held-out clean data (the abstract: poisoning is detected "by checking the loss of the
  target model"; the exact rule was not reachable, this reading is the suite's).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from bench.models import MLP

ATTACK_LR = 0.05  # attacked_model_lr of mnist_direct.py / mnist_generative.py (biases: twice)
GENERATOR_LR = 0.005  # generative_model_lr of mnist_generative.py


def target_mlp() -> nn.Module:
    """The attacked MNIST MLP of the scripts (``model/mymodel.json``): 784 → 64 ReLU → 10."""
    return MLP(784, (64,), 10)


class AutoEncoder(nn.Module):
    """The generator of the scripts (``model/aemodel_2.json``): 784 → 200 → 200 → 784, ReLU, sigmoid output."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(),
                                 nn.Linear(200, 784), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _loss(model: nn.Module, params: dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(functional_call(model, params, (x,)), y, reduction="sum")


def one_step(model: nn.Module, params: dict, x: torch.Tensor, y: torch.Tensor, lr: float = ATTACK_LR) -> dict:
    """The attacked model after one SGD step on the single sample ``(x, y)`` (biases at twice ``lr``)."""
    g = grad(lambda p: _loss(model, p, x[None], y[None]))(params)
    return {k: v - (2 * lr if k.endswith("bias") else lr) * g[k] for k, v in params.items()}


def clean_loss_after(model: nn.Module, params: dict, xs: torch.Tensor, ys: torch.Tensor, xc: torch.Tensor,
                     yc: torch.Tensor) -> torch.Tensor:
    """For each sample ``(xs[i], ys[i])``: the summed loss on ``(xc, yc)`` after one step on it; ``(len(xs),)``."""
    return vmap(lambda x, y: _loss(model, one_step(model, params, x, y), xc, yc))(xs, ys)


def direct_poison(model: nn.Module, params: dict, x0: torch.Tensor, y_p: torch.Tensor, xc: torch.Tensor,
                  yc: torch.Tensor, rounds: int = 5, step: float = 0.2, h: float = 0.01,
                  chunk: int = 196) -> torch.Tensor:
    """One poison from seed ``x0`` (784,) with poison label ``y_p`` by the direct (finite-difference) method."""
    x = x0.clone()
    eye = torch.eye(x.numel()) * h
    for _ in range(rounds):
        base = clean_loss_after(model, params, x[None], y_p[None], xc, yc)[0]
        losses = torch.cat([clean_loss_after(model, params, x + eye[i:i + chunk], y_p.expand(len(eye[i:i + chunk])),
                                             xc, yc) for i in range(0, x.numel(), chunk)])
        x = (x + step * torch.sign(losses - base)).clamp(0, 1)
    return x


def generative_poisons(model: nn.Module, params: dict, ae: AutoEncoder, seeds: torch.Tensor, y_p: torch.Tensor,
                       xc: torch.Tensor, yc: torch.Tensor, rounds: int = 10,
                       lr: float = GENERATOR_LR) -> torch.Tensor:
    """Train the generator for ``rounds`` on the seed images, then return its poisons for them (``(P, 784)``)."""
    opt_params = list(ae.parameters())
    pre = None
    for _ in range(rounds):
        out = ae(seeds)
        poisons = out.detach()

        def per_poison(x, y):
            updated = one_step(model, params, x, y)
            gx, loss = torch.func.grad_and_value(lambda inp: _loss(model, updated, inp, yc))(xc)
            return gx.sum(0), loss

        gsum, loss = vmap(per_poison)(poisons, y_p)
        # the scripts start from pre_loss = 0, so the first round's sign is +1
        direction = torch.ones_like(loss) if pre is None else torch.sign(loss - pre)
        head = -torch.sign(gsum) * direction[:, None]
        for p in opt_params:
            p.grad = None
        out.backward(head)
        with torch.no_grad():
            for name, p in ae.named_parameters():
                p -= (2 * lr if name.endswith("bias") else lr) * p.grad
        pre = loss
    with torch.no_grad():
        return ae(seeds)


def update_effect(model: nn.Module, params: dict, xs: torch.Tensor, ys: torch.Tensor, xr: torch.Tensor,
                  yr: torch.Tensor) -> torch.Tensor:
    """The detector's score per sample: the rise of the mean loss on ``(xr, yr)`` after one step on the sample."""
    before = _loss(model, params, xr, yr) / len(xr)
    return clean_loss_after(model, params, xs, ys, xr, yr) / len(xr) - before


def auc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Area under the ROC curve of scores (positives should score higher), by the Mann–Whitney count."""
    p, n = positive.flatten()[:, None], negative.flatten()[None, :]
    return float(((p > n).float() + 0.5 * (p == n).float()).mean())
