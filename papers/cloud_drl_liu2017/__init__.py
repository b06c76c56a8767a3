"""A Hierarchical Framework of Cloud Resource Allocation and Power Management Using Deep Reinforcement Learning.

Ning Liu, Zhe Li, Zhiyuan Xu, Jielong Xu, Sheng Lin, Qinru Qiu, Jian Tang, Yanzhi Wang. ICDCS 2017,
arXiv:1703.04221. No public code found (``gohsyi/cluster_optimization`` is a third-party re-implementation with
A2C on the Alibaba trace, not read for this folder).

**Idea.** Joint VM allocation and power management in two tiers: a global tier of deep reinforcement learning
assigns each arriving job to a server (an autoencoder compresses the state, and a weight-sharing structure speeds
convergence); a local tier on every server predicts its workload with an LSTM and decides by model-free RL when
to put the idle server to sleep. On Google cluster traces the framework saves power and energy against the
baseline without severe latency degradation, with the best trade-off between latency and energy; a third-party
summary gives about 54% power saving.

**What is here.**

- ``simulator.py``: an event-driven cluster (FIFO servers with CPU capacity, a linear power model with sleep and
  wake-up latency), synthetic bursty Poisson workloads, the local tier as tabular Q-learning of the timeout, and
  the round-robin and greedy-consolidation allocators.
- ``method.py``: the global tier as a Gymnasium environment trained with Stable-Baselines3's DQN, and the
  weight-sharing Q-network (one scorer shared by every server).
- ``experiment.py``: both DRL frameworks (shared and plain Q-networks) and the baselines' local tiers trained,
  then every policy evaluated on the same fresh workloads.

**Deviations and assumptions.**

- The Google cluster trace, the paper's cluster size, server power figures, reward weights and learner settings
  were not reachable: the workload (10 servers, jobs demanding 5-30% of a server for a lognormal time of mean
  5 minutes, Poisson arrivals whose rate swings ±60% over two hours, 30% mean load), the power model (87 W idle,
  145 W peak, 10 W asleep, 30 s wake-up at peak power) and the reward (energy / 10 kJ + one unit per minute of
  wait) are the suite's.
- One resource (CPU share) per job and server, and FIFO servers; the paper's VMs have several resource
  dimensions.
- The global tier is SB3's DQN (the paper's DRL is Q-learning with a deep network); its weight sharing is the
  suite's reading (one scorer of a server's features, the job and the cluster mean). The autoencoder is not built:
  with four features per server there is nothing to compress.
- The local tier's LSTM predictor is an exponential moving average of past idle periods, and its RL power manager
  is tabular Q-learning over seven timeouts (0 s to never) with the idle period's energy and wake delay as
  reward; servers share one table. SB3 offers no tabular learner, and a network is not needed for 8 states.
- The baseline of the headline claim is round-robin with servers always on (the paper's baseline is unverified);
  greedy consolidation and round-robin, both with the learned local tier, are the references of the trade-off.
"""
