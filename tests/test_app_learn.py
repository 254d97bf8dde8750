"""The Learn page: Algorithm 1's formulas, bound to a run's own numbers; on the grammar data, the lesson."""
import functools
import json
import re
import shutil
from pathlib import Path

from seqgan_core.runs import RunDB

from test_app_support import add_run, no_exception, no_workers, open_page, train_by_cli  # noqa: F401

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


# --- the lesson walk on the grammar data -----------------------------------------------------------------

LESSON_SET = ["adv_rounds=2", "pretrain_d_rounds=1", "num_negatives=128", "nll_samples=64", "batch_size=16",
              "rollout_num=2", "eval_every_rounds=1", "name=lesson-test"]


@functools.lru_cache(maxsize=1)
def lesson_template() -> Path:
    """A finished short lesson run (grammar data, the shipped MLE start), trained once per session."""
    return train_by_cli("lesson", "20990101-000000-grammar-test", LESSON_SET)


def add_lesson_run(root: Path) -> Path:
    target = Path(root) / lesson_template().name
    shutil.copytree(lesson_template(), target)
    return target


def add_control(root: Path, run_dir: Path, reward: str, oracle: float, test: float) -> Path:
    """A control of run_dir (branched at its adversarial start) whose last evaluation is (oracle, test)."""
    target = Path(root) / f"{run_dir.name}-{reward}"
    shutil.copytree(run_dir, target)
    cfg = json.loads((target / "config.json").read_text())
    cfg["schedule"]["reward"] = reward
    (target / "config.json").write_text(json.dumps(cfg))
    db = RunDB(target)
    db.set_state(branched_from=run_dir.name, branch_at="adversarial_start")
    step = max(r[0] for r in db.metrics_since(-1)) + 1
    db.put_scalars(step, "adversarial", 99, {"nll/oracle": oracle, "nll/test": test})
    return target


def page_text(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
                    + [s.value for s in at.subheader])


def test_lesson_walk_tells_the_story_with_the_runs_numbers(runs_root):
    run_dir = add_lesson_run(runs_root)
    db = RunDB(run_dir)
    at = open_page(PAGE)
    no_exception(at)
    heads = [s.value for s in at.subheader]
    assert [h[:1] for h in heads] == ["1", "2", "3", "4", "5", "6"]
    rules = at.code[0].value
    assert "NP(n) → DET(n) [ADJ] N(n) [RC(n)]" in rules and "RC: p = 0.40" in rules and "depth 2" in rules
    assert max(len(line) for line in rules.splitlines()) <= 72                # whole on a 1024-pixel projector
    html = " ".join(h.proto.body for h in at.get("html"))
    from seqgan_core.data import load
    real = load("grammar", json.loads((run_dir / "config.json").read_text())["data"]["options"])
    first = real.tokens(real.train[0].tolist())
    words = " ".join(re.findall(r"<span class='sg-tok[^>]*>([^<]*)</span>", html))
    assert " ".join(first) in words                                          # training sentence 1, as words
    text = page_text(at)
    acc_real = [r for r in db.metrics_since(-1) if r[1] == "d/acc_real" and r[2] == "d_pretrain"][-1][4]
    assert f"called **{acc_real:.0%}** of held-out real" in text
    snap = db.latest_snapshot("rollout")
    b = at.number_input(key="learn.sample").value - 1
    e = snap["first_error"][b]
    if e is not None:
        assert "sg-err" in html
    assert "range ±" in html                                                 # the colours' key
    t = at.number_input(key="learn.t").value
    latex = " ".join(x.value for x in at.latex)
    assert f"{snap['logp'][b][t - 1]:.3f}" in latex and f"Q = {snap['q'][b][t - 1]:.3f}" in latex
    assert "has no controls yet" in text and "Live page" in text
    assert "— to —" not in text and "— → —" not in text


def test_lesson_verdict_says_when_seqgan_does_not_beat_a_control(runs_root, no_workers):
    run_dir = add_lesson_run(runs_root)
    last = RunDB(run_dir).latest_values()
    add_control(runs_root, run_dir, "constant", last["nll/oracle"] - 0.5, last["nll/test"] - 0.5)
    at = open_page(PAGE)
    at.sidebar.selectbox(key="studio.run_picker").set_value(run_dir.name).run()
    no_exception(at)
    text = page_text(at)
    assert "SeqGAN **does not beat** constant reward" in text
    assert "beat **0 of 1** controls" in text and "not D's doing" in text
    qd = next(c for c in at.get("plotly_chart") if "Quality against diversity" in c.proto.spec)
    assert [t["name"] for t in json.loads(qd.proto.spec)["data"]] == ["SeqGAN (this run)", "constant reward"]


def test_each_stage_pauses_and_steps_the_run_through_the_live_controls(runs_root):
    from test_app_support import controls, make_alive
    run_dir = add_lesson_run(runs_root)
    make_alive(run_dir)
    at = open_page(PAGE)
    no_exception(at)
    assert {f"learn.{s}.pause" for s in ("mle", "d", "q", "pg")} <= {b.key for b in at.button}
    at.button(key="learn.d.pause").click().run()
    assert [c for c, _ in controls(run_dir)] == ["pause"]
    RunDB(run_dir).set_state(status="paused")
    at.run()
    at.button(key="learn.q.step").click().run()
    assert [c for c, _ in controls(run_dir)] == ["pause", "step"]


def test_other_data_never_shows_a_missing_value_as_a_change(runs_root):
    """A run whose MLE phase recorded nothing (e.g. started from a saved generator) says what is measured."""
    run_dir = add_run(runs_root)
    with RunDB(run_dir).connect() as con:
        con.execute("DELETE FROM metrics WHERE phase = 'mle'")
    at = open_page(PAGE)
    no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert "— to" not in text and "→ —" not in text and "— →" not in text and "**—**" not in text
