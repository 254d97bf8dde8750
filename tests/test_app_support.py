"""Shared helpers of the app's tests (imported by tests/test_app_*.py), and tests of the UI's own helpers.

A real run is trained once per test session (a few seconds, through the engine's CLI) and copied into
each test's runs root, so every page is tested against real numbers from real training.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from seqgan_core.cli import main as cli_main
from seqgan_core.runs import JobManager, RunDB
from seqgan_core.runs.jobs import _process_start_time

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60                    # the first run imports torch; this machine is shared
SMALL = ["pretrain_g_epochs=2", "pretrain_d_rounds=1", "adv_rounds=2", "nll_samples=64", "num_negatives=128",
         "name=tiny-test"]


def train_by_cli(preset: str, run_id: str, settings: list[str]) -> Path:
    """A finished run of a preset with `settings` changed, trained by the engine's own CLI in a temp folder."""
    out = Path(tempfile.mkdtemp(prefix="seqgan_app_tests_")) / run_id
    args = ["train", "--preset", preset, "--out", str(out)]
    for item in settings:
        args += ["--set", item]
    assert cli_main(args) == 0
    return out


@functools.lru_cache(maxsize=1)
def template_run() -> Path:
    """A finished tiny run, trained once per session."""
    return train_by_cli("tiny", "20990101-000000-oracle-test", SMALL)


def add_run(root: Path, run_id: str = "20990101-000000-oracle-test") -> Path:
    """A copy of the template run under root (each test may change its copy)."""
    target = Path(root) / run_id
    shutil.copytree(template_run(), target)
    return target


def make_alive(run_dir: Path, **progress) -> None:
    """Mark a run as running in this very process, so the job manager sees a live worker."""
    state = RunDB(run_dir).state()
    prog = {**state.get("progress", {}), "phase": "adversarial", "index": 1, "phase_total": 2, "g_done": 0,
            "d_done": 0, "paused": False, **progress}
    RunDB(run_dir).set_state(status="running", pid=os.getpid(), pid_start=_process_start_time(os.getpid()),
                             progress=prog)


def controls(run_dir: Path) -> list[tuple[str, str]]:
    """(command, payload JSON) of every control request the UI wrote."""
    with RunDB(run_dir).connect() as con:
        return con.execute("SELECT command, payload FROM control ORDER BY id").fetchall()


def open_page(page: str | None = None) -> AppTest:
    """The app, run once, then switched to a page (e.g. 'app_pages/live.py') and run again."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page).run()
    return at


def no_exception(at: AppTest) -> None:
    """The script ran without an uncaught exception."""
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture
def no_workers(monkeypatch):
    """Runs stay queued: no worker process is started by the test."""
    monkeypatch.setattr(JobManager, "schedule", lambda self: [])


# --- tests of the UI helpers ----------------------------------------------------------------------------

def test_series_reads_only_new_rows_and_rereads_the_shared_last_step(tmp_path):
    from ui.series import SeriesCache
    db = RunDB(tmp_path)
    db.init()
    db.put_scalars(0, "mle", 0, {"nll/test": 3.0})
    db.put_scalars(1, "adversarial", 5, {"nll/test": 2.9})
    cache = SeriesCache()
    first = cache.get(tmp_path)
    assert len(first.frame) == 2 and cache.rows_read == 2
    db.put_scalars(1, "adversarial", 6, {"g/reward_mean": 0.4})   # a later write to the same step
    db.put_scalars(2, "adversarial", 6, {"d/loss": 0.7})
    second = cache.get(tmp_path)
    assert sorted(second.frame["name"]) == ["d/loss", "g/reward_mean", "nll/test", "nll/test"]
    assert cache.rows_read == 2 + 3                                 # step 1 again, then the new rows
    cache.get(tmp_path)
    assert cache.rows_read == 2 + 3                                 # nothing written since: no query at all
    db.put_scalars(2, "adversarial", 6, {"d/loss": 0.6})            # the last step's value replaced
    third = cache.get(tmp_path)
    assert cache.rows_read == 2 + 3 + 1 and third.by_name["d/loss"]["value"].tolist() == [0.6]


def test_thirty_viewers_of_an_unchanged_run_query_it_once(tmp_path, monkeypatch):
    """The change mark moves with every write of another connection and only then."""
    from seqgan_core.runs.store import reader
    from ui.series import SeriesCache
    db = RunDB(tmp_path)
    db.init()
    db.put_scalars(0, "mle", 0, {"nll/test": 3.0})
    r = reader(tmp_path)
    mark = r.change_mark()
    assert r.change_mark() == mark
    db.put_scalars(1, "mle", 1, {"nll/test": 2.0})
    assert r.change_mark() != mark
    cache, queries = SeriesCache(), []
    real = type(r).metrics_since
    monkeypatch.setattr(type(r), "metrics_since", lambda self, step=-1: queries.append(step) or real(self, step))
    for _ in range(30):
        cache.get(tmp_path)
    assert len(queries) == 1


def test_a_prepared_figure_sends_what_the_figure_would():
    """The plain form made once is what st.plotly_chart would have made from the figure on each render."""
    import numpy as np
    import plotly.graph_objects as go
    import plotly.io

    from ui.live import FigureCache, PreparedFigure
    fig = go.Figure(go.Scatter(x=np.arange(50.0), y=np.linspace(0, 1, 50), name="nll"))
    fig.update_layout(title="t", height=300)
    prepared = FigureCache().get(("run", "nll"), lambda: fig)
    assert isinstance(prepared, PreparedFigure)
    assert prepared.to_dict() is prepared.to_dict()                  # made once, not per render
    sent = json.loads(plotly.io.to_json(prepared.to_dict(), validate=False))
    assert sent == json.loads(plotly.io.to_json(fig.to_dict(), validate=False))


def test_series_reloads_when_the_worker_restarts(tmp_path):
    from ui.series import SeriesCache
    db = RunDB(tmp_path)
    db.init()
    db.put_scalars(0, "mle", 0, {"nll/test": 3.0})
    db.put_scalars(1, "mle", 1, {"nll/test": 2.0})
    cache = SeriesCache()
    assert len(cache.get(tmp_path, generation=1).frame) == 2
    db.truncate_after(0)                                            # a resume drops rows after its checkpoint
    assert len(cache.get(tmp_path, generation=2).frame) == 1


def test_curve_spreads_several_steps_of_one_round():
    import pandas as pd

    from ui.series import RunSeries, curve
    frame = pd.DataFrame([(i, "d/loss", "adversarial", 10, 0.5, 0) for i in range(4)],
                         columns=["step", "name", "phase", "x", "value", "t"])
    series = RunSeries(frame=frame, by_name={"d/loss": frame})
    x, _ = curve(series, "d/loss")
    assert list(x) == [10, 10.25, 10.5, 10.75]


def test_heatmap_keeps_repeated_tokens_apart_and_a_centred_scale():
    from ui.charts import q_heatmap
    snap = {"q": [[0.2, 0.9], [0.5, 0.5]], "tokens": [["7", "7"], ["7"]], "round": 0, "g_step": 0,
            "rollout_num": 4}
    fig = q_heatmap(snap, "run-a")
    trace = fig.data[0]
    assert list(trace.x) == [1, 2] and list(trace.y) == [1, 2]      # integers: two '7' cells, not one
    assert trace.zmid == 0 and trace.zmin == -trace.zmax > -0.5     # Q − median, range from the data
    assert fig.layout.uirevision == "run-a"
    assert np.asarray(trace.text).shape == (2, 2)                   # short rows padded


def test_ribbon_marks_the_current_phase_and_round_chips():
    from ui.ribbon import ribbon_html
    sched = {"pretrain_g_epochs": 3, "pretrain_d_rounds": 2, "adv_rounds": 4}
    html = ribbon_html({"phase": "adversarial", "index": 1, "g_done": 1, "d_done": 0,
                        "schedule": {"g_steps": 1, "d_steps": 2, "k_epochs": 3, "rollout_num": 8}}, sched)
    assert "round 2 of 4" in html and html.count("<span class='sg-chip") == 3 and "k=3" in html
    assert html.count("class='sg-seg done'") == 2 and "sg-seg active" in html


def test_shaded_samples_mark_the_first_grammatical_error():
    from ui.tokens import shaded_block
    html = shaded_block([["the", "dog", "sleep", "."], ["the", "dogs"]], [[0.6, 0.5, 0.1, 0.1], [0.5, 0.4]],
                        [2, 2])
    first, second = (part.split("sg-key")[0] for part in html.split("<div class='sg-seq'>")[1:3])
    assert first.count("sg-err") == 1 and "first grammatical error" in first.split("sleep")[0]
    assert "✗ ends here" in second and "sg-err" not in second
    assert "class='sg-tok sg-err'" not in shaded_block([["a", "b"]], [[0.5, 0.5]])
