"""The global tier as a Gymnasium environment, trained with Stable-Baselines3's DQN, and its weight-sharing Q-network.

- :class:`CloudEnv`: one step per job arrival; the observation is four features per server (load now, backlog,
  asleep, time since its work ended) and the job's demand; the action is the server that gets the job; the
  reward is minus the energy the placement adds (kJ / ``energy_scale``) and the job's wait (minutes ×
  ``latency_weight``). The local tier lives inside the environment and learns alongside.
- :class:`SharedQNetwork`: the paper's weight-sharing structure as the suite reads it: one small network scores
  every server from that server's features, the job and the cluster's mean features, so its weights do not grow
  with the number of servers and every server's experience trains the same weights. The paper's autoencoder
  state compressor is not built [deviation: with four features per server the state needs no compression].
- :class:`SharedDQNPolicy`: SB3's DQN policy with that Q-network.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from papers.cloud_drl_liu2017.simulator import SERVER_FEATURES, Cluster, TimeoutLearner, Workload, workload


class CloudEnv(gym.Env):
    """Job placement on ``servers`` servers; an episode is one workload of ``jobs`` arrivals."""

    metadata = {"render_modes": []}

    def __init__(self, servers: int, jobs: int, local: TimeoutLearner | float, energy_scale: float,
                 latency_weight: float, utilisation: float, seed: int, workloads: list[Workload] | None = None):
        super().__init__()
        self.servers, self.jobs, self.local = servers, jobs, local
        self.energy_scale, self.latency_weight, self.utilisation = energy_scale, latency_weight, utilisation
        self.observation_space = gym.spaces.Box(-3.0, 3.5, (servers * SERVER_FEATURES + 1,), np.float32)
        self.action_space = gym.spaces.Discrete(servers)
        self._rng = np.random.default_rng(seed)
        self._fixed = list(workloads) if workloads else None  # evaluation: these workloads in turn
        self.finished: list[Cluster] = []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if self._fixed is not None:
            self.work = self._fixed[len(self.finished) % len(self._fixed)]
        else:
            self.work = workload(self._rng, self.jobs, self.servers, self.utilisation)
        self.cluster = Cluster(self.servers, self.local, self.energy_scale, self.latency_weight)
        self.k = 0
        return self.cluster.observe(self.work.arrival[0], self.work.demand[0]), {}

    def step(self, action: int):
        w, k = self.work, self.k
        reward = self.cluster.place(int(action), w.arrival[k], w.demand[k], w.duration[k])
        self.k += 1
        done = self.k == len(w)
        if done:
            horizon = max(w.arrival[-1] + 1800.0, max(s.busy_end for s in self.cluster.servers))
            self.cluster.close(horizon)
            self.finished.append(self.cluster)
            obs = np.zeros(self.observation_space.shape, np.float32)
        else:
            obs = self.cluster.observe(w.arrival[self.k], w.demand[self.k])
        return obs, float(reward), done, False, {}


class SharedQNetwork(QNetwork):
    """Q(s, server i) = f(server i's features, the job, the mean over servers), f shared by every server."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        servers = int(self.action_space.n)
        self.servers = servers
        width = self.net_arch[0] if self.net_arch else 64
        inp = 2 * SERVER_FEATURES + 1
        self.q_net = nn.Sequential(nn.Linear(inp, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                   nn.Linear(width, 1))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = self.extract_features(obs, self.features_extractor)
        per = x[:, : self.servers * SERVER_FEATURES].view(-1, self.servers, SERVER_FEATURES)
        job = x[:, self.servers * SERVER_FEATURES:].unsqueeze(1).expand(-1, self.servers, -1)
        mean = per.mean(dim=1, keepdim=True).expand(-1, self.servers, -1)
        return self.q_net(torch.cat([per, job, mean], dim=-1)).squeeze(-1)


class SharedDQNPolicy(DQNPolicy):
    def make_q_net(self) -> QNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return SharedQNetwork(**net_args).to(self.device)
