"""What a browser session remembers (UI choices only) and how every page finds the runs.

Training state never lives here: runs are directories that seqgan_core's JobManager owns, so every
session, tab and restart of `streamlit run` sees the same runs. A session keeps only which run it looks
at, under namespaced keys initialised behind a guard.
"""
from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from seqgan_core.runs import JobManager, RunDB, default_root
from seqgan_core.runs.jobs import is_alive
from seqgan_core.runs.store import LIVE_STATUSES, reader

KEY_RUN = "studio.run_id"          # the run the Live, Roll-outs and Learn pages show
KEY_CLONE = "studio.clone_config"  # a config dict the Runs page hands to Setup
PICKER = "studio.run_picker"       # the sidebar widget that shows KEY_RUN
ACTIVE_STATUSES = ("queued", "running", "paused")
# Material icons ship with Streamlit, so they render in every browser (emoji need a system font).
STATUS_ICONS = {"queued": ":material/hourglass_top:", "running": ":material/play_circle:",
                "paused": ":material/pause_circle:", "finished": ":material/check_circle:",
                "stopped": ":material/stop_circle:", "failed": ":material/error:", "interrupted": ":material/warning:"}
# Setup's value widgets (not its buttons): their values must survive a visit to another page.
DRAFT_PREFIXES = ("setup.f.", "setup.opt.", "setup.preset", "setup.dataset", "setup.device")


def init_session() -> None:
    """Create this session's keys once; a run named in the URL (?run=...) wins on a fresh tab."""
    if KEY_RUN not in st.session_state:
        st.session_state[KEY_RUN] = st.query_params.get("run")
    st.session_state.setdefault(KEY_CLONE, None)
    keep_drafts()


def keep_drafts() -> None:
    """Streamlit forgets a widget's value when a page without that widget runs; re-assigning the values
    before any widget is drawn keeps the Setup draft while the user looks at another page."""
    for key in [k for k in st.session_state if str(k).startswith(DRAFT_PREFIXES)]:
        st.session_state[key] = st.session_state[key]


def jobs() -> JobManager:
    """The job manager of the runs root ($SEQGAN_RUNS or ./runs), read at call time so tests can point it
    elsewhere."""
    return JobManager(default_root())


def all_runs() -> list[dict]:
    """Every run this session may see (roles.visible), newest first, after the manager has marked dead workers
    and started queued runs."""
    from .roles import visible
    jm = jobs()
    runs = jm.runs()
    if any(r["status"] == "queued" for r in runs):
        jm.schedule()
        runs = jm.runs()
    return visible(runs)


NAME_MAX = 60                      # characters of a run's name shown anywhere (the record keeps it whole)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~<>$:&])")   # what makes inline Markdown of plain text


def short_name(cfg: dict, limit: int = NAME_MAX) -> str:
    """A run's name on one line, cut to `limit` characters (with …): a name is the user's text, never
    layout."""
    name = " ".join(str(cfg.get("name") or "run").split()) or "run"
    return name if len(name) <= limit else name[:limit - 1].rstrip() + "…"


def md_plain(text: str) -> str:
    """`text` escaped for st.markdown and for labels: every Markdown, maths ($) and colour-directive
    (:red[…]) character is shown as itself."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def run_label(run: dict) -> str:
    """One line naming a run in pickers (plain text: options are not Markdown): name, data set, status
    and the run id."""
    cfg = run["config"]
    return f"{short_name(cfg)} · {cfg['data']['name']} · {run['status']} · {run['id']}"


def select(run_id: str | None) -> None:
    """Make run_id the session's run and put it in the URL, so a reload or a shared link shows it."""
    st.session_state[KEY_RUN] = run_id
    if run_id:
        st.query_params["run"] = run_id


def default_run(runs: list[dict]) -> dict | None:
    """The newest active run, else the newest run."""
    for r in runs:
        if r["status"] in ACTIVE_STATUSES:
            return r
    return runs[0] if runs else None


def run_picker(runs: list[dict]) -> dict | None:
    """A sidebar picker of every run; returns the chosen run (None when there is none)."""
    if not runs:
        return None
    ids = [r["id"] for r in runs]
    wanted = st.session_state.get(KEY_RUN)
    current = wanted if wanted in ids else default_run(runs)["id"]
    if current != wanted or st.query_params.get("run") != current:
        select(current)
    # The widget follows the session's run (another page may have changed it, e.g. Start or Open).
    st.session_state[PICKER] = current
    by_id = {r["id"]: r for r in runs}
    st.sidebar.selectbox("Run", ids, key=PICKER, format_func=lambda i: run_label(by_id[i]),
                         on_change=lambda: select(st.session_state[PICKER]),
                         help="Every run under the runs folder; all browser tabs see the same ones.")
    return by_id[current]


def require_run(runs: list[dict], empty: str) -> dict:
    """The run picked in the sidebar; with no run at all, say `empty`, link to Setup and stop the page."""
    run = run_picker(runs)
    if run is None:
        st.info(empty)
        st.page_link("app_pages/setup.py", label="Go to Setup", icon=":material/tune:")
        st.stop()
    return run


def fresh_status(run_dir: Path) -> tuple[str, dict]:
    """The run's status and state read now; a live status whose worker has died is corrected by the
    manager (it marks the run interrupted), a queued run is given its chance to start."""
    db = reader(run_dir)
    state = db.state()
    status = state.get("status", "queued")
    if (status in LIVE_STATUSES and not is_alive(state)) or status == "queued":
        jm = jobs()
        jm.schedule() if status == "queued" else jm.runs()
        state = db.state()
        status = state.get("status", "queued")
    return status, state
