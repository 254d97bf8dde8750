"""The Learn page: Algorithm 1's formulas, bound to a run's own numbers."""
from seqgan_core.runs import RunDB

from test_app_support import add_run, no_exception, open_page

PAGE = "app_pages/learn.py"


def test_no_runs(runs_root):
    at = open_page(PAGE)
    no_exception(at)
    assert "No runs yet" in at.info[0].value


def test_formulas_carry_the_runs_numbers(runs_root):
    run_dir = add_run(runs_root)
    snap = RunDB(run_dir).latest_snapshot("rollout")
    at = open_page(PAGE)
    no_exception(at)
    at.number_input(key="learn.sample").set_value(1)
    at.number_input(key="learn.t").set_value(4).run()
    latex = " ".join(x.value for x in at.latex)
    assert len(at.latex) >= 6
    logp, q = snap["logp"][0][3], snap["q"][0][3]
    assert f"{logp:.3f}" in latex and f"Q = {q:.3f}" in latex and f"{logp * q:.3f}" in latex
    text = " ".join(m.value for m in at.markdown)
    assert "Exposure bias" in text and "Mode collapse" in text and "Reward variance" in text


def test_policy_gradient_uses_the_runs_baseline(runs_root):
    """With a reward baseline, the token's loss shown is −log G·(Q − b), with the b the run subtracted."""
    import json
    run_dir = add_run(runs_root)
    cfg_path = run_dir / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["schedule"]["reward_baseline"] = "batch_mean"
    cfg_path.write_text(json.dumps(cfg))
    db = RunDB(run_dir)
    snap = db.latest_snapshot("rollout")
    T = len(snap["q"][0])
    payload = {k: v for k, v in snap.items() if k not in ("step", "t")}
    db.put_snapshot(snap["step"] + 1, "rollout", {**payload, "baseline": [0.4] * T})
    at = open_page(PAGE)
    at.number_input(key="learn.sample").set_value(1)
    at.number_input(key="learn.t").set_value(4).run()
    no_exception(at)
    latex = " ".join(x.value for x in at.latex)
    logp, q = snap["logp"][0][3], snap["q"][0][3]
    assert "b = 0.400" in latex and f"{logp * (q - 0.4):.3f}" in latex


def test_rollout_snapshot_records_the_baseline_over_the_whole_batch():
    import torch
    from types import SimpleNamespace
    from seqgan_core.train import report
    q = torch.rand(16, 5)
    res = SimpleNamespace(q=q, completions={}, completion_scores={})
    ds = SimpleNamespace(tokens=lambda ids: [str(i) for i in ids], metrics=(), oracle=None)
    for kind, want in (("none", torch.zeros(5)), ("batch_mean", q.mean().expand(5)),
                       ("position_mean", q.mean(0))):
        sched = SimpleNamespace(rollout_num=4, reward="discriminator", reward_baseline=kind, pg_loss_norm="mean")
        snap = report.rollout_snapshot(torch.zeros(16, 5, dtype=torch.long), res, q, ds, 2,
                                       SimpleNamespace(index=0, g_done=0), sched)
        assert torch.allclose(torch.tensor(snap["baseline"]), want, atol=1e-5), kind
        assert snap["loss_norm"] == "mean" and len(snap["q"]) == 2
