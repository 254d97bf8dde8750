"""SeqGAN Studio: watch and steer SeqGAN's adversarial game. Start with `streamlit run app.py`."""
import streamlit as st

from ui import roles, state

st.set_page_config(page_title="SeqGAN Studio", page_icon=":material/casino:", layout="wide")
state.init_session()
role = st.session_state[roles.ROLE] = roles.resolve()
# A projector (1024 × 768) keeps most of its width for the page: a narrower sidebar and less padding.
st.html("""<style>
@media (max-width: 1200px) {
  section[data-testid="stSidebar"] {width: 232px !important; min-width: 232px !important}
  [data-testid="stMainBlockContainer"] {padding-left: 1.25rem; padding-right: 1.25rem}
}
</style>""")

# The page scripts live in app_pages/, not pages/: Streamlit treats a folder named pages/ as the old
# multipage layout, and a fresh server whose first visitor opens /live would then skip this script.
pages = [
    st.Page("app_pages/setup.py", title="Setup", icon=":material/tune:", default=True),
    st.Page("app_pages/live.py", title="Live", icon=":material/monitoring:"),
    st.Page("app_pages/rollouts.py", title="Roll-outs", icon=":material/account_tree:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/folder_open:"),
    st.Page("app_pages/studies.py", title="Studies", icon=":material/science:"),
    st.Page("app_pages/paper.py", title="Paper", icon=":material/article:"),
    st.Page("app_pages/learn.py", title="Learn", icon=":material/school:"),
]
roles.badge(role)
roles.navigation(role, pages).run()
