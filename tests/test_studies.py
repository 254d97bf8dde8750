"""Studies: specs, the study folder beside its runs, status and cancel through the run store, the results
table and its t-tests, exports, and a tiny study end to end on the local executor from the CLI."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from seqgan_core.config import ConfigError
from seqgan_core.runs.store import RunDB, list_runs, read_config
from seqgan_core.studies import Study, create_study, expand, load_spec, spec_from_dict, study_path
from seqgan_core.studies import results

ROOT = Path(__file__).resolve().parents[1]
TINY = {"name": "tiny2x2", "preset": "tiny",
        "set": {"device": "cpu", "pretrain_g_epochs": 1, "pretrain_d_rounds": 1, "adv_rounds": 1,
                "nll_samples": 64, "rollout_num": 2, "data.options.num_train": 128},
        "axes": {"method": ["mle", "seqgan"], "seed": [0, 1]}, "reference": "method=seqgan"}


def test_spec_from_toml_and_json_expands_cells_and_seeds(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('name = "fig"\npreset = "tiny"\n[set]\ndevice = "cpu"\n[axes]\nseed = [0, 1, 2]\n'
                    'rollout_num = [2, 4]\n[axes.schedule]\na = { g_steps = 3, d_steps = 1, k_epochs = 2 }\n'
                    'd = { g_steps = 1, d_steps = 5, k_epochs = 3 }\n')
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"name": "fig", "preset": "tiny", "set": {"device": "cpu"},
                              "axes": {"seed": [0, 1, 2], "rollout_num": [2, 4],
                                       "schedule": {"a": {"g_steps": 3, "d_steps": 1, "k_epochs": 2},
                                                    "d": {"g_steps": 1, "d_steps": 5, "k_epochs": 3}}}}))
    a, b = expand(load_spec(toml)), expand(load_spec(js))
    assert [(m.cell, m.seed) for m in a] == [(m.cell, m.seed) for m in b]
    assert len(a) == 12 and a[0].cell == "rollout_num=2,schedule=a"
    m = next(m for m in a if m.cell == "rollout_num=4,schedule=d" and m.seed == 2)
    s = m.cfg.schedule
    assert (s.g_steps, s.d_steps, s.k_epochs, s.rollout_num, m.cfg.seed) == (1, 5, 3, 4, 2)
    assert m.cfg.device == "cpu"


@pytest.mark.parametrize("bad, msg", [
    ({"name": "../etc"}, "study name"),
    ({"name": "x", "output": "/tmp"}, "unknown study key"),
    ({"name": "x", "axes": {"method": ["gan2"]}}, "unknown method"),
    ({"name": "x", "axes": {"no_such_key": [1]}}, "unknown setting"),
    ({"name": "x", "axes": {"seed": ["a"]}}, "whole numbers"),
    ({"name": "x", "set": {"g_steps": -1}}, "g_steps"),
])
def test_bad_specs_are_refused_with_a_reason(bad, msg):
    with pytest.raises(ConfigError, match=msg):
        spec_from_dict({"preset": "tiny", **bad})


def test_study_ids_are_checked_like_run_ids(tmp_path):
    for bad in ("../study-x", "study-a/b", "x", "study-\\n", "/tmp/study-x", ".."):
        with pytest.raises(ValueError):
            study_path(tmp_path, bad)
    assert study_path(tmp_path, "study-1-a-ff") == (tmp_path / "study-1-a-ff").resolve()


def _fake_study(root, values: dict) -> Study:
    """A study whose runs 'finished' with the given final NLL-oracle per cell (no training)."""
    spec = spec_from_dict({**TINY, "axes": {"method": ["mle", "seqgan"], "seed": list(range(len(values["method=mle"])))}})
    study = Study(create_study(spec, root))
    for m in study.members:
        db = RunDB(m["dir"])
        db.put_scalars(0, "mle", 0, {"nll/oracle": 9.0})
        db.put_scalars(5, "adversarial", 1, {"nll/oracle": values[m["cell"]][m["seed"]]})
        db.transition("finished")
    return study


def test_study_folder_sits_beside_its_runs_and_they_read_like_runs(runs_root):
    study = _fake_study(runs_root, {"method=mle": [1.0, 2.0], "method=seqgan": [3.0, 4.0]})
    assert study.dir.parent == runs_root and (study.dir / "study.json").is_file()
    ids = {r["id"] for r in list_runs(runs_root)}
    assert {m["run"] for m in study.members} == ids, "every member is an ordinary run of the store"
    assert read_config(study.members[0]["dir"]).schedule.adv_rounds == 0, "mle runs carry the method"
    assert RunDB(study.members[0]["dir"]).state()["study"] == study.dir.name
    assert study.status()["done"]


def test_a_one_seed_cell_says_it_has_no_spread(runs_root):
    study = _fake_study(runs_root, {"method=mle": [9.1], "method=seqgan": [8.7]})
    md = results.to_markdown(results.table(study, samples=0))
    assert "9.100 (one seed: no spread)" in md and "± " not in md.split("\n", 2)[2]
    from ui.studies_view import table_frame                  # the app's table says it too
    shown = table_frame(results.table(study, samples=0)).iloc[:, 1].tolist()
    assert shown == ["9.100 (one seed: no spread)", "8.700 (one seed: no spread)"]


def test_a_computed_table_is_kept_in_the_study_folder_until_a_run_changes(runs_root, monkeypatch):
    """The app's costly tables (sampling every generator) survive a server restart: read back, not redone,
    while the runs are as they were; a resumed run makes a new one."""
    from seqgan_core.studies import report
    study = _fake_study(runs_root, {"method=mle": [9.1, 9.3], "method=seqgan": [8.7, 8.8]})
    made = []
    real = report.table_json
    monkeypatch.setattr(report, "table_json", lambda *a, **k: made.append(a) or real(*a, **k))
    first = report.stored_table_json(study, "nll/oracle", "method=seqgan")
    again = report.stored_table_json(Study(study.dir), "nll/oracle", "method=seqgan")
    assert len(made) == 1 and again == first and list((study.dir / report.TABLES_DIR).glob("*.json"))
    assert report.stored_table_json(study, "nll/oracle", "method=mle")["reference"] == "method=mle"
    assert len(made) == 2                                          # another question, another table
    RunDB(study.members[0]["dir"]).set_state(started=123.0)       # a run resumed by a new worker
    report.stored_table_json(study, "nll/oracle", "method=seqgan")
    assert len(made) == 3


def test_table_means_spreads_and_welch_p_over_seeds(runs_root):
    mle, gan = [9.1, 9.3, 9.0, 9.6], [8.7, 8.75, 8.72, 8.71]
    study = _fake_study(runs_root, {"method=mle": mle, "method=seqgan": gan})
    tab = results.table(study, samples=0)
    row = next(r for r in tab["rows"] if r["cell"] == "method=mle")
    assert row["mean"] == pytest.approx(np.mean(mle)) and row["std"] == pytest.approx(np.std(mle, ddof=1))
    welch = stats.ttest_ind(mle, gan, equal_var=False).pvalue
    assert row["p_seeds"] == pytest.approx(welch)
    assert row["p_seeds"] != pytest.approx(stats.ttest_ind(mle, gan).pvalue), "Welch's, not Student's"
    md, tex, csv = results.to_markdown(tab), results.to_latex(tab), results.to_csv(tab)
    assert "9.250 ± 0.265" in md and "(reference)" in md and md.count("\n") == 4
    assert r"9.250 $\pm$ 0.265" in tex and r"\begin{tabular}" in tex and "method=seqgan" in tex
    lines = csv.strip().splitlines()
    assert lines[0].startswith("cell,metric,n,mean,std,p_seeds") and len(lines) == 3
    assert float(lines[1].split(",")[5]) == pytest.approx(welch)
    curve = results.curves(study, "nll/oracle")["method=mle"]
    assert [c["x"] for c in curve] == [0, 1] and curve[1]["mean"] == pytest.approx(np.mean(mle))


def test_status_eta_and_cancel_through_the_store(runs_root):
    spec = spec_from_dict(TINY)
    study = Study(create_study(spec, runs_root, executor={"kind": "ray", "parallel": 2},
                               estimate={"per_run": {"method=mle": 100.0, "method=seqgan": 300.0}}))
    first = study.members[0]["dir"]
    import time
    RunDB(first).transition("running", executor="ray", host_heartbeat=time.time(),
                            progress={"phase": "mle", "index": 0, "phase_total": 1, "fraction": 0.5, "eta_s": 50.0})
    st = study.status()
    assert st["counts"] == {"running": 1, "queued": 3}
    # queued: 100 + 300 + 300, running 50, two at a time
    assert st["eta_s"] == pytest.approx((50 + 700) / 2)
    assert next(r for r in st["runs"] if r["run"] == first.name)["fraction"] == 0.5
    assert study.cancel() == 4
    states = [RunDB(m["dir"]).state()["status"] for m in study.members]
    assert states == ["running", "stopped", "stopped", "stopped"]
    assert [c["command"] for c in RunDB(first).take_control()] == ["stop"], "the live run gets the Stop request"
    from seqgan_core.studies.executors import train_on_node
    assert train_on_node(str(study.members[1]["dir"])) == "stopped", "a cancelled run is never started"


def cli(*args, env=None):
    import os
    return subprocess.run([sys.executable, "-m", "seqgan_core", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=400, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def test_tiny_study_end_to_end_on_the_local_executor(runs_root, tmp_path):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(TINY))
    dry = cli("study", "run", str(spec), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    est = json.loads(dry.stdout)["estimate"]
    assert json.loads(dry.stdout)["runs"] == 4 and set(est["cells"]) == {"method=mle", "method=seqgan"}
    assert est["compute_s"] == pytest.approx(2 * sum(est["per_run"].values())) and "cost:" in dry.stderr
    assert not list(runs_root.glob("*")) if runs_root.exists() else True, "a dry run starts nothing"

    r = cli("study", "run", str(spec), "--no-estimate", "--wait")
    assert r.returncode == 0, r.stderr
    sdir = Path(r.stdout.strip().splitlines()[-1])
    assert sdir.parent == runs_root
    st = cli("study", "status", str(sdir))
    assert st.returncode == 0 and st.stdout.count("finished") == 5, st.stdout      # 4 runs + the summary
    t = cli("study", "table", str(sdir), "--samples", "300", "--markdown")
    assert t.returncode == 0, t.stderr
    assert "method=mle" in t.stdout and "300 sequences per run" in t.stdout
    tab = results.table(Study(sdir), samples=300)
    mle = next(r for r in tab["rows"] if r["cell"] == "method=mle")
    assert mle["n"] == 2 and 0 <= mle["p_sequences"] <= 1 and 0 <= mle["p_seeds"] <= 1
    # the per-sequence test is over the final checkpoints' samples: their mean is the sample NLL-oracle
    seq = results.sequence_nll(Study(sdir).members[0]["dir"], 300)
    assert seq.shape == (300,) and abs(seq.mean() - mle["values"][0]) < 0.3

    # the temperature-matched control: MLE's G at the τ ≤ 1 where its NLL-test is SeqGAN's, per seed
    tm = cli("study", "table", str(sdir), "--samples", "0", "--temperature-match", "method=mle:method=seqgan")
    assert tm.returncode == 0, tm.stderr
    assert "method=mle at τ matching method=seqgan's NLL-test (τ " in tm.stdout, tm.stdout
    row = results.temperature_matched(Study(sdir), "method=mle", "method=seqgan", n=300)
    assert set(row["taus"]) == {0, 1} and all(0.5 <= t <= 1.0 for t in row["taus"].values())
    from seqgan_core.metrics import lesson
    from seqgan_core.train import Trainer
    want = dict(results.final_values(Study(sdir), "nll/test")["method=seqgan"])
    for m in (m for m in Study(sdir).members if m["cell"] == "method=mle"):
        if m["seed"] in row["not_reached"] or row["taus"][m["seed"]] == 1.0:
            continue
        tr = Trainer.resume(Path(m["dir"]) / "checkpoints" / "latest.pt", device="cpu")
        at = lesson.temperature_sweep(tr.gen, tr.ds, [row["taus"][m["seed"]]], 50)[0]
        assert at["nll/test"] == pytest.approx(want[m["seed"]], abs=0.02), "the chosen τ matches the diversity"


def test_match_tau_walks_down_from_one_and_interpolates():
    taus = results.MATCH_TAUS
    nll_test = [5.0 + 0.1 * i for i in range(len(taus))]          # rises as τ falls from 1
    assert results.match_tau(taus, nll_test, 4.9) == (1.0, True), "already as diverse as the target at τ = 1"
    tau, ok = results.match_tau(taus, nll_test, 5.22)
    assert ok and tau == pytest.approx(0.89)                        # a fifth of the way from 0.90 (5.2) to 0.85 (5.3)
    assert results.match_tau(taus, nll_test, 99.0) == (0.5, False)


def test_local_job_manager_leaves_a_ray_studys_runs_alone(runs_root):
    import time

    from seqgan_core.runs.jobs import JobManager, is_alive
    study = Study(create_study(spec_from_dict(TINY), runs_root, executor={"kind": "ray", "parallel": 1}))
    assert JobManager(runs_root).schedule() == [], "the cluster starts them, not this machine"
    assert {RunDB(d).state()["status"] for d in study.run_dirs()} == {"queued"}
    # a Ray-run's liveness is its task's heartbeat (its worker's pid may be on another node)
    assert is_alive({"executor": "ray", "host_heartbeat": time.time(), "pid": 999999999})
    assert not is_alive({"executor": "ray", "host_heartbeat": time.time() - 120, "pid": 1})


def test_shipped_classroom_specs():
    t1 = expand(load_spec(ROOT / "studies" / "table1_classroom.toml"))
    assert len(t1) == 18 and {m.cfg.init_from for m in t1} == {"assets/pretrained/classroom_mle.pt"}
    methods = {m.values["method"]: m.cfg.schedule for m in t1}
    assert methods["ss"].ss_rate == 0.002 and methods["pg_bleu"].reward == "bleu"
    assert methods["constant"].reward == "constant" and methods["seqgan"].adv_rounds == 30
    f3 = expand(load_spec(ROOT / "studies" / "fig3_classroom.toml"))
    gdk = {m.values["schedule"]: (m.cfg.schedule.g_steps, m.cfg.schedule.d_steps, m.cfg.schedule.k_epochs) for m in f3}
    assert gdk == {"a": (100, 1, 10), "b": (30, 1, 30), "c": (1, 1, 10), "d": (1, 5, 3)} and len(f3) == 4
    # cut to a lecture's budget: the g-heavy schedules get fewer rounds (and evaluate every round)
    assert {m.values["schedule"]: m.cfg.schedule.adv_rounds for m in f3} == {"a": 3, "b": 8, "c": 24, "d": 24}
    assert all(m.cfg.threads == 1 for m in t1 + f3), "one thread a run: two runs side by side on 2 cores"
    ls = expand(load_spec(ROOT / "studies" / "lesson_search.toml"))
    assert len(ls) == 15 and {m.cfg.data.name for m in ls} == {"grammar"}
