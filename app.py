"""SeqGAN Studio: watch and steer SeqGAN's adversarial game. Start with `streamlit run app.py`."""
import streamlit as st

from ui import state

st.set_page_config(page_title="SeqGAN Studio", page_icon=":material/casino:", layout="wide")
state.init_session()

pages = [
    st.Page("pages/setup.py", title="Setup", icon=":material/tune:", default=True),
    st.Page("pages/live.py", title="Live", icon=":material/monitoring:"),
    st.Page("pages/rollouts.py", title="Roll-outs", icon=":material/account_tree:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/folder_open:"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
]
st.navigation(pages).run()
