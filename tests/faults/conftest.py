"""Fixtures of the fault-injection suite: a toy paper that really trains, and checks that nothing was lost.

The toy paper's experiment trains a small ReLU network on four Gaussian blobs with ``bench.train.train`` (the
suite's one training loop, so the health watch applies), in well under a second. Its config has a knob per
fault: a learning rate that can be absurd, a step at which to poison the weights, a metric to return as NaN,
an error to raise, missing data.
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck

from bench.claims import discover
from bench.runner import Runner

# Hypothesis in CI: a fixed sequence of examples (derandomized), so a run cannot fail by chance; set
# EFFDL_FUZZ_EXAMPLES=2000 (say) to explore further with fresh random examples.
FUZZ = {"max_examples": int(os.environ.get("EFFDL_FUZZ_EXAMPLES", "200")),
        "derandomize": "EFFDL_FUZZ_EXAMPLES" not in os.environ, "deadline": None,
        "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}

TOY_PY = textwrap.dedent('''
    import math
    from dataclasses import dataclass, field

    import torch
    from torch import nn

    from bench.registry import ExperimentConfig, experiment
    from bench.train import accuracy, shuffled_batches, train

    @dataclass
    class Cfg(ExperimentConfig):
        lr: float = 0.1  # SGD learning rate
        steps: int = 60  # optimizer steps
        poison_step: int = -1  # after this step, one weight becomes NaN (a diverging update)
        nan_metric: bool = False  # return the accuracy as NaN
        fail_seed: int = -1  # this seed raises RuntimeError
        missing_data: bool = False  # raise as a loader does when a dataset is absent
        type_error_after: bool = False  # after a divergence, code that assumes finite numbers fails
        widths: list[int] = field(default_factory=lambda: [16])  # hidden layer widths

    def _blobs(seed, n=256):
        g = torch.Generator().manual_seed(1234 + seed)
        centers = torch.tensor([[3.0, 3.0], [-3.0, 3.0], [3.0, -3.0], [-3.0, -3.0]])
        y = torch.randint(0, 4, (n,), generator=g)
        return centers[y] + torch.randn(n, 2, generator=g), y

    @experiment(config=Cfg, metrics=("accuracy_pct", "gain_pp"))
    def toy(cfg, seed, device):
        if cfg.missing_data:
            raise FileNotFoundError("datasets/toy/train.bin is missing: run `dvc pull`")
        if seed == cfg.fail_seed:
            raise RuntimeError("boom")
        torch.manual_seed(seed)
        x, y = _blobs(seed)
        model = nn.Sequential(nn.Linear(2, cfg.widths[0]), nn.ReLU(), nn.Linear(cfg.widths[0], 4))
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)

        def poison(step):
            if step == cfg.poison_step:
                with torch.no_grad():
                    model[0].weight[0, 0] = float("nan")

        gen = torch.Generator().manual_seed(seed)
        train(model, shuffled_batches(x, y, 32, gen), steps=cfg.steps, optimizer=opt, after_step=poison,
              desc="toy")
        acc = 100 * accuracy(model, *_blobs(seed + 100))
        if cfg.type_error_after:
            best = None if math.isnan(model[0].weight.sum().item()) else acc
            acc = max(best, 0.0)  # TypeError when best is None
        return {"accuracy_pct": float("nan") if cfg.nan_metric else acc, "gain_pp": acc - 25.0}
''')

TOY_SPEC = {
    "paper": {"title": "Toy", "authors": ["A. Author"], "venue": "Nowhere 2020", "arxiv": "2001.00001v1",
              "code": "https://example.org/toy"},
    "experiments": {"toy": {"sanity": {"accuracy_pct": "> 40"},
                            "scales": {"smoke": {"seeds": 1}, "cpu": {"seeds": 3}}}},
    "claims": [
        {"id": "beats-chance", "statement": "The toy net beats chance by 30 pp", "source": "Table 1", "tier": "A",
         "paper_value": 70.0, "test": {"experiment": "toy", "metric": "gain_pp", "criterion": ">= 30"},
         "expect": "reproduced", "evidence": "measured"},
        {"id": "accurate", "statement": "The toy net is accurate", "source": "Table 2", "tier": "A",
         "paper_value": 95.0, "test": {"experiment": "toy", "metric": "accuracy_pct", "criterion": ">= 90"},
         "expect": "reproduced", "evidence": "measured"},
        {"id": "imagenet", "statement": "s", "source": "Abstract", "tier": "C", "not_testable": "needs ImageNet",
         "headline": True},
    ],
}


def spec_copy() -> dict:
    return json.loads(json.dumps(TOY_SPEC))


def write_toy(root: Path, spec: dict | str | None = None, slug: str = "toy_paper2020", code: str = TOY_PY) -> Path:
    """A paper folder under ``root`` with the toy experiment and ``spec`` (a dict, or claims.yaml's text)."""
    folder = Path(root) / slug
    folder.mkdir(parents=True, exist_ok=True)
    spec = spec_copy() if spec is None else spec
    (folder / "claims.yaml").write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
    (folder / "experiment.py").write_text(code)
    return folder


def set_config(spec: dict, scale: str = "cpu", **values) -> dict:
    spec["experiments"]["toy"]["scales"][scale].update(values)
    return spec


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the sha256 of its content (to assert that nothing was lost or changed)."""
    root = Path(root)
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def toy(tmp_path):
    """A factory: ``toy(spec=None, slug=...)`` writes the toy paper and returns it loaded."""
    def make(spec=None, slug="toy_paper2020", code=TOY_PY):
        write_toy(tmp_path / "papers", spec, slug, code)
        return {p.slug: p for p in discover(root=tmp_path / "papers")}[slug]
    return make


@pytest.fixture
def runner_for(tmp_path):
    """A factory of runners on the CPU with the cache in ``tmp_path/cache`` and their log lines kept."""
    def make(scale: str = "cpu", **kw):
        lines: list[str] = []
        r = Runner(scale, "cpu", cache_dir=tmp_path / "cache", log=lines.append, **kw)
        r.lines = lines
        return r
    return make


def paths_in(node, prefix=()):
    """Every path (a tuple of keys and indices) into a nest of dicts and lists, the empty path first."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths_in(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths_in(v, (*prefix, i))


def one_line(msg: str) -> str:
    assert msg and "\n" not in msg.strip(), f"not one line: {msg!r}"
    return msg
