"""The Live page: empty state, a finished run's charts, controls and live schedule changes of a running run."""
import json

from seqgan_core.runs import RunDB

from test_app_support import add_run, controls, make_alive, no_exception, no_workers, open_page  # noqa: F401

LIVE = "app_pages/live.py"


def test_no_runs_points_to_setup(runs_root):
    at = open_page(LIVE)
    no_exception(at)
    assert "No runs yet" in at.info[0].value


def test_finished_run_shows_every_view_with_real_numbers(runs_root):
    add_run(runs_root)
    at = open_page(LIVE)
    no_exception(at)
    assert "tiny-test · oracle · finished" in at.markdown[0].value
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "3 · Adversarial rounds" in html and "sg-tok" in html               # ribbon and shaded samples
    charts = {c.proto.id for c in at.get("plotly_chart")}
    assert len(charts) == 7               # NLL, D, reward, div, hist, Q map, and the controls' quality–diversity
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    nll = next(f for f in figures if f["layout"]["title"]["text"].startswith("Generator NLL"))
    assert {t["name"] for t in nll["data"]} == {"NLL-oracle", "NLL-test"}
    assert nll["layout"]["shapes"][0]["x0"] == 2                              # E = 2 MLE epochs
    qmap = next(f for f in figures if f["data"][0]["type"] == "heatmap")
    heat = qmap["data"][0]
    assert heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"] and heat["zmax"] < 0.5      # centred, from data
    assert "range ±" in qmap["layout"]["title"]["text"]
    assert {m.label for m in at.metric} >= {"NLL-oracle", "NLL-test", "mean Q"}
    assert all(b.disabled for b in at.button if b.key in ("live.pause", "live.step", "live.stop"))


def test_pause_and_stop_of_a_running_run_reach_its_worker(runs_root):
    run_dir = add_run(runs_root)
    make_alive(run_dir)
    at = open_page(LIVE)
    no_exception(at)
    assert "running" in at.markdown[0].value
    assert not at.button(key="live.pause").disabled and at.button(key="live.resume").disabled
    at.button(key="live.pause").click().run()
    at.button(key="live.stop").click().run()
    assert [c for c, _ in controls(run_dir)] == ["pause", "stop"]


def test_schedule_change_is_sent_and_shown_in_the_history(runs_root):
    run_dir = add_run(runs_root)
    make_alive(run_dir)
    at = open_page(LIVE)
    rid = run_dir.name
    at.number_input(key=f"live.set.{rid}.g_steps").set_value(3)
    at.number_input(key=f"live.set.{rid}.rollout_num").set_value(8)
    at.button[-1].click().run()                           # the form's submit button
    no_exception(at)
    assert controls(run_dir) == [("set", json.dumps({"g_steps": 3, "rollout_num": 8}))]
    RunDB(run_dir).put_event(9, "schedule", {"g_steps": 3, "rollout_num": 8, "from_round": 2})
    at.run()
    assert not at.dataframe, "the history is read only when it is shown"
    at.toggle(key=f"live.show_history.{rid}").set_value(True).run()
    history = at.dataframe[0].value
    assert "schedule now g_steps = 3, rollout_num = 8 (from round 2)" in list(history["what"])


def test_invalid_schedule_change_is_refused_with_the_engines_message(runs_root):
    run_dir = add_run(runs_root)
    make_alive(run_dir)
    at = open_page(LIVE)
    at.number_input(key=f"live.set.{run_dir.name}.rollout_num").set_value(0)
    at.button[-1].click().run()
    assert "rollout_num must be ≥ 1" in at.error[0].value
    assert controls(run_dir) == []


def test_queued_and_failed_runs_say_so(runs_root, no_workers):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="queued")
    at = open_page(LIVE)
    assert "Queued" in at.info[0].value
    RunDB(run_dir).set_state(status="failed", error="DataError: no file chosen")
    at.run()
    no_exception(at)
    assert "DataError: no file chosen" in at.error[0].value
    assert not at.button(key="live.resume").disabled                      # resumable from its checkpoint
    assert not at.number_input and any("This run has failed: its schedule can be changed while it trains" in c.value
                                       for c in at.sidebar.caption)      # no schedule form for a run not training


def test_a_dead_worker_shows_as_interrupted(runs_root):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="running", pid=None)          # its worker is gone
    at = open_page(LIVE)
    no_exception(at)
    assert "interrupted" in at.markdown[0].value and at.warning
    assert RunDB(run_dir).state()["status"] == "interrupted"


def test_a_second_viewer_of_the_same_data_builds_no_figure(runs_root):
    """Charts are built once per run and data version and shared by the sessions that watch it."""
    from ui.live import FIGURES
    run_dir = add_run(runs_root)
    first = open_page(LIVE)
    no_exception(first)
    built = FIGURES.built
    second = open_page(LIVE)
    no_exception(second)
    assert FIGURES.built == built
    assert [c.proto.spec for c in second.get("plotly_chart")] == [c.proto.spec for c in first.get("plotly_chart")]
    RunDB(run_dir).put_scalars(10_000, "adversarial", 99, {"nll/oracle": 1.0})   # new data: charts rebuilt
    second.run()
    assert FIGURES.built > built


def test_controls_are_branched_from_the_adversarial_start_and_judged_on_one_chart(runs_root, no_workers):
    """One click queues the controls, each continuing the run's adversarial start with one change; their
    evaluations join the run's on the quality–diversity chart, with a verdict from their last values."""
    from seqgan_core.runs.store import list_runs
    from ui.lesson_view import CONTROLS
    run_dir = add_run(runs_root)
    at = open_page(LIVE)
    no_exception(at)
    at.button(key=f"lesson.launch.{run_dir.name}").click().run()
    no_exception(at)
    branches = [r for r in list_runs(runs_root) if r["state"].get("branched_from") == run_dir.name]
    assert sorted((r["config"]["schedule"]["reward"], r["config"]["schedule"]["reward_baseline"])
                  for r in branches) == [("constant", "none"), ("discriminator", "batch_mean"), ("mle", "none"),
                                         ("shuffled", "none")]
    assert all(r["status"] == "queued" for r in branches) and len(branches) == len(CONTROLS)
    constant = next(r for r in branches if r["config"]["schedule"]["reward"] == "constant")
    db, last = RunDB(run_dir), RunDB(run_dir).latest_values()
    step = max(r[0] for r in db.metrics_since(-1)) + 1
    RunDB(constant["dir"]).put_scalars(step, "adversarial", 9, {"nll/oracle": last["nll/oracle"] + 1.0,
                                                                "nll/test": last["nll/test"] + 1.0})
    db.put_scalars(step, "adversarial", 9, {"nll/oracle": last["nll/oracle"], "nll/test": last["nll/test"]})
    at.run()
    no_exception(at)
    qd = next(c for c in at.get("plotly_chart") if "Quality against diversity" in c.proto.spec)
    names = [t["name"] for t in json.loads(qd.proto.spec)["data"]]
    assert names[0] == "SeqGAN (this run)" and "constant reward" in names
    text = " ".join(m.value for m in at.markdown)
    assert "SeqGAN **beats** constant reward" in text
