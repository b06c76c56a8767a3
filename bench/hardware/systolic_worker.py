"""Run SCALE-Sim on one GEMM and write its reports as JSON: the subprocess side of ``bench.hardware.systolic``.

Runs under the isolated ``.venv-scalesim`` (``scalesim`` 3.0.0 with numpy < 2), never under the suite's
environment, so it imports nothing from the suite. Usage::

    .venv-scalesim/bin/python bench/hardware/systolic_worker.py REQUEST.json RESULT.json

``REQUEST.json``: ``{"config": <the .cfg text>, "m": M, "n": N, "k": K}``. ``RESULT.json`` gets the three
report CSVs of the layer (``COMPUTE_REPORT``, ``BANDWIDTH_REPORT``, ``DETAILED_ACCESS_REPORT``) as dicts, the
scalesim and numpy versions and the wall time. Facts of scalesim 3.0.0 this relies on (read in its source):

- the Python API with ``save_disk_space=True`` writes no per-cycle traces (the command line always does);
- a GEMM topology row is ``name, M, N, K,`` and must end with a comma (the parser drops the last field);
- the layout file is always opened, and only read when a custom layout is on: a header is enough;
- on a bad path scalesim calls ``exit()``, which is why it runs in its own process.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import os
import sys
import tempfile
import time


def _report(path: str) -> dict[str, str]:
    """The first data row of a SCALE-Sim report CSV (every row ends with a comma), keyed by the header."""
    with open(path, newline="") as f:
        rows = [[v.strip() for v in row] for row in csv.reader(f, skipinitialspace=True)]
    header = [h for h in rows[0] if h]
    values = [v for v in rows[1] if v]
    return dict(zip(header, values, strict=True))


def main(request_path: str, result_path: str) -> None:
    with open(request_path) as f:
        req = json.load(f)
    from scalesim.scale_sim import scalesim  # imported here so a usage error does not wait for numba

    with tempfile.TemporaryDirectory(prefix="effdl-scalesim-") as tmp:
        cfg, topo, layout = (os.path.join(tmp, n) for n in ("arch.cfg", "topology.csv", "layout.csv"))
        with open(cfg, "w") as f:
            f.write(req["config"])
        with open(topo, "w") as f:
            f.write(f"Layer,M,N,K,\ngemm,{int(req['m'])},{int(req['n'])},{int(req['k'])},\n")
        with open(layout, "w") as f:
            f.write("Layer,unused,\n")
        start = time.perf_counter()
        sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout,
                       input_type_gemm=True)
        sim.run_scale(top_path=os.path.join(tmp, "out"))
        wall = time.perf_counter() - start
        (run_name,) = os.listdir(os.path.join(tmp, "out"))  # the config's run_name
        run_dir = os.path.join(tmp, "out", run_name)
        result = {name: _report(os.path.join(run_dir, f"{name}.csv"))
                  for name in ("COMPUTE_REPORT", "BANDWIDTH_REPORT", "DETAILED_ACCESS_REPORT")}
    result |= {"wall_s": wall, "scalesim": importlib.metadata.version("scalesim"),
               "numpy": importlib.metadata.version("numpy"), "python": sys.version.split()[0]}
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
