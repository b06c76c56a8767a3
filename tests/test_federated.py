"""bench/federated.py: Flower's FedAvg and SecAgg+ on the loopback grid, the non-IID split, the payload encoders of
ESMFL's and SEFL's proxies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flwr.server.workflow import SecAggPlusWorkflow
from torch import nn

from bench.federated import TorchClient, UpdateFedAvg, get_flat, label_shards, run_federated, set_flat
from papers.esmfl_lin2020.method import sparse_decode, topk_encoder
from papers.sefl_deng2022.method import kept_decoder, kept_encoder, magnitude_mask

STAGE = "collect_masked_vectors"


def _clients(n: int, ledger: list | None = None, encode=None, sizes=None) -> dict[int, TorchClient]:
    torch.manual_seed(0)
    out = {}
    for i in range(n):
        m = sizes[i] if sizes else 40
        x, y = torch.randn(m, 6), torch.randint(0, 3, (m,))
        kwargs = {"encode": encode} if encode else {}
        out[i + 1] = TorchClient(nn.Linear(6, 3), x, y, local_steps=3, batch_size=8, lr=0.1,
                                 generator=torch.Generator().manual_seed(i), ledger=ledger, **kwargs)
    return out


def _drop(dropped: set[int], secure: bool):
    def drops(node, message):
        if node not in dropped:
            return False
        if not secure:
            return message.metadata.message_type == "train"
        configs = message.content.config_records.get("secaggplus_configs")
        return configs is not None and configs.get("stage") == STAGE
    return drops


def _init() -> np.ndarray:
    torch.manual_seed(1)
    return get_flat(nn.Linear(6, 3)).astype(np.float64)


@pytest.mark.parametrize("dropped", [set(), {2, 5, 9}])  # none, and 30% of ten clients after the key exchange
def test_secure_aggregate_equals_plain_mean_of_survivors(dropped):
    sizes = [40, 48, 56, 40, 64, 40, 72, 40, 48, 56]  # unequal: the mean is example-weighted
    plain = UpdateFedAvg(_init())
    np.random.seed(0)
    run_p = run_federated(_clients(10, plain.ledger, sizes=sizes), plain, 2, drops=_drop(dropped, False))
    secure = UpdateFedAvg(_init())
    run_s = run_federated(_clients(10, secure.ledger, sizes=sizes), secure, 2,
                          secagg=SecAggPlusWorkflow(num_shares=10, reconstruction_threshold=6, max_weight=100),
                          drops=_drop(dropped, True))
    assert run_p.rounds_aggregated == run_s.rounds_aggregated == 2
    assert max(run_p.errors) < 1e-12  # plain FedAvg aggregates the ledger's mean (up to summation order)
    quantum = 2 * 8.0 / 2**22  # SecAgg+'s clipping range 8 over 2^22 levels
    assert max(run_s.errors) < 20 * quantum  # a quantisation error, not a mask
    # the same clients trained in both runs: the final weights agree to quantisation
    assert np.abs(run_s.weights - run_p.weights).max() < 50 * quantum
    assert run_s.bytes_up > run_p.bytes_up  # masked int64 vectors and key material cost bytes


def test_too_many_dropouts_halt_the_round():
    secure = UpdateFedAvg(_init())
    run = run_federated(_clients(10, secure.ledger), secure, 1,
                        secagg=SecAggPlusWorkflow(num_shares=10, reconstruction_threshold=6, max_weight=100),
                        drops=_drop({1, 2, 3, 4, 5}, True))
    assert run.rounds_aggregated == 0  # five survivors are below the threshold of six: no aggregate, no leak
    assert np.array_equal(run.weights, _init())


def test_bytes_count_the_serialised_payload():
    def clients(encode=None):
        torch.manual_seed(0)
        kwargs = {"encode": encode} if encode else {}
        return {i + 1: TorchClient(nn.Linear(200, 50), torch.randn(16, 200), torch.randint(0, 50, (16,)),
                                   local_steps=1, batch_size=8, lr=0.1, generator=torch.Generator().manual_seed(i),
                                   **kwargs) for i in range(4)}

    init = get_flat(nn.Linear(200, 50)).astype(np.float64)
    n = init.size  # 10,050 parameters
    run_d = run_federated(clients(), UpdateFedAvg(init), 1)
    assert 4 * 4 * n <= run_d.bytes_up < 4 * 4 * n * 1.05  # four float32 updates plus a small envelope
    run_s = run_federated(clients(topk_encoder(0.02)), UpdateFedAvg(init, sparse_decode), 1)
    k = round(0.02 * n)
    assert 4 * 8 * k <= run_s.bytes_up < 4 * 8 * k + 4 * 1000  # float32 values and int32 indices
    assert run_d.bytes_up / run_s.bytes_up > 10


def test_label_shards_deal_disjoint_two_label_shards():
    y = torch.arange(10).repeat_interleave(100)
    parts = label_shards(y, 10, 2, torch.Generator().manual_seed(0))
    joined = torch.cat(parts)
    assert len(parts) == 10 and all(len(p) == 100 for p in parts)
    assert len(joined.unique()) == 1000  # disjoint and covering
    assert all(len(y[p].unique()) <= 2 for p in parts)  # each shard holds one label here


def test_topk_error_feedback_conserves_the_update():
    client = _clients(1)[1]
    enc = topk_encoder(0.25)
    rng = np.random.default_rng(0)
    u1, u2 = rng.normal(size=20), rng.normal(size=20)
    sent1 = sparse_decode(enc(client, u1), 20)
    assert np.count_nonzero(sent1) == 5
    assert np.allclose(sent1 + client.residual, u1, atol=1e-6)  # nothing lost: sent or carried
    kept = np.abs(u1)[sent1 != 0].min()
    assert kept >= np.abs(u1)[sent1 == 0].max()  # the largest magnitudes are sent
    r1 = client.residual.copy()
    sent2 = sparse_decode(enc(client, u2), 20)
    assert np.allclose(sent2 + client.residual, u2 + r1, atol=1e-6)
    plain = topk_encoder(0.25, error_feedback=False)
    other = _clients(1)[1]
    plain(other, u1)
    assert other.residual is None


def test_pruning_mask_and_kept_payload():
    w = np.array([0.1, -3.0, 0.5, 2.0, -0.05, 1.0])
    mask = magnitude_mask(w, 0.5)
    assert mask.tolist() == [0, 1, 0, 1, 0, 1]
    kept = np.flatnonzero(mask)
    payload = kept_encoder(kept)(None, w)
    assert payload[0].tolist() == [-3.0, 2.0, 1.0]
    assert np.array_equal(kept_decoder(kept)(payload, 6), w * mask)


def test_masked_client_trains_only_kept_weights():
    client = _clients(1)[1]
    w = _init()
    client.mask = magnitude_mask(w, 0.5).astype(np.float32)
    (update,), _, _ = client.fit([(w * client.mask).astype(np.float32)], {})
    assert np.all(update[client.mask == 0] == 0)
    model = nn.Linear(6, 3)
    set_flat(model, w)
    assert np.allclose(get_flat(model), w)
