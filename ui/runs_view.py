"""The Runs page's parts: the table of every run, curves of several runs overlaid, and one run's actions
(downloads, the CLI command, clone, resume, delete)."""
from __future__ import annotations

import html
import json
import sqlite3
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from seqgan_core.runs import RunDB

from . import charts, roles as R, series as S, state as U

FINAL = ("nll/oracle", "nll/test", "div/distinct2", "bleu/4", "valid/share")
RESUMABLE = ("stopped", "interrupted", "failed")


def latest_values(run_dir: Path) -> dict:
    """The last value of every metric; {} for a run being created or deleted right now."""
    try:
        return RunDB(run_dir).latest_values()
    except (sqlite3.Error, FileNotFoundError):
        return {}


def duration(state: dict) -> float | None:
    """Seconds the run has trained (the worker's own clock), else from its timestamps."""
    progress = state.get("progress") or {}
    if progress.get("elapsed_s") is not None:
        return progress["elapsed_s"]
    if state.get("started"):
        return (state.get("ended") or time.time()) - state["started"]
    return None


SHORT = {"g_steps": "g", "d_steps": "d", "k_epochs": "k", "rollout_num": "N"}


def schedule_text(s: dict) -> str:
    """The schedule as played: the starting values, then each live change with the round it started at."""
    text = " ".join(f"{v}={s[k]}" for k, v in SHORT.items())
    for c in s.get("changes") or []:
        text += f" → r{c['from_round'] + 1}: " + " ".join(f"{SHORT[k]}={v}" for k, v in c.items() if k in SHORT)
    return text


def table(runs: list[dict]) -> pd.DataFrame:
    """One row per run: what it is, how it went, and its final numbers."""
    from .ribbon import clock
    rows = []
    for r in runs:
        cfg, s, last = r["config"], r["config"]["schedule"], latest_values(r["dir"])
        rows.append({
            "run": r["id"], "name": U.short_name(cfg), "status": r["status"], "data set": cfg["data"]["name"],
            "schedule": schedule_text(s),
            "device": r["state"].get("slot") or cfg.get("device", "auto"),
            "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r["state"].get("created", 0))),
            "duration": clock(duration(r["state"])) if duration(r["state"]) is not None else "",
            **{charts.LABELS[m]: last.get(m) for m in FINAL}})
    frame = pd.DataFrame(rows).dropna(axis=1, how="all")   # no empty BLEU column for a class of oracle runs
    for m in FINAL:                # a value a run does not have is a dash, not "None"
        col = charts.LABELS[m]
        if col in frame:
            frame[col] = [f"{v:.3f}" if pd.notna(v) else "—" for v in frame[col]]
    return frame


def overlay(runs: list[dict]) -> None:
    """Pick runs and a metric; their curves on one chart."""
    by_id = {r["id"]: r for r in runs}
    default = [r["id"] for r in runs if r["status"] == "finished"][:3] or list(by_id)[:1]
    chosen = st.multiselect("Runs to compare", list(by_id), default=default, key="runs.compare",
                            format_func=lambda i: U.run_label(by_id[i]))
    series = {i: S.run_series(by_id[i]["dir"], by_id[i]["state"]) for i in chosen}
    names = sorted({n for s in series.values() for n in s.by_name})
    if not names:
        st.caption("The chosen runs have no recorded metrics yet.")
        return
    metric = st.selectbox("Metric", names, key="runs.metric", format_func=lambda n: charts.LABELS.get(n, n),
                          index=names.index("nll/oracle") if "nll/oracle" in names else 0)
    curves = [(f"{html.escape(U.short_name(by_id[i]['config'], 30))} ({i[-4:]})", *S.curve(s, metric))
              for i, s in series.items()]
    starts = {by_id[i]["config"]["schedule"]["pretrain_g_epochs"] for i in chosen}
    st.plotly_chart(charts.overlay(curves, metric, "runs", starts), key="runs.overlay", width="stretch")
    st.caption("x: MLE epochs, then the pre-training length E plus the adversarial round, as on the Live page.")


def _samples_text(run_dir: Path) -> str:
    """The latest evaluation's samples, one per line, tokens separated by spaces."""
    snap = RunDB(run_dir).latest_snapshot("samples")
    return "\n".join(" ".join(row) for row in snap["tokens"]) + "\n" if snap else ""


def downloads(run: dict, state: dict) -> None:
    """Metrics (CSV), config (JSON), checkpoint and samples; files are read only when clicked."""
    run_dir, rid = run["dir"], run["id"]
    row = st.container(horizontal=True, wrap=True)          # buttons wrap on a narrow screen, never cut
    cols = [row] * 4
    cols[0].download_button("Metrics (CSV)", lambda: S.run_series(run_dir, state).frame.to_csv(index=False),
                            file_name=f"{rid}_metrics.csv", mime="text/csv", key="runs.dl.csv", on_click="ignore",
                            icon=":material/table:")
    cols[1].download_button("Config (JSON)", lambda: (run_dir / "config.json").read_bytes(),
                            file_name=f"{rid}_config.json", mime="application/json", key="runs.dl.cfg", on_click="ignore",
                            icon=":material/settings:")
    ckpt = run_dir / "checkpoints" / "latest.pt"
    cols[2].download_button("Checkpoint", lambda: ckpt.read_bytes(), file_name=f"{rid}_latest.pt",
                            disabled=not ckpt.exists(), key="runs.dl.ckpt", on_click="ignore", icon=":material/save:",
                            help=None if ckpt.exists() else "No checkpoint yet: one is saved at each phase end.")
    cols[3].download_button("Samples (text)", lambda: _samples_text(run_dir), file_name=f"{rid}_samples.txt",
                            key="runs.dl.samples", on_click="ignore", icon=":material/notes:")


def reproduce(run: dict) -> None:
    """The CLI commands that reproduce the run, or continue it headless."""
    changes = run["config"]["schedule"].get("changes") or []
    st.markdown("**Reproduce it from a terminal** (the config holds the seed and every setting"
                + (f", and the {len(changes)} schedule change(s) made during the run, each from its round)"
                   if changes else ")"))
    st.code(f"python -m seqgan_core train --config {run['dir'] / 'config.json'}", language="bash")
    st.caption(f"Continue this very run headless instead: `python -m seqgan_core resume {run['dir']}`")


def problems(run: dict, state: dict) -> None:
    """The error of a failed or interrupted run, and the end of its worker's log."""
    if run["status"] not in ("failed", "interrupted"):
        return
    st.error(f"{run['status']}: {state.get('error') or 'no error recorded'}")
    log = run["dir"] / "worker.log"
    if log.exists() and not R.refusal("log", run=run):
        with st.expander("End of the worker's log"):
            st.code(log.read_text(errors="replace")[-3000:] or "(empty)", language=None)


def actions(run: dict) -> str | None:
    """Open / clone / resume / delete; returns the page to switch to, if any."""
    row = st.container(horizontal=True, wrap=True)
    cols = [row] * 4
    if cols[0].button("Open in Live", icon=":material/monitoring:", key="runs.open", width="content"):
        U.select(run["id"])
        return "app_pages/live.py"
    if cols[1].button("Clone into Setup", icon=":material/content_copy:", key="runs.clone", width="content",
                      help="Start a new run from this run's settings; change what you like first."):
        st.session_state[U.KEY_CLONE] = json.loads((run["dir"] / "config.json").read_text())
        return "app_pages/setup.py"
    # what this session may not do is shown greyed out with the reason, not offered and then refused
    locked = {a: R.refusal(a, run=run) for a in ("resume", "delete")}
    if cols[2].button("Resume", icon=":material/play_arrow:", key="runs.resume", width="content",
                      disabled=run["status"] not in RESUMABLE or bool(locked["resume"]),
                      help=locked["resume"] or "Queue it again; it continues from its last checkpoint.") \
            and R.allow("resume", run=run):
        U.jobs().resume(run["dir"])
        U.select(run["id"])
        return "app_pages/live.py"
    if locked["delete"]:
        cols[3].button("Delete", icon=":material/delete:", key="runs.delete_locked", width="content",
                       disabled=True, help=locked["delete"])
        return None
    with cols[3].popover("Delete", icon=":material/delete:", width="content"):
        _delete(run)
    return None


def _delete(run: dict) -> None:
    """Delete after an explicit confirmation; a live run must be stopped first."""
    live = run["status"] in ("running", "paused")
    sure = st.checkbox(f"Move {run['id']} to the trash (the teacher can put it back until the trash is "
                       "emptied)", key="runs.confirm", disabled=live)
    if live:
        st.caption("Stop the run first (Live page).")
    if st.button("Delete", type="primary", disabled=not sure or live, key="runs.delete") \
            and R.allow("delete", run=run):
        try:
            U.jobs().delete(run["dir"])
        except RuntimeError as e:
            st.error(str(e))
            return
        S.CACHE.forget(run["dir"])
        st.rerun()
