"""The code hash follows a paper's real imports (ast) over normalized source: a docstring, comment or layout
edit keeps it; a code edit in a module the paper imports (directly or through others, also lazily inside a
function) changes it; an edit in a module the paper never imports does not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bench import provenance
from bench.provenance import code_files, code_hash, normalized_source

FILES = {
    "bench/__init__.py": "",
    "bench/execute.py": "from bench import health\n\ndef execute():\n    return health.watch()\n",
    "bench/health.py": '"""The health watch."""\n\ndef watch():\n    return 1\n',
    "bench/models.py": "import torch\n\nfrom bench.layers import Block\n\nWIDTH = 4\n",
    "bench/layers.py": "class Block:\n    pass\n",
    "bench/lazy.py": "RATE = 0.5\n",
    "bench/unused.py": "SOMETHING = 1\n",
    "bench/hardware/__init__.py": "",
    "bench/hardware/sim.py": "import subprocess\n",
    "bench/hardware/sim_worker.py": "print('the worker a model runs as a script')\n",
    "bench/hardware/sim_requirements.lock": "scalesim==3.0.0\n",
    "papers/__init__.py": "",
    "papers/toy_paper2020/__init__.py": "",
    "papers/toy_paper2020/experiment.py": textwrap.dedent('''\
        """The toy experiment."""
        from bench.models import WIDTH  # the model
        from bench.hardware import sim
        from . import method

        def run(cfg):
            """Run it."""
            from bench import lazy
            return f"{WIDTH} {cfg}", method.scale(lazy.RATE)
        '''),
    "papers/toy_paper2020/method.py": "def scale(x):\n    return 2 * x\n",
    "papers/toy_paper2020/mutants.py": "from bench import unused\n",
}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.setattr(provenance, "REPO_ROOT", tmp_path)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_the_closure_is_what_the_paper_imports(repo):
    got = {str(p.relative_to(repo)) for p in code_files(repo / "papers" / "toy_paper2020")}
    assert got == {"bench/__init__.py", "bench/execute.py", "bench/health.py", "bench/models.py",
                   "bench/layers.py", "bench/lazy.py", "bench/hardware/__init__.py", "bench/hardware/sim.py",
                   "bench/hardware/sim_worker.py", "bench/hardware/sim_requirements.lock", "papers/__init__.py",
                   "papers/toy_paper2020/__init__.py", "papers/toy_paper2020/experiment.py",
                   "papers/toy_paper2020/method.py"}  # not bench/unused.py, not mutants.py


@pytest.mark.parametrize("path, old, new", [
    ("papers/toy_paper2020/experiment.py", '"""Run it."""', '"""Run it, now documented at length."""'),
    ("papers/toy_paper2020/experiment.py", "# the model", "# the model, whose width is 4"),
    ("bench/health.py", '"""The health watch."""', '"""The health watch: what it checks."""'),
    ("bench/models.py", "WIDTH = 4\n", "WIDTH  =  4   # spaced out\n\n\n"),
    ("bench/unused.py", "SOMETHING = 1", "SOMETHING = 2"),  # a module the paper never imports
    ("papers/toy_paper2020/mutants.py", "unused", "unused, lazy"),  # mutants are keyed on their own
])
def test_edits_that_change_nothing_the_paper_runs_keep_the_hash(repo, path, old, new):
    before = code_hash(repo / "papers" / "toy_paper2020")
    _edit(repo / path, old, new)
    assert code_hash(repo / "papers" / "toy_paper2020") == before


@pytest.mark.parametrize("path, old, new", [
    ("bench/models.py", "WIDTH = 4", "WIDTH = 5"),  # imported directly
    ("bench/layers.py", "pass", "size = 3"),  # imported by an imported module
    ("bench/lazy.py", "0.5", "0.25"),  # imported inside a function
    ("bench/health.py", "return 1", "return 2"),  # the measuring core's import (bench/execute.py)
    ("papers/toy_paper2020/method.py", "2 * x", "3 * x"),  # a relative import
    ("bench/hardware/sim_worker.py", "script", "script, changed"),  # a companion a model runs
    ("bench/hardware/sim_requirements.lock", "3.0.0", "3.0.1"),  # a companion's environment
    ("papers/toy_paper2020/experiment.py", 'f"{WIDTH} {cfg}"', 'f"{WIDTH}-{cfg}"'),  # inside an f-string
])
def test_a_code_edit_in_an_imported_module_changes_the_hash(repo, path, old, new):
    before = code_hash(repo / "papers" / "toy_paper2020")
    _edit(repo / path, old, new)
    assert code_hash(repo / "papers" / "toy_paper2020") != before


def test_normalized_source_drops_comments_docstrings_and_layout_but_keeps_strings_in_code():
    a = normalized_source('"""doc"""\nx = 1  # one\n\n\ndef f():\n    """doc"""\n    return "kept"\n')
    b = normalized_source('"""other doc"""\nx = 1\ndef f():\n    \'\'\'x\'\'\'\n    return "kept"\n')
    assert a == b and "kept" in a and "doc" not in a
    assert normalized_source('y = f"{a}-{b!r}"\n') != normalized_source('y = f"{a}+{b!r}"\n')
    assert "STRING f\"{a}-{b!r}\"" in normalized_source('y = f"{a}-{b!r}"\n')  # one token, as Python 3.11 gives


def test_the_suite_papers_closures_leave_out_the_runner_and_the_judging():
    for slug in ("ssl_wen2016", "prm_ma2019", "terngrad_wen2017"):
        names = {str(p.relative_to(provenance.REPO_ROOT)) for p in code_files(provenance.REPO_ROOT / "papers" / slug)}
        assert "bench/execute.py" in names and "bench/train.py" in names
        assert not names & {"bench/runner.py", "bench/verdict.py", "bench/claims.py", "bench/results.py",
                            "bench/report.py", "bench/cli.py", f"papers/{slug}/mutants.py"}, slug


def test_no_module_has_an_unintended_companion():
    """A file named ``<module>_*`` beside a module enters the code hash of every paper importing that module
    (``provenance.import_closure``: a worker script, an environment lock). A new module named so by accident
    (``structured_exec.py`` beside ``structured.py``) would stale those papers' results: name it otherwise, or add
    it here if it is a true companion."""
    intended = {("bench/hardware/systolic.py", "systolic_worker.py"),
                ("bench/hardware/systolic.py", "systolic_requirements.lock")}
    found = set()
    for package in ("bench", "papers"):
        for module in (provenance.REPO_ROOT / package).rglob("*.py"):
            if module.name == "__init__.py":
                continue
            for companion in module.parent.glob(f"{module.stem}_*"):
                if companion.is_file():
                    found.add((module.relative_to(provenance.REPO_ROOT).as_posix(), companion.name))
    assert found <= intended, f"unintended companions (they enter code hashes): {sorted(found - intended)}"
