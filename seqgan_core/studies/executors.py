"""Where a study's runs train. Both executors hand over the same unit, the worker entry point
(`python -m seqgan_core worker RUN_DIR`), and both leave the run store the one place anyone reads.

- LocalExecutor (default, tests): the existing JobManager; its per-device limit (SEQGAN_MAX_PER_DEVICE,
  default one run per GPU and one on the CPU) queues the rest, and each finishing worker starts the next.
- RayExecutor: each run is a Ray task with its resources (num_cpus, num_gpus) that starts the worker as a
  child process on whichever node Ray picks. Runs write to the same run store on shared storage (the runs
  root and this code mounted at the same paths on every node, as a lab's NFS home or a class's shared
  volume is): that is what lets the app, `study status` and the Stop button work unchanged, live, from any
  machine, without the driver being up — results shipped back by Ray would reach the store only when a run
  ends and would need a live driver to collect them. A detached actor owns the tasks, so a study outlives
  the command that launched it. Cancelling goes through the store too (stop requests), so it needs no
  connection to the cluster. SQLite's WAL mode wants every process of a database on one host; a worker
  writes its run from one node, and readers elsewhere on NFS should set SEQGAN_SQLITE_JOURNAL=DELETE
  (README).
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from ..contract import LIVE_STATUSES
from ..runs.store import RunDB
from .study import Study

CODE_ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_S = 5.0          # how often a Ray task says its node and worker are alive


class LocalExecutor:
    kind = "local"

    def __init__(self, per_device: Optional[int] = None):
        self.per_device = per_device

    def info(self) -> dict:
        return {"kind": "local", "parallel": self.per_device or int(os.environ.get("SEQGAN_MAX_PER_DEVICE", "1")),
                "per_device": self.per_device}

    def start(self, study: Study, run_dirs: Optional[list[Path]] = None) -> None:
        from ..runs.jobs import JobManager
        if self.per_device:   # workers inherit it: each finishing worker schedules with the same limit
            os.environ["SEQGAN_MAX_PER_DEVICE"] = str(self.per_device)
        jm = JobManager(study.root)
        for d in run_dirs or []:   # restarts (a fresh study's runs are queued already)
            RunDB(d).drop_stale_requests()      # (a cancelled run's stop request is not for its next worker)
            jm.resume(d)
        jm.schedule()


class RayExecutor:
    kind = "ray"

    def __init__(self, address: Optional[str] = None):
        self.address = address

    def _connect(self):
        import ray
        if not ray.is_initialized():
            ray.init(address=self.address, namespace="seqgan", log_to_driver=False)
        return ray

    def info(self) -> dict:
        ray = self._connect()
        return {"kind": "ray", "address": self.address,
                "parallel": max(1, int(ray.cluster_resources().get("CPU", 1)))}

    def start(self, study: Study, run_dirs: Optional[list[Path]] = None) -> None:
        """Hand the study's queued runs (or the given ones, queued again) to a detached driver actor."""
        ray = self._connect()
        if run_dirs:
            for d in run_dirs:
                requeue(d)
        dirs = [str(m["dir"]) for m in study.members if RunDB(m["dir"]).state().get("status") == "queued"]
        env = {"env_vars": {"PYTHONPATH": str(CODE_ROOT), **_passed_env()}}
        res = study.spec.resources
        driver = ray.remote(StudyDriver).options(
            name=f"{study.dir.name}-{int(time.time())}", lifetime="detached", num_cpus=0, runtime_env=env)
        handle = driver.remote()
        handle.run.remote(dirs, float(res.get("num_cpus", 1)), float(res.get("num_gpus", 0)), env)


def _passed_env() -> dict:
    return {k: v for k, v in os.environ.items() if k in ("SEQGAN_RUNS", "SEQGAN_SQLITE_JOURNAL", "OMP_NUM_THREADS")}


class StudyDriver:
    """Owns a study's Ray tasks (a detached actor: the tasks do not die with the command that made them)."""

    def run(self, run_dirs: list[str], num_cpus: float, num_gpus: float, runtime_env: dict) -> list:
        import ray
        task = ray.remote(train_on_node).options(num_cpus=num_cpus, num_gpus=num_gpus, runtime_env=runtime_env,
                                                 max_retries=0)
        try:
            return ray.get([task.remote(d) for d in run_dirs])
        finally:
            ray.actor.exit_actor()


def requeue(run_dir: Path) -> None:
    """A stopped / interrupted / failed run queued again for the Ray executor (its worker resumes from the
    checkpoint); requests its previous worker never took are dropped."""
    db = RunDB(run_dir)
    st = db.state()
    if st.get("status") in ("stopped", "interrupted", "failed"):
        db.drop_stale_requests()
        db.transition("queued", expect=(st["status"],), error=None, starting=False, requeued=time.time())


def _die_with_parent() -> None:
    """In the worker child: be sent SIGTERM if the Ray worker that started it dies (cancel, node loss)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except OSError:
        pass


def train_on_node(run_dir: str) -> str:
    """The body of a Ray task: claim the run if it is still queued (a cancelled study's runs are not), start
    the worker entry point as a child, beat a heartbeat the other hosts' liveness check reads, and report how
    the run ended. A worker that dies leaves the run interrupted, to be resumed."""
    db = RunDB(run_dir)
    host = socket.gethostname()
    token = f"{host}:{os.getpid()}:{time.time()}"
    if not db.transition("queued", expect=("queued",), starting=True, host=host, host_heartbeat=time.time(),
                         ray_task=token):
        return db.state().get("status", "unknown")
    with open(Path(run_dir) / "worker.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "seqgan_core", "worker", run_dir], cwd=CODE_ROOT,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)
    from ..runs.jobs import _process_start_time
    db.set_state(pid=proc.pid, pid_start=_process_start_time(proc.pid))   # the worker claims the run as this pid
    try:
        while proc.poll() is None:
            db.set_state(host_heartbeat=time.time())
            time.sleep(HEARTBEAT_S)
    finally:
        if proc.poll() is None:      # the task was cancelled: end the worker with it
            proc.terminate()
            proc.wait(30)
    st = db.state()
    if st.get("ray_task") == token:   # (not when the run was queued again meanwhile, for another task)
        if st.get("status") in LIVE_STATUSES:
            db.transition("interrupted", expect=LIVE_STATUSES, pid=proc.pid,
                          error="the worker process ended unexpectedly; resume continues from the last checkpoint.")
        elif st.get("status") == "queued" and st.get("starting"):
            db.transition("failed", expect=("queued",), pid=proc.pid, starting=False,
                          error=f"the worker did not start; see {Path(run_dir) / 'worker.log'}")
    return db.state().get("status", "unknown")


def executor_for(kind: str, address: Optional[str] = None, per_device: Optional[int] = None):
    if kind == "local":
        return LocalExecutor(per_device)
    if kind == "ray":
        return RayExecutor(address)
    raise ValueError(f"unknown executor '{kind}' (local or ray)")
