"""Where the suite keeps what it may recompute: the cache root, outside the work tree so it survives a clone."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_root() -> Path:
    """``$BENCH_CACHE_DIR``, else the platform's user cache directory (``~/.cache/effdl-claims`` on Linux).

    On a cluster, point ``BENCH_CACHE_DIR`` at a filesystem every node mounts: cells run on other nodes write
    their results there, and the driver reads them back.
    """
    env = os.environ.get("BENCH_CACHE_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("effdl-claims"))
