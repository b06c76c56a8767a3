"""The index page in a real browser (headless Chromium): every claim row is there and the page logs no errors.

Checks ``reports/index.html`` by default, or the page named by ``EFFDL_INDEX`` (CI points it at the reports it
regenerates from the smoke results); the results it must show are read from ``EFFDL_RESULTS`` (default
``reference_results/``) at the scales the page says it covers. Saves a screenshot next to the page
(``index.png``; ``EFFDL_SCREENSHOT`` overrides). Skipped when no Chromium is installed, unless
``EFFDL_REQUIRE_BROWSER=1`` (as in CI), where a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import report
from bench.claims import discover
from bench.provenance import REPO_ROOT

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
INDEX = Path(os.environ.get("EFFDL_INDEX", REPO_ROOT / "reports" / "index.html"))
RESULTS = Path(os.environ.get("EFFDL_RESULTS", REPO_ROOT / "reference_results"))
SCREENSHOT = Path(os.environ.get("EFFDL_SCREENSHOT", INDEX.with_name("index.png")))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def chromium():
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        if os.environ.get("EFFDL_REQUIRE_BROWSER") == "1":
            pytest.fail("no Chromium found (apt-get install chromium), and EFFDL_REQUIRE_BROWSER=1")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    return found


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *FLAGS, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(300)
def test_index_shows_every_claim_without_errors(chromium):
    assert INDEX.exists(), f"{INDEX} is missing: run `python -m bench report` (or dvc repro) first"
    done = _run(chromium, "--virtual-time-budget=5000", "--dump-dom", INDEX.resolve().as_uri())
    dom = done.stdout
    assert 'id="claims"' in dom, f"no claims table in the page; chromium said: {done.stderr[-2000:]}"

    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "the page logged to the console:\n" + "\n".join(console)
    errors = re.search(r'<html[^>]*data-js-errors="([^"]*)"', dom)
    assert errors is None, f"script or resource errors on the page: {errors.group(1)}"
    assert 'data-ready="yes"' in dom, "the page's script did not run to its end"
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", dom), "the page loads from the network"

    scales = re.search(r'<body[^>]*data-scales="([^"]*)"', dom).group(1).split(",")
    expected = report.index_rows(discover(), RESULTS, scales)
    shown = re.findall(r'<tr class="claim-row" data-claim="([^"]+)"', dom)
    want = [f"{r.paper}/{r.claim}" for r in expected.itertuples()]
    assert sorted(shown) == sorted(want), "claim rows on the page differ from the results files"
    for paper in discover():
        for claim in paper.spec.claims:
            assert f"{paper.slug}/{claim.id}" in shown, f"claim {paper.slug}/{claim.id} is not on the page"

    heads = re.findall(r'<tr class="headline-row" data-claim="([^"]+)"', dom)
    assert sorted(heads) == sorted(f"{p.slug}/{c.id}" for p in discover() for c in p.spec.headlines), \
        "the headline table differs from the claims files' headline claims"
    assert 'id="counts-figure"' in dom, "the figure of verdict counts per paper is missing"

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shot = _run(chromium, "--window-size=1400,1800", f"--screenshot={SCREENSHOT.resolve()}",
                INDEX.resolve().as_uri())
    assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 10_000, shot.stderr[-2000:]
