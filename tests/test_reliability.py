"""The review's defects, each pinned by a test: D balance, the starting optimiser, impossible lengths,
elapsed time, the status race, durable checkpoints, clean resumes, deletes and run ids."""
import copy
from pathlib import Path
import json
import math
import os

import pytest
import torch

from seqgan_core.config import ConfigError, apply_overrides, preset, validate
from seqgan_core.contract import LIVE_STATUSES
from seqgan_core.models.discriminator import Highway
from seqgan_core.runs import JobManager, RunDB
from seqgan_core.runs import jobs as jobs_mod
from seqgan_core.runs.jobs import open_trainer
from seqgan_core.runs.store import StoreSink, create_run, run_path
from seqgan_core.train import Trainer, steps
from seqgan_core.train.checkpoint import init_from_problem, load_checkpoint, load_latest, previous, save_checkpoint

from test_train import Recorder, Script


def _tiny(**over):
    return apply_overrides(preset("tiny"), {"device": "cpu", **over})


# --- correctness ------------------------------------------------------------------------------------------
def test_d_trains_on_as_many_real_as_generated_when_data_is_small(monkeypatch):
    cfg = _tiny(**{"data.options.num_train": 100, "num_negatives": 256, "adv_rounds": 1})
    sizes = []
    real_d_train = steps.d_train

    def spy(disc, opt, real, fake, *a, **k):
        sizes.append((len(real), len(fake)))
        return real_d_train(disc, opt, real, fake, *a, **k)
    monkeypatch.setattr(steps, "d_train", spy)
    Trainer(cfg, Recorder()).run()
    assert sizes and all(r == f == 100 for r, f in sizes), sizes


def test_reusing_the_mle_optimiser_needs_one_in_the_starting_checkpoint(tmp_path):
    src = Trainer(_tiny(adv_rounds=0, pretrain_d_rounds=0), Recorder(), checkpoint_dir=tmp_path / "src")
    src.run()
    start = tmp_path / "src" / "mle_done.pt"
    reuse = _tiny(init_from=str(start), fresh_pg_optimizer=False)
    assert init_from_problem(reuse) is None
    tr = Trainer(reuse, Recorder())
    assert tr.pg_opt is tr.g_opt
    steps_done = [int(s["step"]) for s in tr.g_opt.state.values()]
    assert steps_done and min(steps_done) > 0, "the MLE Adam's moments travel with the start"
    fresh = Trainer(_tiny(init_from=str(start)), Recorder())
    assert fresh.pg_opt is not fresh.g_opt and not fresh.pg_opt.state

    bare = load_checkpoint(start)
    del bare["g_opt"]
    save_checkpoint(bare, tmp_path / "bare.pt")
    cfg = _tiny(init_from=str(tmp_path / "bare.pt"), fresh_pg_optimizer=False)
    assert "carries no optimiser state" in init_from_problem(cfg)
    with pytest.raises(ConfigError, match="carries no optimiser state"):
        Trainer(cfg, Recorder())


def test_a_length_that_cannot_be_rolled_out_is_refused_before_anything_runs():
    cfg = _tiny()
    assert any("length ≥ 2" in e for e in validate(cfg, 50, 1))
    assert not validate(cfg.replace(adv_rounds=0), 50, 1) or all("length" not in e for e in
                                                                validate(cfg.replace(adv_rounds=0), 50, 1))
    with pytest.raises(ConfigError, match="length ≥ 2"):
        Trainer(_tiny(**{"data.options.seq_len": 1, "discriminator.filter_sizes": [1],
                         "discriminator.num_filters": [4]}), Recorder())


def test_highway_gate_starts_where_the_authors_start_it():
    assert Highway(4).gate_bias == 0.0


def test_elapsed_time_accumulates_across_a_resume(tmp_path):
    part = Trainer(_tiny(), Recorder(), Script({5: [("stop", {})]}), checkpoint_dir=tmp_path)
    part.clock.elapsed_before = 100.0          # as if earlier workers had trained for 100 s
    assert part.run() == "stopped"
    ck = load_checkpoint(tmp_path / "latest.pt")
    assert ck["elapsed_s"] >= 100.0
    rest = Trainer.resume(tmp_path / "latest.pt", Recorder())
    assert rest.clock.elapsed() >= ck["elapsed_s"]


# --- reliability --------------------------------------------------------------------------------------------
def test_a_finished_worker_is_never_overwritten_by_a_viewer(runs_root, monkeypatch):
    """The viewer reads 'running', finds the pid dead, and meanwhile the worker writes 'finished'."""
    run = create_run(_tiny(), runs_root)
    db = RunDB(run)
    db.set_state(status="running", pid=424242, pid_start="1")

    def worker_finishes_meanwhile(state):
        db.transition("finished")
        return False
    monkeypatch.setattr(jobs_mod, "is_alive", worker_finishes_meanwhile)
    runs = JobManager(runs_root).runs()
    assert db.state()["status"] == "finished"
    assert runs[0]["status"] == "finished"


def test_checkpoints_keep_the_previous_copy_and_a_corrupt_latest_falls_back(tmp_path):
    path = tmp_path / "latest.pt"
    first = {"format": 1, "position": {"step": 3}, "x": torch.ones(2)}
    second = {"format": 1, "position": {"step": 7}, "x": torch.zeros(2)}
    save_checkpoint(first, path)
    save_checkpoint(second, path)
    assert load_checkpoint(path)["position"]["step"] == 7
    assert load_checkpoint(previous(path))["position"]["step"] == 3
    path.write_bytes(b"torn write")
    ck, message = load_latest(path)
    assert ck["position"]["step"] == 3 and "previous checkpoint" in message
    assert not list(tmp_path.glob("*.tmp"))


def test_a_worker_killed_mid_save_still_leaves_the_latest_checkpoint(tmp_path, monkeypatch):
    """The kill can land between keeping the old file and renaming the new one in: latest.pt must exist
    then (CI once found it missing), holding the old checkpoint."""
    path = tmp_path / "latest.pt"
    save_checkpoint({"format": 1, "position": {"step": 3}}, path)
    real_replace = os.replace

    def killed_before_the_new_file_lands(src, dst):
        if str(src).endswith(".tmp"):
            raise KeyboardInterrupt("killed")
        real_replace(src, dst)
    monkeypatch.setattr(os, "replace", killed_before_the_new_file_lands)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"format": 1, "position": {"step": 7}}, path)
    assert load_checkpoint(path)["position"]["step"] == 3
    assert load_checkpoint(previous(path))["position"]["step"] == 3
    monkeypatch.setattr(os, "replace", real_replace)
    save_checkpoint({"format": 1, "position": {"step": 9}}, path)   # the next save goes through
    assert load_checkpoint(path)["position"]["step"] == 9
    assert load_checkpoint(previous(path))["position"]["step"] == 3


class StopAt(StoreSink):
    def __init__(self, db, at):
        super().__init__(db)
        self.at, self.n = at, 0

    def poll(self):
        self.n += 1
        return [{"command": "stop", "payload": {}}] if self.n == self.at else []


def test_a_crashed_run_resumes_with_no_duplicate_or_stale_record(tmp_path):
    cfg = _tiny(adv_rounds=3)
    a = create_run(cfg, run_dir=tmp_path / "a")
    open_trainer(a, StoreSink(RunDB(a)), fresh=cfg).run()

    b = create_run(cfg, run_dir=tmp_path / "b")
    db = RunDB(b)
    assert open_trainer(b, StopAt(db, 8), fresh=cfg).run() == "stopped"
    # what a worker killed after the checkpoint would have left: rows past it and a request never taken
    step = load_checkpoint(b / "checkpoints" / "latest.pt")["position"]["step"]
    db.put_scalars(step, "adversarial", 9, {"g/reward_mean": 123.0})
    db.put_snapshot(step, "rollout", {"junk": True})
    db.put_event(step, "phase", {"phase": "junk"})
    db.request("pause")
    assert open_trainer(b, StoreSink(db)).run() == "finished"

    def table(run):
        return sorted((s, n, v) for s, n, _, _, v, _ in RunDB(run).metrics_since(-1) if not n.startswith("nll"))
    assert table(a) == table(b), "the resumed run's record equals the uninterrupted one's"
    snaps = [s["step"] for s in db.snapshots("rollout")]
    assert len(snaps) == len(set(snaps)) and not any(s.get("junk") for s in db.snapshots("rollout"))
    phases = [e["phase"] for e in db.events(["phase"])]
    assert phases == [e["phase"] for e in RunDB(a).events(["phase"])]
    dropped = db.events(["dropped"])
    assert dropped and dropped[0]["requests"][0]["command"] == "pause"
    resumed = db.events(["resumed"])[0]
    assert resumed["step"] == step and "resumed from the checkpoint" in resumed["message"]


def test_delete_refuses_a_run_whose_worker_is_starting(runs_root):
    jm = JobManager(runs_root)
    run = create_run(_tiny(), runs_root)
    RunDB(run).set_state(status="queued", starting=True, pid=os.getpid(), pid_start=None)
    with pytest.raises(RuntimeError, match="worker"):
        jm.delete(run)
    assert run.exists()
    RunDB(run).set_state(starting=False, pid=None)
    jm.delete(run)
    assert not run.exists()


# --- security -------------------------------------------------------------------------------------------------
def test_run_ids_cannot_escape_the_runs_root(runs_root):
    cfg = _tiny()
    cfg.data.name = "../../escape"
    with pytest.raises(ConfigError, match="not a registry name"):
        create_run(cfg, runs_root)
    assert not (runs_root.parent.parent / "escape").exists() and not list(runs_root.parent.rglob("*escape*"))
    for bad in ("../x", "a/b", "..", "", "/etc"):
        with pytest.raises(ValueError):
            run_path(runs_root, bad)
    assert run_path(runs_root, "20260101-000000-oracle-abcd") == runs_root.resolve() / "20260101-000000-oracle-abcd"


def test_a_run_linked_into_the_root_is_found_as_it_is_listed(runs_root, tmp_path):
    """The server's owner may keep runs on another disk and link them in: the pages that list a run (list_runs)
    and those that open it by id (run_path: studies, the Paper page) agree, instead of one refusing it."""
    from seqgan_core.runs.store import list_runs
    elsewhere = tmp_path / "other_disk" / "20260101-000000-oracle-abcd"
    elsewhere.mkdir(parents=True)
    RunDB(elsewhere).init()
    (elsewhere / "config.json").write_text(_tiny().to_json())
    runs_root.mkdir(parents=True, exist_ok=True)
    (runs_root / elsewhere.name).symlink_to(elsewhere)
    listed = [r["id"] for r in list_runs(runs_root)]
    assert listed == [elsewhere.name]
    assert RunDB(run_path(runs_root, elsewhere.name)).state() == RunDB(elsewhere).state()


def test_submit_checks_the_config_before_creating_anything(runs_root):
    with pytest.raises(ConfigError):
        JobManager(runs_root).submit(_tiny(rollout_num=0))
    assert not runs_root.exists() or not any(runs_root.iterdir())


def test_the_app_listens_on_this_machine_only_by_default():
    import tomllib
    cfg = tomllib.loads((Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "127.0.0.1"
