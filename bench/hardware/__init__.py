"""Simulated hardware: cost models of the devices, accelerators and networks the papers ran on.

Every figure a model here produces is *simulated*: results that use one carry the model's name, version and
parameters (``describe()``), and reports label them so. Each model documents its sources and assumptions.

- :mod:`bench.hardware.network`: data-parallel training throughput on a GPU cluster (compute time plus the
  gradient exchange over the node and network links), for TernGrad's Section 5.
"""
