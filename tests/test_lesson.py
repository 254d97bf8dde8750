"""The lesson's metrics and controls: the error-localisation gap, live values, the MLE-continued g-step,
the temperature sweep and the lesson preset's shipped start."""
import torch

from seqgan_core.config import apply_overrides, preset
from seqgan_core.contract import METRICS
from seqgan_core.metrics import lesson
from seqgan_core.train import Sink, Trainer

TINY_GRAMMAR = {"data.options": {"num_train": 256, "num_test": 64}, "emb_dim": 16, "hidden_dim": 16,
                "filter_sizes": [2, 3], "num_filters": [8, 8], "batch_size": 32, "pretrain_g_epochs": 2,
                "pretrain_d_rounds": 1, "pretrain_d_epochs": 1, "adv_rounds": 2, "rollout_num": 2,
                "num_negatives": 128, "nll_samples": 128, "eval_every_rounds": 1, "init_from": "", "device": "cpu",
                "threads": 1}


class Recorder(Sink):
    def __init__(self):
        self.rows = []

    def scalars(self, step, phase, x, values):
        self.rows.append((phase, x, dict(values)))


def tiny_lesson(**kw):
    cfg = apply_overrides(preset("lesson"), {k: v for k, v in TINY_GRAMMAR.items() if k != "data.options"})
    cfg.data.options = dict(TINY_GRAMMAR["data.options"])
    return apply_overrides(cfg, kw)


def test_gap_is_mean_q_before_minus_from_the_first_error():
    q = torch.tensor([[0.9, 0.7, 0.1, 0.3, 0.2],     # error at 2: before 0.8, from it 0.2
                      [0.5, 0.5, 0.5, 0.5, 0.5],     # grammatical: left out
                      [0.1, 0.9, 0.9, 0.9, 0.9],     # error at 0: nothing before, left out
                      [0.6, 0.6, 0.6, 0.6, 0.0]])    # error at 4: before 0.6, from it 0.0
    out = lesson.localisation_gap(q, [2, None, 0, 4])
    assert out[lesson.GAP_SAMPLES] == 2
    assert abs(out[lesson.Q_BEFORE] - 0.7) < 1e-6 and abs(out[lesson.Q_AFTER] - 0.1) < 1e-6
    assert abs(out[lesson.GAP] - 0.6) < 1e-6
    assert lesson.localisation_gap(q, [None] * 4)[lesson.GAP] is None
    assert lesson.localisation_gap(torch.full((4, 5), 0.5), [2, 3, 1, 4])[lesson.GAP] == 0.0
    assert lesson.validity([None, 2, None, 0]) == 0.5
    for name in (lesson.GAP, lesson.Q_BEFORE, lesson.Q_AFTER, lesson.GAP_SAMPLES, lesson.VALID_BATCH):
        assert name in METRICS


def test_a_grammar_run_records_the_gap_live_and_other_data_sets_do_not():
    rec = Recorder()
    Trainer(tiny_lesson(), rec).run()
    g_rows = [v for ph, _, v in rec.rows if ph == "adversarial" and "g/reward_mean" in v]
    assert len(g_rows) == 2 and all(lesson.VALID_BATCH in v for v in g_rows)
    assert any(lesson.GAP in v for v in g_rows)          # barely trained G: most samples are wrong
    assert any("valid/share" in v for ph, _, v in rec.rows if ph == "adversarial")
    rec = Recorder()
    Trainer(preset("tiny"), rec).run()
    assert not any(k.startswith("lesson/") for _, _, v in rec.rows for k in v)


def test_constant_reward_has_no_gap():
    rec = Recorder()
    Trainer(tiny_lesson(reward="constant"), rec).run()
    gaps = [v[lesson.GAP] for ph, _, v in rec.rows if lesson.GAP in v]
    assert gaps and all(g == 0.0 for g in gaps)


def test_mle_continued_does_mle_minibatches_and_no_policy_gradient():
    rec = Recorder()
    tr = Trainer(tiny_lesson(reward="mle", g_steps=3), rec)
    tr.run()
    g_rows = [v for ph, _, v in rec.rows if ph == "adversarial" and "loss/mle" in v]
    assert len(g_rows) == 2 * 3                                   # one MLE update per g-step
    assert not any("g/pg_loss" in v for _, _, v in rec.rows)
    assert len(tr.pg_opt.state) == 0                               # PG's optimiser never stepped
    assert all(0 < v["loss/mle"] < 10 for v in g_rows)


def test_mle_continued_lowers_the_training_loss():
    torch.manual_seed(0)
    tr = Trainer(tiny_lesson(reward="mle", g_steps=40, pretrain_g_epochs=0, pretrain_d_rounds=0, adv_rounds=1,
                             d_steps=0), Recorder())
    before = tr.gen.nll(tr.train_data).mean().item()
    tr.run()
    assert tr.gen.nll(tr.train_data).mean().item() < before - 0.1


def test_temperature_sweep_trades_quality_for_diversity():
    tr = Trainer(tiny_lesson(adv_rounds=0, pretrain_d_rounds=0, pretrain_g_epochs=3), Recorder())
    tr.run()
    rows = lesson.temperature_sweep(tr.gen, tr.ds, (0.7, 1.0, 1.2), n=256)
    assert [r["tau"] for r in rows] == [0.7, 1.0, 1.2]
    ent = [r["entropy/test"] for r in rows]
    assert ent[0] < ent[1] < ent[2]                 # colder is sharper
    from seqgan_core.metrics.evaluate import mean_nll
    # τ = 1 is G itself, its NLL-test measured as the run measures it (no padding after the first end token)
    assert abs(rows[1]["nll/test"] - mean_nll(tr.gen, tr.ds.test, eos_id=tr.ds.eos_id)) < 1e-4
    assert all(0 <= r["valid/share"] <= 1 and r["nll/oracle"] > 0 for r in rows)


def test_cli_train_eval_and_sweep_on_the_grammar(tmp_path, capsys):
    import json

    from seqgan_core.cli import main
    sets = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in TINY_GRAMMAR.items()
            if k != "data.options"]
    sets += ["data.options.num_train=256", "data.options.num_test=64"]
    args = ["train", "--preset", "lesson", "--out", str(tmp_path / "run")]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "run"), "--json", "--samples", "64", "--gap-samples", "64"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert 0 <= res["valid/share"] <= 1 and "nll/oracle" in res and lesson.GAP_SAMPLES in res
    assert main(["sweep", str(tmp_path / "run"), "--taus", "0.8,1.0", "-n", "64"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["tau"] for r in rows] == [0.8, 1.0] and rows[0]["entropy/test"] < rows[1]["entropy/test"]
    assert main(["data", "list"]) == 0 and "grammar" in capsys.readouterr().out


def test_lesson_preset_starts_from_its_shipped_generator():
    from pathlib import Path

    from seqgan_core.config import LESSON_CHECKPOINT
    from seqgan_core.train.checkpoint import REPO_ROOT, load_checkpoint
    path = Path(REPO_ROOT) / LESSON_CHECKPOINT
    assert path.stat().st_size < 2e6
    ck = load_checkpoint(path)
    assert "g_opt" in ck and ck["position"]["phase"] == "d_pretrain"
    cfg = preset("lesson")
    rec = Recorder()
    tr = Trainer(apply_overrides(cfg, {"device": "cpu", "threads": 1}), rec)
    assert tr.pos.phase == "d_pretrain" and tr.ds.name == "grammar"
    mle = [v for ph, _, v in rec.rows if ph == "mle"]
    assert len(mle) == tr.schedule.pretrain_g_epochs and all("nll/test" in v for v in mle)


def test_the_start_script_keeps_the_epoch_with_the_best_nll_test():
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        "make_start", Path(__file__).resolve().parents[1] / "scripts" / "make_start.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tr = Trainer(tiny_lesson(adv_rounds=0, pretrain_d_rounds=0, pretrain_g_epochs=0), Recorder())
    sink = mod.KeepBest()
    sink.trainer = tr
    for epoch, nll in enumerate([0.9, 0.8, 0.85]):
        with torch.no_grad():
            tr.gen.out.bias.fill_(epoch)           # mark the weights of each epoch
        sink.scalars(epoch, "mle", epoch, {"loss/mle": 1.0, "nll/test": nll})
    assert sink.best["epoch"] == 1 and float(sink.best["gen"]["out.bias"][0]) == 1.0


def test_snapshots_mark_each_samples_first_error():
    class Snaps(Recorder):
        def __init__(self):
            super().__init__()
            self.snaps = []

        def snapshot(self, step, kind, payload):
            self.snaps.append((kind, payload))
    rec = Snaps()
    tr = Trainer(tiny_lesson(), rec)
    tr.run()
    g = tr.ds.oracle.grammar
    for kind in ("rollout", "samples"):
        snap = [p for k, p in rec.snaps if k == kind][-1]
        assert len(snap["first_error"]) == len(snap["ids"])
        assert snap["first_error"] == [g.first_error(r) for r in snap["ids"]]


def test_bayes_accuracy_is_the_ceiling_and_is_one_half_for_the_source_itself():
    tr = Trainer(tiny_lesson(adv_rounds=0, pretrain_d_rounds=0, pretrain_g_epochs=0), Recorder())
    acc = lesson.bayes_accuracy(tr.gen, tr.ds, 64)            # an untrained G: almost every row is wrong
    assert acc > 0.95

    class Source(torch.nn.Module):                             # G = the grammar itself: no D can tell
        def __init__(self, ds):
            super().__init__()
            self.ds, self.out = ds, torch.nn.Linear(1, 1)

        def sample(self, n, T):
            return self.ds.train[:n]

        def log_probs(self, rows):
            g = self.ds.oracle.grammar
            return torch.tensor([[g.grammar_log_prob(r)] for r in rows.tolist()], dtype=torch.float64)
    assert lesson.bayes_accuracy(Source(tr.ds), tr.ds, 64) == 0.5
    assert lesson.bayes_accuracy(tr.gen, preset_tiny_ds(), 8) is None


def preset_tiny_ds():
    from seqgan_core.data import load
    return load("oracle", preset("tiny").data.options)


def test_study_calls_a_win_only_without_overlap_between_seeds():
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        "lesson_study", Path(__file__).resolve().parents[1] / "scripts" / "lesson_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def run(oracle, valid):
        return {"nll/oracle": oracle, "nll/test": 0.8, "valid/share": valid, "lesson/gap": 0.1, "g/entropy": 1.0,
                "gap_round0": 0.1, "d_acc_round1": 0.8, "start_nll_oracle": 3.7}
    text = mod.report({"seqgan": {0: run(2.4, 0.5), 1: run(2.6, 0.4)},
                       "constant": {0: run(3.9, 0.45), 1: run(4.1, 0.2)}})
    line = next(x for x in text.splitlines() if x.startswith("- vs constant"))
    assert "nll/oracle: beats" in line and "valid/share: within the seed spread" in line
    assert "nll/test: within the seed spread" in line
