"""Class: join it (visitors), run it (the teacher: code, QR, rules, students, shared runs, trash)."""
import streamlit as st

from seqgan_core import classroom as C
from ui import class_view as V, roles as R, state

role = R.current()
if role.kind == R.VISITOR:
    V.join_page()
    st.stop()
st.title("Class")
if role.kind == R.STUDENT:
    V.student_desk(role)
    st.stop()
if role.kind == R.VIEWER:
    st.info("This link shows one run, read-only: open the Live page.", icon=":material/visibility:")
    st.page_link("app_pages/live.py", label="Go to Live", icon=":material/monitoring:")
    st.stop()

C.ensure_key()              # links are signed with it (off class mode too, so lessons can be prepared)
V.code_panel(role)
runs = state.all_runs()
st.subheader("Rules for students")
V.rules_form()
st.subheader("Students")
V.watchers_line()
V.students_table(runs)
st.subheader("Shared runs and read-only links")
V.sharing(runs)
st.subheader("A lesson by link")
V.lesson_builder(runs)
st.subheader("Trash")
V.trash_panel()
