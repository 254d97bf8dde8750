"""The Roll-outs page: the completions behind one token's Q, and re-rolls with another N."""
from seqgan_core.runs import RunDB

from test_app_support import add_run, no_exception, open_page

PAGE = "app_pages/rollouts.py"


def test_no_runs_and_no_rollouts_yet(runs_root):
    at = open_page(PAGE)
    no_exception(at)
    assert "No runs yet" in at.info[0].value
    run_dir = add_run(runs_root)
    with RunDB(run_dir).connect() as con:
        con.execute("DELETE FROM snapshots WHERE kind = 'rollout'")      # as if still pre-training
    at.run()
    assert "no roll-outs yet" in at.info[0].value


def test_recorded_completions_give_the_mean_q(runs_root):
    run_dir = add_run(runs_root)
    snap = RunDB(run_dir).latest_snapshot("rollout")
    at = open_page(PAGE)
    no_exception(at)
    at.radio(key=f"rollouts.b.{run_dir.name}").set_value(0)
    at.slider(key=f"rollouts.t.{run_dir.name}").set_value(3).run()
    assert at.metric[0].label == "Q = mean of the scores"
    # the page's mean must be the Q the engine computed in training (not recomputed from the same list)
    assert abs(float(at.metric[0].value) - snap["q"][0][2]) <= 0.0005 + 1e-9
    assert at.metric[3].value == str(snap["rollout_num"])
    assert "sg-cur" in " ".join(h.proto.body for h in at.get("html"))        # y_t marked in each completion


def test_last_position_needs_no_rollout_and_other_samples_point_to_reroll(runs_root):
    run_dir = add_run(runs_root)
    at = open_page(PAGE)
    at.slider(key=f"rollouts.t.{run_dir.name}").set_value(10).run()
    assert "nothing to roll out" in at.info[0].value
    at.slider(key=f"rollouts.t.{run_dir.name}").set_value(2)
    at.radio(key=f"rollouts.b.{run_dir.name}").set_value(1).run()
    assert "re-roll below" in at.info[0].value


def test_reroll_from_the_checkpoint_with_a_chosen_n(runs_root):
    run_dir = add_run(runs_root)
    at = open_page(PAGE)
    at.button(key="rollouts.start").click().run()
    at.slider(key="rollouts.n").set_value(32).run()
    no_exception(at)
    assert "N roll-outs" in [m.label for m in at.metric] and "32" in [m.value for m in at.metric]
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("How the estimate tightens as N grows" in s for s in titles)
    before = [m.value for m in at.metric]
    at.button(key="rollouts.go").click().run()                               # next seed: a new draw
    assert at.number_input(key="rollouts.seed").value == 1
    assert [m.value for m in at.metric] != before
