"""Who is looking: the teacher, a student, a viewer of one run, or a visitor who has not joined yet.

Off class mode (the default: the server listens on this machine only) the one local user is the teacher.
In class mode the role comes from a signed token in the URL (`?as=…`), so it survives a refresh; it is
checked again on every rerun, so a forged token, one signed with a rotated key, a student removed from the
class or a token of an earlier class gets nothing. Every action that changes state asks `refusal` on the
server side: a hidden button is not a check.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import streamlit as st

from seqgan_core import classroom as C
from seqgan_core.config import RunConfig
from seqgan_core.runs.store import reader

TOKEN = "as"                 # query parameter carrying the role's token
KEY = "key"                  # the teacher's key, once, from the link `class serve` prints; dropped at once
JOIN = "join"                # the class code, from the join link or QR code
SESSION = "class.token"      # the token this session proved (put back in the URL after a page switch)
REFUSED = "class.refused"    # why a token in the URL was refused, said once on the Class page
LOOPBACK = ("127.0.0.1", "localhost", "::1")

TEACHER, STUDENT, VIEWER, VISITOR = "teacher", "student", "viewer", "visitor"
FOR_RUN = ("control", "resume", "delete")   # the teacher on any run, a student on their own


@dataclass(frozen=True)
class Role:
    kind: str
    sid: Optional[str] = None       # a student's id
    name: str = ""                  # a student's display name
    run: Optional[str] = None       # the one run a viewer sees
    local: bool = False             # class mode off: the local user, who is the teacher

    @property
    def teacher(self) -> bool:
        return self.kind == TEACHER


def class_mode() -> bool:
    """Roles apply when the server was started in class mode or listens beyond this machine."""
    return C.class_mode() or str(st.get_option("server.address") or "") not in LOOPBACK


def _client() -> str:
    """The browser's address as the server sees it (None for this machine): a teacher's token is bound to it,
    so a photo of the projector's address bar does not make a student the teacher."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else "local"      # None on this machine (and in AppTest)


def teacher_token() -> str:
    return C.sign(C.TEACHER, {"ip": _client()})


def student_token(sid: str) -> str:
    return C.sign(C.STUDENT, {"c": C.Room().class_id, "s": sid})


def viewer_token(run_id: str) -> str:
    return C.sign(C.VIEWER, {"run": run_id})


def from_token(token: Optional[str]) -> Optional[Role]:
    """The role a token proves now, or None."""
    if not token:
        return None
    t = C.read_token(C.TEACHER, token)
    if t is not None:
        return Role(TEACHER) if t.get("ip") == _client() else None
    s = C.read_token(C.STUDENT, token)
    if s is not None:
        room = C.Room()
        student = room.student(str(s.get("s"))) if s.get("c") == room.class_id else None
        return Role(STUDENT, sid=str(s["s"]), name=student["name"]) if student else None
    v = C.read_token(C.VIEWER, token)
    if v is not None and isinstance(v.get("run"), str):
        return Role(VIEWER, run=v["run"])
    return None


def sign_in(token: str) -> None:
    """Make token this session's identity and put it in the URL (a refresh keeps it)."""
    st.session_state[SESSION] = token
    st.query_params[TOKEN] = token


def resolve() -> Role:
    """This session's role, proved again from its token on every rerun."""
    if not class_mode():
        return Role(TEACHER, local=True)
    if C.teacher_key() is None:          # class mode needs the key: nobody could prove to be the teacher
        st.error("This server is open to the network but has no teacher key: start it with "
                 "`python -m seqgan_core class serve`.", icon=":material/lock:")
        st.stop()
    params = st.query_params
    if KEY in params:                    # the teacher's own link: trade the key for a token, drop it from the URL
        given = params[KEY]
        del params[KEY]
        if C.is_teacher_key(given):
            sign_in(teacher_token())
        else:
            st.session_state[REFUSED] = "That teacher key is not this class's."
    token = params.get(TOKEN) or st.session_state.get(SESSION)
    role = from_token(token)
    if role is not None:
        if params.get(TOKEN) != token:
            params[TOKEN] = token        # a page switch dropped it
        st.session_state[SESSION] = token
        return role
    if token:
        st.session_state[REFUSED] = ("This link's pass is not valid here any more (forged, expired, from an "
                                     "earlier class, or its owner left the class): join again.")
        st.session_state.pop(SESSION, None)
        if TOKEN in params:
            del params[TOKEN]
    run = params.get("run")
    if run and run in C.Room().shared():
        return Role(VIEWER, run=run)     # a shared run is open to its plain link
    return Role(VISITOR)


ROLE = "class.role"          # the role app.py resolved on this session's latest full rerun


def current() -> Role:
    """The role `resolve` found for this rerun (app.py resolves it before any page runs; a fragment's rerun
    uses the last full rerun's)."""
    return st.session_state.get(ROLE) or resolve()


def _owner(run) -> Optional[str]:
    if isinstance(run, dict):
        return run["state"].get("owner")
    return reader(Path(run)).state().get("owner")      # the run's shared reader: no connection per viewer


def refusal(action: str, run=None, cfg: Optional[RunConfig] = None, changes: Optional[dict] = None,
            role: Optional[Role] = None) -> Optional[str]:
    """Why this session may not do `action` (None: it may). Actions: start, measure, control, resume, delete,
    log, class, empty_trash; `run` is a run dict or directory, `changes` a live schedule change."""
    role = role or current()
    if role.teacher:
        return None
    if role.kind != STUDENT:
        return "You are watching: only the teacher and students of the class can change runs."
    rules = C.Room().rules()
    if action in ("start", "measure"):
        if not rules.students_may_start:
            return "Your teacher has not opened starting runs to students yet: watch the shared runs."
        if action == "start" and cfg is not None:
            from .state import jobs
            problems = C.start_problems(rules, cfg, role.sid, C.Room(), jobs().runs())
            return " ".join(problems) or None
        return None
    if action in FOR_RUN or action == "log":
        if run is None or _owner(run) != role.sid:
            return "Only the teacher can change a run that is not yours."
        if changes:
            return " ".join(C.schedule_problems(rules, changes)) or None
        return None
    return "Only the teacher can do this."


def allow(action: str, **kw) -> bool:
    """`refusal`, said on the page: True when the action may go ahead."""
    why = refusal(action, **kw)
    if why:
        st.error(why, icon=":material/lock:")
    return why is None


def submit(cfg: RunConfig) -> Optional[Path]:
    """Start cfg for this session (checked first): a student's run is theirs and queues behind the teacher's;
    a teacher's run in class mode is shared with the class."""
    if not allow("start", cfg=cfg):
        return None
    from .state import jobs
    role = current()
    run_dir = jobs().submit(cfg, owner=role.sid)
    if role.kind == STUDENT:
        C.Room().record_start(role.sid, run_dir.name)
    elif not role.local:
        C.Room().share(run_dir.name)
    return run_dir


def visible(runs: list[dict], role: Optional[Role] = None) -> list[dict]:
    """The runs this session may see: all (teacher), own and shared (student), one (viewer)."""
    role = role or current()
    if role.teacher:
        return runs
    if role.kind == VIEWER:
        return [r for r in runs if r["id"] == role.run]
    if role.kind == STUDENT:
        shared = C.Room().shared()
        return [r for r in runs if r["state"].get("owner") == role.sid or r["id"] in shared]
    return []


CLASS_PAGE = "app_pages/class_page.py"


def navigation(role: Role, pages: list):
    """The navigation of a role: a visitor has the join page alone (at the site's root, no menu); the others
    every page and the class page."""
    class_page = st.Page(CLASS_PAGE, title="Class", icon=":material/groups:", url_path="class")
    if role.kind == VISITOR:     # every other page's address (a stale link) leads to the join page, not a dead end
        to_join = [st.Page(_join_page, title=p.title, url_path=p.url_path) for p in pages if p.url_path]
        return st.navigation([st.Page(_join_page, title="Join the class", icon=":material/login:", default=True),
                              class_page, *to_join], position="hidden")
    return st.navigation([*pages, class_page])


def _join_page() -> None:
    from .class_view import join_page
    join_page()


def badge(role: Role) -> None:
    """Who this browser is, in the sidebar (class mode only)."""
    if role.local or role.kind == VISITOR:      # a visitor's page has no sidebar at all
        return
    text = {TEACHER: "Teacher", STUDENT: f"Student: {role.name}", VIEWER: "Watching one run"}[role.kind]
    from .state import md_plain
    st.sidebar.caption(f":material/badge: {md_plain(text)}")

