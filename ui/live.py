"""The Live page's parts: status, ribbon, controls, charts and history of one run.

`panel` (status, progress, controls, latest numbers) and `charts_panel` (curves, snapshots, history) are
what refresh (the page wraps each in st.fragment with its own interval). They read the run's state and
only the metric rows written since the last refresh; the schedule form sits outside them so typing is
never interrupted.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from seqgan_core.config import LIVE_FIELDS, field_help, live_problems
from seqgan_core.runs import RunDB
from seqgan_core.runs.store import RunReader, reader

from . import charts, ribbon, roles as R, series as S, state as U, tokens

COMMAND_HELP = {"pause": "Wait at the next minibatch (within a second or so), save a checkpoint and wait.",
                "resume": "Carry on from where the run paused.",
                "step": "Run exactly one more unit (one g-step or one d-step), then pause.",
                "stop": "End the worker within a second or so; the unfinished unit is trained again from its start "
                        "when Resume continues the run."}
LIVE_LABELS = {"g_steps": "g-steps", "d_steps": "d-steps", "k_epochs": "k (epochs per d-step)",
               "rollout_num": "N (roll-outs)"}
HISTORY_KINDS = ("phase", "control", "schedule", "rejected", "resumed", "dropped", "init_from", "branched")
CAPTIONS = {
    "nll": "NLL-oracle: how surprised the true source is by G's samples (the paper's score; lower is better). "
           "NLL-test: how surprised G is by held-out real data. If the first falls while the second climbs, "
           "G is narrowing onto a few safe sequences.",
    "d": "Accuracy near 1 on both kinds means D wins easily and G's rewards go flat; near 0.5 it cannot tell.",
    "reward": "Q is D's belief that a sample is real, averaged over roll-outs: the reward G maximises.",
    "div": "Falling entropy or distinct bigrams is the signature of mode collapse.",
    "dhist": "Two humps far apart: D separates real from generated easily. Overlapping humps: G fools it.",
    "qmap": "Each cell is one token's reward: the mean of D's scores over N completions of the prefix up to it. "
            "Hover a cell for its value; the Roll-outs page shows the completions behind it.",
}


def header(cfg: dict, status: str, state: dict) -> None:
    """Run name, data set and status in one line."""
    name = U.md_plain(U.short_name(cfg))
    st.markdown(f"### {U.STATUS_ICONS.get(status, '')} {name} · {cfg['data']['name']} · {status}")
    if status == "failed":
        st.error(f"The run failed: {sentence(state.get('error') or 'no error message was recorded')}")
    elif status == "interrupted":
        st.warning(f"{sentence(state.get('error') or 'The worker stopped unexpectedly')} Use Resume to continue.")
    elif status == "queued":
        st.info("Queued: it starts as soon as its device has a free slot (one run per device by default).")


def sentence(text: str) -> str:
    """A recorded message as a sentence: capital first letter, full stop at the end."""
    text = str(text).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def eta_line(progress: dict, status: str, heartbeat: float | None = None) -> None:
    """Overall progress bar with elapsed time and ETA. While a unit runs the worker writes nothing, so a
    running run's clock is moved on from its last report (heartbeat) to now."""
    frac = progress.get("fraction")
    if status == "finished":
        frac = 1.0
    elapsed, eta = progress.get("elapsed_s"), progress.get("eta_s")
    span = progress.get("eta_range_s") or [eta, eta]
    if status == "running" and heartbeat and elapsed is not None:
        since = max(0.0, time.time() - float(heartbeat))
        elapsed, eta = elapsed + since, (max(0.0, eta - since) if eta is not None else None)
        span = [max(0.0, v - since) if v is not None else None for v in span]
    text = f"elapsed {ribbon.clock(elapsed)}"
    if status in U.ACTIVE_STATUSES:                 # a stopped run has no time left to estimate
        text += f" · ETA {ribbon.clock(eta)}"
        if eta is not None and span[0] is not None and ribbon.clock(span[0]) != ribbon.clock(span[1]):
            text += f" (likely {ribbon.clock(span[0])}–{ribbon.clock(span[1])})"
    if progress.get("pending"):
        waiting = ", ".join(f"{k} = {v}" for k, v in progress["pending"].items())
        text += f" · from the next round: {waiting}"
    st.progress(min(max(frac or 0.0, 0.0), 1.0), text=text)


def current_unit(progress: dict) -> str:
    """The unit the worker is in, in words (a request acts when it ends)."""
    phase = progress.get("phase", "mle")
    if phase == "adversarial":
        g = int((progress.get("schedule") or {}).get("g_steps", 0))
        return "this g-step" if progress.get("g_done", 0) < g else "this d-step"
    return {"mle": "this MLE epoch", "d_pretrain": "this D pre-training round"}.get(phase, "this unit")


def waiting_request(run_dir: Path, status: str) -> str | None:
    """The latest pause / stop / resume request the run has not acted on yet (by its status), if any."""
    try:
        with RunDB(run_dir).connect() as con:
            row = con.execute("SELECT command FROM control WHERE taken < 2 AND command IN "
                              "('pause', 'stop', 'resume', 'step') ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    command = row[0] if row else None
    if (command == "pause" and status == "running") or (command == "stop" and status in ("running", "paused")):
        return command
    if command == "resume" and status == "paused":
        return command
    return None


def unit_progress(progress: dict) -> str | None:
    """How far the running unit is, from the worker's last report: 'D pre-training round 2/3, minibatch 15/40'."""
    u = progress.get("unit") or {}
    if not u.get("label"):
        return None
    return u["label"] + (f", {u['part']} {u['done'] + 1}/{u['total']}" if u.get("total") else "")


def request_banner(waiting: str | None, progress: dict) -> None:
    """Says at once that a request waits, and where the unit it waits in is."""
    if waiting is None:
        return
    unit = unit_progress(progress)
    where = f" (now in {unit})" if unit else f" ({current_unit(progress)})"
    text = {"pause": f"Pausing at the next minibatch{where}…",
            "stop": f"Stopping at the next minibatch{where}: the unfinished unit is trained again on resume…",
            "resume": "Resuming…"}[waiting]
    st.info(text, icon=":material/hourglass_top:")


def control_buttons(run_dir: Path, status: str, waiting: str | None = None, key: str = "live") -> None:
    """Pause / resume / step / stop, each enabled only where it means something (a request already
    waiting is not offered twice). `key` prefixes the widgets' keys, for a page that shows them twice."""
    live, restartable = status in ("running", "paused"), status in ("stopped", "interrupted", "failed")
    enabled = {"pause": status == "running" and waiting is None,
               "resume": (status == "paused" and waiting is None) or restartable,
               "step": live and waiting is None, "stop": live and waiting != "stop"}
    if R.refusal("control", run=run_dir):
        return                                   # watching: no buttons (send checks again on the server)
    if status == "queued":
        if st.button("Cancel this queued run", icon=":material/cancel:", key=f"{key}.cancel",
                     help="Take it off the queue before it starts (Resume queues it again)."):
            if R.allow("control", run=run_dir) and U.jobs().cancel(run_dir):
                st.toast("Cancelled: the run left the queue.")
            st.rerun(scope="app")
        return
    icons = {"pause": "pause", "resume": "play_arrow", "step": "skip_next", "stop": "stop"}
    for col, command in zip(st.columns(4), enabled):
        if col.button(command.capitalize(), icon=f":material/{icons[command]}:", disabled=not enabled[command],
                      key=f"{key}.{command}", help=COMMAND_HELP[command], width="stretch"):
            send(run_dir, command, status)
            # the whole page follows at once: the header, the form and whether the panel polls
            st.rerun(scope="app")


def send(run_dir: Path, command: str, status: str) -> None:
    """Hand a command to the run's worker (or re-queue a run that has no worker any more)."""
    if not R.allow("control", run=run_dir):
        return
    if command == "resume" and status in ("stopped", "interrupted", "failed"):
        U.jobs().resume(run_dir)
        st.toast("Queued again: it continues from its last checkpoint.")
        return
    U.jobs().control(run_dir, command)
    st.toast(f"{command.capitalize()} sent: the worker acts on it at the next minibatch.")


def schedule_view(progress: dict, cfg: dict) -> tuple[dict, dict]:
    """(the live fields the run uses now, the changes waiting for the next round)."""
    in_use = {k: int((progress.get("schedule") or cfg["schedule"])[k]) for k in LIVE_FIELDS}
    pending = {k: int(v) for k, v in (progress.get("pending") or {}).items() if k in LIVE_FIELDS}
    return in_use, pending


def schedule_signature(progress: dict, cfg: dict) -> str:
    """Changes whenever the run's schedule or its pending changes do (the page then redraws the form)."""
    return json.dumps(schedule_view(progress, cfg), sort_keys=True)


def schedule_form(run_id: str, run_dir: Path, progress: dict, cfg: dict, status: str) -> None:
    """g-steps / d-steps / k / N for the coming rounds, checked with the engine's rule before sending.

    The form shows what the next round will use (the values in use, with the pending ones marked) and
    sends only the fields the user changed from what it showed, so two tabs (or a form drawn before a
    pending change took effect) never send back a stale value. When the run's schedule changes, the
    form is redrawn with the new values."""
    in_use, pending = schedule_view(progress, cfg)
    target = {**in_use, **pending}
    sig_key, base_key = f"live.schedule_sig.{run_id}", f"live.schedule_base.{run_id}"
    signature = schedule_signature(progress, cfg)
    keys = [f"live.set.{run_id}.{k}" for k in LIVE_FIELDS]
    if st.session_state.get(sig_key) != signature or any(k not in st.session_state for k in keys):
        for k in LIVE_FIELDS:        # the widgets take the run's values (set before they are drawn)
            st.session_state[f"live.set.{run_id}.{k}"] = target[k]
        st.session_state[sig_key], st.session_state[base_key] = signature, dict(target)
    shown = st.session_state[base_key]
    with st.form(f"live.schedule.{run_id}"):
        st.markdown("**Change the game from the next round**")
        values = {}
        for k in LIVE_FIELDS:
            label = LIVE_LABELS[k] + (f" · now {in_use[k]}, {pending[k]} pending" if k in pending else "")
            values[k] = st.number_input(label, step=1, key=f"live.set.{run_id}.{k}",
                                        help=field_help(f"schedule.{k}"))
        sent = st.form_submit_button("Apply from the next round", disabled=status not in ("running", "paused"))
    if pending:
        st.caption("Pending (from the next round): " + ", ".join(f"{LIVE_LABELS[k]} {in_use[k]} → {v}"
                                                                 for k, v in pending.items()))
    if not sent:
        return
    changes = {k: int(v) for k, v in values.items() if int(v) != int(shown[k])}
    errors, warnings = live_problems(SimpleNamespace(**target), changes)
    if not changes:
        st.info("Nothing changed.")
    elif errors:
        st.error("; ".join(errors))
    elif R.allow("control", run=run_dir, changes=changes):
        for w in warnings:
            st.warning(w)
        U.jobs().control(run_dir, "set", changes)
        st.session_state[base_key] = {**shown, **changes}
        st.success("Sent: " + ", ".join(f"{k} = {v}" for k, v in changes.items()) + " (recorded in the history).")


def metric_tiles(series: S.RunSeries) -> None:
    """The latest value of the headline numbers, with the change since the previous record."""
    names = [n for n in ("nll/oracle", "nll/test", "g/reward_mean", "d/acc_fake", "div/distinct2")
             if n in series.by_name]
    row = st.container(horizontal=True, wrap=True, gap="small")      # wraps on a narrow screen, never cuts
    for name in names:
        col = row.container(width=170)
        values = series.by_name[name]["value"]
        delta = float(values.iloc[-1] - values.iloc[-2]) if len(values) > 1 else None
        inverse = name.startswith("nll")        # lower NLL is better: show a fall in green
        col.metric(charts.LABELS[name], f"{values.iloc[-1]:.3f}",
                   None if delta is None else f"{delta:+.3f}", delta_color="inverse" if inverse else "normal")


class PreparedFigure(go.Figure):
    """A finished figure whose plain form is made once. st.plotly_chart calls `to_dict()` on every render —
    a deep copy and a walk over every array, about 4 ms a chart, which with thirty viewers was most of the
    server's work — and then encodes the result to JSON without changing it, so one plain form serves every
    viewer. Never changed after it is made (the cache below holds it for all sessions)."""

    def __init__(self, fig: go.Figure):
        super().__init__(fig)
        self._plain = super().to_dict()

    def to_dict(self) -> dict:
        return self._plain


class FigureCache:
    """Charts (and the shaded samples' HTML) built once per run and data version and shared by every viewer:
    thirty students watching one run build each once per new record, not thirty times a second. What is
    cached is never changed after it is built, so sessions (threads) may read it together."""

    def __init__(self, size: int = 128):
        self.size, self._figs, self._lock = size, OrderedDict(), threading.Lock()
        self.built = 0               # for the benchmark: figures built, in total

    def get(self, key: tuple, build):
        with self._lock:
            fig = self._figs.pop(key, None)
        if fig is None:
            fig = build()
            if isinstance(fig, go.Figure):
                fig = PreparedFigure(fig)
            self.built += 1
        with self._lock:
            self._figs[key] = fig
            while len(self._figs) > self.size:
                self._figs.popitem(last=False)
        return fig


FIGURES = FigureCache()


def curves(run_id: str, series: S.RunSeries, cfg: dict) -> None:
    """NLL, D, reward and diversity curves in a 2 × 2 grid (plus sample quality where the data has it)."""
    sched = cfg["schedule"]
    E, R = sched["pretrain_g_epochs"], sched["pretrain_d_rounds"]
    version = (run_id, series.generation, series.version, E, R)

    def show(where, name, build):
        _chart(where, FIGURES.get(version + (name,), build), run_id, name)

    left, right = st.columns(2)
    nll = [n for n in ("nll/oracle", "nll/test") if n in series.by_name] or ["nll/oracle", "nll/test"]
    show(left, "nll", lambda: charts.g_curves(series, nll, "Generator NLL (nats per token)", E, run_id, "nats"))
    show(right, "d", lambda: charts.d_curves(series, E, R, run_id))
    left, right = st.columns(2)
    show(left, "reward", lambda: charts.g_curves(series, ["g/reward_mean", "g/reward_last"],
                                                 "Reward: mean Q of G's samples", E, run_id, "Q"))
    show(right, "div", lambda: charts.g_curves(series, ["g/entropy", "div/distinct2", "div/unique"],
                                               "Entropy and diversity", E, run_id, "nats",
                                               right=("div/distinct2", "div/unique")))
    quality = sorted(n for n in series.by_name if n.startswith(("bleu/", "valid/")))
    if quality:
        show(st, "quality", lambda: charts.g_curves(series, quality, "Sample quality", E, run_id, "score"))


def _chart(where, fig, run_id: str, name: str) -> None:
    """A Plotly chart whose key stays the same across refreshes, so the browser keeps its zoom."""
    where.plotly_chart(fig, key=f"live.{name}.{run_id}", width="stretch", config={"displaylogo": False})
    if name in CAPTIONS:
        where.caption(CAPTIONS[name])


def snapshots(run_id: str, db: RunReader) -> None:
    """D's score histograms, the Q heatmap and the latest samples shaded by Q."""
    left, right = st.columns(2)
    dscores = db.latest_snapshot("d_scores")
    _chart(left, FIGURES.get(_snap_key(run_id, "dhist", dscores), lambda: charts.d_histogram(dscores, run_id)),
           run_id, "dhist")
    roll = db.latest_snapshot("rollout")
    with right:
        samples_panel(roll, db)
    if roll:
        _chart(st, FIGURES.get(_snap_key(run_id, "qmap", roll), lambda: charts.q_heatmap(roll, run_id)),
               run_id, "qmap")
    else:
        st.info("The Q heatmap appears with the first g-step of the adversarial rounds: that is when roll-outs "
                "first score every token.")


def _snap_key(run_id: str, name: str, snap: dict | None) -> tuple:
    """A snapshot's figure is the same for every viewer until the next snapshot of its kind is written."""
    return (run_id, name) + ((snap["step"], snap["t"]) if snap else (None, None))


def samples_panel(roll: dict | None, db: RunReader) -> None:
    """The latest g-step's samples shaded by Q; before any g-step, the latest evaluation's samples."""
    if roll:
        st.markdown(f"**Latest samples of G, each token shaded by its reward Q** (round {roll['round'] + 1})")
        st.html(FIGURES.get(_snap_key(db.dir.name, "shaded", roll), lambda: tokens.shaded_block(
            roll["tokens"], roll["q"], roll.get("first_error"), roll.get("baseline"))))
        return
    samples = db.latest_snapshot("samples")
    if samples:
        st.markdown(f"**Latest samples of G** (step {samples['step']}; no rewards before the adversarial rounds)")
        st.html(tokens.plain(samples["tokens"]))


def describe(event: dict) -> str:
    """One line per recorded event, in words."""
    kind = event["kind"]
    fields = {k: v for k, v in event.items() if k not in ("id", "step", "kind", "t")}
    if kind == "phase":
        return f"phase → {fields.get('phase')}"
    if kind == "control":
        cmd = fields.pop("command", "?")
        return f"{cmd} requested" + (f": {fields}" if fields else "")
    if kind == "schedule":
        start = fields.pop("from_round", "?")
        return "schedule now " + ", ".join(f"{k} = {v}" for k, v in fields.items()) + f" (from round {start})"
    if kind == "resumed" and fields.get("message"):
        return str(fields["message"])             # says what a crash cost: the units trained again
    if kind == "rejected":
        return f"refused {fields.get('changes')}: {fields.get('why')}"
    return f"{kind}: {fields}"


def history(db: RunReader) -> None:
    """Controls, schedule changes and phase changes, newest first (read only while shown, and then only
    the events recorded since the last refresh)."""
    key = f"live.history.{db.dir.name}"
    seen = st.session_state.get(key) or {"last": 0, "events": []}
    new = db.events(HISTORY_KINDS, after_id=seen["last"])
    if new:
        seen = {"last": new[-1]["id"], "events": seen["events"] + new}
        st.session_state[key] = seen
    events = seen["events"]
    if not events:
        st.caption("No controls or schedule changes yet.")
        return
    rows = [{"time": time.strftime("%H:%M:%S", time.localtime(e["t"])), "step": e["step"], "what": describe(e)}
            for e in reversed(events)]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=min(36 * len(rows) + 40, 300))


def watch_status(run_dir: str, shown_status: str) -> None:
    """For a run that is not training: a cheap look at its status only (no charts redrawn); when another tab,
    the Runs page or the CLI resumes it, the page reruns and follows it."""
    if reader(Path(run_dir)).state().get("status", "queued") != shown_status:
        st.rerun(scope="app")


class Watchers:
    """Who has watched a run on this server lately (a session id each, seen on every refresh), so that a class's
    refreshes can share one budget: up to FULL_RATE watchers refresh at the normal pace, more slow down
    together, and the server's work for a class stays about that of FULL_RATE watchers."""

    FULL_RATE = 10          # bench_class.py: 10 watchers cost the server ~9 % of a core, the worker within noise
    WINDOW_S = 30.0         # a watcher not seen for this long has left (longer than the slowest refresh)

    def __init__(self):
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen(self, session: str, now: float | None = None) -> int:
        """Record a refresh of `session`; the number of watchers seen within the window."""
        return self.count(now, session)

    def count(self, now: float | None = None, session: str | None = None) -> int:
        """Watchers seen within the window (recording `session` first, when given); those gone are dropped."""
        now = time.time() if now is None else now
        with self._lock:
            if session is not None:
                self._seen[session] = now
            self._seen = {k: t for k, t in self._seen.items() if now - t <= self.WINDOW_S}
            return len(self._seen)

    @classmethod
    def pace(cls, watchers: int) -> int:
        """How many times the normal interval a watcher waits: 1 up to FULL_RATE watchers, then one more per
        FULL_RATE (30 watchers: 3, so status every 6 s and charts every 15 s)."""
        return max(1, -(-watchers // cls.FULL_RATE))


WATCHERS = Watchers()
PACE = "live.watch_pace"        # session state: the pace this session's refresh timers were registered with


def watcher_session() -> str:
    """This browser session's id for the watcher count (made here: Streamlit has no public session id)."""
    return st.session_state.setdefault("live.watcher_id", os.urandom(8).hex())


def watcher_pace(status_s: float, charts_s: float) -> int:
    """On a watcher's full page run: count it, remember and return its pace, and say so when it is slowed."""
    watching = WATCHERS.seen(watcher_session())
    pace = st.session_state[PACE] = Watchers.pace(watching)
    if pace > 1:
        st.caption(f"{watching} people are watching runs on this server: to keep the training fast, this page "
                   f"refreshes every {status_s * pace:g} s (charts every {charts_s * pace:g} s).")
    return pace


def keep_pace() -> None:
    """In a watcher's refresh: count it, and when the class's size moved the pace, rerun the page once so that
    the refresh timers are registered again at the new pace."""
    pace = Watchers.pace(WATCHERS.seen(watcher_session()))
    if pace != st.session_state.get(PACE, pace):
        st.rerun(scope="app")


def panel(run_dir: str, cfg: dict, shown_status: str, shown_schedule: str = "", watcher: bool = False) -> None:
    """What moves within a round, read fresh each refresh: status, ribbon, ETA, controls and the latest
    numbers. When the status changes, the whole page reruns once: the sidebar and the schedule form follow
    it, and a finished run stops being polled."""
    if watcher:
        keep_pace()
    run_dir = Path(run_dir)
    status, state = U.fresh_status(run_dir)
    progress = state.get("progress") or {}
    header(cfg, status, state)
    st.html(ribbon.ribbon_html(progress, cfg["schedule"], cfg.get("init_from") or ""))
    eta_line(progress, status, state.get("heartbeat"))
    waiting = waiting_request(run_dir, status) if status in ("running", "paused") else None
    request_banner(waiting, progress)
    control_buttons(run_dir, status, waiting)
    metric_tiles(S.run_series(run_dir, state))
    if status != shown_status or (shown_schedule and schedule_signature(progress, cfg) != shown_schedule):
        st.rerun()


def charts_panel(run_dir: str, cfg: dict) -> None:
    """The curves, D's scores, the Q heatmap, the samples and the history: they change when a g-step, a
    d-step or an evaluation ends, so a class's watchers refresh them less often than the status above."""
    run_dir = Path(run_dir)
    db = reader(run_dir)
    curves(run_dir.name, S.run_series(run_dir, db.state()), cfg)
    snapshots(run_dir.name, db)
    if st.toggle("History of this run: controls, schedule changes, phases", key=f"live.show_history.{run_dir.name}"):
        history(db)
