"""Live: one run as it trains, refreshed every second without reloading the page."""
import streamlit as st

from ui import lesson_view, live, roles, state

REFRESH_S = 1.0
# A class's watchers (students on a run not theirs, viewer links) refresh the status every 2 s and the charts,
# which change once a g-step, d-step or evaluation ends, every 5 s; beyond ten watchers on this server all of
# them slow down together (live.Watchers), so that a class costs the server what ten watchers do
# (benchmarks/bench_class.py).
WATCHER_REFRESH_S = 2.0
WATCHER_CHARTS_S = 5.0
WATCH_S = 3.0       # a run that is not training is only watched for a change of status

st.title("Live")
runs = state.all_runs()
run = state.require_run(runs, "No runs yet. Choose a data set and a schedule on the Setup page and press Start.")

status, run_state = state.fresh_status(run["dir"])
watcher = bool(roles.refusal("control", run=run))
if not watcher:                                  # watchers get no form (and the form checks again on sending)
    with st.sidebar:
        if status in state.LIVE_STATUSES:
            live.schedule_form(run["id"], run["dir"], run_state.get("progress") or {}, run["config"], status)
            st.caption("Changes apply from the next adversarial round and are recorded in the run's history.")
        else:
            said = {"queued": "is queued", "stopped": "was stopped", "interrupted": "was interrupted"}
            st.caption(f"This run {said.get(status, 'has ' + status)}: its schedule can be changed while it trains "
                       "or is paused.")

active = status in state.ACTIVE_STATUSES
pace = live.watcher_pace(WATCHER_REFRESH_S, WATCHER_CHARTS_S) if watcher and active else 1
# Only the two panels rerun, each on its own timer; a finished run is drawn once and not polled.
panel = st.fragment(live.panel, run_every=(WATCHER_REFRESH_S * pace if watcher else REFRESH_S) if active else None)
panel(str(run["dir"]), run["config"], status, live.schedule_signature(run_state.get("progress") or {}, run["config"]),
      watcher=watcher and active)
charts = st.fragment(live.charts_panel,
                     run_every=(WATCHER_CHARTS_S * pace if watcher else REFRESH_S) if active else None)
charts(str(run["dir"]), run["config"])
if not active:
    st.fragment(live.watch_status, run_every=WATCH_S)(str(run["dir"]), status)

lesson_view.controls_section(run, runs)
