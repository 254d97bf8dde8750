"""Runs: every run on this server, compared, exported, cloned, resumed or deleted."""
import streamlit as st

from ui import runs_view as V, state

st.title("Runs")
runs = state.all_runs()
if not runs:
    st.info("No runs yet. Start one on the Setup page; every run appears here, whoever started it.")
    st.page_link("app_pages/setup.py", label="Go to Setup", icon=":material/tune:")
    st.stop()

st.dataframe(V.table(runs), hide_index=True, width="stretch")
st.caption("Runs are worker processes: closing the browser or restarting the app leaves them running.")

st.subheader("Compare runs")
V.overlay(runs)

run = state.run_picker(runs)
st.subheader(f"One run: {state.md_plain(state.run_label(run))}")
st.caption("Choose another in the sidebar.")
V.problems(run, run["state"])
target = V.actions(run)
if target:
    st.switch_page(target)
V.downloads(run, run["state"])
V.reproduce(run)
