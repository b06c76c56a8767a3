"""Measurements that several papers use: the ε-sharpness of a minimum (``sharpness``), the bytes a training step
saves for backward and the device's peak memory (``memory``).

Like ``bench/hardware``, a module here counts in a paper's code hash only when the paper imports it by name
(``bench.provenance.code_files``), so adding one does not mark other papers' results stale.
"""
