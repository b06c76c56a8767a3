"""Measurements of trained models that several papers use (e.g. the ε-sharpness of a minimum).

Like ``bench/hardware``, a module here counts in a paper's code hash only when the paper imports it by name
(``bench.provenance.code_files``), so adding one does not mark other papers' results stale.
"""
