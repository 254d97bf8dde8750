"""The Class page's parts: joining (visitors), the teacher's desk (code, QR, rules, students, shared runs,
trash) and what a student may do."""
from __future__ import annotations

import dataclasses
import io
import os
import time

import pandas as pd
import streamlit as st

from seqgan_core import classroom as C
from seqgan_core.classroom.room import disk_mb, owned
from seqgan_core.config import PRESET_HELP
from seqgan_core.data import registry
from seqgan_core.runs import trash

from . import lesson_link as L, roles as R, state as U

CLASS_URL = "SEQGAN_CLASS_URL"      # the address students type (set by `class serve`; else this browser's)


def base_url() -> str:
    url = os.environ.get(CLASS_URL) or st.context.url or "http://localhost:8501"
    return url.rstrip("/").removesuffix("/class")


def join_link(code: str) -> str:
    """The site's root: a visitor's only page is the join page, and it is served there."""
    return f"{base_url()}/?{R.JOIN}={code}"


def qr_png(text: str) -> bytes:
    """The QR code of text as a PNG (segno; dark on white with a quiet zone, large enough for a back row)."""
    import segno
    buf = io.BytesIO()
    segno.make(text, error="m").save(buf, kind="png", scale=10, border=3)
    return buf.getvalue()


# --- visitors ----------------------------------------------------------------------------------------------

def join_page() -> None:
    st.title("Join the class")
    join_form()


def join_form() -> None:
    """Class code (filled in from a join link) and a display name → a student pass in the URL."""
    refused = st.session_state.pop(R.REFUSED, None)
    if refused:
        st.error(refused, icon=":material/block:")
    st.markdown("Type the code on your teacher's screen (or scan its QR code) and the name your teacher will "
                "see next to your runs.")
    with st.form("class.join"):
        code = st.text_input("Class code", value=st.query_params.get(R.JOIN, ""), max_chars=12, key="class.code")
        name = st.text_input("Your name", max_chars=C.room.NAME_MAX, key="class.name")
        go = st.form_submit_button("Join the class", type="primary", icon=":material/login:")
    if go:
        room = C.Room()
        if not room.check_code(code):
            st.error("That is not this class's code: check it on the teacher's screen.")
            return
        sid, why = room.add_student(name)
        if why:
            st.error(why)
            return
        if R.JOIN in st.query_params:
            del st.query_params[R.JOIN]
        R.sign_in(R.student_token(sid))
        if L.PARAM in st.query_params:
            st.rerun()          # at the site's root, which is Setup for a student: the lesson opens
        st.switch_page(R.CLASS_PAGE)
    with st.expander("I am the teacher"):
        with st.form("class.teacher"):
            key = st.text_input("Teacher key (printed where the class was started)", type="password")
            if st.form_submit_button("Sign in as the teacher"):
                if C.is_teacher_key(key):
                    R.sign_in(R.teacher_token())
                    st.switch_page(R.CLASS_PAGE)
                st.error("That is not this class's teacher key.")


def student_desk(role: R.Role) -> None:
    """What a student may do, and a way out."""
    rules = C.Room().rules()
    st.success(f"You are in the class as **{U.md_plain(role.name)}**.", icon=":material/how_to_reg:")
    st.markdown("You see the runs your teacher shares, read-only, and your own runs.")
    if rules.students_may_start:
        st.markdown(rules_text(rules))
    else:
        st.caption("Starting runs of your own is closed for now: your teacher can open it.")
    st.caption("Keep this tab's address: it is your pass (a refresh keeps you in the class).")
    if st.button("Leave the class", icon=":material/logout:"):
        st.session_state.pop(R.SESSION, None)
        del st.query_params[R.TOKEN]
        st.rerun()


def rules_text(rules: C.Rules) -> str:
    return (f"You may start runs from the presets **{', '.join(rules.presets)}** on **{', '.join(rules.datasets)}**; "
            f"N ≤ {rules.max_rollout_num}, at most {rules.max_adv_rounds} adversarial rounds, {rules.max_active} "
            f"at once, {rules.max_total} in all, {rules.max_disk_mb} MB of disk, one start every "
            f"{rules.min_start_interval_s} s. Your runs queue behind the teacher's.")


# --- the teacher ----------------------------------------------------------------------------------------

def code_panel(role: R.Role) -> None:
    """The code, the join link and its QR code, large enough to read from the back of the room."""
    room = C.Room()
    if role.local:
        st.info("Class mode is off: this server listens on this machine only, and you are its only user. To open "
                "it to the room: `python -m seqgan_core class serve`.", icon=":material/lock:")
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        st.markdown("**Class code**")
        st.html(f"<div style='font: 700 64px/1.1 ui-monospace, monospace; letter-spacing: .12em'>{room.code}</div>")
        st.markdown("**Join link**")
        st.code(join_link(room.code), language=None, wrap_lines=True)
        st.caption("Students open the link (or scan the code), type a name, and are in: no accounts.")
        row = st.container(horizontal=True, wrap=True)
        if row.button("New code", icon=":material/refresh:", key="class.newcode",
                      help="Students already in stay in; the old code stops letting new ones join.") \
                and R.allow("class"):
            room.new_code()
            st.rerun()
        if row.button("New class", icon=":material/restart_alt:", key="class.newclass",
                      help="A new code and an empty list: every student pass handed out before stops working. "
                           "Runs, rules and shared runs stay.") and R.allow("class"):
            room.new_class()
            st.rerun()
    with right:
        st.image(qr_png(join_link(room.code)), caption="Scan to join", width=260)


def rules_form() -> None:
    """The class's rules, checked by the engine before they are kept."""
    rules = C.Room().rules()
    fields = {f.name: f.metadata["help"] for f in dataclasses.fields(C.Rules)}
    with st.form("class.rules"):
        may = st.toggle(fields["students_may_start"], value=rules.students_may_start)
        left, right = st.columns(2)
        presets = left.multiselect(fields["presets"], list(PRESET_HELP), default=rules.presets)
        datasets = right.multiselect(fields["datasets"], list(registry()), default=rules.datasets)
        cols = st.columns(3)
        numbers = {}
        for i, name in enumerate(("max_rollout_num", "max_adv_rounds", "max_active", "max_total", "max_disk_mb",
                                  "min_start_interval_s")):
            numbers[name] = cols[i % 3].number_input(fields[name], min_value=0, value=int(getattr(rules, name)),
                                                     step=1, key=f"class.rule.{name}")
        saved = st.form_submit_button("Save the rules", icon=":material/save:")
    if saved and R.allow("class"):
        errors = C.Room().set_rules(C.Rules(students_may_start=may, presets=presets, datasets=datasets,
                                            **{k: int(v) for k, v in numbers.items()}))
        if errors:
            st.error("; ".join(errors))
        else:
            st.toast("Rules saved: they apply to the next start.")


def watchers_line() -> None:
    """How many watch Live pages now, and the pace their shared refresh budget gives them."""
    from . import live
    n = live.WATCHERS.count()
    pace = live.Watchers.pace(n)
    st.caption(f"{n} watching a Live page now (students on runs not theirs, read-only links). "
               + (f"More than {live.Watchers.FULL_RATE}: their pages refresh {pace}× less often, so that the "
                  "training keeps its speed." if pace > 1 else "Their pages refresh at the normal pace."))


def students_table(runs: list[dict]) -> None:
    """Who joined, their runs and disk; removing a student ends their pass at once."""
    room = C.Room()
    students = room.students()
    if not students:
        st.caption("Nobody has joined yet.")
        return
    rows = []
    for sid, s in students.items():
        mine = owned(runs, sid)
        rows.append({"name": s["name"], "joined": time.strftime("%H:%M", time.localtime(s["joined"])),
                     "runs": len(mine), "training": sum(r["status"] in C.room.ACTIVE for r in mine),
                     "starts": len(room.starts(sid)), "disk (MB)": round(disk_mb(mine), 1)})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    who = left.selectbox("Student", list(students), format_func=lambda s: students[s]["name"], key="class.who")
    if right.button("Remove from the class", icon=":material/person_remove:", key="class.remove") \
            and R.allow("class"):
        room.remove_student(who)
        st.rerun()


def sharing(runs: list[dict]) -> None:
    """Which runs the class sees, and a read-only link to any one run (for a projector or a page)."""
    room = C.Room()
    by_id = {r["id"]: r for r in runs}
    if not by_id:
        st.caption("No runs yet: start one on Setup (in class mode the teacher's runs are shared as they start).")
        return
    shared = [i for i in room.shared() if i in by_id]
    chosen = st.multiselect("Runs every student sees", list(by_id), default=shared, key="class.shared",
                            format_func=lambda i: U.run_label(by_id[i]))
    if set(chosen) != set(shared) and R.allow("class"):
        for i in set(chosen) ^ set(shared):
            room.share(i, i in chosen)
        st.rerun()
    one = st.selectbox("Read-only link to one run", list(by_id), key="class.viewrun",
                       format_func=lambda i: U.run_label(by_id[i]))
    st.code(f"{base_url()}/live?{R.TOKEN}={R.viewer_token(one)}&run={one}", language=None, wrap_lines=True)
    st.caption("Whoever opens this link sees that run only and changes nothing (valid 7 days, or until the "
               "teacher key is rotated).")


def trash_panel() -> None:
    """Deleted runs, until the teacher puts one back or empties the trash."""
    root = U.jobs().root
    items = trash.trashed(root)
    if not items:
        st.caption("The trash is empty.")
        return
    st.dataframe(pd.DataFrame([{"run": t["name"], "deleted": time.strftime("%Y-%m-%d %H:%M",
                                                                         time.localtime(t["deleted"])),
                                "MB": round(t["mb"], 1)} for t in items]), hide_index=True, width="stretch")
    row = st.container(horizontal=True, wrap=True)
    name = row.selectbox("Run", [t["name"] for t in items], key="class.trashpick", label_visibility="collapsed")
    if row.button("Put back", icon=":material/restore_from_trash:", key="class.restore") and R.allow("class"):
        try:
            trash.restore(root, name)
        except (ValueError, FileExistsError) as e:
            st.error(str(e))
        else:
            st.rerun()
    if row.button("Empty the trash", icon=":material/delete_forever:", key="class.empty") and R.allow("class"):
        trash.empty_trash(root)
        st.rerun()


def lesson_builder(runs: list[dict]) -> None:
    """A link that opens Setup with a preset's or a run's settings, chosen settings locked or hidden."""
    from seqgan_core.config import preset

    from .setup_form import FORM_GROUPS
    sources = {f"preset {p}": p for p in PRESET_HELP} | {f"run {r['id']}": r for r in runs}
    source = st.selectbox("Settings from", list(sources), key="class.lesson.source")
    chosen = sources[source]
    cfg = preset(chosen).to_dict() if isinstance(chosen, str) else chosen["config"]
    paths = [L.PRESET, L.DATA] + [p for group in FORM_GROUPS.values() for p in group]
    left, right = st.columns(2)
    lock = left.multiselect("Locked (shown, not editable)", paths, default=[L.PRESET, L.DATA],
                            key="class.lesson.lock")
    hide = right.multiselect("Hidden", [p for p in paths if p not in lock], key="class.lesson.hide")
    st.code(f"{base_url()}/?{L.PARAM}={L.make(cfg, lock, hide)}", language=None, wrap_lines=True)
    st.caption("The link is the whole lesson (nothing is stored here) and it is signed: changing it by hand "
               "breaks it. Students who have not joined yet join first, then land on the lesson.")
