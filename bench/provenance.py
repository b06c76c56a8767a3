"""Provenance of a result: code (git commit, dirty flag, code hash), environment, device and hardware name."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import io
import os
import platform
import re
import subprocess
import sys
import token
import tokenize
from functools import cache
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent

# The roots of every paper's import closure besides its own folder: the measuring core that seeds and calls an
# experiment (bench/execute.py). The runner (cache, judging, logs) only stores and judges what it returns.
_HARNESS_ROOTS = ("bench/execute.py",)
# top-level packages of this repository whose modules a paper can import
_PACKAGES = ("bench", "papers")


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


def _module_file(module: str) -> Path | None:
    """The repository file of a dotted module name (``bench.train`` -> bench/train.py), or None outside it."""
    if module.split(".")[0] not in _PACKAGES:
        return None
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_inits(module: str) -> list[Path]:
    """The ``__init__.py`` of every package above and at ``module`` (importing a.b.c runs a/ and a/b/ first)."""
    parts = module.split(".")
    out = []
    for i in range(1, len(parts) + 1):
        init = REPO_ROOT.joinpath(*parts[:i], "__init__.py")
        if init.is_file():
            out.append(init)
    return out


def _relative(path: Path) -> Path:
    """``path`` relative to the repository, or, for a paper folder kept elsewhere (``$BENCH_PAPERS_DIR``, a
    test's), relative to the folder that holds its ``papers/``-like parent."""
    if path.is_relative_to(REPO_ROOT):
        return path.relative_to(REPO_ROOT)
    for parent in path.parents:
        if (parent / "__init__.py").is_file() or parent.name == "papers":
            continue
        return path.relative_to(parent)
    return Path(path.name)


def _module_name(path: Path) -> str:
    rel = _relative(path).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Dotted names of every module ``path`` imports (anywhere in the file, also inside functions), from its
    import statements (``ast``); ``from pkg import name`` yields ``pkg.name`` as well, in case it is a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return {n for n in names if n}


def import_closure(roots: list[Path]) -> list[Path]:
    """Every repository file reachable from ``roots`` through import statements, with the packages' ``__init__``
    files on the way and each module's companions (``<module>_*`` beside it: a worker it runs as a script, the
    lock of the environment it runs in), sorted."""
    seen: set[Path] = set()
    todo = list(roots)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix != ".py":
            continue
        for module in imported_modules(path):
            target = _module_file(module)
            if target is None:
                continue
            todo += [target, *_package_inits(_module_name(target))]
            if target.name != "__init__.py":
                todo += [c for c in target.parent.glob(f"{target.stem}_*") if c.is_file()]
    return sorted(seen)


def code_files(paper_dir: Path) -> list[Path]:
    """The files whose content determines what a paper's experiments measure: the import closure of its folder.

    The roots are the paper folder's Python files (``mutants.py`` aside: a mutant run adds its own hash to the
    cache key, and the intact code's results do not depend on it) and the measuring core ``bench/execute.py``;
    from them every import statement that names a module of this repository is followed (``ast``), so an edit
    to a module the paper never imports does not mark its results stale.
    """
    paper_dir = Path(paper_dir)
    roots = sorted(p for p in paper_dir.rglob("*.py") if p.relative_to(paper_dir).as_posix() != "mutants.py")
    roots += [REPO_ROOT / r for r in _HARNESS_ROOTS]
    return import_closure(roots)


def normalized_source(text: str) -> str:
    """Python source as its token stream without comments, blank lines, layout and bare string statements
    (docstrings): what the interpreter runs, so a docstring, comment or formatting edit leaves it unchanged.

    Python 3.12 splits f-strings into several tokens; each f-string is put back as the one string token older
    versions give, so the normalized text, and with it the code hash, is the same across Python versions.
    """
    out: list[str] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    fstring_start = getattr(token, "FSTRING_START", None)
    fstring_end = getattr(token, "FSTRING_END", None)
    lines = text.splitlines(keepends=True)
    i = 0
    pending: list[str] = []  # string tokens of a statement that may turn out to be a bare string (a docstring)
    at_statement_start = True
    while i < len(tokens):
        tok = tokens[i]
        kind, string = tok.type, tok.string
        if kind == fstring_start:  # gather the whole f-string into one STRING token, as Python <= 3.11 does
            depth, j = 0, i
            while True:
                if tokens[j].type == fstring_start:
                    depth += 1
                elif tokens[j].type == fstring_end:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            string = _span(lines, tok.start, tokens[j].end)
            kind, i = token.STRING, j
        i += 1
        if kind in (token.COMMENT, token.NL, token.ENCODING, token.ENDMARKER):
            continue
        if kind == token.STRING and (at_statement_start or pending):
            pending.append(string)
            continue
        if kind == token.NEWLINE and pending:  # the statement was only string literals: a docstring, dropped
            pending = []
            at_statement_start = True
            continue
        if pending:
            out += [f"STRING {s}" for s in pending]
            pending = []
        at_statement_start = kind in (token.NEWLINE, token.INDENT, token.DEDENT)
        out.append(token.tok_name[kind] if kind in (token.NEWLINE, token.INDENT, token.DEDENT)
                   else f"{token.tok_name[kind]} {string}")
    out += [f"STRING {s}" for s in pending]
    return "\n".join(out)


def _span(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    (r0, c0), (r1, c1) = start, end
    if r0 == r1:
        return lines[r0 - 1][c0:c1]
    return lines[r0 - 1][c0:] + "".join(lines[r0:r1 - 1]) + lines[r1 - 1][:c1]


def code_hash(paper_dir: Path) -> str:
    """sha256 (first 16 hex digits) over the paper's import closure (``code_files``): each Python file by its
    path and normalized source (``normalized_source``), any other file (a lock) by its path and bytes."""
    digest = hashlib.sha256()
    for p in code_files(paper_dir):
        digest.update(_relative(p).as_posix().encode() + b"\0")
        digest.update(normalized_source(p.read_text()).encode() if p.suffix == ".py" else p.read_bytes())
        digest.update(b"\0")
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
