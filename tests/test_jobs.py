import os
import signal
import threading
import time

from seqgan_core.config import apply_overrides, preset
from seqgan_core.runs import JobManager, RunDB
from seqgan_core.runs.store import SNAPSHOTS_KEPT, create_run


def wait_for(pred, timeout=120, every=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(every)
    return False


def status(jm, run_dir):
    return next(r["status"] for r in jm.runs() if r["dir"] == run_dir)


def test_background_runs_queue_finish_and_survive_a_killed_worker(runs_root):
    jm = JobManager(runs_root)
    slow = apply_overrides(preset("tiny"), {"adv_rounds": 40, "device": "cpu"})
    first = jm.submit(slow)
    second = jm.submit(apply_overrides(preset("tiny"), {"device": "cpu"}))
    assert wait_for(lambda: status(jm, first) == "running")
    assert status(jm, second) == "queued", "one run per device: the second waits"

    # kill the worker once it has a checkpoint: the run shows as interrupted, nothing recorded is lost
    assert wait_for(lambda: (first / "checkpoints" / "latest.pt").exists())
    steps_before = RunDB(first).last_step()
    os.kill(RunDB(first).state()["pid"], signal.SIGKILL)
    assert wait_for(lambda: status(jm, first) == "interrupted", timeout=20)
    assert "ended unexpectedly" in RunDB(first).state()["error"]
    assert RunDB(first).last_step() >= steps_before

    jm.schedule()                     # the freed slot goes to the queued run
    assert wait_for(lambda: status(jm, second) == "finished")
    from seqgan_core.train.checkpoint import load_checkpoint
    ck_step = load_checkpoint(first / "checkpoints" / "latest.pt")["position"]["step"]
    kept = [row[:5] for row in RunDB(first).metrics_since(-1) if row[0] < ck_step]
    jm.resume(first)                  # continues from its checkpoint
    assert wait_for(lambda: status(jm, first) in ("running", "finished"))
    assert wait_for(lambda: RunDB(first).events(["resumed"]))
    assert RunDB(first).events(["resumed"])[0]["step"] == ck_step, "the resumed worker starts at the checkpoint"
    assert [row[:5] for row in RunDB(first).metrics_since(-1) if row[0] < ck_step] == kept
    jm.control(first, "stop")
    assert wait_for(lambda: status(jm, first) in ("stopped", "finished"))


def test_pause_and_resume_through_the_store(runs_root):
    jm = JobManager(runs_root)
    run = jm.submit(apply_overrides(preset("tiny"), {"adv_rounds": 30, "device": "cpu"}))
    assert wait_for(lambda: status(jm, run) == "running")
    jm.control(run, "pause")
    assert wait_for(lambda: status(jm, run) == "paused")
    step = RunDB(run).state()["progress"]["step"]
    time.sleep(1.5)
    assert RunDB(run).state()["progress"]["step"] == step, "a paused run does not advance"
    jm.control(run, "set", {"rollout_num": 2})
    jm.control(run, "resume")
    assert wait_for(lambda: status(jm, run) == "running")
    jm.control(run, "stop")
    assert wait_for(lambda: status(jm, run) == "stopped")
    sched = RunDB(run).events(["schedule"])
    assert sched and sched[-1]["rollout_num"] == 2
    later = [s for s in RunDB(run).snapshots("rollout") if s["round"] >= sched[-1]["from_round"]]
    assert all(s["rollout_num"] == 2 for s in later)


def test_reader_sees_consistent_data_while_writer_writes(tmp_path):
    run = create_run(preset("tiny"), run_dir=tmp_path / "r")
    db = RunDB(run)
    stop = threading.Event()

    def writer():
        for step in range(300):
            db.put_scalars(step, "mle", step, {"a": step, "b": -step})
            db.put_snapshot(step, "samples", {"step": step})
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    seen, last = [], -1
    while not stop.is_set() or last < 299:
        rows = RunDB(run).metrics_since(last)
        for step, name, *_ in rows:
            seen.append((step, name))
        if rows:
            last = max(r[0] for r in rows)
        if stop.is_set() and last == 299:
            break
    t.join()
    # every step arrives once per name, and a step's two values always arrive together
    assert sorted(seen) == sorted({(s, n) for s in range(300) for n in ("a", "b")})
    kept = db.snapshots("samples")
    assert len(kept) == SNAPSHOTS_KEPT + 1 and db.latest_snapshot("samples")["step"] == 299
    assert min(s["step"] for s in kept) == 0, "the first of a kind stays (the Learn page's story starts there)"


def test_missing_checkpoint_resume_restarts_cleanly(runs_root):
    jm = JobManager(runs_root)
    run = create_run(apply_overrides(preset("tiny"), {"device": "cpu"}), runs_root)
    RunDB(run).set_state(status="interrupted")
    jm.resume(run)
    assert wait_for(lambda: status(jm, run) == "finished")
