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
