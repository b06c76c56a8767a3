"""What the harness's training loop costs over a bare PyTorch loop: same model, batch, data and steps.

Target (issue #2): at most 5% more time per step, with the health watch that checks every optimizer step for
non-finite parameters (``bench.health``) included, as ``bench.execute`` runs every experiment under it. Both
loops run in interleaved blocks of steps and the ratio of their median block times is recorded in the
benchmark's ``extra_info`` and printed; it is a measurement, not a pass/fail assertion (timings here are
noisy). What the test does assert is that both loops did the same work: from the same seed they end with
identical weights.
"""

from __future__ import annotations

import copy
import statistics

import pytest
import torch
import torch.nn.functional as F

from bench import health
from bench.latency import time_interleaved
from bench.models import LeNet5
from bench.train import shuffled_batches, train

pytestmark = pytest.mark.overhead


def _setup(seed: int = 0, n: int = 4096):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (n,), generator=gen)
    torch.manual_seed(seed)
    return LeNet5(), x, y


def test_training_step_overhead(benchmark, bench_scale, monkeypatch, pytestconfig):
    monkeypatch.setenv("BENCH_PROGRESS", "0")
    steps, rounds = (4, 3) if bench_scale == "smoke" else (25, 15)
    model, x, y = _setup()
    bare_model, harness_model = model, copy.deepcopy(model)
    bare_opt = torch.optim.SGD(bare_model.parameters(), lr=0.01, momentum=0.9)
    harness_opt = torch.optim.SGD(harness_model.parameters(), lr=0.01, momentum=0.9)
    bare_batches = shuffled_batches(x, y, 64, torch.Generator().manual_seed(1))
    harness_batches = shuffled_batches(x, y, 64, torch.Generator().manual_seed(1))

    def bare_block():
        for _ in range(steps):
            xb, yb = next(bare_batches)
            bare_opt.zero_grad(set_to_none=True)
            F.cross_entropy(bare_model(xb), yb).backward()
            bare_opt.step()

    def harness_block():  # the loop as an experiment runs it: under the health watch (bench.execute)
        with health.watch("overhead"):
            train(harness_model, harness_batches, steps=steps, optimizer=harness_opt, desc="overhead")

    times = time_interleaved({"bare": bare_block, "harness": harness_block}, torch.device("cpu"), rounds, 1)
    ratio = statistics.median(times["harness"]) / statistics.median(times["bare"])
    for p, q in zip(bare_model.parameters(), harness_model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    benchmark.extra_info.update(harness_over_bare=ratio, steps_per_block=steps, target="<= 1.05")
    benchmark.group = "harness overhead"
    benchmark.pedantic(harness_block, rounds=3 if bench_scale == "smoke" else 10, warmup_rounds=1)
    pytestconfig._bench_overhead = (f"harness / bare training step time: {ratio:.3f} (target <= 1.05; median of "
                                    f"{rounds} interleaved rounds of {steps} LeNet steps, batch 64)")
