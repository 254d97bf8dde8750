import streamlit as st
st.title('setup')
