"""Studies: many runs as one experiment (a base preset × axes × seeds), its cost, progress and results."""
import streamlit as st

from seqgan_core.runs import default_root
from seqgan_core.studies import Study
from seqgan_core.studies.report import stored_studies
from ui import studies_view as V

st.title("Studies")
st.caption("A study is a base configuration and axes — methods, schedules, any setting, seeds — run as one "
           "experiment. Its runs are ordinary runs (the Runs page lists them); the table below compares its cells "
           "over seeds.")
studies = stored_studies(default_root())

with st.expander("Start a study", expanded=not studies, icon=":material/add:"):
    spec, problems = V.chosen_spec()
    for p in problems:
        st.error(p)
    if spec is not None and not problems:
        if V.launch_panel(spec, "studies.new"):
            st.rerun()

if not studies:
    st.info("No study is stored under this server's runs folder yet. Start one above, or from the command line: "
            "`python -m seqgan_core study run studies/table1_classroom.toml`.")
    st.stop()

chosen = V.picker(studies)
study = Study(chosen["dir"])
if study.spec.description:
    st.caption(study.spec.description)
st.subheader("Progress")
V.watch(study.dir)
st.subheader("Results")
V.results_section(study, f"studies.res.{study.dir.name}")
