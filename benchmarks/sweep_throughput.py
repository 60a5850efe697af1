"""Claim: the sweep executors run CPU-bound cells (greedy planner, trained RL policies) in parallel.

Measured side by side in one run, on the same cells: serial (one process, one cell after another,
the cell runner itself), the local executor (a process pool of ``--workers``), and Ray with the same
number of workers (a local instance). Reported: cells per minute, the speed-up over serial (target:
at least 1.7x with 2 workers on 2 cores), and an upper bound on Ray's overhead per cell: its wall time
(start-up excluded) minus the serial time divided by the workers, per cell (target: under 100 ms).
The STEER policy the RL cells play is trained once before timing.

    .venv/bin/python benchmarks/sweep_throughput.py [--workers 2] [--instances 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

from llamac.app.sweep import run_sweep
from llamac.app.sweep.jobs import CellJob, cell_folder, play_cell, policy_source, train_policy
from llamac.app.sweep.spec import load_spec
from llamac.runtime.settings import Settings

SPEC = """
name = "throughput"
[coordinators.greedy]
kind = "greedy"
[coordinators.steer]
kind = "steer"
policies = "policies"
[[experiments]]
coordinators = ["greedy", "steer"]
tasks = [{{ family = "grid", difficulty = ["easy", "hard"], sizes = ["2x4", "4x8"], instances = "0-{last}" }}]
"""

TRAIN = """
name = "train"
[coordinators.steer]
kind = "steer"
train = {{ steps = 4096 }}
[[experiments]]
coordinators = ["steer"]
tasks = [{{ family = "grid", difficulty = ["easy", "hard"], sizes = ["2x4", "4x8"], instances = [0] }}]
"""


def serial(spec_path: Path, out: Path) -> float:
    """Every cell in this process, one after another (torch configured as in a worker)."""
    from llamac.app.sweep.jobs import configure_torch_worker

    configure_torch_worker()
    spec = load_spec(spec_path)
    settings = Settings()
    started = time.perf_counter()
    for cell in spec.cells():
        source = policy_source(cell, out, spec.coordinators, spec_path.parent)
        job = CellJob(cell, cell_folder(out, cell), spec.name)
        asyncio.run(play_cell(job, str(source) if source else None, settings))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--instances", type=int, default=10, help="golden instances per task (1-10)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sweep-throughput-"))
    try:
        # the policies the RL cells play: trained once, outside the timing
        train_spec = work / "train.toml"
        train_spec.write_text(TRAIN.format())
        plan_spec = load_spec(train_spec)
        for cell in plan_spec.cells():
            job = policy_source(cell, work / "trained", plan_spec.coordinators, work)
            train_policy(job)  # type: ignore[arg-type]
        shutil.copytree(work / "trained" / "policies" / "steer", work / "policies")
        spec = work / "spec.toml"
        spec.write_text(SPEC.format(last=args.instances - 1))
        n = len(load_spec(spec).cells())

        t_serial = serial(spec, work / "serial")
        started = time.perf_counter()
        run_sweep(spec, work / "local", executor="local", workers=args.workers, quiet=True)
        t_local = time.perf_counter() - started

        import ray

        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        t_init = time.perf_counter() - started
        started = time.perf_counter()
        run_sweep(spec, work / "ray", executor="ray", workers=args.workers, quiet=True)
        t_ray = time.perf_counter() - started
        ray.shutdown()

        print(f"{n} CPU-bound cells (greedy and STEER on Grid Easy/Hard 2x4 and 4x8), {args.workers} workers")
        for name, wall in (("serial", t_serial), ("local executor", t_local), ("ray", t_ray)):
            print(f"  {name:15s} {wall:7.1f} s  {60 * n / wall:7.1f} cells/min  speed-up {t_serial / wall:4.2f}x")
        overhead = (t_ray - t_serial / args.workers) / n
        print(f"  ray start-up {t_init:.1f} s (not in its wall above); ray overhead per cell <= {1000 * overhead:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
