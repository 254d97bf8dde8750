"""The Studies and Paper pages: a stored study's progress and table, a study without results, the Paper
page's Table 1 beside the paper's numbers with the controls' verdict, the launch offered when no study is
stored, and a study started from the page (its cost measured first by the CLI's dry run)."""
import json
import time

import pytest
from scipy import stats

from seqgan_core.runs import JobManager, RunDB
from seqgan_core.studies import Study, create_study, spec_from_dict
from seqgan_core.studies.report import stored_studies

from test_app_support import no_exception, no_workers, open_page  # noqa: F401

STUDIES, PAPER = "app_pages/studies.py", "app_pages/paper.py"
BASE = {"preset": "tiny", "set": {"device": "cpu", "adv_rounds": 2}, "reference": "method=seqgan"}


def fake_study(root, name: str, values: dict, finish: bool = True) -> Study:
    """A study whose runs 'finished' with the given final NLL-oracle per method and seed (no training):
    values = {method: [per seed]}; NLL-test is 1.0 everywhere."""
    seeds = list(range(len(next(iter(values.values())))))
    spec = spec_from_dict({**BASE, "name": name, "axes": {"method": list(values), "seed": seeds}})
    study = Study(create_study(spec, root))
    for m in study.members:
        if not finish:
            continue
        db = RunDB(m["dir"])
        db.put_scalars(0, "mle", 0, {"nll/oracle": 3.9, "nll/test": 1.0})
        db.put_scalars(5, "adversarial", 1, {"nll/oracle": values[m["values"]["method"]][m["seed"]], "nll/test": 1.0})
        db.transition("finished")
    return study


def frame_text(at) -> str:
    return "\n".join(df.value.to_csv() for df in at.dataframe)


def test_a_stored_study_is_listed_with_its_table_and_curves(runs_root):
    mle, gan = [3.1, 3.3, 3.0], [2.7, 2.75, 2.72]
    study = fake_study(runs_root, "cmp", {"mle": mle, "seqgan": gan})
    at = open_page(STUDIES)
    no_exception(at)
    assert study.dir.name in at.selectbox(key="studies.pick").options[0]
    text = frame_text(at)
    assert "3.133 ± 0.153" in text and "2.723 ± 0.025" in text and "(reference)" in text
    p = stats.ttest_ind(mle, gan, equal_var=False).pvalue
    assert f"{p:.2g}" in text, "the Welch p-value of the seeds is in the table"
    assert "6 finished" in at.markdown[1].value or any("6 finished" in m.value for m in at.markdown)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert specs and '"fill":"toself"' in specs[0].replace(" ", ""), "mean line with a spread band"
    labels = {b.proto.label for b in at.get("download_button")}
    assert labels == {"Table (CSV)", "Table (Markdown)", "Table (LaTeX)"}


def test_a_study_without_results_says_so_and_can_be_cancelled(runs_root, no_workers):
    study = fake_study(runs_root, "waiting", {"mle": [1.0, 1.0], "seqgan": [1.0, 1.0]}, finish=False)
    at = open_page(STUDIES)
    no_exception(at)
    assert any("No results yet" in i.value for i in at.info)
    assert any("4 queued" in m.value for m in at.markdown)
    at.button(key=f"studies.cancel.{study.dir.name}").click().run()
    no_exception(at)
    assert {RunDB(m["dir"]).state()["status"] for m in study.members} == {"stopped"}


def test_paper_page_without_a_study_offers_the_classroom_launch(runs_root):
    at = open_page(PAPER)
    no_exception(at)
    infos = [i.value for i in at.info]
    assert any("No Table 1 study" in i for i in infos) and any("No Figure 3 study" in i for i in infos)
    assert at.button(key="paper.table1.new.measure") and at.button(key="paper.fig3.new.measure")
    assert at.button(key="paper.table1.new.start").disabled, "no start before the cost is known"
    assert "18 runs" in " ".join(m.value for m in at.markdown), "the shipped spec: 6 methods × 3 seeds"


def test_paper_table1_beside_the_published_numbers_and_a_control_that_wins(runs_root):
    # SeqGAN beats MLE clearly, but the constant reward does as well: the advantage does not survive it
    fake_study(runs_root, "table1_classroom", {"mle": [3.10, 3.12, 3.11], "seqgan": [2.80, 2.82, 2.81],
                                               "constant": [2.78, 2.80, 2.79]})
    at = open_page(PAPER)
    no_exception(at)
    table = at.dataframe[0].value
    paper = dict(zip(table["method"], table["paper"]))
    assert paper["MLE"] == "9.038" and paper["SeqGAN"] == "8.736" and paper["Random"] == "10.310"
    ours = dict(zip(table["method"], table["ours: mean ± std (seeds)"]))
    assert ours["SeqGAN"] == "2.810 ± 0.010 (3)" and ours["Random"] == "—" and paper["Constant reward"] == "—"
    said = " ".join(m.value for m in at.markdown)
    assert "**SeqGAN beats MLE**" in said
    assert "**does not survive** the constant-reward control" in said
    assert "survives every control" not in said
    assert "tiny preset" in said and "seeds 0, 1, 2" in said, "scale and seeds labelled"


def test_paper_table1_says_a_null_result_is_one(runs_root):
    fake_study(runs_root, "table1_classroom", {"mle": [3.0, 3.2, 3.1], "seqgan": [3.05, 3.15, 3.1],
                                               "constant": [3.0, 3.1, 3.05]})
    at = open_page(PAPER)
    no_exception(at)
    said = " ".join(m.value for m in at.markdown)
    assert "**Null result: SeqGAN does not beat MLE**" in said and "beats MLE**" not in said
    assert "survive" not in said, "no advantage to survive a control"
    assert "Against the constant-reward control (policy gradient with reward 0.5 and no discriminator), " \
           "**no significant advantage** for SeqGAN" in said


def test_paper_table1_says_when_a_control_beats_seqgan(runs_root):
    fake_study(runs_root, "table1_classroom", {"mle": [9.19, 9.24, 9.28], "seqgan": [9.19, 9.29, 9.38],
                                               "constant": [9.02, 9.08, 9.15]})
    said = " ".join(m.value for m in open_page(PAPER).markdown)
    assert "the constant reward is **better** than SeqGAN" in said and "no significant advantage" not in said


def test_starting_a_study_from_the_page_creates_its_folder(runs_root, monkeypatch):
    scheduled = []                                   # the executor's call to the job manager, no worker
    monkeypatch.setattr(JobManager, "schedule", lambda self: scheduled.append(self.root) or [])
    at = open_page(STUDIES)
    no_exception(at)
    at.text_input(key="studies.b.name").input("from_page")
    at.multiselect(key="studies.b.methods").set_value(["seqgan"])
    at.text_input(key="studies.b.seeds").input("0").run()
    assert at.button(key="studies.new.start").disabled, "no start before the cost is known"
    at.button(key="studies.new.measure").click().run()
    deadline = time.time() + 240                     # the dry run: one cell timed in a process of its own
    while at.button(key="studies.new.start").disabled and time.time() < deadline:
        at.run()
        no_exception(at)
        assert not at.error, [e.value for e in at.error]
    assert not at.button(key="studies.new.start").disabled, "the measured cost enables Start"
    assert any("training in all" in m.label for m in at.metric)
    before = len(scheduled)
    at.button(key="studies.new.start").click().run()
    no_exception(at)
    assert scheduled[before:] and scheduled[-1] == runs_root, "the local executor was asked to start the runs"
    [made] = stored_studies(runs_root)
    data = json.loads((made["dir"] / "study.json").read_text())
    assert data["spec"]["name"] == "from_page" and len(data["members"]) == 1
    assert data["estimate"]["cells"]["method=seqgan"]["per_run_s"] > 0
    run_dir = runs_root / data["members"][0]["run"]
    assert RunDB(run_dir).state()["status"] == "queued" and RunDB(run_dir).state()["study"] == made["id"]
    assert at.selectbox(key="studies.pick").value == made["id"], "the new study is the one shown"


@pytest.mark.parametrize("key", ["init_from", "data.options.oracle_file", "data.options.path"])
def test_a_setting_that_names_a_server_file_cannot_be_typed(runs_root, key):
    at = open_page(STUDIES)
    at.text_input(key="studies.b.setkey").input(key)
    at.text_input(key="studies.b.setvalues").input("/etc/passwd").run()
    no_exception(at)
    assert any("names a file on the server" in e.value for e in at.error)
    assert not _has(at, "studies.new.measure")
    assert not _has(at, "studies.new.start")


def _has(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_paper_verdict_reads_the_temperature_matched_row():
    from ui.paper_view import table1_frame, table1_verdict
    rows = [{"cell": "method=mle", "n": 3, "values": {"0": 3.1, "1": 3.12, "2": 3.11}},
            {"cell": "method=seqgan", "n": 3, "values": {"0": 2.80, "1": 2.82, "2": 2.81}},
            {"cell": "method=mle at τ matching method=seqgan's NLL-test", "n": 3, "taus": {"0": 0.8, "1": 0.85, "2": 0.9},
             "values": {"0": 2.79, "1": 2.80, "2": 2.78}, "not_reached": []}]
    tab = {"metric": "nll/oracle", "reference": "method=seqgan", "samples": 0, "rows": rows}
    said = " ".join(table1_verdict(tab))
    assert "**SeqGAN beats MLE**" in said and "**does not survive** the temperature-matched MLE control" in said
    rows[2]["values"] = {"0": 3.0, "1": 3.02, "2": 3.01}
    said = " ".join(table1_verdict(tab))
    assert "**survives** the temperature-matched" in said and "survives every control" in said
    frame = table1_frame(tab)
    assert list(frame["method"])[-1] == "MLE, τ-matched" and list(frame["ours: mean ± std (seeds)"])[-1] == \
        "3.010 ± 0.010 (3)"
