"""Hierarchical DRL for cloud allocation and power management, against round-robin and greedy consolidation.

One seed:

1. trains the hierarchical framework: SB3's DQN with the weight-sharing Q-network as the global tier, the
   Q-learning timeout manager as the local tier, learning together over ``train_steps`` job arrivals;
2. trains, for the ablation of the weight sharing, the same DQN with a plain MLP Q-network at the same steps;
3. trains the local tier alone under round-robin and under greedy consolidation (``local_episodes`` each);
4. evaluates every policy, learning off, on the same ``eval_episodes`` fresh workloads: round-robin with servers
   always on (the baseline), round-robin and greedy consolidation with the learned local tier, and both DRL
   frameworks.

Energy counts every server until the last job ends (at least 30 minutes after the last arrival); latency is the
mean job response time (wait + run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from stable_baselines3 import DQN

from bench.registry import ExperimentConfig, experiment
from bench.train import seed_everything
from papers.cloud_drl_liu2017.method import CloudEnv, SharedDQNPolicy
from papers.cloud_drl_liu2017.simulator import Cluster, TimeoutLearner, greedy_consolidation, round_robin, workload


@dataclass
class CloudConfig(ExperimentConfig):
    """The simulated cluster and the learners [assumption: the paper's cluster size, trace, reward weights and
    learner settings were not reachable]."""

    servers: int = 10
    jobs: int = 400  # job arrivals per episode (about two hours at the mean rate)
    utilisation: float = 0.3  # mean offered load of the cluster
    energy_scale: float = 10_000.0  # J per unit of reward
    latency_weight: float = 1.0  # reward units per minute of wait
    train_steps: int = 30_000  # DQN steps (job arrivals) per framework
    local_episodes: int = 20  # episodes that train the local tier under each baseline
    eval_episodes: int = 5
    learning_rate: float = 1e-3
    gamma: float = 0.9
    width: int = 64


def _run_baseline(policy: str, cfg: CloudConfig, local: TimeoutLearner | float, works) -> list[Cluster]:
    out = []
    for w in works:
        c = Cluster(cfg.servers, local, cfg.energy_scale, cfg.latency_weight)
        counter = [0]
        for k in range(len(w)):
            now = w.arrival[k]
            i = (round_robin(c, now, w.demand[k], counter) if policy == "rr"
                 else greedy_consolidation(c, now, w.demand[k]))
            c.place(i, now, w.demand[k], w.duration[k])
        c.close(max(w.arrival[-1] + 1800.0, max(s.busy_end for s in c.servers)))
        out.append(c)
    return out


def _cost(clusters: list[Cluster], cfg: CloudConfig) -> float:
    """The tiers' shared objective per episode: energy / energy_scale + latency_weight × waits in minutes."""
    return float(np.mean([c.total_energy_kj() * 1000 / cfg.energy_scale + cfg.latency_weight * sum(c.waits) / 60
                          for c in clusters]))


def _summary(clusters: list[Cluster], cfg: CloudConfig) -> tuple[float, float, float]:
    return (float(np.mean([c.total_energy_kj() for c in clusters])),
            float(np.mean([c.mean_response() for c in clusters])), _cost(clusters, cfg))


def _train_drl(cfg: CloudConfig, seed: int, shared: bool, device: torch.device):
    rng = np.random.default_rng([seed, 1 if shared else 2])
    local = TimeoutLearner(rng)
    env = CloudEnv(cfg.servers, cfg.jobs, local, cfg.energy_scale, cfg.latency_weight, cfg.utilisation,
                   seed=seed * 7 + (1 if shared else 2))
    model = DQN(SharedDQNPolicy if shared else "MlpPolicy", env, learning_rate=cfg.learning_rate, gamma=cfg.gamma,
                buffer_size=50_000, learning_starts=min(1000, cfg.train_steps // 4), batch_size=64, train_freq=4,
                target_update_interval=500, exploration_fraction=0.3, exploration_final_eps=0.02,
                policy_kwargs={"net_arch": [cfg.width, cfg.width]}, seed=seed, device=device, verbose=0)
    model.learn(total_timesteps=cfg.train_steps)
    local.learning = False
    return model, local


def _eval_drl(model, local: TimeoutLearner, cfg: CloudConfig, works) -> list[Cluster]:
    env = CloudEnv(cfg.servers, cfg.jobs, local, cfg.energy_scale, cfg.latency_weight, cfg.utilisation, seed=0,
                   workloads=works)
    for _ in works:
        obs, _ = env.reset()
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, done, _, _ = env.step(int(action))
    return env.finished


@experiment(config=CloudConfig, metrics=(
    "energy_saving_vs_rr_pct", "latency_increase_vs_rr_pct", "cost_ratio_vs_best_baseline",
    "cost_ratio_shared_vs_flat", "energy_saving_vs_greedy_pct", "latency_increase_vs_greedy_pct",
    "local_tier_saving_pct", "energy_kj_drl", "energy_kj_rr", "response_s_drl", "response_s_rr",
    "response_s_greedy", "wakes_per_episode_drl"))
def cloud_hierarchical(cfg: CloudConfig, seed: int, device: torch.device) -> dict[str, float]:
    """Train both DRL frameworks and the baselines' local tiers, then evaluate all on the same workloads."""
    seed_everything(seed)
    eval_rng = np.random.default_rng([seed, 99])
    works = [workload(eval_rng, cfg.jobs, cfg.servers, cfg.utilisation) for _ in range(cfg.eval_episodes)]
    train_rng = np.random.default_rng([seed, 3])
    locals_ = {}
    for policy in ("rr", "greedy"):
        learner = TimeoutLearner(np.random.default_rng([seed, 4, len(policy)]))
        _run_baseline(policy, cfg, learner, [workload(train_rng, cfg.jobs, cfg.servers, cfg.utilisation)
                                             for _ in range(cfg.local_episodes)])
        learner.learning = False
        locals_[policy] = learner
    rr_on = _summary(_run_baseline("rr", cfg, math.inf, works), cfg)
    rr_local = _summary(_run_baseline("rr", cfg, locals_["rr"], works), cfg)
    greedy = _summary(_run_baseline("greedy", cfg, locals_["greedy"], works), cfg)
    model, local = _train_drl(cfg, seed, shared=True, device=device)
    drl_clusters = _eval_drl(model, local, cfg, works)
    drl = _summary(drl_clusters, cfg)
    flat_model, flat_local = _train_drl(cfg, seed, shared=False, device=device)
    flat = _summary(_eval_drl(flat_model, flat_local, cfg, works), cfg)
    return {
        "energy_saving_vs_rr_pct": 100 * (1 - drl[0] / rr_on[0]),
        "latency_increase_vs_rr_pct": 100 * (drl[1] / rr_on[1] - 1),
        "cost_ratio_vs_best_baseline": drl[2] / min(rr_local[2], greedy[2]),
        "cost_ratio_shared_vs_flat": drl[2] / flat[2],
        "energy_saving_vs_greedy_pct": 100 * (1 - drl[0] / greedy[0]),
        "latency_increase_vs_greedy_pct": 100 * (drl[1] / greedy[1] - 1),
        "local_tier_saving_pct": 100 * (1 - rr_local[0] / rr_on[0]),
        "energy_kj_drl": drl[0],
        "energy_kj_rr": rr_on[0],
        "response_s_drl": drl[1],
        "response_s_rr": rr_on[1],
        "response_s_greedy": greedy[1],
        "wakes_per_episode_drl": float(np.mean([c.wakes for c in drl_clusters])),
    }
