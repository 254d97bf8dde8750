"""Background runs: each one a worker process (`python -m seqgan_core worker DIR`), never a UI thread.

Workers start in their own session, so a restart of the web server does not take them down. A
concurrency limit per device (default one run per GPU, one on the CPU) keeps the rest queued; whoever
looks next (the UI's refresh, a worker that finishes) starts them. Liveness comes from the OS: a run
marked running whose process is gone is shown as interrupted, and can be resumed from its checkpoint.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from ..config import RunConfig, check
from ..train.checkpoint import load_latest, previous
from ..device import choose_slot, device_facts
from .store import (LIVE_STATUSES, RunDB, StoreSink, create_run, default_root, forget_reader, list_runs,
                    read_config, write_vocab)
from .trash import move_to_trash

REPO_ROOT = Path(__file__).resolve().parents[2]


def max_per_slot() -> int:
    return int(os.environ.get("SEQGAN_MAX_PER_DEVICE", "1"))


@contextmanager
def _scheduler_lock(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".scheduler.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _process_start_time(pid: int) -> Optional[str]:
    """The kernel's start time of a live pid (field 22 of /proc/pid/stat), guarding against reused pids;
    None when the process is gone or a zombie (a worker we spawned that has exited is reaped here)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its parent or init reaps it
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


RAY_STALE_S = 30.0   # a Ray-executed run whose task has not beaten for this long is gone (node lost, killed)


def is_alive(state: dict) -> bool:
    if state.get("executor") == "ray":   # its worker may be on another node: the Ray task's heartbeat tells
        return time.time() - float(state.get("host_heartbeat") or 0) < RAY_STALE_S
    pid = state.get("pid")
    if not pid:
        return False
    started = _process_start_time(pid)
    if started is None:
        return False
    return state.get("pid_start") in (None, started)


class JobManager:
    def __init__(self, root: Optional[str | Path] = None):
        self.root = Path(root or default_root())

    def submit(self, cfg: RunConfig, owner: Optional[str] = None) -> Path:
        """Queue a run and start it if its device has a free slot (the config is checked first: nothing is
        created for a run that cannot start). A run with an owner (a student) queues behind the teacher's."""
        check(cfg)
        run_dir = create_run(cfg, self.root)
        if owner:
            RunDB(run_dir).set_state(owner=owner)
        self.schedule()
        return run_dir

    def runs(self) -> list[dict]:
        """All runs, after marking dead workers as interrupted (so every viewer sees the truth)."""
        runs = list_runs(self.root)
        for r in runs:
            st, db = r["state"], RunDB(r["dir"])
            # compare-and-set: the status and pid seen here must still hold when the change is written
            if st.get("starting") and r["status"] == "queued" and not is_alive(st):
                if db.transition("failed", expect=("queued",), pid=st.get("pid"), starting=False,
                                 error=f"the worker did not start; see {r['dir'] / 'worker.log'}"):
                    r["status"] = "failed"
            if r["status"] in LIVE_STATUSES and not is_alive(st):
                if db.transition("interrupted", expect=LIVE_STATUSES, pid=st.get("pid"),
                                 error="the worker process ended unexpectedly; resume continues from the "
                                       "last checkpoint."):
                    r["status"] = "interrupted"
                else:
                    r["status"] = db.state().get("status", r["status"])
        return runs

    def schedule(self) -> list[Path]:
        """Start queued runs while their device has a free slot: the teacher's (runs without an owner) first,
        then students' runs, each oldest first."""
        started = []
        with _scheduler_lock(self.root):
            runs = self.runs()
            busy: dict[str, int] = {}
            for r in runs:
                if r["status"] in LIVE_STATUSES or (r["status"] == "queued" and r["state"].get("starting")):
                    busy[r["state"].get("slot", "cpu")] = busy.get(r["state"].get("slot", "cpu"), 0) + 1
            # runs of a Ray study are the cluster's to start, never this machine's
            queued = [r for r in runs if r["status"] == "queued" and not r["state"].get("starting")
                      and r["state"].get("executor", "local") == "local"]
            facts = device_facts() if queued else {}
            for r in sorted(queued, key=lambda r: (bool(r["state"].get("owner")),
                                                   r["state"].get("requeued") or r["state"].get("created", 0))):
                try:
                    slot = choose_slot(r["config"].get("device", "auto"), busy, max_per_slot(), facts)
                except ValueError as e:
                    RunDB(r["dir"]).transition("failed", expect=("queued",), error=str(e))
                    continue
                if slot is None:
                    continue
                busy[slot] = busy.get(slot, 0) + 1
                self._spawn(r["dir"], slot)
                started.append(r["dir"])
        return started

    def _spawn(self, run_dir: Path, slot: str):
        db = RunDB(run_dir)
        with open(run_dir / "worker.log", "ab") as log:   # the child keeps its own copy of the descriptor
            proc = subprocess.Popen([sys.executable, "-m", "seqgan_core", "worker", str(run_dir)],
                                    cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        db.set_state(pid=proc.pid, pid_start=_process_start_time(proc.pid), slot=slot, starting=True)

    # --- control requests from the UI ----------------------------------------------------------------
    def control(self, run_dir: Path, command: str, payload: Optional[dict] = None):
        RunDB(run_dir).request(command, payload)

    def resume(self, run_dir: Path):
        """Queue a stopped / interrupted / failed run again; its worker continues from latest.pt."""
        db = RunDB(run_dir)
        with _scheduler_lock(self.root):   # a double click must not queue (and start) it twice
            st = db.state()
            if st.get("status") == "queued" or (st.get("status") in LIVE_STATUSES and is_alive(st)):
                return
            # 'created' stays what it was: a resumed run is still the run created then
            db.transition("queued", expect=(st.get("status"),), error=None, starting=False,
                          requeued=time.time())
        self.schedule()

    def cancel(self, run_dir: Path) -> bool:
        """Take a queued run off the queue (it becomes *stopped*; Resume queues it again). A run whose
        worker is already starting is asked to stop instead. False when the run was not queued."""
        db = RunDB(run_dir)
        with _scheduler_lock(self.root):
            st = db.state()
            if st.get("status") != "queued":
                return False
            if st.get("starting") and is_alive(st):
                db.request("stop")
                return True
            return db.transition("stopped", expect=("queued",), starting=False,
                                 error="cancelled while queued; Resume queues it again")

    def delete(self, run_dir: Path) -> Path:
        """Move a run to the trash (emptied by the teacher), unless a worker is on it or about to be (live,
        paused, or starting)."""
        st = RunDB(run_dir).state()
        if is_alive(st) and (st.get("status") in LIVE_STATUSES or st.get("starting")):
            raise RuntimeError("a worker is training this run (or starting to): stop it before deleting it")
        forget_reader(run_dir)
        return move_to_trash(Path(run_dir), self.root)


def open_trainer(run_dir: Path, sink: StoreSink, fresh: Optional[RunConfig] = None, dataset=None,
                 slot: Optional[str] = None):
    """Mark the run as trained by this process and return its Trainer: resumed from latest.pt when there
    is one (forgetting what was recorded after it), else new from `fresh` or config.json. A run on
    device auto trains on the slot the scheduler gave it. Costs are measured so the ETA is known from
    the start."""
    from ..train import Trainer
    db = sink.db
    cfg = fresh or read_config(run_dir)
    device = slot if slot and cfg.device == "auto" else None
    threads = set_threads(cfg.threads, run_dir.parent)
    db.transition("running", pid=os.getpid(), pid_start=_process_start_time(os.getpid()),
                  starting=False, started=time.time(), error=None, threads=threads)
    latest = run_dir / "checkpoints" / "latest.pt"
    if fresh is None and (latest.exists() or previous(latest).exists()):
        ck, fallback = load_latest(latest)
        trainer = Trainer.resume(latest, sink, sink, checkpoint_dir=latest.parent, device=device, ck=ck)
        step = trainer.pos.step
        forgot = db.truncate_to(trainer.marks) if trainer.marks else db.truncate_after(step)
        dropped = db.drop_stale_requests()
        lost = forgot["steps"] if forgot else 0
        db.put_event(step, "resumed", {
            "step": step, "units_redone": lost, "fallback": fallback,
            "rows_lost": forgot["rows"] if forgot else 0,
            "message": resume_message(trainer, forgot) + (f"; {fallback}" if fallback else "")})
        if dropped:
            db.put_event(step, "dropped", {"requests": dropped, "why": "sent to the worker that died"})
    else:
        if device:
            cfg = cfg.replace(device=device)
        trainer = Trainer(cfg, sink, sink, dataset=dataset, checkpoint_dir=latest.parent)
    write_vocab(run_dir, trainer.ds.vocab)
    trainer.measure_costs()
    return trainer


def resume_message(trainer, forgot: Optional[dict]) -> str:
    """Where a resume starts and what the previous worker's end lost: the epochs and rounds it had recorded
    after the checkpoint (trained again now) and their metric rows."""
    p = trainer.pos
    text = f"resumed from the checkpoint at step {p.step} (next: {trainer._unit_label()})"
    if not forgot or not forgot["units"]:
        return text + "; nothing recorded after it was lost"
    g0 = trainer.schedule.pretrain_g_epochs
    names = {"mle": ("MLE epoch", lambda x: x + 1), "d_pretrain": ("D pre-training round", lambda x: x + 1),
             "adversarial": ("adversarial round", lambda x: x - g0 + 1)}
    parts = []
    for phase, (name, number) in names.items():
        xs = [number(x) for ph, x in forgot["units"] if ph == phase]
        if xs:
            parts.append(f"{len(xs)} {name}{'s' if len(xs) > 1 else ''} ({', '.join(map(str, xs))})")
    return (text + f"; lost what the worker recorded after it: {forgot['steps']} unit(s) in " + " and ".join(parts) +
            f", {forgot['rows']} metric rows; they are trained again")


def active_cpu_runs(root: Path) -> int:
    """Runs training on the CPU right now under root (live or starting workers)."""
    n = 0
    for r in list_runs(root):
        st = r["state"]
        live = r["status"] in LIVE_STATUSES or (r["status"] == "queued" and st.get("starting"))
        if live and st.get("slot", "cpu") == "cpu" and is_alive(st):
            n += 1
    return n


def set_threads(setting: int, root: Path) -> int:
    """Torch threads for this process: the setting, or auto from the cores and the CPU runs sharing them."""
    import torch

    from ..accel import threads_for
    n = threads_for(setting, max(1, active_cpu_runs(root)))
    torch.set_num_threads(n)
    return n


def run_worker(run_dir: str | Path) -> int:
    """The body of a worker process: train the run in run_dir, resuming from its checkpoint if any."""
    run_dir = Path(run_dir)
    db = RunDB(run_dir)
    try:
        outcome = open_trainer(run_dir, StoreSink(db), slot=db.state().get("slot")).run()
        db.transition(outcome, ended=time.time())
        return 0
    except Exception as e:  # the run fails with its error shown; the traceback goes to worker.log
        traceback.print_exc()
        db.transition("failed", error=f"{type(e).__name__}: {e}", ended=time.time())
        return 1
    finally:
        try:
            if db.state().get("executor", "local") == "local":
                JobManager(run_dir.parent).schedule()   # hand the slot to the next queued run
        except Exception:
            traceback.print_exc()
