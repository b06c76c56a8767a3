"""Simulated hardware: cost models of the devices, accelerators and networks the papers ran on.

Every figure a model here produces is *simulated*: results that use one carry the model's name, version and
parameters (``describe()``), and reports label them so. Each model documents its sources and assumptions.

- :mod:`bench.hardware.roofline`: the papers' own CPUs and GPUs as rooflines (peak FLOP/s and memory bandwidth
  from datasheets; FLOPs and bytes counted per operator from the real PyTorch code);
- :mod:`bench.hardware.systolic`: a systolic-array accelerator through SCALE-Sim (``scalesim`` on PyPI, run in
  its own environment): cycles and DRAM traffic of GEMMs;
- :mod:`bench.hardware.network`: data-parallel training throughput on a GPU cluster (compute time plus the
  gradient exchange over the node and network links), for TernGrad's Section 5.

A module's companion files (``<module>_*``: a worker it runs, the lock of its environment) count in the code
hash of the papers that import it (``bench.provenance.code_files``).
"""
