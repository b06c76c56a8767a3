"""claims.yaml validation: every malformed file is rejected in one line naming file, claim id and field."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from bench.claims import ClaimsError, discover

EXPERIMENT_PY = textwrap.dedent('''
    from dataclasses import dataclass
    from bench.registry import ExperimentConfig, experiment

    @dataclass
    class Cfg(ExperimentConfig):
        steps: int = 1  # training steps

    @experiment(config=Cfg, metrics=("gap_pp", "ratio"))
    def toy(cfg, seed, device):
        return {"gap_pp": 0.1 * seed, "ratio": 2.0}
''')

VALID = {
    "paper": {"title": "T", "authors": ["A"], "venue": "V", "arxiv": "0000.00000v1"},
    "experiments": {"toy": {"scales": {"smoke": {"seeds": 1, "steps": 2}, "cpu": {"seeds": 3}}}},
    "claims": [
        {"id": "good-claim", "statement": "s", "source": "Table 1", "tier": "A", "paper_value": 1.0,
         "test": {"experiment": "toy", "metric": "gap_pp", "criterion": "abs <= 0.5"}, "expect": "reproduced",
         "evidence": "measured"},
        {"id": "imagenet", "statement": "s", "source": "Abstract", "tier": "C", "not_testable": "needs ImageNet",
         "headline": True},
    ],
}


def write_paper(root, spec, slug="toy_paper2020", code=EXPERIMENT_PY):
    folder = root / slug
    folder.mkdir(parents=True)
    (folder / "claims.yaml").write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
    (folder / "experiment.py").write_text(code)
    return folder


def reject(tmp_path, mutate) -> str:
    spec = yaml.safe_load(yaml.safe_dump(VALID))
    mutate(spec)
    write_paper(tmp_path, spec)
    with pytest.raises(ClaimsError) as err:
        discover(root=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "claims.yaml" in msg
    return msg


def test_valid_file_loads(tmp_path):
    write_paper(tmp_path, VALID)
    (paper,) = discover(root=tmp_path)
    assert [c.id for c in paper.spec.claims] == ["good-claim", "imagenet"]
    cfg, seeds = paper.scale_config("toy", "smoke")
    assert cfg.steps == 2 and seeds == 1


def test_discovery_is_by_folder_and_glob(tmp_path):
    write_paper(tmp_path, VALID, "alpha_x2020")
    write_paper(tmp_path, VALID, "beta_y2021")
    assert [p.slug for p in discover(root=tmp_path)] == ["alpha_x2020", "beta_y2021"]
    assert [p.slug for p in discover(["beta_*"], root=tmp_path)] == ["beta_y2021"]


def test_missing_field(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0].pop("statement"))
    assert "claim good-claim: field statement" in msg and "required" in msg.lower()


def test_unknown_experiment_function(tmp_path):
    msg = reject(tmp_path, lambda s: s["experiments"]["toy"].update(function="nope"))
    assert "experiment toy: field function" in msg and "unknown experiment function 'nope'" in msg


def test_claim_names_undeclared_experiment(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0]["test"].update(experiment="other"))
    assert "claim good-claim: field test.experiment" in msg


def test_metric_not_returned(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0]["test"].update(metric="accuracy"))
    assert "claim good-claim: field test.metric" in msg and "'accuracy'" in msg


def test_bad_criterion(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0]["test"].update(criterion="about 0.5"))
    assert "claim good-claim: field test" in msg and "bad criterion 'about 0.5'" in msg


def test_unknown_scale(tmp_path):
    msg = reject(tmp_path, lambda s: s["experiments"]["toy"]["scales"].update(laptop={"seeds": 1}))
    assert "field experiments.toy.scales" in msg and "unknown scale 'laptop'" in msg


def test_unknown_config_key(tmp_path):
    msg = reject(tmp_path, lambda s: s["experiments"]["toy"]["scales"]["cpu"].update(epochs=3))
    assert "experiment toy: field scales.cpu" in msg and "unknown config key(s) epochs" in msg


def test_tier_c_without_reason(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][1].pop("not_testable"))
    assert "claim imagenet" in msg and "tier C without a reason" in msg


def test_not_reproduced_needs_because(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0].update(expect="not_reproduced"))
    assert "claim good-claim" in msg and "because" in msg


def test_inconclusive_expect_needs_because(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0].update(expect="inconclusive"))
    assert "claim good-claim" in msg and "because" in msg


def test_expect_per_scale(tmp_path):
    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["claims"][0].update(expect={"cpu": "not_reproduced"}, because="too short a schedule")
    write_paper(tmp_path, spec)
    claim = discover(root=tmp_path)[0].claim("good-claim")
    assert claim.expected("cpu") == "not_reproduced" and claim.expected("full") == "reproduced"


def test_expect_may_name_two_neighbouring_verdicts(tmp_path):
    spec = yaml.safe_load(yaml.safe_dump(VALID))
    spec["claims"][0].update(expect={"cpu": ["inconclusive", "not_reproduced"]}, because="on the bound here")
    write_paper(tmp_path, spec)
    claim = discover(root=tmp_path)[0].claim("good-claim")
    assert claim.accepts("cpu", "not_reproduced") and claim.accepts("cpu", "inconclusive")
    assert not claim.accepts("cpu", "reproduced") and claim.expected("cpu") == "inconclusive or not_reproduced"


@pytest.mark.parametrize("expect", [["reproduced", "not_reproduced"], ["inconclusive"],
                                    ["reproduced", "inconclusive", "not_reproduced"]])
def test_expect_list_must_be_two_neighbours(tmp_path, expect):
    msg = reject(tmp_path, lambda s: s["claims"][0].update(expect=expect, because="b"))
    assert "claim good-claim" in msg and "two neighbours" in msg


def test_expect_for_smoke_or_unknown_scale_is_rejected(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0].update(expect={"smoke": "reproduced"}))
    assert "claim good-claim: field expect" in msg or "claim good-claim: field (claim)" in msg
    assert "smoke" in msg


def test_unknown_field_is_rejected(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][0].update(critera="<= 1"))
    assert "claim good-claim: field critera" in msg


def test_duplicate_ids(tmp_path):
    msg = reject(tmp_path, lambda s: s["claims"][1].update(id="good-claim"))
    assert "claim good-claim: field id: duplicate" in msg


def test_invalid_yaml_names_the_line(tmp_path):
    write_paper(tmp_path, "paper:\n  title: a: b\n")
    with pytest.raises(ClaimsError, match=r"claims.yaml: not valid YAML at line 2"):
        discover(root=tmp_path)


def test_repository_claims_files_are_valid():
    papers = discover()
    assert papers, "no paper folder found under papers/"
    for paper in papers:
        assert paper.spec.claims
