"""Class 2: every malformed claims.yaml is refused before anything runs, in one line naming file, claim and field.

Each case edits the toy paper's valid claims file (as data, or as text where YAML itself is the fault) and
checks the one-line message; a property-based test then throws random values at random places of the file.
"""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.claims import ClaimsError, discover, load_paper
from bench.yamlsafe import MAX_ALIASES
from tests.faults.conftest import FUZZ, TOY_SPEC, one_line, paths_in, spec_copy, write_toy


def refuse(tmp_path, spec, *needles: str) -> str:
    folder = write_toy(tmp_path / "papers", spec)
    with pytest.raises(ClaimsError) as err:
        load_paper(folder)
    msg = one_line(str(err.value))
    assert str(folder / "claims.yaml") in msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    return msg


def edit(**paths):
    """A spec with ``a.b.c=value`` edits (``claims.1.test.criterion``); a value of ``DELETE`` removes the key."""
    spec = spec_copy()
    for path, value in paths.items():
        *parents, last = path.split(".")
        node = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key = int(last) if isinstance(node, list) else last
        if value == "DELETE":
            del node[key]
        else:
            node[key] = value
    return spec


def cpu(**values):
    spec = spec_copy()
    spec["experiments"]["toy"]["scales"]["cpu"].update(values)
    return spec


DATA_CASES = {
    # infinite or non-numeric bounds
    "infinite upper bound": (edit(**{"claims.0.test.criterion": "<= 1e999"}), ["claim beats-chance", "finite"]),
    "infinite lower bound": (edit(**{"claims.0.test.criterion": ">= -1e999"}), ["beats-chance", "finite"]),
    "infinite interval end": (edit(**{"claims.0.test.criterion": "in [0, 1e400]"}), ["finite"]),
    "infinite abs bound": (edit(**{"claims.0.test.criterion": "abs <= 1e309"}), ["finite"]),
    "nan bound": (edit(**{"claims.0.test.criterion": "<= nan"}), ["bad criterion"]),
    "inf word bound": (edit(**{"claims.0.test.criterion": ">= inf"}), ["bad criterion"]),
    "criterion is a number": (edit(**{"claims.0.test.criterion": 30}), ["beats-chance", "test"]),
    "criterion interval reversed": (edit(**{"claims.0.test.criterion": "in [5, 1]"}), ["bad criterion"]),
    "negative abs bound": (edit(**{"claims.0.test.criterion": "abs <= -1"}), ["bad criterion"]),
    "sanity bound infinite": (edit(**{"experiments.toy.sanity": {"accuracy_pct": "> -1e999"}}),
                              ["sanity", "finite"]),
    "sanity on an unknown metric": (edit(**{"experiments.toy.sanity": {"loss": "< 3"}}),
                                    ["experiment toy", "field sanity", "'loss'"]),
    "sanity bound malformed": (edit(**{"experiments.toy.sanity": {"accuracy_pct": "above 40"}}),
                               ["sanity", "bad criterion"]),
    # config values of the wrong type, found before any run
    "string for a float": (cpu(lr="0.1"), ["experiment toy", "scales.cpu.lr", "float"]),
    "bool for an int": (cpu(steps=True), ["scales.cpu.steps", "int"]),
    "float for an int": (cpu(steps=2.5), ["scales.cpu.steps", "int"]),
    "list for a float": (cpu(lr=[0.1]), ["scales.cpu.lr"]),
    "mapping for a float": (cpu(lr={"a": 1}), ["scales.cpu.lr"]),
    "null for a float": (cpu(lr=None), ["scales.cpu.lr"]),
    "string for a bool": (cpu(nan_metric="yes"), ["scales.cpu.nan_metric", "bool"]),
    "string in a list of ints": (cpu(widths=[16, "32"]), ["scales.cpu.widths[1]"]),
    "unknown config key": (cpu(learning_rate=0.1), ["scales.cpu", "unknown config key", "learning_rate"]),
    # seeds
    "seeds true": (cpu(seeds=True), ["seeds must be an integer"]),
    "seeds zero": (cpu(seeds=0), ["seeds must be an integer"]),
    "seeds negative": (cpu(seeds=-3), ["seeds must be an integer"]),
    "seeds too many": (cpu(seeds=10**9), ["seeds must be an integer from 1 to 100"]),
    "seeds a string": (cpu(seeds="3"), ["seeds must be an integer"]),
    "seeds a float": (cpu(seeds=2.5), ["seeds must be an integer"]),
    "scale config not a mapping": (edit(**{"experiments.toy.scales.cpu": [1, 2]}), ["scales.cpu", "dictionary"]),
    "unknown scale": (edit(**{"experiments.toy.scales.huge": {"seeds": 1}}), ["unknown scale 'huge'"]),
    # names that become paths
    "experiment name climbs out": ({**spec_copy(), "experiments": {"../../evil": TOY_SPEC["experiments"]["toy"]}},
                                   ["experiment name", "identifier"]),
    "experiment name absolute": ({**spec_copy(), "experiments": {"/tmp/evil": TOY_SPEC["experiments"]["toy"]}},
                                 ["experiment name"]),
    "experiment name with a slash": ({**spec_copy(), "experiments": {"a/b": TOY_SPEC["experiments"]["toy"]}},
                                     ["experiment name"]),
    "claim id with a slash": (edit(**{"claims.0.id": "../x"}), ["claim id"]),
    "claim id duplicated": (edit(**{"claims.1.id": "beats-chance"}), ["duplicate claim id"]),
    # links and ids a report renders
    "javascript link": (edit(**{"paper.code": "javascript:alert(1)"}), ["field paper.code", "http(s)"]),
    "data link": (edit(**{"paper.url": "data:text/html,<script>x</script>"}), ["field paper.url", "http(s)"]),
    "link with a quote": (edit(**{"paper.code": "https://x.org/' onmouseover='alert(1)"}), ["paper.code"]),
    "arxiv id not an id": (edit(**{"paper.arxiv": "1608.03665'><script>"}), ["field paper.arxiv"]),
    # claims
    "missing expect": (edit(**{"claims.0.expect": "DELETE"}), ["beats-chance", "missing expect"]),
    "expect both ends": (edit(**{"claims.0.expect": ["reproduced", "not_reproduced"]}, **{
        "claims.0.because": "x"}), ["beats-chance", "neighbours"]),
    "expect without because": (edit(**{"claims.0.expect": "not_reproduced"}), ["because"]),
    "expect for a path as hardware": (edit(**{"claims.0.expect": {"cpu@../x": "reproduced"}}),
                                      ["expect for unknown or smoke scale"]),
    "expect for smoke on a machine": (edit(**{"claims.0.expect": {"smoke@cpu-x-2c": "reproduced"}}),
                                      ["expect for unknown or smoke scale"]),
    "unknown tier": (edit(**{"claims.0.tier": "D"}), ["beats-chance", "field tier"]),
    "unknown device": (edit(**{"claims.0.test.devices": ["tpu"]}), ["beats-chance", "devices"]),
    "test and not_testable": (edit(**{"claims.0.not_testable": "x"}), ["one of test, not_testable, not_implemented"]),
    "unknown claim field": (edit(**{"claims.0.verdict": "reproduced"}), ["beats-chance", "field verdict"]),
    "unknown experiment": (edit(**{"claims.0.test.experiment": "nope"}), ["unknown experiment 'nope'"]),
    "unknown metric": (edit(**{"claims.0.test.metric": "speed"}), ["'speed' is not a metric"]),
    "unknown context": (edit(**{"claims.0.test.context": ["toy.nope"]}), ["test.context"]),
    "claims not a list": (edit(claims={"a": 1}), ["field claims"]),
    # evidence kinds, not_implemented, headlines, baselines and mutants (issue 19)
    "unknown evidence kind": (edit(**{"claims.0.evidence": "anecdotal"}), ["beats-chance", "field evidence"]),
    "missing evidence": (edit(**{"claims.0.evidence": "DELETE"}), ["beats-chance", "field evidence", "missing"]),
    "simulated evidence without a model": (edit(**{"claims.0.evidence": "simulated"}),
                                           ["beats-chance", "field evidence", "device model"]),
    "headline on no claim": (edit(**{"claims.2.headline": "DELETE"}), ["field headline", "0 claims"]),
    "three headlines": (edit(**{"claims.0.headline": True, "claims.1.headline": True}),
                        ["field headline", "3 claims", "beats-chance, accurate, imagenet"]),
    "headline not a flag": (edit(**{"claims.0.headline": "yes"}), ["beats-chance", "field headline"]),
    "not_implemented without needs": (edit(**{"claims.2.not_testable": "DELETE",
                                              "claims.2.not_implemented": {"reason": "not built"}}),
                                      ["imagenet", "field not_implemented.needs"]),
    "not_implemented and test": (edit(**{"claims.0.not_implemented": {"reason": "r", "needs": "n"}}),
                                 ["beats-chance", "test and not_implemented"]),
    "baseline of an unknown metric": (edit(**{"experiments.toy.baseline": {
        "metric": "nope", "kind": "accuracy_pct", "paper": 99.0, "source": "Table 1"}}),
        ["experiment toy", "field baseline.metric", "'nope'"]),
    "baseline of an unknown kind": (edit(**{"experiments.toy.baseline": {
        "metric": "accuracy_pct", "kind": "ratio", "paper": 99.0, "source": "Table 1"}}),
        ["field experiments.toy.baseline.kind"]),
    "earlier seeds not below the seeds": (cpu(earlier_seeds=[3]), ["field experiments.toy.scales", "scale 'cpu'",
                                                                   "earlier_seeds", "1 to 2"]),
    "earlier seeds not a list": (cpu(earlier_seeds=2), ["earlier_seeds"]),
    "mutant naming a missing claim": (edit(mutants=[{"name": "m", "description": "d", "breaks": ["nope"]}]),
                                      ["mutant m", "field breaks", "no claim 'nope'"]),
    "mutant of an untested claim": (edit(mutants=[{"name": "m", "description": "d", "breaks": ["imagenet"]}]),
                                    ["mutant m", "field breaks", "imagenet has no test"]),
    "mutant with a bad name": (edit(mutants=[{"name": "Bad Name", "description": "d", "breaks": ["accurate"]}]),
                               ["mutant Bad Name", "field name"]),
    "mutant twice": (edit(mutants=[{"name": "m", "description": "d", "breaks": ["accurate"]}] * 2),
                     ["mutant m", "duplicate mutant name"]),
    "mutant without mutants.py": (edit(mutants=[{"name": "m", "description": "d", "breaks": ["accurate"]}]),
                                  ["mutant m", "mutants.py does not exist"]),
    "top-level extra key": (edit(papers=1), ["field papers"]),
    "missing title": (edit(**{"paper.title": "DELETE"}), ["field paper.title"]),
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_malformed_claims_file_is_refused_in_one_line(tmp_path, case):
    spec, needles = DATA_CASES[case]
    refuse(tmp_path, spec, *needles)


VALID_TEXT = yaml.safe_dump(TOY_SPEC, sort_keys=False)

TEXT_CASES = {
    "duplicate top-level key": (VALID_TEXT + "paper: {title: X}\n", ["duplicate key 'paper'"]),
    "duplicate key in a config": (VALID_TEXT.replace("cpu:\n        seeds: 3",
                                                     "cpu:\n        seeds: 3\n        seeds: 5"),
                                  ["duplicate key 'seeds'", "line"]),
    "duplicate key in a claim": (VALID_TEXT.replace("  tier: A\n", "  tier: A\n  tier: B\n", 1),
                                 ["duplicate key 'tier'"]),
    "python object tag": (VALID_TEXT.replace("title: Toy", "title: !!python/object/apply:os.system ['true']"),
                          ["not valid YAML"]),
    "not YAML": ("paper: [unclosed\n", ["not valid YAML", "line"]),
    "a list at the top": ("- 1\n- 2\n", ["top level"]),
    "an empty file": ("", ["top level"]),
    "not UTF-8": (b"\xff\xfe bad".decode("latin-1"), []),
    "too large": (VALID_TEXT + "# " + "x" * 1_100_000 + "\n", ["more than"]),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_malformed_yaml_is_refused_in_one_line(tmp_path, case):
    text, needles = TEXT_CASES[case]
    if case == "not UTF-8":
        folder = write_toy(tmp_path / "papers", VALID_TEXT)
        (folder / "claims.yaml").write_bytes(b"paper: \xff\xfe\n")
        with pytest.raises(ClaimsError) as err:
            load_paper(folder)
        assert "UTF-8" in one_line(str(err.value))
        return
    refuse(tmp_path, text, *needles)


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    refuse(tmp_path, VALID_TEXT + "\n".join(lines) + "\n", f"more than {MAX_ALIASES} aliases")


def test_a_few_aliases_still_load(tmp_path):
    text = VALID_TEXT.replace("smoke:\n        seeds: 1", "smoke: &smoke\n        seeds: 1").replace(
        "cpu:\n        seeds: 3", "cpu: *smoke")
    paper = load_paper(write_toy(tmp_path / "papers", text))
    assert paper.scale_config("toy", "cpu")[1] == 1


def test_yaml_1_2_scientific_notation_is_a_number(tmp_path):
    text = VALID_TEXT.replace("cpu:\n        seeds: 3", "cpu:\n        seeds: 3\n        lr: 1e-3")
    paper = load_paper(write_toy(tmp_path / "papers", text))
    cfg, _ = paper.scale_config("toy", "cpu")
    assert cfg.lr == 0.001 and isinstance(cfg.lr, float)
    for form, value in (("2E5", 2e5), ("+1.5e+2", 150.0), (".5e1", 5.0), ("1e0", 1.0)):
        text2 = VALID_TEXT.replace("cpu:\n        seeds: 3", f"cpu:\n        seeds: 3\n        lr: {form}")
        folder = write_toy(tmp_path / f"p{abs(hash(form))}", text2)
        assert load_paper(folder).scale_config("toy", "cpu")[0].lr == value


def test_version_strings_and_ids_stay_strings(tmp_path):
    # only numbers change: an arXiv id or a version that looks numeric-ish is still text where it is text
    text = VALID_TEXT.replace("venue: Nowhere 2020", "venue: '1e5'")
    paper = load_paper(write_toy(tmp_path / "papers", text))
    assert paper.spec.paper.venue == "1e5"


def test_merge_keys_may_override_without_a_duplicate_error(tmp_path):
    text = VALID_TEXT.replace("cpu:\n        seeds: 3", "cpu:\n        <<: {seeds: 2, lr: 0.2}\n        seeds: 3")
    paper = load_paper(write_toy(tmp_path / "papers", text))
    cfg, seeds = paper.scale_config("toy", "cpu")
    assert seeds == 3 and cfg.lr == 0.2


# -- property-based: random values at random places ---------------------------------------------------------------

PATHS = [p for p in paths_in(TOY_SPEC) if p]
JSONISH = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
                       | st.text(max_size=20), lambda kids: st.lists(kids, max_size=3)
                       | st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=8)


@settings(**FUZZ)
@given(where=st.sampled_from(PATHS), value=JSONISH)
def test_fuzzed_claims_file_loads_or_is_refused_in_one_line(tmp_path_factory, where, value):
    spec = spec_copy()
    node = spec
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    root = tmp_path_factory.mktemp("fuzz")
    try:
        text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return
    folder = write_toy(root, text)
    try:
        paper = load_paper(folder)
    except ClaimsError as e:
        one_line(str(e))
        assert str(folder / "claims.yaml") in str(e)
        return
    # what loads is usable: every scale's config builds and every criterion parses
    for name in paper.spec.experiments:
        for scale in paper.spec.experiments[name].scales:
            paper.scale_config(name, scale)
    json.dumps(paper.spec.model_dump(), default=str)


@settings(**FUZZ)
@given(text=st.text(max_size=300))
def test_fuzzed_yaml_text_loads_or_is_refused_in_one_line(tmp_path_factory, text):
    folder = write_toy(tmp_path_factory.mktemp("fuzz"), text)
    try:
        load_paper(folder)
    except ClaimsError as e:
        one_line(str(e))


def test_one_broken_paper_does_not_hide_the_others_when_problems_are_collected(tmp_path):
    write_toy(tmp_path / "papers", spec_copy(), slug="good_paper2020")
    write_toy(tmp_path / "papers", "paper: [", slug="bad_paper2020")
    with pytest.raises(ClaimsError):
        discover(root=tmp_path / "papers")
    problems: list[str] = []
    papers = discover(root=tmp_path / "papers", problems=problems)
    assert [p.slug for p in papers] == ["good_paper2020"]
    assert len(problems) == 1 and "bad_paper2020" in problems[0]


def test_expect_may_name_a_machine(tmp_path):
    spec = spec_copy()
    spec["claims"][0]["expect"] = {"cpu": "inconclusive", "cpu@cpu-amd-epyc-2c": "reproduced"}
    spec["claims"][0]["because"] = "measured on two machines"
    claim = load_paper(write_toy(tmp_path / "papers", spec)).claim("beats-chance")
    assert claim.expected("cpu") == "inconclusive" and claim.expected("cpu", "cpu-intel-xeon-2c") == "inconclusive"
    assert claim.accepts("cpu", "reproduced", "cpu-amd-epyc-2c") and not claim.accepts("cpu", "reproduced")
    assert claim.expected("full", "cpu-amd-epyc-2c") == "reproduced"
