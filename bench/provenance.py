"""Provenance of a result: code (git commit, dirty flag, code hash), environment, device and hardware name."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent

# Harness files that only read, judge, print, store or reject results: editing them does not change what an
# experiment measures, so they stay out of the code hash that keys the result cache. The runner (cache, judging,
# logs) is among them; what decides a run's values is bench/execute.py (seeding and the call), which is not.
# bench/health.py only turns broken runs into errors: a healthy run's values are the same with or without it.
_NOT_MEASURING = {"__main__.py", "cli.py", "claims.py", "conftest.py", "provenance.py", "results.py", "verdict.py",
                  "report.py", "runner.py", "health.py", "files.py", "schema.py", "yamlsafe.py",
                  "mutants.py", "regime.py"}
# subpackages whose modules count for a paper only when it imports them by name (see code_files)
_IMPORTED_BY_NAME = ("hardware", "metrics", "compress")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state() -> dict:
    """The commit and whether code differs from it.

    Ignored: the outputs a ``dvc repro`` rewrites while it runs (reference_results/, reports/ and dvc.lock,
    which DVC updates after each stage), so a later stage of the same repro is not marked dirty by an earlier one.
    """
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!reference_results", ":!reports",
                  ":!dvc.lock")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def code_files(paper_dir: Path) -> list[Path]:
    """The files whose content determines what a paper's experiments measure: its folder and the harness.

    A simulated device of ``bench/hardware/``, a measurement of ``bench/metrics/`` or a toolkit of
    ``bench/compress/`` counts only for the papers whose code imports it (by module name), with its companion
    files (``<module>_*``), so a new hardware model, metric or toolkit does not mark every other paper's results
    stale.
    """
    # mutants.py holds broken variants of the method (bench/mutants.py): a mutant run adds its own hash to the
    # cache key, and the intact code's results do not depend on it
    paper = sorted(p for p in Path(paper_dir).rglob("*.py") if p.relative_to(paper_dir).as_posix() != "mutants.py")
    harness = sorted(p for p in (REPO_ROOT / "bench").glob("*.py")
                     if p.name not in _NOT_MEASURING and not p.name.startswith("test_"))
    source = "\n".join(p.read_text() for p in paper)
    for package in _IMPORTED_BY_NAME:
        folder = REPO_ROOT / "bench" / package
        used = sorted(p for p in folder.glob("*.py") if p.stem != "__init__" and (
            f"bench.{package}.{p.stem}" in source
            or re.search(rf"from bench\.{package} import [^\n]*\b{p.stem}\b", source)))
        # a model's companions (``<module>_*``: a worker it runs, the lock of the environment it runs in) count too
        used += sorted(c for p in used for c in folder.glob(f"{p.stem}_*") if c.is_file())
        if used:
            harness += [folder / "__init__.py", *used]
    return paper + harness


def code_hash(paper_dir: Path) -> str:
    """sha256 (first 16 hex digits) over the paper folder's and the measuring harness's source files."""
    digest = hashlib.sha256()
    for p in code_files(paper_dir):
        digest.update(p.name.encode() if not p.is_relative_to(REPO_ROOT) else str(p.relative_to(REPO_ROOT)).encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


@cache
def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux) or the platform module."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` or ``auto`` (cuda when available) as a torch device; cuda without a GPU is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA GPU on this machine")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu, cuda or auto, not {name!r}")
    return torch.device(name)


def _slug(text: str) -> str:
    text = re.sub(r"\((?:R|TM|tm|r)\)|\bCPU\b|@.*$", " ", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def hardware_name(device: torch.device) -> str:
    """A file-name-safe name of the hardware a result was measured on, e.g. ``cpu-intel-xeon-processor-2c``."""
    if device.type == "cuda":
        return f"cuda-{_slug(torch.cuda.get_device_name(device))}"
    return f"cpu-{_slug(cpu_model())}-{os.cpu_count()}c"


def device_info(device: torch.device) -> dict:
    """CPU model and core count, torch threads, and the GPU name when the device is CUDA."""
    info = {"type": device.type, "cpu_model": cpu_model(), "cpu_cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "machine": platform.machine()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def environment() -> dict:
    """Python, torch and numpy versions and the platform."""
    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "argv": " ".join(sys.argv)}


def now() -> str:
    """The current UTC time, ISO 8601, seconds."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
