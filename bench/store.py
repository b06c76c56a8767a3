"""The cell cache as a store that moves between machines: ``python -m bench cache export|import|info|path``.

The cache (``<cache root>/bench/<paper>/<experiment>/<key>.json``, ``bench.paths.cache_root``) holds one JSON
entry per measured cell, written atomically and validated on every read (``bench.files.cache_entry_problem``).
``export`` packs entries into one ``.tar.gz`` with a manifest; ``import`` checks each entry against the code
here before it lets it in: the paper and experiment exist, the entry's code hash is the paper's current one,
its config is the experiment's config at one of its scales, and the key recomputed here (code, config, seed,
device, torch version, data variant, mutant) is the entry's own. A refused entry is listed with the reason.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import io
import json
import tarfile
import time
from pathlib import Path

from bench import mutants, paths, provenance
from bench.claims import discover
from bench.files import atomic_write_text, cache_entry_problem
from bench.registry import info
from bench.runner import Runner, default_cache_dir

MANIFEST = "manifest.json"


def entries(cache_dir: Path, patterns: list[str] | None = None) -> list[Path]:
    """The cache's cell entries (not the quarantine, not SCALE-Sim's), of papers matching ``patterns``."""
    out = []
    for path in sorted(cache_dir.glob("*/*/*.json")):
        paper = path.parent.parent.name
        if paper.startswith(".") or paper == "scalesim":
            continue
        if patterns and not any(fnmatch.fnmatch(paper, p) for p in patterns):
            continue
        out.append(path)
    return out


def export(file: Path, patterns: list[str] | None = None, cache_dir: Path | None = None) -> int:
    """Pack the cache's entries (of the papers matching ``patterns``) into ``file`` (.tar.gz); their count."""
    cache_dir = cache_dir or default_cache_dir()
    found = entries(cache_dir, patterns)
    manifest = {"exported_at": provenance.now(), "from": provenance.hardware_name(provenance.resolve_device("cpu")),
                "entries": [str(p.relative_to(cache_dir)) for p in found]}
    tmp = Path(file).with_name(Path(file).name + ".part")
    with tarfile.open(tmp, "w:gz") as tar:
        for path in found:
            tar.add(path, arcname=str(path.relative_to(cache_dir)))
        data = json.dumps(manifest, indent=1).encode()
        ti = tarfile.TarInfo(MANIFEST)
        ti.size, ti.mtime = len(data), int(time.time())
        tar.addfile(ti, io.BytesIO(data))
    tmp.replace(file)
    return len(found)


def _check(rec: object, papers: dict) -> tuple[str | None, str | None]:
    """(the entry's path in the cache, None) when it fits the code here, else (None, the reason)."""
    if not isinstance(rec, dict):
        return None, "not a JSON object"
    slug, experiment = rec.get("paper"), rec.get("experiment")
    if not isinstance(slug, str) or not isinstance(experiment, str) or "key" not in rec:
        return None, "written before entries named their paper, experiment and key: cannot be checked"
    paper = papers.get(slug)
    if paper is None:
        return None, f"paper {slug!r} is not here"
    if experiment not in paper.spec.experiments:
        return None, f"experiment {experiment!r} is not in {slug}'s claims.yaml"
    current = provenance.code_hash(paper.path)
    if rec.get("code_hash") != current:
        return None, f"measured with code hash {rec.get('code_hash')}, the code here is {current}"
    device = rec.get("device")
    if device not in ("cpu", "cuda"):
        return None, f"device {device!r} is not cpu or cuda"
    scales = [s for s in paper.spec.experiments[experiment].scales
              if json.loads(json.dumps(dataclasses.asdict(paper.scale_config(experiment, s)[0]), default=str))
              == rec.get("config")]
    if not scales:
        return None, f"its config is not {experiment}'s config at any scale in claims.yaml"
    declared = info(paper.experiment_fn(experiment)).metrics
    problem = cache_entry_problem(rec, rec.get("seed"), rec["config"], device, declared)
    if problem:
        return None, problem
    runner = Runner(scales[0], "cpu", log=lambda line: None, mutant=rec.get("mutant"))
    key = runner._key(paper, experiment, rec["config"], rec["seed"], device)
    if rec.get("mutant"):
        key_fields_note = f" (mutant {rec['mutant']}, mutants.py {mutants.mutants_hash(paper)})"
    else:
        key_fields_note = ""
    if key != rec["key"]:
        return None, (f"its key {rec['key']} is not the key computed here, {key}{key_fields_note}: torch or the "
                      f"CIFAR-10 variant differ from the machine that measured it")
    return f"{slug}/{experiment}/{key}.json", None


def import_(file: Path, cache_dir: Path | None = None) -> tuple[list[str], list[str], list[str]]:
    """Let the entries of an exported ``file`` into the cache: (imported, already there, refused with reason)."""
    cache_dir = cache_dir or default_cache_dir()
    papers = {p.slug: p for p in discover()}
    imported, present, refused = [], [], []
    with tarfile.open(file, "r:gz") as tar:
        for member in tar.getmembers():
            if member.name == MANIFEST or not member.isfile() or not member.name.endswith(".json"):
                continue
            try:
                rec = json.loads(tar.extractfile(member).read())
            except (ValueError, UnicodeDecodeError, AttributeError) as e:
                refused.append(f"{member.name}: not readable as JSON ({e})")
                continue
            where, why = _check(rec, papers)
            if why:
                refused.append(f"{member.name}: {why}")
                continue
            target = cache_dir / where
            if target.is_file():
                present.append(where)
                continue
            atomic_write_text(target, json.dumps(rec, allow_nan=False))
            imported.append(where)
    return imported, present, refused


def summary(cache_dir: Path | None = None) -> list[str]:
    """Lines: the cache's location and, per paper, its entries and their recorded compute."""
    cache_dir = cache_dir or default_cache_dir()
    lines = [f"cache: {cache_dir} (root {paths.cache_root()}; set BENCH_CACHE_DIR to move it)"]
    per: dict[str, list[float]] = {}
    for path in entries(cache_dir):
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        per.setdefault(path.parent.parent.name, []).append(float(rec.get("wall_s") or 0))
    for slug, walls in sorted(per.items()):
        lines.append(f"  {slug}: {len(walls)} cell(s), {sum(walls) / 60:.1f} min of measurement")
    return lines
