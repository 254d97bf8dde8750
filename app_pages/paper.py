"""Paper: the paper's Table 1 and Figure 3 beside ours, read from the studies stored on this server."""
import streamlit as st

from ui import paper_view as V

st.title("Paper")
st.caption("Yu et al. (2017), SeqGAN: the published numbers beside the same experiments run here, as studies. "
           "Ours are read from the run store — nothing on this page is typed in — with their scale and seeds.")
V.table1_section()
st.divider()
V.fig3_section()
