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
