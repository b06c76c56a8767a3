"""Hydraulis's planner and data assignment, and the homogeneous baselines, on the repository's cost model.

Re-implemented from the description of ``lhy101/Hydraulis`` @ 4489487 (``examples/strategy/strategy_proposal.py``,
``dynamic_pulp.py``, ``distributed_call.py``, ``e2e_train.py``, ``data_utils/bucket.py``); no code is copied.

- :func:`propose` is the strategy-proposal dynamic programme: ``t[n][s]``, the least makespan of all sequences no
  longer than ``s`` on at most ``n`` GPUs, ``= min over strategy k, range length l, replicas d of
  max(t[n − d·g_k][s − l], cost_k(s − l, s) / d)`` over strategies whose memory bound covers ``s``, where
  ``cost_k`` sums ``t_k`` over the range's sequences plus ``(PP − 1) · t_k`` of its longest (1F1B warm-up and
  cool-down). Tracing ``t[N][s]`` back for every ``s`` gives the candidate heterogeneous plans.
- :func:`dispatch` is stage 1: replicas sorted by memory bound; sequences only the first replica can hold go there;
  every other sequence goes to the feasible replica whose total cost stays lowest (ties to an empty replica),
  over random shuffles of the batch, keeping the best.
- :func:`pack` is stage 2: for each micro-batch count ``v`` in the repository's range, the sequences are spread
  over ``v`` micro-batches of at most the strategy's memory bound, and the ``v`` minimising
  ``(max micro-batch cost + c) · (PP − 1 + v)`` is kept. The repository solves each ``v`` as an integer programme
  (CBC, 0.5 s limit); here a longest-first greedy assignment stands in for it [deviation: no ILP solver among the
  suite's dependencies; the greedy's makespan is at most 4/3 of the optimum on identical bins, so it can only
  understate Hydraulis].
- :func:`homogeneous_padding` and :func:`homogeneous_packing` are batching methods 0 and 1 of ``e2e_train.py``
  on one strategy for all GPUs: every sequence padded to the maximum length, or sequences greedily packed into
  micro-batches of the strategy's memory bound (shortest unplaced first, then the longest that still fit).

One iteration's simulated time is the slowest replica's ``(max micro-batch cost + c) · (PP − 1 + v)``
(``dynamic_pulp.py:389, 408``; ``distributed_call.py:79-81``), the same formula for every method.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from papers.hydraulis_li2024.costmodel import ALIGN, OPTIMIZER_STRATEGY, UTILIZATION_SEQLEN, Strategy

MAX_V_TRIES = 20  # micro-batch counts tried per replica (dynamic_pulp.py's cap)


@dataclass(frozen=True)
class Replica:
    """A model replica: its strategy and its memory bound (tokens per micro-batch)."""

    strategy: Strategy
    max_seqlen: int


def plan_replicas(plan: Sequence[Strategy]) -> list[Replica]:
    """The replicas of a plan, sorted by memory bound, largest first (stage 1's order)."""
    reps = [Replica(k, k.max_seqlen()) for k in plan]
    return sorted(reps, key=lambda r: -r.max_seqlen)


# ---------------------------------------------------------------------------------------------------- planning


def propose(strategies: Sequence[Strategy], gpus: int, lengths: np.ndarray, max_len: int,
            step: int = ALIGN, weight: float = 1.0) -> list[tuple[Strategy, ...]]:
    """The candidate heterogeneous plans of the strategy-proposal DP (``strategy_proposal.py:8-46, 109-125``).

    ``lengths`` is the planner's view of the workload (a histogram's worth of sequence lengths, here the
    sequences of one or more iterations, each counting ``weight``: with ``weight = 1 / iterations`` the planner
    sees one iteration's expected workload); ``max_len`` the longest sequence length planned for, on a grid of
    ``step`` tokens. Returns the distinct plans ``t[gpus][s]`` traces back to, one per grid point ``s``, each sorted
    by TP then PP, largest first, after the homogeneous plan of the optimizer-holding strategy (``OPTIMIZER_STRATEGY``,
    which the repository always places first and keeps as a candidate).
    """
    grid = max_len // step
    counts = weight * np.bincount(np.minimum(lengths, max_len).astype(np.int64), minlength=max_len + 1)[: max_len + 1]
    xs = np.arange(max_len + 1, dtype=np.float64)
    present = np.where(counts > 0, np.arange(max_len + 1), 0)
    last = np.maximum.accumulate(present)  # the longest length present at or below x
    bounds = [k.max_seqlen() for k in strategies]
    # prefix[k][x]: the summed planning time of every sequence of length <= x on strategy k
    prefix = [np.cumsum(counts * (k.a * xs * xs + k.b * xs + k.c)) for k in strategies]
    inf = float("inf")
    t = np.full((gpus + 1, grid + 1), inf)
    t[:, 0] = 0.0
    trace: dict[tuple[int, int], tuple] = {}
    for n in range(1, gpus + 1):
        for si in range(1, grid + 1):
            best, arg = t[n - 1, si], ("skip",)
            s = si * step
            lo = np.arange(0, si) * step  # range (lo, s]: l = si - j grid steps for j in 0..si-1
            for ki, k in enumerate(strategies):
                g = k.gpus
                if bounds[ki] < s or g > n:
                    continue
                longest = last[s]
                has = last[s] > lo  # ranges holding at least one sequence
                tail = np.where(has, k.a * longest**2 + k.b * longest + k.c, 0.0) * (k.pp - 1)
                cost = prefix[ki][s] - prefix[ki][lo] + tail  # (si,)
                for d in range(1, n // g + 1):
                    cand = np.maximum(t[n - d * g, :si], cost / d)
                    j = int(np.argmin(cand))
                    if cand[j] < best:
                        best, arg = float(cand[j]), ("use", j, ki, d)
            t[n, si] = best
            trace[(n, si)] = arg
    os_dp, os_tp, os_pp = OPTIMIZER_STRATEGY
    holder = [k for k in strategies if (k.tp, k.pp) == (os_tp, os_pp)]
    plans: list[tuple[Strategy, ...]] = [tuple(holder * os_dp)] if holder and os_dp * os_tp * os_pp <= gpus else []
    for si in range(1, grid + 1):
        n, s_idx, plan = gpus, si, []
        while s_idx > 0 and n > 0:
            arg = trace[(n, s_idx)]
            if arg[0] == "skip":
                n -= 1
                continue
            _, j, ki, d = arg
            plan += [strategies[ki]] * d
            n, s_idx = n - d * strategies[ki].gpus, j
        if s_idx > 0:  # nothing covers these lengths on these GPUs
            continue
        key = tuple(sorted(plan, key=lambda k: (-k.tp, -k.pp)))
        if key and key not in plans:
            plans.append(key)
    return plans


# ---------------------------------------------------------------------------------------------------- stage 1


def _replica_cost(k: Strategy, works: list[float]) -> float:
    """Stage 1's cost of a replica: its sequences' work plus (PP − 1) times the largest (dynamic_pulp.py:63-68)."""
    return sum(works) + (k.pp - 1) * max(works) if works else 0.0


def dispatch(seqs: Sequence[int], replicas: Sequence[Replica], rng: random.Random,
             trials: int = 50) -> list[list[int]] | None:
    """Stage 1: sequences to replicas (sorted by memory bound, largest first), or None if some cannot be held.

    ``trials`` random orders of the batch (the repository's ``MINI_TRIAL_NUM = 50``); in each, sequences only
    replica 0 can hold go there first, then each sequence goes to the feasible replica that keeps the largest
    replica cost lowest (an empty replica on ties). The order with the lowest largest cost wins; an order that
    leaves a replica empty is discarded.
    """
    if not seqs or max(seqs) > replicas[0].max_seqlen:
        return None
    second = replicas[1].max_seqlen if len(replicas) > 1 else -1
    best, best_cost = None, math.inf
    for _ in range(trials):
        order = list(seqs)
        rng.shuffle(order)
        assign: list[list[int]] = [[] for _ in replicas]
        works: list[list[float]] = [[] for _ in replicas]
        cost = [0.0] * len(replicas)
        rest = []
        for s in order:
            if s > second:
                assign[0].append(s)
                works[0].append(replicas[0].strategy.work(s))
            else:
                rest.append(s)
        cost[0] = _replica_cost(replicas[0].strategy, works[0])
        for s in rest:
            choice, choice_key = -1, None
            for i, r in enumerate(replicas):
                if s > r.max_seqlen:
                    continue
                w = r.strategy.work(s)
                new = cost[i] + w + (r.strategy.pp - 1) * max(0.0, w - max(works[i], default=0.0))
                peak = max(new, max(c for j, c in enumerate(cost) if j != i) if len(cost) > 1 else 0.0)
                key = (peak, 0 if not assign[i] else 1, new)
                if choice_key is None or key < choice_key:
                    choice, choice_key = i, key
            assign[choice].append(s)
            works[choice].append(replicas[choice].strategy.work(s))
            cost[choice] = _replica_cost(replicas[choice].strategy, works[choice])
        if any(not a for a in assign):
            continue
        if max(cost) < best_cost:
            best, best_cost = assign, max(cost)
    return best


# ---------------------------------------------------------------------------------------------------- stage 2


def pipeline_time(k: Strategy, micro_batches: Sequence[Sequence[int]]) -> float:
    """One replica's time: ``(max micro-batch cost + c) · (PP − 1 + v)`` (dynamic_pulp.py:389, 408)."""
    if not micro_batches:
        return 0.0
    worst = max(sum(k.work(s) for s in mb) for mb in micro_batches)
    return (worst + k.c) * (k.pp - 1 + len(micro_batches))


def _greedy_bins(seqs: Sequence[int], k: Strategy, v: int, capacity: int) -> list[list[int]] | None:
    """Longest-work-first onto the least-loaded micro-batch with room; None if some sequence finds no room."""
    bins: list[list[int]] = [[] for _ in range(v)]
    load, tokens = [0.0] * v, [0] * v
    for s in sorted(seqs, reverse=True):
        room = [i for i in range(v) if tokens[i] + s <= capacity]
        if not room:
            return None
        i = min(room, key=lambda j: (load[j], tokens[j]))
        bins[i].append(s)
        load[i] += k.work(s)
        tokens[i] += s
    return [b for b in bins if b]


def pack(seqs: Sequence[int], replica: Replica) -> tuple[float, list[list[int]]]:
    """Stage 2: the micro-batches of one replica and its pipeline time (fine-grained packing, method 4).

    ``v`` runs from ``ceil(T / S_max)`` to ``max(that, min(#seqs, T // utilization length))``, at most 20 values
    (dynamic_pulp.py:308-419), with ``T`` the replica's tokens.
    """
    k, cap = replica.strategy, replica.max_seqlen
    total = sum(seqs)
    lo = max(1, math.ceil(total / cap))
    hi = max(lo, min(len(seqs), total // UTILIZATION_SEQLEN[k.tp]))
    best: tuple[float, list[list[int]]] = (math.inf, [])
    for v in range(lo, min(hi, lo + MAX_V_TRIES - 1) + 1):
        bins = _greedy_bins(seqs, k, v, cap)
        if bins is None:
            continue
        tm = pipeline_time(k, bins)
        if tm < best[0]:
            best = (tm, bins)
    if not best[1]:  # no v in range fits: one more micro-batch than the tightest count that does
        v = hi + 1
        while (bins := _greedy_bins(seqs, k, v, cap)) is None:
            v += 1
        best = (pipeline_time(k, bins), bins)
    return best


def hydraulis_time(seqs: Sequence[int], plans: Sequence[tuple[Strategy, ...]], rng: random.Random,
                   trials: int = 50) -> tuple[float, tuple[Strategy, ...] | None]:
    """The iteration time of Hydraulis: among the candidate plans whose largest memory bound holds the batch's
    longest sequence, the one whose two-stage assignment gives the lowest slowest-replica time
    (distributed_call.py:153, 202-208)."""
    best: tuple[float, tuple[Strategy, ...] | None] = (math.inf, None)
    longest = max(seqs)
    for plan in plans:
        reps = plan_replicas(plan)
        if reps[0].max_seqlen < longest:
            continue
        assign = dispatch(seqs, reps, rng, trials)
        if assign is None:
            continue
        tm = max(pack(a, r)[0] for a, r in zip(assign, reps, strict=True))
        if tm < best[0]:
            best = (tm, plan)
    return best


# ---------------------------------------------------------------------------------------------------- baselines


def _split_by_tokens(seqs: Sequence[int], parts: int) -> list[list[int]]:
    """Consecutive sequences (in the batch's order) into ``parts`` groups of about equal tokens."""
    total, out, acc = sum(seqs), [[] for _ in range(parts)], 0
    for s in seqs:
        i = min(parts - 1, int(acc * parts / total)) if total else 0
        out[i].append(s)
        acc += s
    return out


def homogeneous_padding(seqs: Sequence[int], k: Strategy, gpus: int, max_len: int) -> float:
    """Batching method 0: every sequence padded to ``max_len`` as its own micro-batch, an equal number of
    sequences per replica (``bucket.py:21-33``); inf when ``max_len`` exceeds the strategy's memory bound."""
    if k.max_seqlen() < max_len or gpus < k.gpus:
        return math.inf
    d = gpus // k.gpus
    per = math.ceil(len(seqs) / d)
    return (k.work(max_len) + k.c) * (k.pp - 1 + per)


def _fixed_packing(seqs: Sequence[int], capacity: int) -> list[list[int]]:
    """``bucket.py:58-87``: take the shortest unplaced sequence, then add the longest that still fit."""
    rest = sorted(seqs)
    bins = []
    while rest:
        mb = [rest.pop(0)]
        room = capacity - mb[0]
        i = len(rest) - 1
        while i >= 0 and room > 0:
            if rest[i] <= room:
                room -= rest[i]
                mb.append(rest.pop(i))
            i -= 1
        bins.append(mb)
    return bins


def homogeneous_packing(seqs: Sequence[int], k: Strategy, gpus: int) -> float:
    """Batching method 1 on one strategy: the batch split into replicas of about equal tokens, each packed into
    micro-batches of the strategy's memory bound; inf when a sequence exceeds it."""
    cap = k.max_seqlen()
    if max(seqs) > cap or gpus < k.gpus:
        return math.inf
    d = gpus // k.gpus
    return max(pipeline_time(k, _fixed_packing(part, cap)) for part in _split_by_tokens(seqs, d) if part)
