import json
import math
import subprocess
import sys
from pathlib import Path

from seqgan_core.runs.store import RunDB, list_runs

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "seqgan_core", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=300)


def test_tiny_train_eval_sample_and_store(tmp_path):
    out = tmp_path / "run"
    r = cli("train", "--preset", "tiny", "--set", "adv_rounds=2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "finished" in r.stderr and "ETA" in r.stderr
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["schedule"]["adv_rounds"] == 2
    db = RunDB(out)
    assert db.state()["status"] == "finished"
    names = {row[1] for row in db.metrics_since(-1)}
    assert {"nll/oracle", "nll/test", "g/reward_mean", "d/acc_real"} <= names
    assert db.latest_snapshot("rollout")["q"]
    assert [r["id"] for r in list_runs(tmp_path)] == ["run"]

    r = cli("eval", str(out), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    # the checkpoint's G, evaluated again: close to the run's own last record, and far from a uniform G
    # (ln 50 = 3.91 on the tiny oracle's 50 tokens)
    recorded = db.latest_values()["nll/oracle"]
    assert res["phase"] == "done" and abs(res["nll/oracle"] - recorded) < 0.15, (res, recorded)
    assert abs(res["nll/oracle"] - math.log(50)) > 0.2
    r = cli("sample", str(out), "-n", "3")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 3


def test_resume_a_stopped_cli_run(tmp_path):
    """A run stopped half-way (as the Stop button leaves it) continues from its checkpoint: what was
    recorded before it stays, and training goes on from there to the end."""
    from seqgan_core.config import preset
    from seqgan_core.runs.jobs import open_trainer
    from seqgan_core.runs.store import create_run
    from seqgan_core.train.checkpoint import load_checkpoint
    from test_reliability import StopAt
    out = tmp_path / "run"
    cfg = preset("tiny").replace(adv_rounds=3, device="cpu")
    create_run(cfg, run_dir=out)
    db = RunDB(out)
    assert open_trainer(out, StopAt(db, 8), fresh=cfg).run() == "stopped"
    db.transition("stopped")
    ck_step = load_checkpoint(out / "checkpoints" / "latest.pt")["position"]["step"]
    before = [row for row in db.metrics_since(-1) if row[0] < ck_step]
    r = cli("resume", str(out))
    assert r.returncode == 0, r.stderr
    assert db.state()["status"] == "finished"
    assert db.events(["resumed"])[0]["step"] == ck_step
    assert [row for row in db.metrics_since(-1) if row[0] < ck_step] == before
    assert db.last_step() > ck_step


def _one_line_error(r, text):
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_bad_cli_input_gives_one_clear_line(tmp_path):
    _one_line_error(cli("train", "--preset", "nope"), "unknown preset 'nope'")
    _one_line_error(cli("train", "--preset", "tiny", "--set", "rollout_num=0"), "rollout_num must be ≥ 1")
    _one_line_error(cli("train", "--preset", "tiny", "--set", "g_steps"), "--set takes key=value")
    _one_line_error(cli("train", "--preset", "tiny", "--set", "g_steps=lots"), "g_steps must be a int")
    _one_line_error(cli("eval", str(tmp_path / "missing")), "not a run directory")
    _one_line_error(cli("resume", str(tmp_path)), "not a run directory")
    _one_line_error(cli("sample", str(tmp_path / "missing"), "-n", "2"), "not a run directory")
    _one_line_error(cli("train", "--preset", "tiny", "--set", "filter_sizes=3"), "filter_sizes must be a list")
    (tmp_path / "bad.json").write_text('{"schedule": {"batch_size": "64"}}')
    _one_line_error(cli("train", "--config", str(tmp_path / "bad.json")), "schedule.batch_size must be a int")
    _one_line_error(cli("train", "--config", str(tmp_path)), "Is a directory")
    (tmp_path / "empty.txt").write_text("")
    _one_line_error(cli("data", "check", str(tmp_path / "empty.txt")), "empty")
    _one_line_error(cli("train", "--preset", "classroom", "--set", "data.name=brackets", "--set", "data.options={}"),
                    "clear init_from")
    _one_line_error(cli("train", "--preset", "tiny", "--set", "data.options.source=authors",
                        "--set", "data.options.oracle_file=/nope.npz"), "oracle file was not found")


def test_data_list_json():
    r = cli("data", "list", "--json")
    assert r.returncode == 0
    names = {d["name"] for d in json.loads(r.stdout)}
    assert {"oracle", "brackets", "arithmetic", "coco", "poems", "upload", "folk_music"} <= names
