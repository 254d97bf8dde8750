"""The Roll-outs page's parts: one sample, one position t, the N completions behind its Q, and re-rolls
from the run's checkpoint with any N.

Training keeps the completions of the first sample of each g-step (snapshot "rollout"); other samples,
and other N, are re-rolled here from the latest checkpoint (models newer than that g-step, which the
page says).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from seqgan_core.runs import RunDB
from seqgan_core.runs.store import read_vocab
from seqgan_core.runs.inspect import reroll_in_subprocess

from . import charts, datasets, roles as R, tokens

MAX_N = 256
ACTIVE = "rollouts.active"


def pick_snapshot(run_dir: Path) -> dict | None:
    """The g-step to look at (the latest by default) among those the run store keeps."""
    snaps = RunDB(run_dir).snapshots("rollout")
    if not snaps:
        return None
    labels = [f"round {s['round'] + 1}, g-step {s['g_step'] + 1}" for s in snaps]
    chosen = st.select_slider("g-step", options=list(range(len(snaps))), value=len(snaps) - 1,
                              format_func=labels.__getitem__, key=f"rollouts.snap.{run_dir.name}",
                              help="The run store keeps the latest g-steps' roll-outs.")
    return snaps[chosen]


def pick_token(snap: dict, run_id: str) -> tuple[int, int]:
    """(sample index, position t with 1 ≤ t ≤ T)."""
    K, T = len(snap["ids"]), len(snap["ids"][0])
    rows = [" ".join(t) for t in snap["tokens"]]
    b = st.radio("Sample", list(range(K)), format_func=lambda i: f"{i + 1}: {rows[i]}", key=f"rollouts.b.{run_id}",
                 horizontal=False)
    words = max(1, len(snap["tokens"][0]))                         # sample 1's words, before its <eos>
    t = st.slider("Position t (the prefix is y_1 … y_t)", 1, T, value=min(T, words, max(1, T // 2)),
                  key=f"rollouts.t.{run_id}", help="Start inside sample 1's sentence: after its <eos> is padding.")
    return b, t


def checkpoint_mtime(run_dir: Path) -> float | None:
    """When latest.pt was written (None before the first checkpoint)."""
    path = run_dir / "checkpoints" / "latest.pt"
    return path.stat().st_mtime if path.exists() else None


def namer(run_dir: Path, cfg: dict):
    """ids -> token texts: the oracle's tokens are their numbers; other data sets need their vocabulary."""
    if cfg["data"]["name"] == "oracle":
        return lambda ids: [str(i) for i in ids]
    vocab = read_vocab(run_dir)
    if vocab is None:
        return lambda ids: [str(i) for i in ids]
    return lambda ids: [vocab[i] if 0 <= i < len(vocab) else str(i) for i in ids]


def recorded(snap: dict, b: int, t: int, name_of) -> None:
    """The completions training used for this Q (kept for sample 1 only)."""
    T = len(snap["ids"][0])
    q = snap["q"][b][t - 1]
    if t == T:
        st.info(f"At the last position there is nothing to roll out: Q = D(Y_1:T) = {q:.3f}.")
        return
    if b != 0:
        st.info(f"Training used Q = {q:.3f} here. It keeps the completions of sample 1 only; "
                "re-roll below to see this sample's.")
        return
    scores = snap["completion_scores"][t - 1]
    show_completions(snap["completions"][t - 1], scores, t, name_of)
    st.plotly_chart(charts.completion_scores(scores, "rollouts", f"The N = {len(scores)} roll-outs training used"),
                    key="rollouts.recorded", width="stretch")
    spread(scores, q)


def show_completions(comps: list[list[int]], scores: list[float], t: int, name_of, limit: int = 16) -> None:
    """Each completion: the fixed prefix (grey, y_t in yellow), what G_beta drew after it, and D's score."""
    rows = [tokens.completion(name_of(c), t, f"{s:.2f}") for c, s in list(zip(comps, scores))[:limit]]
    more = f"<div class='sg-key'>… and {len(comps) - limit} more</div>" if len(comps) > limit else ""
    st.html(tokens.CSS + tokens.completion_key(t) + "".join(rows) + more)


def spread(scores: list[float], q: float | None = None) -> None:
    """The Q estimate as the mean of the scores, with their spread and the estimate's standard error."""
    s = np.asarray(scores, dtype=float)
    sd = s.std(ddof=1) if len(s) > 1 else 0.0
    row = st.container(horizontal=True, wrap=True, gap="medium")   # labels whole on a narrow screen
    cols = [row.container(width=200) for _ in range(4)]
    cols[0].metric("Q = mean of the scores", f"{s.mean():.3f}")
    cols[1].metric("spread (std of the scores)", f"{sd:.3f}")
    cols[2].metric("standard error = std / √N", f"{sd / np.sqrt(len(s)):.3f}")
    cols[3].metric("N roll-outs", len(s))
    if q is not None and abs(q - s.mean()) > 1e-3:
        st.caption(f"Training recorded Q = {q:.3f} (rounded scores).")


@st.cache_data(max_entries=32, show_spinner="Rolling out (in a process of its own)…")
def _reroll(run_dir: str, mtime: float, ids: tuple[int, ...], n: int, seed: int) -> dict:
    """Re-roll results, kept per checkpoint, sequence, N and seed (small: numbers only). The models are
    loaded and rolled out in a short-lived process, never in the web server."""
    return reroll_in_subprocess(run_dir, list(ids), n, seed)


def reroll_section(run_dir: Path, snap: dict, b: int, t: int, name_of) -> None:
    """Re-roll the chosen sample with a chosen N from the checkpoint; completions, Q by position and the
    tightening of the estimate at t."""
    mtime = checkpoint_mtime(run_dir)
    if mtime is None:
        st.info("No checkpoint yet: re-rolls need one (saved at each phase end).")
        return
    if R.refusal("measure"):             # a re-roll costs CPU: not for every viewer of a class
        st.caption("Re-rolls are for the teacher (and for students once the teacher lets them start runs).")
        return
    if not st.session_state.get(ACTIVE) and not st.button("Re-roll from the run's checkpoint", key="rollouts.start",
                                                          icon=":material/casino:", type="primary"):
        return
    st.session_state[ACTIVE] = True     # a UI choice: keep showing re-rolls in this session
    cols = st.columns([2, 1, 1])
    n = cols[0].slider("N for the re-roll", 1, MAX_N, value=min(MAX_N, 4 * snap.get("rollout_num", 16)),
                       key="rollouts.n")
    seed = cols[1].number_input("seed", value=0, step=1, key="rollouts.seed")
    cols[2].button("Re-roll again", key="rollouts.go", icon=":material/casino:",
                   help="Same N, next seed: see how much Q moves.", on_click=_next_seed)
    res = _reroll(str(run_dir), mtime, tuple(snap["ids"][b]), int(n), int(seed))
    T = len(res["q"])
    se = [0.0 if i == T - 1 else float(np.std(res["scores"][i], ddof=1) / np.sqrt(n)) if n > 1 else 0.0
          for i in range(T)]
    st.plotly_chart(charts.q_by_position(snap["q"][b], res["q"], se, "rollouts", n), key="rollouts.bypos",
                    width="stretch")
    if t < T:
        st.plotly_chart(charts.tightening(res["scores"][t - 1], snap["q"][b][t - 1], "rollouts"),
                        key="rollouts.tight", width="stretch")
        spread(res["scores"][t - 1])
        show_completions(res["completions"][t - 1], res["scores"][t - 1], t, name_of, limit=8)
    st.caption("Re-rolls use the run's latest checkpoint, which may be newer than the g-step above.")


def _next_seed() -> None:
    """'Re-roll again': the next seed, so the same N gives a fresh draw."""
    st.session_state["rollouts.seed"] = int(st.session_state.get("rollouts.seed", 0)) + 1


def listen(snap: dict, b: int, cfg: dict) -> None:
    """A melody data set's sample can be heard."""
    if cfg["data"]["name"] == "folk_music":
        from seqgan_core.data import music
        ids = snap["ids"][b]
        st.plotly_chart(charts.piano_roll(music.notes(ids), len(ids), music.midi_name, "pianoroll"),
                        key="rollouts.pianoroll")
        wav = datasets.listen(ids)
        if wav:
            st.audio(wav, format="audio/wav")
