"""A cluster of servers with a power model, jobs arriving over time, and the two tiers of decisions.

The simulator is event-driven by job arrivals. Every server runs its jobs first-in first-out: a job placed at
time ``now`` starts at the earliest moment at or after the previous job's start when the server has room for its
CPU demand (all earlier jobs have started by then, so the room can only grow while it runs), and a sleeping server
first wakes. Each server's schedule is therefore fixed when a job is placed, and so is the energy it adds.

**Power model** [assumption: the paper's constants were not reachable]: an awake server draws
``P_idle + (P_peak − P_idle)·u`` at utilisation ``u`` (87 W idle, 145 W at full load, the linear model of Fan et
al., ISCA 2007, with figures of a 2010s two-socket server); asleep it draws ``P_sleep`` = 10 W; waking takes
``T_wake`` = 30 s at ``P_peak``, and a job placed on a sleeping server waits for it. Energy =
``(P_peak − P_idle)·Σ demand·duration`` (the same for every policy) + ``P_idle`` × time awake + ``P_sleep`` × time
asleep + wake-ups × ``P_peak·T_wake``.

**Local tier**: when a server runs out of work it waits a timeout, then sleeps (``timeout`` ∞: always on). The
learned manager (:class:`TimeoutLearner`) picks the timeout per idle period from a predicted idle length.

**Global tier**: a policy maps the cluster's state at an arrival to the server that gets the job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

P_IDLE = 87.0  # W
P_PEAK = 145.0  # W
P_SLEEP = 10.0  # W
T_WAKE = 30.0  # s
TIMEOUTS = (0.0, 15.0, 30.0, 60.0, 120.0, 240.0, math.inf)  # the local tier's choices (s)
SERVER_FEATURES = 4  # per server in the observation: load now, backlog, asleep, time since last work


@dataclass
class Workload:
    """Jobs of one episode: arrival times (s), CPU demands (share of a server) and durations (s)."""

    arrival: np.ndarray
    demand: np.ndarray
    duration: np.ndarray

    def __len__(self) -> int:
        return len(self.arrival)


def workload(rng: np.random.Generator, jobs: int, servers: int, utilisation: float = 0.3,
             period: float = 7200.0, burst: float = 0.6, mean_duration: float = 300.0) -> Workload:
    """Poisson arrivals with a rate that swings by ``±burst`` over ``period`` seconds, demands uniform on
    [0.05, 0.3] of a server, durations lognormal (σ = 1) with mean ``mean_duration``; the mean offered load is
    ``utilisation`` of the cluster [assumption: the Google cluster trace is not available here]."""
    demand = rng.uniform(0.05, 0.3, jobs)
    sigma = 1.0
    duration = rng.lognormal(math.log(mean_duration) - sigma**2 / 2, sigma, jobs)
    rate = utilisation * servers / (0.175 * mean_duration)  # jobs per second at the mean
    t, times = 0.0, []
    phase = rng.uniform(0, 2 * math.pi)
    peak = rate * (1 + burst)
    while len(times) < jobs:  # thinning of a Poisson process with rate(t) <= peak
        t += rng.exponential(1 / peak)
        if rng.random() < (1 + burst * math.sin(2 * math.pi * t / period + phase)) / (1 + burst):
            times.append(t)
    return Workload(np.array(times), demand, duration)


class TimeoutLearner:
    """The local power manager: tabular Q-learning of the timeout per idle period (a one-step decision).

    The state is the predicted idle length, an exponential moving average of the server's past idle periods
    (the paper uses an LSTM predictor [deviation: a moving average; the inter-arrival series here has no structure
    an LSTM could exploit beyond its level]), in log-spaced bins; the action is a timeout from ``TIMEOUTS``; the
    reward is minus the idle period's energy and wake delay in the global tier's units. Servers share one table.
    """

    BINS = (15.0, 30.0, 60.0, 120.0, 240.0, 480.0)

    def __init__(self, rng: np.random.Generator, epsilon: float = 0.1, lr: float = 0.1):
        self.q = np.zeros((len(self.BINS) + 2, len(TIMEOUTS)))
        self.rng, self.epsilon, self.lr = rng, epsilon, lr
        self.learning = True

    def state(self, predicted: float | None) -> int:
        if predicted is None:
            return len(self.BINS) + 1
        return int(np.searchsorted(self.BINS, predicted))

    def choose(self, state: int) -> int:
        if self.learning and self.rng.random() < self.epsilon:
            return int(self.rng.integers(len(TIMEOUTS)))
        return int(np.argmax(self.q[state]))

    def update(self, state: int, action: int, reward: float) -> None:
        if self.learning:
            self.q[state, action] += self.lr * (reward - self.q[state, action])


@dataclass
class Server:
    starts: list[float] = field(default_factory=list)  # scheduled jobs, in FIFO order
    ends: list[float] = field(default_factory=list)
    demands: list[float] = field(default_factory=list)
    last_start: float = 0.0  # start of the last job placed (FIFO: the next starts no earlier)
    busy_end: float = 0.0  # when the server's scheduled work ends
    predicted_gap: float | None = None  # the local tier's moving average of idle periods
    gap_choice: tuple[float, int, int] | None = None  # (gap start, state, action) of the current idle period


class Cluster:
    """The servers, the energy so far and the jobs' waits, under a local tier (a timeout or a learner)."""

    def __init__(self, servers: int, local: TimeoutLearner | float, energy_scale: float, latency_weight: float):
        self.servers = [Server() for _ in range(servers)]
        self.local = local
        self.energy_j = 0.0  # P_idle, P_sleep and wake energy so far (the load term is added at the end)
        self.dynamic_j = 0.0
        self.waits: list[float] = []
        self.responses: list[float] = []
        self.wakes = 0
        self.energy_scale, self.latency_weight = energy_scale, latency_weight

    # -- the local tier
    def _timeout(self, s: Server) -> float:
        """The timeout of ``s``'s current idle period, chosen once when first needed, from what was known when
        the period began."""
        if isinstance(self.local, float):
            return self.local
        if s.gap_choice is None or s.gap_choice[0] != s.busy_end:
            state = self.local.state(s.predicted_gap)
            s.gap_choice = (s.busy_end, state, self.local.choose(state))
        return TIMEOUTS[s.gap_choice[2]]

    def _gap_cost(self, gap: float, timeout: float) -> tuple[float, float, bool]:
        """Energy (J) of an idle period of ``gap`` seconds ended by a job, the job's wake delay, whether it slept."""
        if gap <= timeout:
            return P_IDLE * gap, 0.0, False
        return P_IDLE * timeout + P_SLEEP * (gap - timeout) + P_PEAK * T_WAKE, T_WAKE, True

    def asleep(self, i: int, now: float) -> bool:
        s = self.servers[i]
        return now > s.busy_end and now - s.busy_end > self._timeout(s)

    # -- observations
    def load(self, i: int, now: float) -> float:
        s = self.servers[i]
        return sum(d for st, en, d in zip(s.starts, s.ends, s.demands, strict=True) if st <= now < en)

    def backlog(self, i: int, now: float) -> float:
        """Seconds of scheduled work not yet started, weighted by demand (server-seconds)."""
        s = self.servers[i]
        return sum(d * (en - st) for st, en, d in zip(s.starts, s.ends, s.demands, strict=True) if st > now)

    def observe(self, now: float, demand: float) -> np.ndarray:
        rows = []
        for i, s in enumerate(self.servers):
            idle_for = max(0.0, now - s.busy_end)
            rows += [self.load(i, now), min(self.backlog(i, now) / 300.0, 3.0), float(self.asleep(i, now)),
                     min(idle_for / 300.0, 3.0) - min(max(0.0, s.busy_end - now) / 300.0, 3.0)]
        return np.array(rows + [demand / 0.3], dtype=np.float32)

    # -- placing a job
    def place(self, i: int, now: float, demand: float, duration: float) -> float:
        """Schedule a job on server ``i``; return the global tier's reward (minus scaled energy and wait)."""
        s = self.servers[i]
        before = self.energy_j
        ready = now
        if now > s.busy_end:  # the server has been out of work since busy_end (0 before its first job)
            timeout = self._timeout(s)
            gap = now - s.busy_end
            joules, delay, slept = self._gap_cost(gap, timeout)
            self.energy_j += joules
            self.wakes += slept
            ready = now + delay
            if not isinstance(self.local, float):
                _, state, action = s.gap_choice
                self.local.update(state, action, -(joules / self.energy_scale + self.latency_weight * delay / 60.0))
                s.predicted_gap = gap if s.predicted_gap is None else 0.7 * s.predicted_gap + 0.3 * gap
        # drop finished jobs (they no longer take room); FIFO: no job starts before the last one started
        keep = [j for j, e in enumerate(s.ends) if e > now]
        s.starts, s.ends, s.demands = ([s.starts[j] for j in keep], [s.ends[j] for j in keep],
                                       [s.demands[j] for j in keep])
        start = max(ready, s.last_start)
        for t in sorted({start, *[e for e in s.ends if e > start]}):
            if sum(d for st, en, d in zip(s.starts, s.ends, s.demands, strict=True)
                   if st <= t < en) + demand <= 1 + 1e-9:
                start = t
                break
        end = start + duration
        # awake time added beyond the work already scheduled; a wake-up's [now, ready) is counted in its gap cost
        self.energy_j += P_IDLE * max(0.0, end - max(s.busy_end, ready))
        s.starts.append(start)
        s.ends.append(end)
        s.demands.append(demand)
        s.last_start = start
        s.busy_end = max(s.busy_end, end)
        self.dynamic_j += (P_PEAK - P_IDLE) * demand * duration
        wait = start - now
        self.waits.append(wait)
        self.responses.append(wait + duration)
        return -((self.energy_j - before) / self.energy_scale + self.latency_weight * wait / 60.0)

    def close(self, horizon: float) -> None:
        """Account every server's tail to ``horizon``: awake for its timeout, then asleep."""
        for s in self.servers:
            tail = max(0.0, horizon - s.busy_end)
            timeout = self._timeout(s) if tail > 0 else 0.0
            self.energy_j += P_IDLE * min(tail, timeout) + P_SLEEP * max(0.0, tail - timeout)

    def total_energy_kj(self) -> float:
        return (self.energy_j + self.dynamic_j) / 1000.0

    def mean_response(self) -> float:
        return float(np.mean(self.responses))


# ---------------------------------------------------------------------------------------------------- baselines


def round_robin(cluster: Cluster, now: float, demand: float, counter: list[int]) -> int:
    i = counter[0] % len(cluster.servers)
    counter[0] += 1
    return i


def greedy_consolidation(cluster: Cluster, now: float, demand: float) -> int:
    """Best fit on awake servers (the fullest that still has room), then an awake idle one, then wake one;
    with no room anywhere, the server with the least backlog."""
    best, best_load = -1, -1.0
    for i in range(len(cluster.servers)):
        if cluster.asleep(i, now) or cluster.backlog(i, now) > 0:
            continue
        load = cluster.load(i, now)
        if load + demand <= 1 + 1e-9 and load > best_load:
            best, best_load = i, load
    if best >= 0:
        return best
    for i in range(len(cluster.servers)):
        if cluster.load(i, now) + demand <= 1 + 1e-9 and cluster.backlog(i, now) == 0:
            return i
    return min(range(len(cluster.servers)), key=lambda i: cluster.backlog(i, now) + cluster.load(i, now))
