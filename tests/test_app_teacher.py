"""Issue 9: what a teacher met driving the app in front of a class. Each test reproduces one numbered item."""
import json

from seqgan_core.runs import RunDB

from test_app_support import add_run, controls, make_alive, no_exception, no_workers, open_page  # noqa: F401

LIVE, RUNS, SETUP = "app_pages/live.py", "app_pages/runs.py", "app_pages/setup.py"
EVIL = "$x^2$ :red[alarm] **bold** <b>tag</b> " + "long " * 800


def _rename(run_dir, name):
    cfg = json.loads((run_dir / "config.json").read_text())
    cfg["name"] = name
    (run_dir / "config.json").write_text(json.dumps(cfg))


# --- 14: run names are plain text and bounded ------------------------------------------------------------

def test_item14_run_names_are_plain_text_and_bounded(runs_root):
    from ui.state import NAME_MAX
    run_dir = add_run(runs_root)
    _rename(run_dir, EVIL)
    at = open_page(LIVE)
    no_exception(at)
    header = at.markdown[0].value
    assert r"\$x^2\$" in header and r"\:red\[alarm\]" in header and r"\*\*bold\*\*" in header
    assert r"\<b\>" in header and "…" in header and len(header) < NAME_MAX + 120
    at.switch_page(RUNS).run()
    no_exception(at)
    one = next(h.value for h in at.subheader if h.value.startswith("One run"))
    assert r"\$x^2\$" in one and len(one) < NAME_MAX + 120
    name = list(at.dataframe[0].value["name"])[0]
    assert len(name) <= NAME_MAX and name.startswith("$x^2$ :red[alarm]") and name.endswith("…")


# --- 15: small things -------------------------------------------------------------------------------------

def test_item15_interrupted_message_is_a_sentence(runs_root, no_workers):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="interrupted", error="the worker process ended unexpectedly")
    at = open_page(LIVE)
    no_exception(at)
    assert at.warning[0].value.startswith("The worker process ended unexpectedly. Use Resume")


def test_item15_runs_table_has_no_none(runs_root):
    one = add_run(runs_root)
    add_run(runs_root, "20990101-000001-oracle-two")
    RunDB(one).put_scalars(999, "adversarial", 99, {"bleu/4": 0.25})     # only one run has BLEU
    at = open_page(RUNS)
    no_exception(at)
    table = at.dataframe[0].value
    assert "BLEU-4" in " ".join(table.columns) or any("bleu" in c.lower() for c in table.columns)
    cells = [str(v) for v in table.astype(object).to_numpy().ravel()]
    assert "None" not in cells and "nan" not in cells and "—" in cells


def test_item15_ribbon_does_not_count_epochs_a_starting_checkpoint_brings():
    from ui.ribbon import ribbon_html
    sched = {"pretrain_g_epochs": 40, "pretrain_d_rounds": 2, "adv_rounds": 4}
    assert "0 / 40 epochs" in ribbon_html({}, sched)
    html = ribbon_html({}, sched, "assets/classroom/oracle_mle.pt")
    assert "0 / 40 epochs" not in html and "starting checkpoint" in html


def test_item15_learn_says_what_is_measured_without_an_oracle(runs_root):
    run_dir = add_run(runs_root)
    with RunDB(run_dir).connect() as con:
        con.execute("DELETE FROM metrics WHERE name = 'nll/oracle'")
    at = open_page("app_pages/learn.py")
    no_exception(at)
    text = " ".join(m.value for m in at.markdown)
    assert "went from **—**" not in text and "no oracle" in text and "NLL-test (held-out real data) went from **" in text


# --- 1: the live schedule form sends only what the user changed and follows the run -----------------------

def test_item1_form_sends_only_the_changed_field_after_another_tab_changed_the_schedule(runs_root):
    run_dir = add_run(runs_root)
    make_alive(run_dir, schedule={"g_steps": 1, "d_steps": 1, "k_epochs": 1, "rollout_num": 4})
    rid = run_dir.name
    at = open_page(LIVE)
    no_exception(at)
    assert at.number_input(key=f"live.set.{rid}.g_steps").value == 1
    # another tab set g-steps 3 and the worker applied it
    make_alive(run_dir, schedule={"g_steps": 3, "d_steps": 1, "k_epochs": 1, "rollout_num": 4})
    at.run()
    assert at.number_input(key=f"live.set.{rid}.g_steps").value == 3       # the form follows the run
    at.number_input(key=f"live.set.{rid}.rollout_num").set_value(8)
    at.button[-1].click().run()
    no_exception(at)
    assert controls(run_dir) == [("set", json.dumps({"rollout_num": 8}))]


def test_item1_pending_changes_are_shown_marked_and_not_sent_back(runs_root):
    run_dir = add_run(runs_root)
    make_alive(run_dir, schedule={"g_steps": 1, "d_steps": 1, "k_epochs": 1, "rollout_num": 4},
               pending={"g_steps": 3})
    rid = run_dir.name
    at = open_page(LIVE)
    no_exception(at)
    g = at.number_input(key=f"live.set.{rid}.g_steps")
    assert g.value == 3 and "now 1, 3 pending" in g.label
    assert any("Pending" in c.value and "1 → 3" in c.value for c in at.caption)
    at.number_input(key=f"live.set.{rid}.d_steps").set_value(2)
    at.button[-1].click().run()
    assert controls(run_dir) == [("set", json.dumps({"d_steps": 2}))]


# --- 2: Live follows the run's status after any control ----------------------------------------------------

def test_item2_resume_on_live_shows_the_new_status_at_once(runs_root, no_workers):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="interrupted", error="the worker process ended unexpectedly")
    at = open_page(LIVE)
    assert "interrupted" in at.markdown[0].value
    at.button(key="live.resume").click().run()
    no_exception(at)
    assert RunDB(run_dir).state()["status"] == "queued"
    assert "queued" in at.markdown[0].value and not at.warning


def test_item2_a_run_resumed_elsewhere_is_followed(runs_root, no_workers, monkeypatch):
    import ui.live
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="stopped")
    at = open_page(LIVE)
    assert "stopped" in at.markdown[0].value
    RunDB(run_dir).set_state(status="queued")            # the Runs page of another tab pressed Resume
    reruns = []
    monkeypatch.setattr(ui.live.st, "rerun", lambda scope="app": reruns.append(scope))
    ui.live.watch_status(str(run_dir), "queued")         # no change: nothing happens
    assert reruns == []
    ui.live.watch_status(str(run_dir), "stopped")        # the page was drawn for 'stopped': it reruns
    assert reruns == ["app"]


# --- 4: a queued run can be cancelled from Live ----------------------------------------------------------

def test_item4_cancel_a_queued_run_from_live(runs_root, no_workers):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="queued")
    at = open_page(LIVE)
    assert "Queued" in at.info[0].value
    at.button(key="live.cancel").click().run()
    no_exception(at)
    assert RunDB(run_dir).state()["status"] == "stopped"
    assert "stopped" in at.markdown[0].value and not at.info
    assert not at.button(key="live.resume").disabled              # and it can be queued again


# --- 5: a preset whose starting checkpoint does not fit the chosen data set -------------------------------

def test_item5_classroom_start_is_cleared_for_another_data_set(runs_root):
    at = open_page()
    if at.selectbox(key="setup.preset").value != "classroom":
        import pytest
        pytest.skip("the shipped classroom checkpoint is not in this checkout")
    assert at.selectbox(key="setup.f.init_from").value
    at.selectbox(key="setup.dataset").set_value("brackets").run()
    no_exception(at)
    assert at.selectbox(key="setup.f.init_from").value == ""           # cleared: no start fits brackets
    note = " ".join(i.value for i in at.info)
    assert "was trained on another data set" in note and "from scratch" in note
    assert not at.error and not at.button(key="setup.start").disabled
    at.selectbox(key="setup.dataset").set_value("oracle").run()       # back: nothing to fit, no note
    assert "another data set" not in " ".join(i.value for i in at.info)


# --- 6: Start is disabled, with the reason, for a configuration the worker would refuse ----------------------

def test_item6_start_disabled_for_data_options_the_loader_refuses(runs_root):
    at = open_page()
    at.selectbox(key="setup.preset").set_value("tiny").run()
    at.text_input(key="setup.opt.oracle.vocab_size").set_value("1").run()
    no_exception(at)
    assert at.button(key="setup.start").disabled
    assert any("vocab_size must be between 2" in e.value for e in at.error)
    at.text_input(key="setup.opt.oracle.vocab_size").set_value("").run()
    assert not at.button(key="setup.start").disabled


def test_item6_a_failed_load_and_check_keeps_start_disabled(runs_root, monkeypatch):
    from collections import OrderedDict

    import ui.datasets as D
    from seqgan_core.data import DataError
    monkeypatch.setattr(D, "_REJECTED", OrderedDict())       # this test's refusal stays in this test
    monkeypatch.setattr(D, "_CHECKED", OrderedDict())        # and no earlier test's check counts here
    at = open_page()
    at.selectbox(key="setup.preset").set_value("tiny").run()
    at.selectbox(key="setup.dataset").set_value("arithmetic").run()
    assert not at.button(key="setup.start").disabled

    def refuse(*a, **k):
        raise DataError("the file is empty")
    monkeypatch.setattr(D, "load_preview", refuse)
    at.button(key="setup.check").click().run()
    no_exception(at)
    assert at.button(key="setup.start").disabled
    at.run()                                                          # and on the next rerun too
    assert at.button(key="setup.start").disabled
    assert any("the file is empty" in e.value for e in at.error)


# --- 7: an absurd cost is said, from the measured estimate ------------------------------------------------

def _fake_estimate(monkeypatch, g_step):
    import ui.setup_form as F
    monkeypatch.setattr(F, "estimate_in_subprocess", lambda cfg, **sizes: {
        "mle_epoch": 0.5, "d_pretrain_round": 0.2, "g_step": g_step, "d_step": 0.3, "round": g_step + 0.3,
        "eval": 0.1, "total": 3 * (g_step + 0.3), "device": "cpu"})


def test_item7_a_slow_g_step_is_warned_about(runs_root, monkeypatch):
    _fake_estimate(monkeypatch, 180.0)
    at = open_page()
    at.selectbox(key="setup.preset").set_value("tiny").run()
    at.number_input(key="setup.f.schedule.rollout_num").set_value(10000).run()
    at.button(key="setup.measure").click().run()
    no_exception(at)
    warnings = [w.value for w in at.warning]
    assert any("One g-step takes about 0:03:00" in w and "N = 10000" in w for w in warnings)


def test_item7_a_cheap_run_has_no_cost_warning(runs_root, monkeypatch):
    _fake_estimate(monkeypatch, 0.1)
    at = open_page()
    at.selectbox(key="setup.preset").set_value("tiny").run()
    at.button(key="setup.measure").click().run()
    no_exception(at)
    assert not any("takes about" in w.value for w in at.warning)


# --- 11: downloads work however fast they are clicked -----------------------------------------------------

def test_item11_downloads_do_not_rerun_the_page_and_are_made_on_click(runs_root):
    add_run(runs_root)
    at = open_page(RUNS)
    no_exception(at)
    buttons = at.get("download_button")
    assert len(buttons) == 4
    for b in buttons:
        # a click neither reruns the page (which would drop the other files) nor needs a stored file
        assert b.proto.ignore_rerun, b.proto.label
        assert b.proto.deferred_file_id or b.proto.disabled, b.proto.label


# --- 13: charts that do not mislead ----------------------------------------------------------------------

def _series(rows):
    import pandas as pd

    from ui.series import RunSeries
    frame = pd.DataFrame(rows, columns=["step", "name", "phase", "x", "value", "t"])
    return RunSeries(frame=frame, by_name={n: g for n, g in frame.groupby("name")})


def test_item13_a_small_change_is_drawn_small_and_rounds_are_whole_numbers():
    from ui.charts import g_curves
    s = _series([(0, "g/entropy", "mle", 1, 5.99, 0), (1, "g/entropy", "adversarial", 2, 5.95, 0),
                 (2, "g/entropy", "adversarial", 2, 5.94, 0), (3, "g/entropy", "adversarial", 3, 5.93, 0),
                 (0, "g/reward_mean", "adversarial", 2, 0.495, 0), (1, "g/reward_mean", "adversarial", 3, 0.52, 0)])
    ent = g_curves(s, ["g/entropy"], "Entropy", 1, "r", "nats").layout
    assert ent.yaxis.range[0] == 0 and ent.yaxis.range[1] >= 5.99          # from zero: 1 % looks like 1 %
    assert ent.xaxis.tickmode == "linear" and ent.xaxis.dtick == int(ent.xaxis.dtick) >= 1
    rew = g_curves(s, ["g/reward_mean"], "Reward", 1, "r", "Q").layout
    assert tuple(rew.yaxis.range) == (0, 1.02)                                # Q lives in [0, 1]


def test_item13_nothing_after_eos_is_drawn_as_content():
    import math

    from ui.charts import q_heatmap
    from ui.tokens import completion
    snap = {"q": [[0.2, 0.9, 0.7, 0.6], [0.5, 0.5, 0.5, 0.5]], "tokens": [["a"], ["b", "c", "d", "e"]],
            "round": 0, "g_step": 0, "rollout_num": 4}
    trace = q_heatmap(snap, "r").data[0]
    z, q = [list(r) for r in trace.z], [list(r) for r in trace.customdata]     # colour: Q − median; hover: Q
    assert q[0][:2] == [0.2, 0.9] and all(math.isnan(v) for v in z[0][2:] + q[0][2:])   # <eos>, then nothing
    assert list(trace.text[0][:2]) == ["a", "<eos>"] and q[1] == [0.5] * 4
    html = completion(["x", "y", "<eos>", "zz", "qq"], 1, "0.50")
    assert "&lt;eos&gt;" in html and "zz" not in html and "qq" not in html


def test_item13_live_charts_have_honest_axes(runs_root):
    add_run(runs_root)
    at = open_page(LIVE)
    no_exception(at)
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    reward = next(f for f in figures if f["layout"]["title"]["text"].startswith("Reward"))
    assert reward["layout"]["yaxis"]["range"] == [0, 1.02]
    for f in figures:
        if f["layout"]["title"]["text"].startswith("Quality against diversity"):
            continue                               # its x-axis is NLL-test, not rounds
        if f["data"] and f["data"][0]["type"] == "scatter":
            assert f["layout"]["xaxis"]["dtick"] >= 1 and float(f["layout"]["xaxis"]["dtick"]).is_integer()


# --- 3: a request says at once that it waits, with the unit's own progress ----------------------------------

def test_item3_pause_and_stop_say_at_once_that_they_wait(runs_root):
    run_dir = add_run(runs_root)
    make_alive(run_dir, phase="d_pretrain", index=1, unit={"label": "D pre-training round 2/3", "part": "minibatch",
                                                           "done": 13, "total": 40})
    at = open_page(LIVE)
    at.button(key="live.pause").click().run()
    no_exception(at)
    assert any(i.value == "Pausing at the next minibatch (now in D pre-training round 2/3, minibatch 14/40)…"
               for i in at.info)
    assert at.button(key="live.pause").disabled and not at.button(key="live.stop").disabled
    at.button(key="live.stop").click().run()
    assert any(i.value.startswith("Stopping at the next minibatch (now in D pre-training round 2/3") for i in at.info)
    assert at.button(key="live.stop").disabled
    make_alive(run_dir, phase="d_pretrain", index=0, unit=None)   # a worker between units says which unit is next
    at.run()
    assert any(i.value.startswith("Stopping at the next minibatch (this D pre-training round)") for i in at.info)
    RunDB(run_dir).set_state(status="stopped")            # the worker acted: the banner goes
    at.run()
    assert not any("next minibatch" in i.value for i in at.info)


# --- 9: the Runs page shows the schedule as it was played -------------------------------------------------

def test_item9_runs_table_and_reproduce_show_the_schedule_as_played(runs_root):
    run_dir = add_run(runs_root)
    cfg = json.loads((run_dir / "config.json").read_text())
    cfg["schedule"]["changes"] = [{"from_round": 1, "g_steps": 3}]
    (run_dir / "config.json").write_text(json.dumps(cfg))
    at = open_page(RUNS)
    no_exception(at)
    assert at.dataframe[0].value["schedule"][0].endswith("→ r2: g=3")
    assert any("1 schedule change(s) made during the run" in m.value for m in at.markdown)


def test_item9_resume_keeps_created(runs_root, no_workers):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="stopped", created=1234.0)
    at = open_page(RUNS)
    at.button(key="runs.resume").click().run()
    no_exception(at)
    state = RunDB(run_dir).state()
    assert state["status"] == "queued" and state["created"] == 1234.0


# --- 3: the clock ticks while a unit runs ------------------------------------------------------------------

def test_item3_the_clock_ticks_while_a_unit_runs(runs_root):
    import time
    run_dir = add_run(runs_root)
    make_alive(run_dir, elapsed_s=100.0, eta_s=500.0)
    RunDB(run_dir).set_state(heartbeat=time.time() - 60)       # the last report was a minute ago
    at = open_page(LIVE)
    no_exception(at)
    text = at.get("progress")[0].proto.text
    def seconds(clock):
        h, m, s = (int(v) for v in clock.split(":"))
        return 3600 * h + 60 * m + s
    elapsed, eta = seconds(text.split("elapsed ")[1].split(" ")[0]), seconds(text.split("ETA ")[1].split(" ")[0])
    assert elapsed >= 160 and eta <= 440                         # 100 s + the minute since; 500 s − that minute


def test_item1_the_page_is_redrawn_when_the_runs_schedule_changes(runs_root, monkeypatch):
    import ui.live
    run_dir = add_run(runs_root)
    make_alive(run_dir, schedule={"g_steps": 1, "d_steps": 1, "k_epochs": 1, "rollout_num": 4})
    cfg = json.loads((run_dir / "config.json").read_text())
    shown = ui.live.schedule_signature(RunDB(run_dir).state()["progress"], cfg)
    reruns = []
    monkeypatch.setattr(ui.live.st, "rerun", lambda scope="app": reruns.append(scope))
    ui.live.panel(str(run_dir), cfg, "running", shown)                # nothing changed: no redraw
    assert reruns == []
    make_alive(run_dir, schedule={"g_steps": 3, "d_steps": 1, "k_epochs": 1, "rollout_num": 4})
    ui.live.panel(str(run_dir), cfg, "running", shown)                # another tab's change took effect
    assert reruns == ["app"]


def test_item15_a_refused_file_is_said_once_not_followed_by_choose_a_file(runs_root, monkeypatch):
    import streamlit
    from types import SimpleNamespace
    monkeypatch.setattr(streamlit, "file_uploader",
                        lambda *a, **k: SimpleNamespace(getvalue=lambda: b"", name="x.txt"))
    at = open_page()
    at.selectbox(key="setup.dataset").set_value("upload").run()
    no_exception(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "the file is empty" in errors[0], errors      # said once, with its reason
    assert at.button(key="setup.start").disabled
