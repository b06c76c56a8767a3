"""The adaptive ρ option of the ADMM engine: one ρ per layer, adjusted after every dual update by the rule of the
Wang group's RNN ADMM code (``multi_rho``; ``../shared/SOURCES-WAVE2.md``, family F1, RTMobile).

:class:`AdaptiveRhoADMM` is :class:`~bench.compress.admm.ADMM` with ``ρ`` per layer. After each
:meth:`~AdaptiveRhoADMM.update` (``Z ← Π(W + U)``, ``U ← U + W − Z`` as in the engine), each layer compares its
primal residual ``‖W − Z‖²`` with its dual residual ``‖Z − Z_prev‖²``:

- ratio ``‖W − Z‖² / ‖Z − Z_prev‖²`` below ``0.1`` (the weights are close to the set compared with how far the
  set's copy still moves): ``ρ ← ρ / 1.2``;
- otherwise ``ρ`` grows: ``ρ ← 1.2·ρ`` while ``ρ ≤ 0.02``, ``ρ ← ρ + 0.02`` above it (the code's additive step);
- once ``ρ > 0.5`` the layer's ρ is frozen.

[assumption: the rule is known from SOURCES-WAVE2.md's reading of the group's code, not from the code itself;
that the additive step replaces only the growth, not the decrease, and that ρ is per layer (``multi_rho``), are
the suite's readings.] The scaled dual ``U`` is not rescaled when ρ changes, as in the engine and the authors'
code. A zero dual residual (``Z`` unchanged) counts as a large ratio, so ρ grows.

It lives beside the engine rather than in it so that the engine's papers keep their code hash; a paper opts in
by building ``AdaptiveRhoADMM`` where it would build ``ADMM``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from bench.compress.admm import ADMM


@dataclass
class AdaptiveRhoADMM(ADMM):
    """:class:`~bench.compress.admm.ADMM` with one ρ per layer and the residual-ratio rule (module docstring);
    ``rho`` is every layer's starting value, ``rho_mult`` and ``rho_max`` are not used."""

    shrink_below: float = 0.1
    factor: float = 1.2
    additive_above: float = 0.02
    step: float = 0.02
    freeze_above: float = 0.5
    rhos: dict[str, float] = field(init=False)
    history: list[dict[str, float]] = field(init=False)

    def __post_init__(self):
        super().__post_init__()
        self.rhos = {n: self.rho for n in self.targets}
        self.history = [dict(self.rhos)]

    def penalty(self) -> torch.Tensor:
        return sum(0.5 * self.rhos[n] * (w - self.Z[n] + self.U[n]).pow(2).sum() for n, (w, _) in self.targets.items())

    @torch.no_grad()
    def add_grad_(self, step: int | None = None) -> None:
        for n, (w, _) in self.targets.items():
            g = self.rhos[n] * (w - self.Z[n] + self.U[n])
            if w.grad is None:
                w.grad = g
            else:
                w.grad.add_(g)

    def next_rho(self, rho: float, primal: float, dual: float) -> float:
        """The rule for one layer, from its ρ and its squared primal and dual residuals."""
        if rho > self.freeze_above:
            return rho
        if dual > 0 and primal / dual < self.shrink_below:
            return rho / self.factor
        return rho * self.factor if rho <= self.additive_above else rho + self.step

    @torch.no_grad()
    def update(self) -> None:
        for n, (w, proj) in self.targets.items():
            z_prev = self.Z[n]
            self.Z[n] = proj(w + self.U[n])
            self.U[n] = self.U[n] + w - self.Z[n]
            primal = float((w - self.Z[n]).pow(2).sum())
            dual = float((self.Z[n] - z_prev).pow(2).sum())
            self.rhos[n] = self.next_rho(self.rhos[n], primal, dual)
        self.rho = max(self.rhos.values())
        self.history.append(dict(self.rhos))
        self.updates += 1
