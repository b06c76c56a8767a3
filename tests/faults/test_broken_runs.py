"""Class 1: a broken run is an ``error`` with its reason in words, never a verdict and never cached."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from bench import health, verdict
from bench.results import write_paper_results
from tests.faults.conftest import one_line, set_config, spec_copy


def judge(toy, runner_for, scale="cpu", **cfg):
    paper = toy(set_config(spec_copy(), scale, **cfg))
    runner = runner_for(scale)
    return {r.claim.id: r for r in runner.run_paper(paper)}, runner, paper


def test_the_healthy_toy_reproduces(toy, runner_for):
    results, _, _ = judge(toy, runner_for)
    assert results["beats-chance"].verdict.verdict == "reproduced"
    assert results["accurate"].verdict.verdict == "reproduced"


def test_absurd_learning_rate_at_chance_with_finite_loss_is_an_error_not_a_verdict(toy, runner_for, tmp_path):
    # the example: lr 1e6 kills the ReLUs, the output is constant, the loss stays finite, accuracy ~25%
    results, runner, _ = judge(toy, runner_for, lr=1e6)
    for cid in ("beats-chance", "accurate"):
        v = results[cid].verdict
        assert v.verdict == "error"
        one_line(v.reason)
    reason = results["accurate"].verdict.reason
    assert "at chance" in reason or "diverged" in reason
    assert not list((tmp_path / "cache").rglob("*.json")) or "at chance" in reason


def test_at_chance_run_reports_the_metric_and_its_bound(toy, runner_for):
    results, _, _ = judge(toy, runner_for, lr=1e6)
    reason = results["accurate"].verdict.reason
    if "at chance" in reason:
        assert "accuracy_pct = " in reason and "> 40" in reason


def test_nan_weights_at_a_step_name_the_step(toy, runner_for, tmp_path):
    results, runner, _ = judge(toy, runner_for, poison_step=7)
    reason = one_line(results["accurate"].verdict.reason)
    assert results["accurate"].verdict.verdict == "error"
    # poisoned after step 8 by the experiment's own hook: the next optimizer step (9) finds it
    assert "diverged" in reason and "optimizer step 9" in reason and "(16, 2)" in reason
    assert not list((tmp_path / "cache").rglob("*.json")), "a diverged run must not be cached"


def test_nan_loss_from_a_huge_learning_rate_is_a_divergence_in_words(toy, runner_for):
    results, _, _ = judge(toy, runner_for, lr=1e30)
    v = results["accurate"].verdict
    assert v.verdict == "error" and "TypeError" not in v.reason
    assert "diverged" in v.reason or "at chance" in v.reason


def test_divergence_followed_by_code_that_assumes_finite_numbers_reports_the_divergence(toy, runner_for):
    # before the watch, the NaN surfaced later as a TypeError deep in the experiment
    results, _, _ = judge(toy, runner_for, poison_step=3, type_error_after=True)
    reason = results["accurate"].verdict.reason
    assert "TypeError" not in reason and "diverged" in reason


def test_a_nan_metric_is_an_error_in_words(toy, runner_for):
    results, _, _ = judge(toy, runner_for, nan_metric=True)
    reason = one_line(results["accurate"].verdict.reason)
    assert "non-finite metric" in reason and "accuracy_pct = nan" in reason


def test_an_exception_is_an_error_with_type_and_place(toy, runner_for):
    results, _, _ = judge(toy, runner_for, fail_seed=1)
    reason = one_line(results["accurate"].verdict.reason)
    assert reason.startswith("seed 1: RuntimeError: boom (") and "experiment.py:" in reason


def test_one_failing_seed_fails_the_claim_but_keeps_the_good_seeds_cached(toy, runner_for, tmp_path):
    judge(toy, runner_for, fail_seed=2)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2


def test_missing_data_is_an_error_naming_the_file(toy, runner_for):
    results, _, _ = judge(toy, runner_for, missing_data=True)
    reason = results["accurate"].verdict.reason
    assert "FileNotFoundError" in reason and "dvc pull" in reason


def test_a_cached_run_that_breaks_a_sanity_bound_added_later_is_an_error(toy, runner_for):
    results, _, _ = judge(toy, runner_for)
    assert results["accurate"].verdict.verdict == "reproduced"
    spec = spec_copy()
    spec["experiments"]["toy"]["sanity"] = {"accuracy_pct": "> 100"}  # impossible: every run now breaks it
    paper = toy(spec)
    runner = runner_for()
    again = {r.claim.id: r for r in runner.run_paper(paper)}
    assert all(r.cached for r in again["accurate"].runs)
    assert again["accurate"].verdict.verdict == "error" and "at chance" in again["accurate"].verdict.reason


def test_error_verdict_fails_the_command_line_run(toy, tmp_path, monkeypatch):
    from bench import cli

    toy(set_config(spec_copy(), "smoke", poison_step=2))
    monkeypatch.setenv("BENCH_PAPERS_DIR", str(tmp_path / "papers"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    rc = cli.main(["run", "--paper", "toy_*", "--scale", "smoke", "--device", "cpu",
                   "--results-dir", str(tmp_path / "results")])
    assert rc == 1


def test_error_results_are_written_with_the_reason(toy, runner_for, tmp_path):
    _, runner, paper = judge(toy, runner_for, poison_step=1)
    path = write_paper_results(runner, paper.slug, tmp_path / "results")
    import json

    claim = json.loads(path.read_text())["claims"]["accurate"]
    assert claim["verdict"] == "error" and "diverged" in claim["reason"]


# -- the guards themselves -------------------------------------------------------------------------------------

def _tiny(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))


def _steps(model, n=20, lr=0.1):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(n):
        x = torch.randn(8, 3, generator=g)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_the_watch_changes_no_value_of_a_healthy_run():
    a, b = _tiny(), _tiny()
    _steps(a)
    with health.watch("t"):
        _steps(b)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)


def test_the_watch_is_removed_after_its_block():
    model = _tiny()
    with health.watch("t"):
        _steps(model, 2)
    with torch.no_grad():
        model[0].weight[0, 0] = math.inf
    _steps(model, 1)  # no watch: nothing raised here


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_the_watch_catches_every_non_finite_value(bad):
    model = _tiny()

    def hook(step):
        pass

    with pytest.raises(health.Diverged) as err, health.watch("label"):
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        with torch.no_grad():
            model[2].bias[1] = bad
        opt.step()
    msg = one_line(str(err.value))
    assert msg.startswith("label: the run diverged") and "parameter 4 of 4" in msg and "optimizer step 1" in msg


def test_the_watch_covers_every_optimizer_kind():
    for make in (lambda p: torch.optim.Adam(p, lr=1e-3), lambda p: torch.optim.RMSprop(p, lr=1e-3)):
        model = _tiny()
        opt = make(model.parameters())
        with torch.no_grad():
            model[0].bias[0] = math.nan
        with pytest.raises(health.Diverged), health.watch("t"):
            opt.step()


def test_check_metrics_names_every_bad_metric():
    with pytest.raises(health.Diverged) as err:
        health.check_metrics({"a": 1.0, "b": math.nan, "c": math.inf}, "p.e seed 0")
    assert "b = nan" in str(err.value) and "c = inf" in str(err.value) and "a = " not in str(err.value)


@pytest.mark.parametrize(("metrics", "sanity", "broken"), [
    ({"acc": 10.0}, {"acc": "> 20"}, True),
    ({"acc": 20.0}, {"acc": "> 20"}, True),
    ({"acc": 20.5}, {"acc": "> 20"}, False),
    ({"err": 85.0}, {"err": "< 80"}, True),
    ({"err": 5.0}, {"err": "< 80"}, False),
    ({"ppl": 9000.0, "acc": 90.0}, {"ppl": "< 1000", "acc": "> 20"}, True),
])
def test_sanity_bounds(metrics, sanity, broken):
    reason = verdict.sanity_failures(metrics, sanity)
    assert (reason is not None) == broken
    if broken:
        one_line(reason)


def test_describe_keeps_one_line_for_multi_line_exceptions():
    try:
        raise ValueError("first line\nsecond line\nthird")
    except ValueError as e:
        text = health.describe(e)
    assert text.startswith("ValueError: first line (") and "second" not in text


def test_huge_but_finite_weights_are_not_called_a_divergence():
    model = _tiny()
    with torch.no_grad():
        model[0].weight.fill_(3e38)  # the total norm overflows to inf; every value is still finite
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with health.watch("t"):
        opt.step()
