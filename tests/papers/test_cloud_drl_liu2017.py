"""The cloud simulator's energy and FIFO accounting (papers/cloud_drl_liu2017), pinned by hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from papers.cloud_drl_liu2017.method import CloudEnv
from papers.cloud_drl_liu2017.simulator import Cluster, TimeoutLearner, greedy_consolidation, workload


def test_energy_of_a_sleep_and_wake_by_hand():
    c = Cluster(1, 60.0, energy_scale=1000.0, latency_weight=1.0)
    c.place(0, 0.0, 0.5, 100.0)  # busy 0-100: 87 W x 100 s
    r = c.place(0, 300.0, 0.5, 50.0)  # idle 60 s, asleep 140 s, wake 30 s at 145 W; runs 330-380
    assert c.waits == [0.0, 30.0]
    assert r == pytest.approx(-((87 * 60 + 10 * 140 + 145 * 30 + 87 * 50) / 1000 + 30 / 60))
    c.close(500.0)  # tail 120 s: 60 awake, 60 asleep
    assert c.energy_j == pytest.approx(8700 + 10970 + 4350 + 5820)
    assert c.total_energy_kj() == pytest.approx((29840 + 58 * (0.5 * 100 + 0.5 * 50)) / 1000)
    assert c.wakes == 1


def test_always_on_never_sleeps_and_fifo_waits_for_room():
    c = Cluster(1, math.inf, energy_scale=1000.0, latency_weight=1.0)
    c.place(0, 0.0, 0.5, 100.0)
    c.place(0, 10.0, 0.8, 10.0)  # no room until the first job ends at 100
    assert c.waits == [0.0, 90.0]
    c.place(0, 20.0, 0.1, 10.0)  # FIFO: starts no earlier than the job before it
    assert c.waits[-1] == pytest.approx(80.0)
    c.close(1000.0)
    assert c.energy_j == pytest.approx(87 * 1000)


def test_greedy_consolidates_onto_the_fullest_awake_server():
    c = Cluster(3, 600.0, energy_scale=1000.0, latency_weight=1.0)
    c.place(0, 0.0, 0.2, 500.0)
    c.place(1, 0.0, 0.6, 500.0)
    assert greedy_consolidation(c, 1.0, 0.3) == 1
    assert greedy_consolidation(c, 1.0, 0.5) == 0


def test_timeout_learner_learns_the_cheaper_action():
    learner = TimeoutLearner(np.random.default_rng(0), epsilon=0.0, lr=0.5)
    for _ in range(20):
        learner.update(0, 3, -1.0)
        learner.update(0, 0, -5.0)
    assert learner.choose(0) in (1, 2, 3, 4, 5, 6)  # untried actions stay at 0 > -1; never the costly one
    assert learner.choose(0) != 0


def test_environment_runs_an_episode():
    env = CloudEnv(4, 20, 30.0, 10_000.0, 1.0, 0.3, seed=0)
    obs, _ = env.reset()
    assert obs.shape == env.observation_space.shape
    done, steps = False, 0
    while not done:
        obs, reward, done, _, _ = env.step(steps % 4)
        steps += 1
        assert reward <= 0
    assert steps == 20 and len(env.finished) == 1


def test_workload_load_is_as_asked():
    w = workload(np.random.default_rng(0), 5000, 10, utilisation=0.3)
    offered = float(np.sum(w.demand * w.duration)) / (w.arrival[-1] * 10)
    assert offered == pytest.approx(0.3, rel=0.15)
