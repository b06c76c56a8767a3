"""Hydraulis's own cost and memory models for LLaMA-7B on 80 GB A800s, as published in its repository.

Every constant here is a fact read from ``lhy101/Hydraulis`` at commit 4489487ed77d783b710eae0f7a45d8096ca17ab4
(2025-04-18), re-typed, not copied:

- the per-sequence time model ``t_k(s) = a_k s² + b_k s + c_k`` and the memory model: ``examples/strategy/
  cost_model.py`` (lines 11-20 time, 50-85 memory);
- the 13 profiled ⟨TP, PP⟩ schemes with their a, b, c and the memory constants: ``examples/strategy/
  build_parallel_scheme_space_7b.py`` (lines 12-14 model shape, 25-52 coefficients, 56-63 memory);
- the alignment of the maximum length to 128 tokens: ``examples/e2e_train.py`` (lines 21, 94).

Units: the repository states none for a, b, c except a 300 ms communication constant beside them; the
coefficients give 426 ms for one 4K-token sequence on a ⟨1, 2⟩ pipeline stage, which fits an A800's FLOPs, so the
suite reads them as milliseconds. Only ratios of such times enter the claims.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 2**20
GIB = 2**30

# LLaMA-7B as the repository models it (build_parallel_scheme_space_7b.py:12-14)
HIDDEN = 4096
LAYERS = 32
VOCAB = 30592

# memory constants (build_parallel_scheme_space_7b.py:56-63)
ACT_BYTES_PER_TOKEN_HIDDEN = {1: 38, 2: 39, 4: 42, 8: 48, 16: 61}  # A_TP: activation bytes per (token · H/TP · layer)
UTILIZATION_SEQLEN = {1: 384, 2: 512, 4: 768, 8: 1024, 16: 1280}  # the fewest tokens a micro-batch should hold
PARAM_BYTES = 210  # B: bytes of parameters, gradients and optimizer state per (H²/TP · layer)
SHARDED = 0.75  # α: the share of that state sharded over the optimizer strategy's data-parallel replicas
GPU_MEMORY = 81252 * MIB
SAFE_BOUND = 6 * GIB
GAP = 5000 * MIB
GPUS_PER_NODE = 8
ALIGN = 128
# the optimizer-holding (homogeneous) strategy of the repository's last 7B planner configuration, ⟨DP, TP, PP⟩
# (strategy_proposal.py:73-78)
OPTIMIZER_STRATEGY = (8, 4, 1)


@dataclass(frozen=True)
class Strategy:
    """One ⟨TP, PP⟩ scheme and its profiled time coefficients (milliseconds)."""

    tp: int
    pp: int
    a: float  # per token²: attention
    b: float  # per token
    c: float  # per micro-batch

    @property
    def gpus(self) -> int:
        return self.tp * self.pp

    @property
    def name(self) -> str:
        return f"tp{self.tp}pp{self.pp}"

    def time(self, s: float) -> float:
        """Planning time of one sequence of ``s`` tokens, ``a s² + b s + c`` (cost_model.py:11-12)."""
        return self.a * s * s + self.b * s + self.c

    def work(self, s: float) -> float:
        """Runtime time of one sequence without the per-micro-batch constant, ``a s² + b s`` (cost_model.py:14-20)."""
        return self.a * s * s + self.b * s

    def max_seqlen(self) -> int:
        """The longest micro-batch (tokens) that fits in memory, aligned down to 128 (cost_model.py:50-85)."""
        return max_seqlen(self.tp, self.pp)


# build_parallel_scheme_space_7b.py:25-52: (TP, PP, a, b, c)
LLAMA7B_A800 = tuple(Strategy(*row) for row in (
    (1, 2, 1.37240947e-06, 9.46477810e-02, 15.0471),
    (1, 4, 9.55466937e-07, 4.55224977e-02, 14.2737),
    (1, 8, 4.71839253e-07, 2.37632988e-02, 7.7435),
    (2, 1, 2.05448457e-06, 9.67076442e-02, 65.1790),
    (2, 2, 1.02663458e-06, 4.90736142e-02, 31.8667),
    (2, 4, 5.24734001e-07, 2.49896203e-02, 17.4716),
    (2, 8, 2.61470756e-07, 1.32181135e-02, 8.6590),
    (4, 1, 1.03043340e-06, 5.64777342e-02, 56.6978),
    (4, 2, 5.16172276e-07, 2.85116473e-02, 28.9898),
    (4, 4, 2.57919500e-07, 1.46761838e-02, 14.9830),
    (8, 1, 5.06885473e-07, 3.66182377e-02, 44.3175),
    (8, 2, 2.53715597e-07, 1.84675589e-02, 22.9765),
    (16, 1, 3.01808129e-07, 2.92311085e-02, 65.2363),
))


def state_bytes(tp: int, pp: int, optimizer: tuple[int, int, int] = OPTIMIZER_STRATEGY) -> float:
    """Bytes per GPU of parameters, gradients and optimizer state of a ⟨TP, PP⟩ replica (cost_model.py:68).

    A share α of the state is sharded like the optimizer-holding strategy ⟨os_dp, os_tp, os_pp⟩; the rest follows
    the replica's own TP and PP. The embedding and head hold 32 bytes per (H·V/TP) without pipelining, 16 with.
    """
    os_dp, os_tp, os_pp = optimizer
    k, k_os = (32 if pp == 1 else 16), (32 if os_pp == 1 else 16)
    body = (LAYERS / os_pp) * (HIDDEN**2 / os_tp) * PARAM_BYTES * SHARDED / os_dp \
        + (LAYERS / pp) * (HIDDEN**2 / tp) * PARAM_BYTES * (1 - SHARDED)
    embed = (HIDDEN * VOCAB / os_tp) * k_os * SHARDED / os_dp + (HIDDEN * VOCAB / tp) * k * (1 - SHARDED)
    return body + embed


def max_seqlen(tp: int, pp: int, optimizer: tuple[int, int, int] = OPTIMIZER_STRATEGY) -> int:
    """``(M − safe bound − state − gap) / (L · H/TP · A_TP)``, aligned down to 128 tokens (cost_model.py:79-80)."""
    free = GPU_MEMORY - SAFE_BOUND - state_bytes(tp, pp, optimizer) - GAP
    per_token = LAYERS * (HIDDEN / tp) * ACT_BYTES_PER_TOKEN_HIDDEN[tp]
    return int(free / per_token) // ALIGN * ALIGN
