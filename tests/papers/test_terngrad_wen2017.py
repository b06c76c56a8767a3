"""TernGrad's method: unbiasedness, clipping, levels after averaging, the codec, and real two-process exchange."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from papers.terngrad_wen2017.distributed import ExchangeConfig, GradientExchange, WorkerError, launch
from papers.terngrad_wen2017.method import pack, packed_size, scaler, ternarize, unpack, unpack_sum


def test_scaler_is_c_sigma_or_max():
    g = torch.randn(1000) * 0.3 + 0.1
    assert scaler(g, 2.5).item() == pytest.approx(2.5 * g.std(unbiased=False).item(), rel=1e-5)
    assert scaler(g, 0.0).item() == pytest.approx(g.abs().max().item())


def test_ternary_gradient_is_unbiased_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(500, generator=gen)
    s = scaler(g, 0.0)  # max|g|: no element is clipped, so E[s·t] = g everywhere
    draws = 4000
    mean = sum(ternarize(g, s, gen).float() for _ in range(draws)) * s / draws
    # per-element standard error of the mean: sqrt(|g|(s - |g|) / draws); allow 5 of them
    tol = 5 * torch.sqrt(g.abs() * (s - g.abs()) / draws) + 1e-6
    assert ((mean - g).abs() <= tol).all()


def test_elements_beyond_the_scaler_are_clipped_to_plus_minus_s():
    gen = torch.Generator().manual_seed(1)
    g = torch.randn(2000, generator=gen) * 0.01
    g[:5] = torch.tensor([1.0, -1.0, 0.5, -0.7, 0.3])  # far beyond 2.5σ
    s = scaler(g, 2.5)
    assert (g[:5].abs() > s).all()
    for _ in range(50):
        t = ternarize(g, s, gen)
        assert torch.equal(t[:5], torch.sign(g[:5]).to(torch.int8))
        assert set(t.unique().tolist()) <= {-1, 0, 1}


@pytest.mark.parametrize("workers", [2, 4, 8])
def test_average_of_n_ternary_gradients_has_at_most_2n_plus_1_levels(workers):
    gen = torch.Generator().manual_seed(workers)
    grads = [torch.randn(3000, generator=gen) for _ in range(workers)]
    s = torch.stack([scaler(g) for g in grads]).max()  # scaler sharing
    avg = sum(ternarize(g, s, gen).float() * s for g in grads) / workers
    levels = torch.unique(torch.round(avg / s * workers)).tolist()
    assert len(levels) <= 2 * workers + 1 and all(-workers <= v <= workers for v in levels)
    assert torch.allclose(avg, torch.round(avg / s * workers) * s / workers)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 1001])
def test_codec_round_trips_any_length(n):
    gen = torch.Generator().manual_seed(n)
    t = torch.randint(-1, 2, (n,), generator=gen, dtype=torch.int8)
    packed = pack(t)
    assert packed.dtype == torch.uint8 and packed.numel() == packed_size(n) == -(-n // 4)
    assert torch.equal(unpack(packed, n), t)


@pytest.mark.parametrize("n", [*range(10), 1001])
@pytest.mark.parametrize("workers", [1, 3, 8])
def test_the_sum_of_gathered_payloads_decodes_exactly(n, workers):
    gen = torch.Generator().manual_seed(n * 31 + workers)
    rows = [torch.randint(-1, 2, (n,), generator=gen, dtype=torch.int8) for _ in range(workers)]
    gathered = torch.stack([pack(r) for r in rows])
    assert torch.equal(unpack_sum(gathered, n), sum(r.to(torch.int16) for r in rows))


def test_codec_refuses_non_ternary_values_and_wrong_lengths():
    with pytest.raises(ValueError, match="-1, 0"):
        pack(torch.tensor([0, 2], dtype=torch.int8))
    with pytest.raises(ValueError, match="cannot hold"):
        unpack(torch.zeros(2, dtype=torch.uint8), 9)
    with pytest.raises(ValueError, match="expected"):
        unpack_sum(torch.zeros(2, 2, dtype=torch.uint8), 9)


# --- real processes over gloo ------------------------------------------------------------------------------

def _toy_worker(rank: int, world: int, mode: str, steps: int) -> dict:
    """Train a small MLP on this rank's shard of a synthetic regression task; return params and bytes."""
    torch.manual_seed(0)  # identical initial parameters on every worker
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 1))
    data = torch.Generator().manual_seed(123)
    x = torch.randn(steps, 16 * world, 64, generator=data)
    y = x[..., :1] * 2 - x[..., 1:2]
    exchange = GradientExchange(list(model.parameters()), ExchangeConfig(mode=mode, quantize_last=True),
                                generator=torch.Generator().manual_seed(1000 + rank))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for i in range(steps):
        shard = slice(16 * rank, 16 * (rank + 1))
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x[i, shard]), y[i, shard])
        loss.backward()
        exchange(i)
        opt.step()
        losses.append(loss.item())
    params = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    numel = params.numel()
    return {"params": params, "bytes_per_step": exchange.bytes_per_step, "numel": numel, "losses": losses}


def _failing_worker(rank: int, world: int) -> None:
    if rank == 1:
        raise RuntimeError("worker one breaks on purpose")
    torch.distributed.barrier()  # rank 0 would wait for ever on its partner


def _hanging_worker(rank: int, world: int) -> None:
    time.sleep(60)


@pytest.mark.timeout(120)
def test_two_gloo_workers_end_identical_and_send_16x_fewer_bytes():
    tern = launch(_toy_worker, 2, ("terngrad", 20), timeout_s=90)
    assert torch.equal(tern[0]["params"], tern[1]["params"])  # each kept its own copy; they stay identical
    assert tern[0]["losses"][-1] < tern[0]["losses"][0]
    fp32 = launch(_toy_worker, 2, ("fp32", 20), timeout_s=90)
    assert torch.equal(fp32[0]["params"], fp32[1]["params"])
    n = fp32[0]["numel"]
    assert fp32[0]["bytes_per_step"] == 4 * n
    assert tern[0]["bytes_per_step"] == packed_size(n) + 4 * 6  # 2 bits per value + one fp32 scaler per tensor
    assert fp32[0]["bytes_per_step"] / tern[0]["bytes_per_step"] > 15.9


@pytest.mark.timeout(120)
def test_a_failing_worker_fails_the_launch_with_its_traceback():
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"(?s)worker 1 of 2 failed.*breaks on purpose"):
        launch(_failing_worker, 2, timeout_s=60)
    assert time.monotonic() - start < 60


@pytest.mark.timeout(120)
def test_a_hanging_worker_fails_the_launch_in_bounded_time():
    start = time.monotonic()
    with pytest.raises(WorkerError, match="did not finish within 3 s"):
        launch(_hanging_worker, 2, timeout_s=3)
    assert time.monotonic() - start < 20
