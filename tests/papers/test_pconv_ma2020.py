"""PCONV's pieces: the pattern space, the two libraries, and a patterned network keeping 4 of 9 weights."""

from __future__ import annotations

import torch

from bench.compress.structured import CENTRE, Pattern
from papers.pconv_ma2020 import method


def test_the_56_centre_keeping_patterns():
    assert len(method.ALL_PATTERNS) == 56 == len(set(method.ALL_PATTERNS))
    assert all(len(p) == 4 and CENTRE in p for p in method.ALL_PATTERNS)


def test_random_library_is_distinct_centre_keeping_and_seeded():
    a = method.random_library(8, torch.Generator().manual_seed(0))
    assert len(set(a)) == 8 and all(p in method.ALL_PATTERNS for p in a)
    assert a == method.random_library(8, torch.Generator().manual_seed(0))
    assert a != method.random_library(8, torch.Generator().manual_seed(1))


def test_extracted_library_and_projection_keep_four_of_nine():
    torch.manual_seed(0)
    model = method.PatternCNN()
    lib = method.extracted_library(model, 8)
    assert len(lib) == 8 and all(CENTRE in p for p in lib)
    proj = Pattern(library=lib)
    with torch.no_grad():
        for w in method.conv_weights(model).values():
            w.copy_(proj(w))
            assert proj.contains(w)
    ws = method.conv_weights(model).values()
    assert sum(int((w != 0).sum()) for w in ws) / sum(w.numel() for w in ws) == 4 / 9
