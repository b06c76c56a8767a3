"""A systolic-array accelerator, simulated with SCALE-Sim (``scalesim`` on PyPI): cycles and DRAM traffic of GEMMs.

**What it computes.** A GEMM ``(M×K) @ (K×N)`` (a conv layer lowered to a matrix product: M output pixels, K =
C·kh·kw, N filters) runs through SCALE-Sim 3.0.0 on a ``rows × cols`` array of multiply-accumulate units with
the SRAM buffers and the dataflow of :class:`ArrayConfig`. SCALE-Sim returns, per GEMM, the cycles (compute plus
stalls, and from the first DRAM prefetch to the last write), the array's utilization and mapping efficiency,
and the words read from and written to DRAM and SRAM. Its word is one byte (hard-coded in scalesim).

**The default array** is SCALE-Sim's own example (``configs/scale.cfg`` of scale-sim-v2: 32×32 units, 64 kB for
each of the input, filter and output SRAMs) with two changes, both assumptions of this suite, not of a paper:
the weight-stationary dataflow (``ws``, as in Google's TPU, where removing weight rows and columns removes
whole folds) instead of the example's output-stationary one, and SCALE-Sim's ``CALC`` interface-bandwidth mode
(it sizes DRAM bandwidth so that nothing stalls) instead of a fixed user bandwidth, so the cycles are the
array's compute cycles and DRAM traffic is reported separately. Under ``ws`` and ``CALC`` the cycle count
matches the closed form of :func:`ws_calc_cycles` (checked on every AlexNet layer, dense and compacted).

**How it runs.** scalesim 3.0.0 needs numpy < 2 and pulls numba, pandas and matplotlib, so it lives in its
own environment, ``.venv-scalesim`` (``./setup.sh`` builds it from ``systolic_requirements.lock``; the
``EFFDL_SCALESIM_PYTHON`` variable points elsewhere), and each GEMM runs in a subprocess of it
(``systolic_worker.py``), in parallel up to the number of cores. A simulation costs about 0.3 ms of wall time
per simulated cycle on a 32×32 array (AlexNet's dense conv3 is 227k cycles: about a minute), so results are
cached under ``.cache/bench/scalesim/`` by the config, the shape, the worker's code and the lock file: the
simulator is deterministic, and a cached figure is the figure it would compute again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import paths

NAME = "SCALE-Sim (scalesim on PyPI), weight-stationary GEMM mapping of bench.hardware.systolic"
VERSION = "1"  # of the mapping and the parsing here; the simulator's own version is recorded per result
REPO_ROOT = paths.REPO_ROOT
WORKER = Path(__file__).with_name("systolic_worker.py")
LOCK = Path(__file__).with_name("systolic_requirements.lock")
SECONDS_PER_CYCLE = 3e-4  # rough wall time of SCALE-Sim per simulated cycle on a 32×32 array (for progress)


class SystolicUnavailable(RuntimeError):
    """The SCALE-Sim environment is missing: ``./setup.sh`` builds it."""


class SystolicError(RuntimeError):
    """A SCALE-Sim run failed; the message carries the end of its output."""


@dataclass(frozen=True)
class ArrayConfig:
    """A SCALE-Sim architecture: array size, dataflow, SRAM sizes (kB, double-buffered) and bandwidth mode."""

    rows: int = 32
    cols: int = 32
    dataflow: str = "ws"  # ws | os | is
    ifmap_sram_kb: int = 64
    filter_sram_kb: int = 64
    ofmap_sram_kb: int = 64
    bandwidth_mode: str = "CALC"  # CALC: no stalls, SCALE-Sim reports the bandwidth it needed; USER: fixed below
    user_bandwidth: int = 10  # words/cycle of each DRAM interface in USER mode

    def __post_init__(self):
        if min(self.rows, self.cols, self.ifmap_sram_kb, self.filter_sram_kb, self.ofmap_sram_kb,
               self.user_bandwidth) < 1:
            raise ValueError("array sizes, SRAM sizes and bandwidth must be positive")
        if self.dataflow not in ("ws", "os", "is"):
            raise ValueError(f"dataflow must be ws, os or is, not {self.dataflow!r}")
        if self.bandwidth_mode not in ("CALC", "USER"):
            raise ValueError(f"bandwidth_mode must be CALC or USER, not {self.bandwidth_mode!r}")

    @property
    def name(self) -> str:
        return f"{self.dataflow}-{self.rows}x{self.cols}-{self.bandwidth_mode.lower()}"

    def cfg_text(self) -> str:
        """The SCALE-Sim 3.0.0 config file (every key it reads is mandatory; no ``[network_presets]``)."""
        bw = self.user_bandwidth
        return (
            "[general]\nrun_name = run\n\n"
            "[architecture_presets]\n"
            f"ArrayHeight: {self.rows}\nArrayWidth: {self.cols}\n"
            f"IfmapSramSzkB: {self.ifmap_sram_kb}\nFilterSramSzkB: {self.filter_sram_kb}\n"
            f"OfmapSramSzkB: {self.ofmap_sram_kb}\n"
            "IfmapOffset: 0\nFilterOffset: 10000000\nOfmapOffset: 20000000\n"
            f"Bandwidth: {bw}\nDataflow: {self.dataflow}\nReadRequestBuffer: 512\nWriteRequestBuffer: 512\n\n"
            # in USER mode scalesim reads the ifmap and filter DRAM bandwidths from these two bank fields
            "[layout]\nIfmapCustomLayout: False\n"
            f"IfmapSRAMBankBandwidth: {bw}\nIfmapSRAMBankNum: 1\nIfmapSRAMBankPort: 2\n"
            f"FilterCustomLayout: False\nFilterSRAMBankBandwidth: {bw}\nFilterSRAMBankNum: 1\nFilterSRAMBankPort: 2\n\n"
            "[sparsity]\nSparsitySupport: false\n\n"
            f"[run_presets]\nInterfaceBandwidth: {self.bandwidth_mode}\nUseRamulatorTrace: False\n"
        )


@dataclass(frozen=True)
class Gemm:
    """``count`` identical GEMMs ``(m×k) @ (k×n)``: m output pixels streamed, k = C·kh·kw, n filters."""

    m: int
    n: int
    k: int
    count: int = 1  # e.g. the groups of a grouped conv (each group is its own GEMM)

    def __post_init__(self):
        if min(self.m, self.n, self.k, self.count) < 1:
            raise ValueError(f"GEMM dimensions must be positive: {self}")

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.count


@dataclass(frozen=True)
class GemmResult:
    """SCALE-Sim's figures for one GEMM (one copy; the ``total_*`` properties multiply by ``count``)."""

    gemm: Gemm
    cycles: int  # COMPUTE_REPORT "Total Cycles": compute + stall cycles
    cycles_incl_prefetch: int  # from the first DRAM prefetch to the last DRAM write
    stall_cycles: int
    compute_util_pct: float
    mapping_efficiency_pct: float
    dram_ifmap_reads: int  # words (bytes)
    dram_filter_reads: int
    dram_ofmap_writes: int
    sram_ifmap_reads: int
    sram_filter_reads: int
    sram_ofmap_writes: int
    simulator: dict = field(default_factory=dict)  # scalesim, numpy and python versions of the run
    wall_s: float = 0.0  # of the simulation when it ran (a cached result keeps it)
    cached: bool = False

    @property
    def total_cycles(self) -> int:
        """Cycles of all ``count`` copies run one after the other on the one array."""
        return self.cycles * self.gemm.count

    @property
    def total_dram_words(self) -> int:
        return (self.dram_ifmap_reads + self.dram_filter_reads + self.dram_ofmap_writes) * self.gemm.count


def ws_calc_cycles(gemm: Gemm, cfg: ArrayConfig) -> int:
    """SCALE-Sim's cycles for one copy under ``ws`` and ``CALC`` on a square array, in closed form.

    The stationary K×N weight is cut into ``ceil(k/A)·ceil(n/A)`` folds; each fold streams the m rows through
    the array with a fill and drain of 3A − 2 cycles: ``folds · (m + 3A − 2) − 1``. Checked against SCALE-Sim
    3.0.0 on every AlexNet conv GEMM (dense and compacted, 32×32 and 128×128 arrays), exactly.
    """
    if cfg.dataflow != "ws" or cfg.bandwidth_mode != "CALC" or cfg.rows != cfg.cols:
        raise ValueError("the closed form holds for the ws dataflow in CALC mode on a square array only")
    a = cfg.rows
    return math.ceil(gemm.k / a) * math.ceil(gemm.n / a) * (gemm.m + 3 * a - 2) - 1


def python_executable() -> Path:
    """The interpreter of the SCALE-Sim environment; :class:`SystolicUnavailable` when it is missing."""
    path = Path(os.environ.get("EFFDL_SCALESIM_PYTHON", REPO_ROOT / ".venv-scalesim" / "bin" / "python"))
    if not path.exists():
        raise SystolicUnavailable(
            f"SCALE-Sim's environment is missing ({path}): run ./setup.sh, which builds .venv-scalesim from "
            "bench/hardware/systolic_requirements.lock, or set EFFDL_SCALESIM_PYTHON to a Python with scalesim "
            "3.0.0 and numpy<2")
    return path


def cache_dir() -> Path:
    """``<cache root>/bench/scalesim`` (``bench.paths.cache_root``)."""
    return paths.cache_root() / "bench" / "scalesim"


def _key(gemm: Gemm, cfg: ArrayConfig) -> str:
    fields = {"config": cfg.cfg_text(), "m": gemm.m, "n": gemm.n, "k": gemm.k, "version": VERSION,
              "worker": hashlib.sha256(WORKER.read_bytes()).hexdigest(),
              "lock": hashlib.sha256(LOCK.read_bytes()).hexdigest() if LOCK.exists() else None,
              "python": os.environ.get("EFFDL_SCALESIM_PYTHON", "venv")}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]


def _parse(gemm: Gemm, raw: dict, cached: bool) -> GemmResult:
    comp, access = raw["COMPUTE_REPORT"], raw["DETAILED_ACCESS_REPORT"]

    def num(table: dict, name: str) -> float:
        return float(table[name])

    return GemmResult(
        gemm, int(num(comp, "Total Cycles")), int(num(comp, "Total Cycles (incl. prefetch)")),
        int(num(comp, "Stall Cycles")), num(comp, "Compute Util %"), num(comp, "Mapping Efficiency %"),
        int(num(access, "DRAM IFMAP Reads")), int(num(access, "DRAM Filter Reads")),
        int(num(access, "DRAM OFMAP Writes")), int(num(access, "SRAM IFMAP Reads")),
        int(num(access, "SRAM Filter Reads")), int(num(access, "SRAM OFMAP Writes")),
        {k: raw[k] for k in ("scalesim", "numpy", "python")}, raw["wall_s"], cached)


def _run_one(gemm: Gemm, cfg: ArrayConfig, python: Path, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="effdl-systolic-") as tmp:
        request, result = Path(tmp) / "request.json", Path(tmp) / "result.json"
        request.write_text(json.dumps({"config": cfg.cfg_text(), "m": gemm.m, "n": gemm.n, "k": gemm.k}))
        try:
            proc = subprocess.run([str(python), str(WORKER), str(request), str(result)], capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SystolicError(f"SCALE-Sim ran past {timeout:.0f} s on {gemm}") from None
        if proc.returncode != 0 or not result.exists():
            tail = (proc.stderr or proc.stdout or "").strip()[-1500:]
            raise SystolicError(f"SCALE-Sim failed on {gemm} (exit {proc.returncode}): {tail}")
        return json.loads(result.read_text())


def simulate(gemms: Iterable[Gemm], cfg: ArrayConfig = ArrayConfig(), *, jobs: int | None = None,
             timeout: float = 3600.0, log: Callable[[str], None] | None = None) -> list[GemmResult]:
    """SCALE-Sim's figures for each GEMM (in order), from the cache or from runs in parallel processes.

    ``jobs``: simulations at once (default: the CPU cores). Each distinct ``(m, n, k)`` is simulated once.
    """
    gemms = list(gemms)
    results: dict[tuple[int, int, int], GemmResult] = {}
    todo: dict[tuple[int, int, int], Gemm] = {}
    for g in gemms:
        shape = (g.m, g.n, g.k)
        path = cache_dir() / f"{_key(g, cfg)}.json"
        if shape in results or shape in todo:
            continue
        if path.is_file():
            results[shape] = _parse(Gemm(*shape), json.loads(path.read_text()), cached=True)
        else:
            todo[shape] = Gemm(*shape)
    if todo:
        python = python_executable()
        # longest first, so the parallel runs end together (the cycle count predicts the wall time)
        order = sorted(todo.values(), key=lambda g: -estimated_cycles(g, cfg))
        if log:
            est = sum(estimated_cycles(g, cfg) for g in order) * SECONDS_PER_CYCLE
            log(f"SCALE-Sim ({cfg.name}): simulating {len(order)} GEMMs, roughly {est:.0f} s of simulation "
                f"on {jobs or os.cpu_count()} processes")

        def run(g: Gemm) -> tuple[Gemm, dict]:
            start = time.perf_counter()
            raw = _run_one(g, cfg, python, timeout)
            if log:
                log(f"SCALE-Sim ({cfg.name}): {g.m}x{g.k} @ {g.k}x{g.n} done in {time.perf_counter() - start:.1f} s")
            return g, raw

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
            for g, raw in pool.map(run, order):
                path = cache_dir() / f"{_key(g, cfg)}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(json.dumps(raw))
                os.replace(tmp, path)
                results[(g.m, g.n, g.k)] = _parse(g, raw, cached=False)
    return [_with_count(results[(g.m, g.n, g.k)], g) for g in gemms]


def _with_count(res: GemmResult, gemm: Gemm) -> GemmResult:
    return GemmResult(**{**{f: getattr(res, f) for f in res.__dataclass_fields__}, "gemm": gemm})


def estimated_cycles(gemm: Gemm, cfg: ArrayConfig) -> int:
    """Cycles of one copy, roughly, whatever the dataflow (within 1 of ws_calc_cycles for ws in CALC mode)."""
    a_r, a_c = cfg.rows, cfg.cols
    return math.ceil(gemm.k / a_r) * math.ceil(gemm.n / a_c) * (gemm.m + 2 * a_r + a_c)


def is_cached(gemm: Gemm, cfg: ArrayConfig) -> bool:
    """Whether SCALE-Sim's result for this shape and array is in the cache (a call would be instant)."""
    return (cache_dir() / f"{_key(gemm, cfg)}.json").is_file()


def describe(cfg: ArrayConfig, results: Iterable[GemmResult] = ()) -> dict:
    """The model's name, version, array parameters and the simulator versions of ``results``, for provenance."""
    versions = sorted({json.dumps(r.simulator, sort_keys=True) for r in results})
    return {"model": NAME, "version": VERSION, "array": asdict(cfg), "name": cfg.name,
            "simulator": [json.loads(v) for v in versions], "word_bytes": 1,
            "environment": str(LOCK.relative_to(REPO_ROOT)) if LOCK.is_relative_to(REPO_ROOT) else str(LOCK),
            "python": sys.version.split()[0]}
