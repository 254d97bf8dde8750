"""Setup: a data set, a schedule (a preset or each value by hand), a device; checked, measured, started."""
import streamlit as st

from seqgan_core.config import warnings_for

from ui import datasets, lesson_link as L, roles as R, setup_form as F

st.title("Setup")
st.caption("Choose what G learns to generate and how the adversarial game is played, then press Start. "
           "Training runs in its own process: closing the tab never stops it.")
closed = R.refusal("start")      # a viewer, or a student before the teacher opens starting: nothing to set up
if closed:
    st.info(closed, icon=":material/lock:")
    st.stop()
F.init()

left, right = st.columns(2)
with left:
    F.preset_picker()
with right:
    data_name, options = datasets.picker(F.DATASET, st.session_state[F.BASE], disabled=L.mode(L.DATA) is not None)

device = F.device_picker()
cfg, errors = F.build(data_name, options, device)
fit_note = F.fit_start(cfg) if cfg is not None else None
if cfg is not None:
    bad_data = F.data_problem(data_name, options, int(st.session_state["setup.f.seed"]))
    errors = F.problems(cfg, datasets.shape_hint(data_name, options)) + ([bad_data] if bad_data else [])
    errors += [p for p in [L.problem(cfg)] if p]
F.groups(errors)

st.subheader("Data")
datasets.preview_section(data_name, options, int(st.session_state["setup.f.seed"]))

st.subheader("Cost on this device")
if cfg is not None and not errors:
    F.estimate_panel(cfg, datasets.sizes(data_name, options))

bad_data = datasets.rejected(data_name, options)        # "Load and check" above may have just failed
if bad_data and bad_data not in errors:
    errors = errors + [bad_data]

st.subheader("Start")
if fit_note:
    st.info(fit_note, icon=":material/swap_horiz:")
for message in errors:
    st.error(message)
if cfg is not None and not errors:
    for warning in warnings_for(cfg):
        st.warning(warning, icon=":material/info:")
    for warning in F.cost_warnings(cfg, F.measured(cfg) or {}):
        st.warning(warning, icon=":material/hourglass_bottom:")
    st.markdown(F.summary(cfg))
refused = R.refusal("start", cfg=cfg) if cfg is not None and not errors else None
if refused:
    st.warning(refused, icon=":material/lock:")
if st.button("Start", type="primary", icon=":material/play_arrow:", disabled=bool(errors or refused),
             key="setup.start"):
    if F.start(cfg):
        st.switch_page("app_pages/live.py")
