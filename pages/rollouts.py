import streamlit as st
st.title('rollouts')
