"""Files the suite writes and later reads back, handled as untrusted: paths, atomic writes, locks, quarantine.

- Every name that becomes part of a path (a paper slug, an experiment name, a cache key) must be an
  identifier, and the joined path must stay inside its root (:func:`safe_join`): a name such as ``../x`` or
  ``/etc/x`` in a claims file can never write outside the cache or the results folder.
- Writes go to a temporary file beside the target and are renamed over it (:func:`atomic_write_text`):
  a reader, or a run killed at any moment, never sees half a file.
- Read-merge-write cycles (a results file that several runs add claims to) hold a file lock from ``filelock``
  (:func:`locked`), so two runs writing one file cannot drop each other's claims.
- What cannot be used is moved aside, never deleted (:func:`quarantine`, :func:`set_aside`), so it can be
  inspected, and the next run carries on without it.
- Nothing is unpickled: caches are JSON or NumPy ``.npz`` read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
LOCK_TIMEOUT_S = 600.0


class UnsafePath(ValueError):
    """A name that would leave its root folder, or is not an identifier."""


def safe_join(root: Path, *parts: str) -> Path:
    """``root/part/...`` where every part is an identifier (no ``/``, no ``..``) and the result is inside root."""
    for part in parts:
        if not isinstance(part, str) or not IDENTIFIER.match(part) or part in (".", ".."):
            raise UnsafePath(f"{part!r} is not an identifier, so it cannot name a file under {root}")
    path = Path(root).joinpath(*parts)
    if not path.resolve().is_relative_to(Path(root).resolve()):
        raise UnsafePath(f"{path} is outside {root}")
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the lock of ``path`` (``.<name>.lock`` beside it) for a read-merge-write of that file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path.with_name(f".{path.name}.lock")), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout:
        raise TimeoutError(f"another process has held the lock of {path} for {timeout:.0f} s; "
                           f"is another run writing it?") from None


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"


def _unused(target: Path) -> Path:
    """``target``, or ``target.1``, ``target.2``, ... whichever does not exist yet (nothing is overwritten)."""
    candidate, n = target, 0
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}.{n}")
    return candidate


def set_aside(path: Path) -> Path:
    """Rename an unusable file to ``<name>.corrupt-<time>-<pid>`` beside it (kept for inspection)."""
    aside = _unused(Path(path).with_name(f"{Path(path).name}.corrupt-{_stamp()}"))
    os.replace(path, aside)
    return aside


def quarantine(path: Path, root: Path) -> Path:
    """Move an unusable file under ``root`` to ``root/.quarantine/<same relative path>.<time>-<pid>``.

    A dot folder, which no paper slug can name (slugs start with a letter).
    """
    path, root = Path(path), Path(root)
    rel = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    target = root / ".quarantine" / rel.parent / f"{rel.name}.{_stamp()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target = _unused(target)
    os.replace(path, target)
    return target


def _finite_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def cache_entry_problem(rec: object, seed: int, config: Mapping, device: str, metrics: Sequence[str],
                        key: str | None = None) -> str:
    """Why a cached seed run cannot stand for the run asked for, or '' when it can.

    It must be a JSON object for this seed, config and device, with exactly the declared metrics, each a finite
    number, and a finite, non-negative wall time. A foreign entry (another seed or config under this key) or a
    hand-edited one is refused rather than trusted.
    """
    if not isinstance(rec, dict):
        return "not a JSON object"
    if key is not None and "key" in rec and rec["key"] != key:  # entries written before keys were stored lack it
        return f"field key: {rec['key']!r}, the entry of another cell (this one is {key!r})"
    if rec.get("seed") != seed:
        return f"field seed: {rec.get('seed')!r}, expected {seed}"
    if rec.get("device") != device:
        return f"field device: {rec.get('device')!r}, expected {device!r}"
    if rec.get("config") != json.loads(json.dumps(dict(config), default=str)):
        return "field config: differs from the experiment's config at this scale"
    got = rec.get("metrics")
    if not isinstance(got, dict):
        return "field metrics: missing or not an object"
    if sorted(got) != sorted(metrics):
        return (f"field metrics: {sorted(set(metrics) - set(got)) or 'none'} missing, "
                f"{sorted(set(got) - set(metrics)) or 'none'} undeclared")
    bad = [m for m in metrics if not _finite_number(got[m])]
    if bad:
        return f"field metrics.{bad[0]}: {got[bad[0]]!r} is not a finite number"
    if not _finite_number(rec.get("wall_s")) or rec["wall_s"] < 0:
        return f"field wall_s: {rec.get('wall_s')!r} is not a non-negative number"
    if not isinstance(rec.get("datasets", {}), dict):
        return "field datasets: not an object"
    if not isinstance(rec.get("cost", {}), dict):
        return "field cost: not an object"
    return ""
