"""The Runs page: the table, comparison, downloads, CLI command, resume and delete."""
from seqgan_core.runs import RunDB

from test_app_support import add_run, no_exception, no_workers, open_page  # noqa: F401

PAGE = "app_pages/runs.py"


def test_no_runs(runs_root):
    at = open_page(PAGE)
    no_exception(at)
    assert "No runs yet" in at.info[0].value


def test_table_comparison_downloads_and_cli(runs_root):
    first = add_run(runs_root)
    add_run(runs_root, "20990101-000001-oracle-two")
    at = open_page(PAGE)
    no_exception(at)
    table = at.dataframe[0].value
    assert len(table) == 2 and set(table["status"]) == {"finished"}
    assert {"schedule", "device", "duration", "NLL-oracle", "NLL-test"} <= set(table.columns)
    assert len(at.multiselect(key="runs.compare").value) == 2
    assert any('"type": "scatter"' in c.proto.spec or '"type":"scatter"' in c.proto.spec
               for c in at.get("plotly_chart"))
    labels = {b.proto.label for b in at.get("download_button")}
    assert labels == {"Metrics (CSV)", "Config (JSON)", "Checkpoint", "Samples (text)"}
    assert any(f"--config {first.parent}" in c.value for c in at.code)


def test_resume_a_stopped_run(runs_root, no_workers):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="stopped")
    at = open_page(PAGE)
    at.button(key="runs.resume").click().run()
    no_exception(at)
    assert RunDB(run_dir).state()["status"] == "queued"
    assert at.title[0].value == "Live"


def test_failed_run_shows_its_error(runs_root):
    run_dir = add_run(runs_root)
    RunDB(run_dir).set_state(status="failed", error="RuntimeError: out of memory")
    (run_dir / "worker.log").write_text("Traceback ...\nRuntimeError: out of memory\n")
    at = open_page(PAGE)
    assert "RuntimeError: out of memory" in at.error[0].value
    assert not at.button(key="runs.resume").disabled


def test_delete_needs_confirmation(runs_root):
    run_dir = add_run(runs_root)
    at = open_page(PAGE)
    assert at.button(key="runs.delete").disabled
    at.checkbox(key="runs.confirm").check().run()
    at.button(key="runs.delete").click().run()
    no_exception(at)
    assert not run_dir.exists()
    assert "No runs yet" in at.info[0].value
