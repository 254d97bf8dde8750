"""Locked lessons by link: the teacher signs a config with the settings it hides or locks; Setup opened with
`?lesson=…` loads exactly that experiment. The link is the whole state (nothing kept on the server), and
it is signed, so editing it to unlock a setting breaks it."""
from __future__ import annotations

from typing import Optional

import streamlit as st

from seqgan_core import classroom as C
from seqgan_core.config import RunConfig

PARAM = "lesson"
ACTIVE = "setup.lesson"          # the lesson this session's Setup follows: {token, cfg, lock, hide}
DATA = "data"                    # the data set and its options, locked or hidden as one setting
PRESET = "preset"


def make(cfg: dict, lock: list[str], hide: list[str]) -> str:
    return C.sign(C.LESSON, {"cfg": cfg, "lock": sorted(set(lock) - set(hide)), "hide": sorted(hide)})


def read(token: Optional[str]) -> Optional[dict]:
    lesson = C.read_token(C.LESSON, token)
    if lesson is None or not isinstance(lesson.get("cfg"), dict):
        return None
    return {"token": token, "cfg": lesson["cfg"], "lock": set(lesson.get("lock", [])),
            "hide": set(lesson.get("hide", []))}


def take(load) -> None:
    """Follow the lesson in the URL (once per link: load(RunConfig) fills the form); a bad link is said."""
    token = st.query_params.get(PARAM)
    if not token or (st.session_state.get(ACTIVE) or {}).get("token") == token:
        return
    lesson = read(token)
    if lesson is None:
        st.error("This lesson link is not valid (changed by hand, or made with an earlier teacher key): ask for "
                 "a fresh one.", icon=":material/link_off:")
        st.session_state.pop(ACTIVE, None)
        return
    load(RunConfig.from_dict(lesson["cfg"]))
    st.session_state[ACTIVE] = lesson


def mode(path: str) -> Optional[str]:
    """'hide', 'lock' or None for a setting (a dotted path, 'data' or 'preset') under the active lesson."""
    lesson = st.session_state.get(ACTIVE)
    if not lesson:
        return None
    return "hide" if path in lesson["hide"] else "lock" if path in lesson["lock"] else None


def _value(cfg: dict, path: str):
    if path == DATA:
        return cfg["data"]
    sec, _, name = path.rpartition(".")
    return (cfg[sec] if sec else cfg).get(name)


def problem(cfg: RunConfig) -> Optional[str]:
    """A fixed setting the draft no longer keeps (a stale form or a forged widget value): the lesson wins."""
    lesson = st.session_state.get(ACTIVE)
    if not lesson:
        return None
    mine = cfg.to_dict()
    fixed = (lesson["lock"] | lesson["hide"]) - {PRESET}
    changed = [p for p in fixed if _value(mine, p) != _value(lesson["cfg"], p)]
    return f"This lesson fixes {', '.join(sorted(changed))}: reopen its link." if changed else None


def banner() -> None:
    lesson = st.session_state.get(ACTIVE)
    if lesson:
        st.info("A lesson set up this experiment: " + (f"{len(lesson['lock'])} setting(s) locked, " if lesson["lock"]
                else "") + (f"{len(lesson['hide'])} hidden. " if lesson["hide"] else "") +
                "Change what is left open and press Start.", icon=":material/school:")
