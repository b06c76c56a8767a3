"""Run cells (``bench.cells``) in process, as processes on this machine, or as a Slurm job array, through submitit.

- ``inline`` (the default): the runner runs each cell in this process when a claim needs it, as it always has.
- ``local``: cells run as separate processes through submitit's ``LocalExecutor``, at most ``jobs`` at a time,
  each with the torch thread count an inline run has here (torch's default), so that its values are the inline
  run's bit for bit: the thread count changes floating-point reductions, and with them a trained model's metrics
  (``prm_ma2019`` at ``cpu``: 1 thread instead of 2 moved ``prm-adds-compression`` from inconclusive to
  reproduced). ``cell_threads`` sets another count, at that price. A cell of a ``timed: true`` experiment runs
  alone: nothing else is started while it runs, and it starts only when nothing else runs.
- ``slurm``: the cells to run are one Slurm job array (submitit's ``SlurmExecutor``); the timed ones are a
  second array submitted with ``--exclusive`` (a whole node each) and one task at a time. The cache
  (``BENCH_CACHE_DIR``) and submitit's folder must be on a filesystem every node mounts.

Each cell's process builds a runner of its own and calls ``Runner.run_seed``, which writes the cell to the
shared cache; the driver waits, shows cells done/total with an ETA and each running cell's own progress bar
(the last line its training loop wrote), then judges every claim from the cache exactly as the inline runner
does (``Runner(offline=True)``). A cell that fails (an exception in the experiment, a crash, a timeout, a job
that left the queue without a result) becomes the verdict ``error`` of its claims, with the tail of its log;
the driver never waits on a job that is gone.

The node must run the same code as the driver: the cell checks that the key it computes (code hash, config,
torch version, data variant) is the driver's, and refuses to run otherwise.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import paths
from bench.cells import Cell, duration, time_left
from bench.runner import Runner, SeedRun, _stderr

EXECUTORS = ("inline", "local", "slurm")
POLL_S = 2.0
GONE_GRACE_S = 60.0  # a Slurm job absent from squeue this long without a result file has failed


class ExecutorError(RuntimeError):
    """The executor cannot start (no Slurm, a bad option): said in one line before anything runs."""


@dataclass
class ExecutorOptions:
    """How cells are run; ``kind`` is one of :data:`EXECUTORS`."""

    kind: str = "inline"
    jobs: int = 1  # local: cells at a time
    cell_threads: int | None = None  # local: torch threads per cell (None: torch's default, as inline)
    folder: Path | None = None  # submitit's folder (logs, pickles); default <cache root>/submitit
    timeout_min: int = 24 * 60  # per cell
    slurm_partition: str | None = None
    slurm_gpus: int = 0  # per cell
    slurm_time: int | None = None  # minutes per cell (default: timeout_min)
    slurm_cpus_per_task: int = 2
    slurm_array_parallelism: int = 64
    slurm_mem_gb: float | None = None
    slurm_opts: list[str] = field(default_factory=list)  # "key=value" passed to sbatch as --key=value

    def submitit_folder(self) -> Path:
        return Path(self.folder) if self.folder else paths.cache_root() / "submitit"


def cell_spec(cell: Cell, runner: Runner, threads: int | None, papers_dir: Path) -> dict:
    """What a cell's process needs to run it (plain data: it is pickled to another process or node)."""
    return {"paper": cell.paper, "experiment": cell.experiment, "seed": cell.seed, "scale": cell.scale,
            "device": cell.device, "key": cell.key, "rerun": runner.rerun, "cache_dir": str(runner.cache_dir),
            "mutant": runner.mutant, "threads": threads, "papers_dir": str(papers_dir),
            "code_hash": runner.code_state(runner.papers[cell.paper])[0]}


def run_cell(spec: dict) -> dict:
    """Run one cell in this process (the function each submitit job calls) and return its outcome.

    The result itself goes to the cache; what comes back is the run's record (its metrics too, so that the
    driver can tell a cache write that did not reach it), the key and this process's facts.
    """
    import torch

    from bench import provenance
    from bench.claims import discover

    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    (paper,) = discover([spec["paper"]], root=Path(spec["papers_dir"]))
    runner = Runner(spec["scale"], spec["device"], rerun=spec["rerun"], cache_dir=Path(spec["cache_dir"]),
                    mutant=spec.get("mutant"), log=lambda line: print(line, file=sys.stderr, flush=True))
    facts = {"host": os.uname().nodename, "threads": torch.get_num_threads(),
             "hardware": provenance.hardware_name(runner.device)}
    key = runner.key(paper, spec["experiment"], spec["seed"])
    if key != spec["key"]:
        code = runner.code_state(paper)[0]
        why = (f"its code hash is {code}, the driver's {spec['code_hash']}" if code != spec["code_hash"]
               else f"torch {torch.__version__} or the data variant differ from the driver's")
        return {"key": key, "mismatch": f"this node computes cache key {key}, the driver {spec['key']}: {why}; "
                                        f"run the same checkout and environment on every node", **facts}
    run = runner.run_seed(paper, spec["experiment"], spec["seed"])
    return {"key": key, "run": dataclasses.asdict(run), **facts}


# -- the driver ------------------------------------------------------------------------------------------


def _log_tail(job, lines: int = 12) -> str:
    """The last lines of a job's stderr and stdout (progress bars' carriage returns folded)."""
    out = []
    for path in (getattr(job.paths, "stderr", None), getattr(job.paths, "stdout", None)):
        try:
            text = Path(path).read_text(errors="replace")
        except (OSError, TypeError):
            continue
        text = "\n".join(chunk.split("\r")[-1] for chunk in text.splitlines())
        out += [ln for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(out[-lines:]) or "(no log)"


def cell_status(job) -> str:
    """The last progress line a running cell wrote (its training loop's bar), or ''."""
    try:
        path = Path(job.paths.stderr)
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 4000))
            tail = f.read().decode(errors="replace")
    except (OSError, AttributeError, TypeError):
        return ""
    chunks = [c.strip() for c in tail.replace("\n", "\r").split("\r") if c.strip()]
    return chunks[-1][:110] if chunks else ""


class _Board:
    """The driver's progress: cells done/total, an ETA from the cells' expected times, running cells' bars."""

    def __init__(self, cells: list[Cell], jobs: int, log: Callable[[str], None], every_s: float = 30.0):
        self.cells, self.jobs, self.log, self.every_s = cells, max(1, jobs), log, every_s
        self.done: dict[str, str] = {}
        self.t0 = time.monotonic()
        self.last = 0.0
        self.tty = getattr(sys.stderr, "isatty", lambda: False)() and log is _stderr

    def eta(self, running: dict[str, float]) -> str:
        left = [c for c in self.cells if c.id not in self.done]
        known = [c.expected_s for c in left if c.expected_s is not None]
        if not left:
            return "0 s"
        expected = {c.id: c.expected_s for c in left if c.expected_s is not None}
        # a running cell counts what it is expected to have left, and at least a tenth of its expected time: a
        # cell past its expectation (a loaded machine) is not about to end just because the clock says so
        over = [cid for cid, t in running.items() if cid in expected and time.monotonic() - t > expected[cid]]
        spent = sum(min(time.monotonic() - t, 0.9 * expected[cid]) for cid, t in running.items() if cid in expected)
        serial = max(0.0, sum(known) - spent)
        timed = sum(c.expected_s or 0 for c in left if c.timed)
        est = timed + max(0.0, serial - timed) / self.jobs
        unknown = len(left) - len(known)
        return (duration(est) + (f" + {unknown} of unknown duration" if unknown else "")
                + (f" ({len(over)} running cell(s) past their expected time)" if over else ""))

    def update(self, running: dict[str, float], statuses: dict[str, str], force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (2.0 if self.tty else self.every_s):
            return
        self.last = now
        failed = sum(1 for s in self.done.values() if s == "failed")
        head = (f"cells {len(self.done)}/{len(self.cells)} done" + (f" ({failed} failed)" if failed else "")
                + f", {len(running)} running, {duration(now - self.t0)} elapsed, ETA {self.eta(running)}")
        bars = [f"{cid}: {statuses.get(cid) or 'starting'}" for cid in running]
        if self.tty:
            sys.stderr.write("\r\033[K" + head + ("  |  " + bars[0] if bars else ""))
            sys.stderr.flush()
        else:
            self.log(head + "".join(f"\n    {b}" for b in bars))

    def finish(self, cell: Cell, state: str) -> None:
        self.done[cell.id] = "failed" if state.startswith("failed") else state
        if self.tty:
            sys.stderr.write("\r\033[K")
        mine = [c for c in self.cells if c.paper == cell.paper]
        left = [c for c in mine if c.id not in self.done]
        self.log(f"cell {cell.id}: {state} ({len(self.done)}/{len(self.cells)}); [{cell.paper}] cells "
                 f"{len(mine) - len(left)}/{len(mine)}, {time_left(left)}")


def _outcome(cell: Cell, out: dict | None, error: str | None, job) -> SeedRun | None:
    """The SeedRun the driver presets for a failed cell, or None when the cell's result is in the cache."""
    if error is None and out is not None and out.get("mismatch"):
        error = out["mismatch"]
    if error is None and out is not None:
        run = out.get("run") or {}
        if run.get("error"):
            return SeedRun(cell.seed, None, run["error"], float(run.get("wall_s") or 0), False,
                           measured_at=str(run.get("measured_at") or ""), cost=run.get("cost") or {})
        return None
    return SeedRun(cell.seed, None, f"{error}; log tail: {_log_tail(job) if job is not None else '(none)'}")


def run_cells(cells: list[Cell], runner: Runner, options: ExecutorOptions, log: Callable[[str], None] = _stderr,
              papers_dir: Path | None = None) -> dict[str, SeedRun]:
    """Run the cells that are not cached with ``options``' executor; preset every failure on ``runner`` and
    make it judge from the cache only (``offline``). Returns the failures by cell id."""
    if options.kind == "inline":
        return {}
    from bench.claims import papers_root

    papers_dir = papers_dir or papers_root()
    todo = [c for c in cells if not c.cached]
    runner.offline = True
    if not todo:
        log(f"{options.kind}: all {len(cells)} cells are cached; nothing to run")
        return {}
    try:
        import submitit
    except ImportError as e:  # pragma: no cover - a dependency of the suite
        raise ExecutorError(f"the {options.kind} executor needs submitit ({e}): run ./setup.sh") from None
    folder = options.submitit_folder() / time.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    log(f"{options.kind}: {len(todo)} cell(s) to run ({len(cells) - len(todo)} cached); logs in {folder}")
    submitted: list = []  # every job, so that an interrupted driver cancels what it started
    try:
        if options.kind == "local":
            failures = _run_local(todo, runner, options, folder, log, papers_dir, submitit, submitted)
        elif options.kind == "slurm":
            failures = _run_slurm(todo, runner, options, folder, log, papers_dir, submitit, submitted)
        else:
            raise ExecutorError(f"executor must be one of {', '.join(EXECUTORS)}, not {options.kind!r}")
    except KeyboardInterrupt:
        live = [j for j in submitted if not j.done()]
        log(f"{options.kind}: interrupted; cancelling {len(live)} running or queued cell(s) (finished cells stay "
            f"cached)")
        for job in live:
            try:
                job.cancel(check=False)
            except Exception:  # a job that ended meanwhile
                pass
        raise
    for cell in todo:
        if cell.id in failures:
            runner.preset(runner.papers[cell.paper], cell.experiment, cell.seed, failures[cell.id])
    return failures


def _collect(cell: Cell, job, board: _Board, failures: dict[str, SeedRun]) -> None:
    try:
        out, error = job.result(), None
    except Exception as e:  # submitit's FailedJobError / UncompletedJobError, or the cell's own exception
        out, error = None, f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
    failed = _outcome(cell, out, error, job)
    if failed is not None:
        failures[cell.id] = failed
    where = f" in {out['run']['wall_s']:.0f} s on {out.get('host')}" if out and out.get("run") else ""
    board.finish(cell, "failed: " + failed.error[:300] if failed else "done" + where)


def _run_local(todo, runner, options, folder, log, papers_dir, submitit, submitted) -> dict[str, SeedRun]:
    jobs = max(1, options.jobs)
    cores = os.cpu_count() or 1
    executor = submitit.LocalExecutor(folder=folder)
    executor.update_parameters(timeout_min=options.timeout_min)
    threads = options.cell_threads or _inline_threads()
    if jobs * threads > cores:
        log(f"local: {jobs} jobs x {threads} torch threads on {cores} cores is oversubscribed: OpenMP threads then "
            f"wait on descheduled ones, and a cell can run many times slower (seen here: a 2-thread LeNet run fell "
            f"from about 100 to 3 steps/s beside a 1-thread one). --cell-threads {max(1, cores // jobs)} avoids it, "
            f"at the price of values that differ from the inline run's within seed noise")
    board = _Board(todo, jobs, log)
    failures: dict[str, SeedRun] = {}
    # untimed cells first, longest first (so the last ones are short), then the timed ones, each alone
    pending = sorted([c for c in todo if not c.timed], key=lambda c: -(c.expected_s or 0))
    timed = [c for c in todo if c.timed]
    running: dict[str, tuple[Cell, object, float]] = {}
    while pending or timed or running:
        alone = any(c.timed for c, _, _ in running.values())
        while pending and len(running) < jobs and not alone:
            cell = pending.pop(0)
            job = executor.submit(run_cell, cell_spec(cell, runner, options.cell_threads, papers_dir))
            submitted.append(job)
            running[cell.id] = (cell, job, time.monotonic())
        if not pending and not running and timed:
            if len(timed) == sum(c.timed for c in todo):
                log(f"local: now the {len(timed)} timed cell(s), each alone on the {cores} cores")
            cell = timed.pop(0)
            job = executor.submit(run_cell, cell_spec(cell, runner, options.cell_threads, papers_dir))
            submitted.append(job)
            running[cell.id] = (cell, job, time.monotonic())
        for cid, (cell, job, _) in list(running.items()):
            if job.done():
                del running[cid]
                _collect(cell, job, board, failures)
        board.update({cid: t for cid, (_, _, t) in running.items()},
                     {cid: cell_status(job) for cid, (_, job, _) in running.items()})
        time.sleep(POLL_S)
    return failures


def _inline_threads() -> int:
    import torch

    return torch.get_num_threads()


def slurm_available() -> str | None:
    """Why Slurm cannot take jobs from here, or None when ``sbatch`` and ``squeue`` answer."""
    for tool in ("sbatch", "squeue"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH"
    try:
        out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"squeue did not answer ({e})"
    if out.returncode != 0:
        return f"squeue failed: {out.stderr.strip() or out.stdout.strip()}"
    return None


def _in_queue(job_ids: list[str]) -> set[str]:
    """The ids (``<array>_<index>`` and plain) that squeue still lists."""
    try:
        arrays = ",".join(sorted({j.split("_")[0] for j in job_ids}))
        out = subprocess.run(["squeue", "-h", "-r", "-o", "%i", "-j", arrays], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return set(job_ids)  # cannot tell: assume still there
    if out.returncode != 0:
        # squeue exits non-zero for ids it no longer knows; an empty answer means gone
        return set() if "Invalid job id" in out.stderr else set(job_ids)
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def _slurm_executor(options: ExecutorOptions, folder: Path, submitit, exclusive: bool):
    executor = submitit.SlurmExecutor(folder=folder)
    extra: dict[str, object] = {}
    for opt in options.slurm_opts:
        key, sep, value = opt.partition("=")
        if not key:
            raise ExecutorError(f"--slurm-opt {opt!r}: expected KEY=VALUE (passed to sbatch as --KEY=VALUE)")
        extra[key.lstrip("-").replace("-", "_")] = value if sep else True
    params = {"time": options.slurm_time or options.timeout_min, "cpus_per_task": options.slurm_cpus_per_task,
              "array_parallelism": 1 if exclusive else options.slurm_array_parallelism, "job_name": "effdl-cells"}
    if options.slurm_partition:
        params["partition"] = options.slurm_partition
    if options.slurm_gpus:
        params["gpus_per_node"] = options.slurm_gpus
    if options.slurm_mem_gb:
        params["mem"] = f"{int(options.slurm_mem_gb * 1024)}M"
    if exclusive:
        params["exclusive"] = True
    if extra:
        params["additional_parameters"] = extra
    try:
        executor.update_parameters(**params)
    except (ValueError, TypeError) as e:
        raise ExecutorError(f"slurm options: {e}") from None
    return executor


def _run_slurm(todo, runner, options, folder, log, papers_dir, submitit, submitted) -> dict[str, SeedRun]:
    why = slurm_available()
    if why:
        raise ExecutorError(f"--executor slurm: Slurm is not reachable from here: {why}")
    failures: dict[str, SeedRun] = {}
    board = _Board(todo, options.slurm_array_parallelism, log)
    jobs: dict[str, tuple[Cell, object, float]] = {}
    for exclusive, group in ((False, [c for c in todo if not c.timed]), (True, [c for c in todo if c.timed])):
        if not group:
            continue
        executor = _slurm_executor(options, folder, submitit, exclusive)
        specs = [cell_spec(c, runner, options.slurm_cpus_per_task, papers_dir) for c in group]
        array = executor.map_array(run_cell, specs)
        submitted += array
        log(f"slurm: submitted job array {array[0].job_id.split('_')[0]} with {len(group)} cell(s)"
            + (" (timed: --exclusive, one at a time)" if exclusive else ""))
        for cell, job in zip(group, array, strict=True):
            jobs[cell.id] = (cell, job, time.monotonic())
    gone_since: dict[str, float] = {}
    last_queue_check = 0.0
    queued: set[str] = set()
    while jobs:
        now = time.monotonic()
        if now - last_queue_check > 10:
            queued = _in_queue([job.job_id for _, job, _ in jobs.values()])
            last_queue_check = now
        for cid, (cell, job, _) in list(jobs.items()):
            if job.paths.result_pickle.exists():
                del jobs[cid]
                _collect(cell, job, board, failures)
                continue
            base = job.job_id.split("_")[0]
            if job.job_id in queued or base in queued:
                gone_since.pop(cid, None)
                continue
            first = gone_since.setdefault(cid, now)
            if now - first > GONE_GRACE_S and not job.paths.result_pickle.exists():
                del jobs[cid]
                failures[cid] = _outcome(cell, None, f"Slurm job {job.job_id} left the queue without a result "
                                                     f"(killed, out of time or memory, or its node failed)", job)
                board.finish(cell, "failed: " + failures[cid].error[:300])
        running = {cid: t for cid, (_, _, t) in jobs.items()}
        board.update(running, {cid: cell_status(job) for cid, (_, job, _) in jobs.items()})
        time.sleep(POLL_S)
    return failures
