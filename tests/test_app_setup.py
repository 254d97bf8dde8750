"""The Setup page: presets, every control with its help, inline validation, data check, estimate, Start."""

from seqgan_core.config import PRESET_HELP
from seqgan_core.data import registry
from seqgan_core.runs import RunDB

from test_app_support import add_run, no_exception, no_workers, open_page  # noqa: F401  (fixture)


def test_opens_ready_to_train_the_oracle_with_no_runs(runs_root):
    at = open_page()
    no_exception(at)
    assert at.title[0].value == "Setup"
    assert at.selectbox(key="setup.preset").options == list(PRESET_HELP)
    assert at.selectbox(key="setup.dataset").value == "oracle"
    titles = at.selectbox(key="setup.dataset").options                 # shown by title, one per data set
    assert len(titles) == len(registry()) and "Synthetic oracle (the paper's Section 5.1)" in titles
    assert not at.button(key="setup.start").disabled
    assert not at.error


def test_every_setting_says_what_it_does(runs_root):
    from ui.setup_form import GROUPS
    at = open_page()
    captions = " ".join(c.value for c in at.caption)
    assert "g-steps: policy-gradient minibatches per round." in captions
    assert "N: Monte-Carlo roll-outs per token to estimate Q." in captions
    assert len(at.caption) >= sum(map(len, GROUPS.values()))


def test_preset_fills_the_form(runs_root):
    at = open_page()
    at.selectbox(key="setup.preset").set_value("fig3a").run()
    no_exception(at)
    assert at.number_input(key="setup.f.schedule.g_steps").value == 100
    assert at.number_input(key="setup.f.schedule.k_epochs").value == 10
    assert "Figure 3(a)" in " ".join(c.value for c in at.caption)


def test_invalid_values_are_refused_with_the_engines_message(runs_root):
    at = open_page()
    at.number_input(key="setup.f.schedule.batch_size").set_value(0).run()
    at.number_input(key="setup.f.schedule.k_epochs").set_value(0).run()
    messages = [e.value for e in at.error]
    assert "batch_size must be ≥ 1" in messages
    assert at.button(key="setup.start").disabled
    at.number_input(key="setup.f.schedule.batch_size").set_value(32).run()
    no_exception(at)
    # k = 0 is a legitimate experiment (D never trains): it runs, with a warning beside Start
    assert not at.button(key="setup.start").disabled
    assert any("D never trains" in w.value for w in at.warning)


def test_a_list_setting_that_is_not_numbers_is_refused(runs_root):
    at = open_page()
    at.text_input(key="setup.f.discriminator.filter_sizes").set_value("2, x").run()
    no_exception(at)
    assert at.button(key="setup.start").disabled
    assert any("filter_sizes" in e.value for e in at.error)


def test_upload_data_set_needs_a_file(runs_root):
    at = open_page()
    at.selectbox(key="setup.dataset").set_value("upload").run()
    no_exception(at)
    assert any("choose a file" in e.value for e in at.error)
    assert at.button(key="setup.start").disabled


def test_checking_a_data_set_shows_its_size_and_examples(runs_root):
    at = open_page()
    at.selectbox(key="setup.dataset").set_value("arithmetic").run()
    at.button(key="setup.check").click().run()
    no_exception(at)
    assert "training and" in at.success[0].value and "=" in at.code[0].value


def test_cost_estimate_is_measured_by_the_engine_in_its_own_process(runs_root, monkeypatch):
    import ui.setup_form as form
    calls = []
    monkeypatch.setattr(form, "estimate_in_subprocess", lambda cfg, **sizes: calls.append(sizes) or {
        "mle_epoch": 0.5, "d_pretrain_round": 0.2, "g_step": 0.1, "d_step": 0.3, "round": 0.4, "eval": 0.1,
        "total": 10.0, "device": "cpu"})
    at = open_page()
    at.selectbox(key="setup.preset").set_value("tiny").run()
    at.button(key="setup.measure").click().run()
    no_exception(at)
    assert calls == [{"vocab_size": 50, "seq_len": 10, "num_train": 512}]
    assert {m.label for m in at.metric} >= {"per adversarial round", "whole run"}


def test_a_failed_cost_measurement_says_why(runs_root, monkeypatch):
    import ui.setup_form as form

    def fail(cfg, **sizes):
        raise RuntimeError("the measuring process ended with status 1")
    monkeypatch.setattr(form, "estimate_in_subprocess", fail)
    at = open_page()
    at.button(key="setup.measure").click().run()
    no_exception(at)
    assert any("The measurement failed: the measuring process ended" in e.value for e in at.error)


def test_start_queues_the_run_and_lands_on_live(runs_root, no_workers):
    at = open_page()
    at.number_input(key="setup.f.schedule.g_steps").set_value(2).run()
    at.button(key="setup.start").click().run()
    no_exception(at)
    (run_dir,) = [p for p in runs_root.iterdir() if (p / "run.db").exists()]
    assert RunDB(run_dir).state()["status"] == "queued"
    assert '"g_steps": 2' in (run_dir / "config.json").read_text()
    assert at.title[0].value == "Live" and "queued" in at.markdown[0].value


def test_clone_from_runs_fills_the_form(runs_root):
    add_run(runs_root)
    at = open_page("app_pages/runs.py")
    at.button(key="runs.clone").click().run()
    no_exception(at)
    assert at.title[0].value == "Setup"
    assert at.number_input(key="setup.f.schedule.adv_rounds").value == 2       # the run's, not the preset's
    assert at.text_input(key="setup.f.name").value == "tiny-test"


def test_the_draft_survives_a_visit_to_another_page(runs_root):
    at = open_page()
    at.number_input(key="setup.f.schedule.g_steps").set_value(7).run()
    at.switch_page("app_pages/live.py").run()
    at.switch_page("app_pages/setup.py").run()
    no_exception(at)
    assert at.number_input(key="setup.f.schedule.g_steps").value == 7
