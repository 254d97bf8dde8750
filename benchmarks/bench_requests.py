"""How long a Pause and a Stop take to act on a real worker in the middle of a unit.

    SEQGAN_RUNS=/tmp/some-runs python benchmarks/bench_requests.py [--preset classroom] [--rollout-num N]

Starts a run of the preset through the job manager (a worker process, as the app does), waits until the
worker reports being inside a unit (a minibatch count in its progress), sends Pause and times the status
change to *paused*; sends Resume, waits to be inside a unit again, sends Stop and times the change to
*stopped*. Prints each latency with the unit it was sent in and the machine's load.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan_core.config import preset  # noqa: E402
from seqgan_core.runs import RunDB  # noqa: E402
from seqgan_core.runs.jobs import JobManager  # noqa: E402


def wait(pred, timeout: float, what: str):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def inside_unit(db: RunDB):
    u = (db.state().get("progress") or {}).get("unit") or {}
    return u if u.get("total") and u.get("done", 0) >= 1 else None


def timed_request(db: RunDB, jobs: JobManager, run_dir: Path, command: str, status: str) -> tuple[float, dict]:
    unit = wait(lambda: inside_unit(db), 900, "a unit with minibatches")
    t0 = time.time()
    jobs.control(run_dir, command)
    wait(lambda: db.state().get("status") == status, 900, f"status {status}")
    return time.time() - t0, unit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="classroom")
    ap.add_argument("--rollout-num", type=int, default=None)
    args = ap.parse_args()
    cfg = preset(args.preset).replace(device="cpu", name="bench_requests")
    if args.rollout_num:
        cfg = cfg.replace(rollout_num=args.rollout_num)
    jobs = JobManager()
    run_dir = jobs.submit(cfg)
    db = RunDB(run_dir)
    load = os.getloadavg()
    print(f"# run {run_dir}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}", flush=True)
    try:
        pause_s, unit = timed_request(db, jobs, run_dir, "pause", "paused")
        print(f"pause: {pause_s:.2f} s to *paused*, sent in {unit['label']} at {unit['part']} "
              f"{unit['done'] + 1}/{unit['total']}", flush=True)
        jobs.control(run_dir, "resume")
        wait(lambda: db.state().get("status") == "running", 60, "running again")
        stop_s, unit = timed_request(db, jobs, run_dir, "stop", "stopped")
        print(f"stop: {stop_s:.2f} s to *stopped*, sent in {unit['label']} at {unit['part']} "
              f"{unit['done'] + 1}/{unit['total']}", flush=True)
    finally:
        if db.state().get("status") in ("running", "paused"):
            jobs.control(run_dir, "stop")
    load = os.getloadavg()
    print(f"# load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
