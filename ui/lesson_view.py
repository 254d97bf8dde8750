"""Controls beside a run: from the same adversarial start, runs that differ in one thing only, trained next
to it and judged with it on one quality–diversity chart. Without them a falling NLL-oracle teaches the wrong
lesson: policy gradient with positive rewards sharpens G whatever D says."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
import streamlit as st

from seqgan_core.runs.branch import BRANCH_POINTS, branch_run

from . import roles as R, series as S, state as U
from .live import FIGURES

# label -> (the one change, what it isolates)
CONTROLS = {
    "MLE continued": ({"reward": "mle"}, "the same number of generator updates, by ordinary MLE on real data"),
    "constant reward": ({"reward": "constant"}, "policy gradient with Q = 0.5 for every token: sharpening, no D"),
    "shuffled reward": ({"reward": "shuffled"}, "D's Q permuted across the batch: the same rewards, no credit"),
    "batch-mean baseline": ({"reward_baseline": "batch_mean"}, "SeqGAN with the batch's mean Q subtracted"),
}
SWEEP_TIMEOUT_S = 300


def _matches(cfg: dict, changes: dict) -> bool:
    return all(cfg["schedule"].get(k) == v for k, v in changes.items())


def controls_of(run: dict, runs: list[dict]) -> dict[str, dict]:
    """The runs branched from this one at its adversarial start, by control label."""
    found = {}
    for r in runs:
        if r["state"].get("branched_from") != run["id"] or r["state"].get("branch_at") != "adversarial_start":
            continue
        for label, (changes, _) in CONTROLS.items():
            if label not in found and _matches(r["config"], changes):
                found[label] = r
    return found


def launch(run: dict, labels: list[str]) -> list[Path]:
    """Branch one run per chosen control from the run's adversarial start and queue them."""
    made = []
    for label in labels:
        changes = CONTROLS[label][0]
        made.append(branch_run(run["dir"], changes, "adversarial_start", root=U.jobs().root,
                               name=f"{U.short_name(run['config'], 40)} · {label}"))
    U.jobs().schedule()
    return made


def eval_points(series: S.RunSeries) -> pd.DataFrame:
    """(NLL-test, NLL-oracle) at each evaluation of a run, with its phase."""
    parts = [series.by_name.get(n) for n in ("nll/oracle", "nll/test")]
    if any(p is None or not len(p) for p in parts):
        return pd.DataFrame(columns=["step", "phase", "oracle", "test"])
    o = parts[0][["step", "phase", "value"]].rename(columns={"value": "oracle"})
    t = parts[1][["step", "value"]].rename(columns={"value": "test"})
    return o.merge(t, on="step").sort_values("step")


def sweep(run: dict) -> list[dict]:
    """The temperature sweep of the run's generator at its adversarial start, in a process of its own."""
    out = subprocess.run([sys.executable, "-m", "seqgan_core", "sweep", str(run["dir"]), "--at",
                          "adversarial_start"], capture_output=True, text=True, timeout=SWEEP_TIMEOUT_S,
                         cwd=Path(__file__).resolve().parents[1])
    if out.returncode != 0:
        raise RuntimeError((out.stderr.strip().splitlines() or ["the sweep failed"])[-1])
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def quality_diversity(rows: dict[str, pd.DataFrame], taus: list[dict]) -> go.Figure:
    """NLL-oracle (quality) against NLL-test (diversity), one path per run over its adversarial evaluations,
    starting from the shared start, and the temperature sweep of the start as a dashed curve."""
    fig = go.Figure()
    for i, (label, df) in enumerate(rows.items()):
        adv = df[df["phase"] == "adversarial"]
        start = df[df["phase"] != "adversarial"].tail(1)
        path = pd.concat([start, adv])
        fig.add_trace(go.Scatter(x=path["test"], y=path["oracle"], mode="lines+markers", name=label,
                                 line=dict(color=qualitative.D3[i % len(qualitative.D3)]),
                                 marker=dict(size=np.r_[[4] * (len(path) - 1), [11]] if len(path) else 4),
                                 hovertemplate="NLL-test %{x:.3f}<br>NLL-oracle %{y:.3f}<extra>" + label + "</extra>"))
    taus = [r for r in taus if "nll/oracle" in r]
    if taus:
        fig.add_trace(go.Scatter(x=[r["nll/test"] for r in taus], y=[r["nll/oracle"] for r in taus],
                                 mode="lines+markers+text", text=[f"τ {r['tau']:g}" for r in taus],
                                 textposition="top center", name="MLE start at temperature τ",
                                 line=dict(dash="dash", color="#7f7f7f")))
    fig.update_layout(title=dict(text="Quality against diversity (lower-left is better on both)<br>"
                                      "<sup>axes zoomed to these runs: compare positions, not distances "
                                      "from zero; the large dot is each run's latest evaluation</sup>", x=0,
                                 y=0.97, yanchor="top"),
                      xaxis_title="NLL-test: how well G covers real data (lower is better)",
                      yaxis_title="NLL-oracle of G's samples (lower is better)",
                      height=460, margin=dict(l=70, r=20, t=90, b=60),
                      legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0))
    return fig


def verdict(rows: dict[str, pd.DataFrame], main: str) -> list[str]:
    """From the runs' last evaluations: does SeqGAN beat each control on both axes (one seed each)?"""
    last = {k: df[df["phase"] == "adversarial"].tail(1) for k, df in rows.items()}
    if main not in last or last[main].empty:
        return []
    mo, mt = float(last[main]["oracle"].iloc[0]), float(last[main]["test"].iloc[0])
    lines = []
    for label, df in last.items():
        if label == main or df.empty:
            continue
        o, t = float(df["oracle"].iloc[0]), float(df["test"].iloc[0])
        if mo < o and mt <= t:
            word = "**beats**"
        elif mo >= o and mt >= t:
            word = "**does not beat**"
        else:
            word = "**trades with**"
        lines.append(f"SeqGAN {word} {label}: NLL-oracle {mo:.3f} vs {o:.3f}, NLL-test {mt:.3f} vs {t:.3f}.")
    return lines


def controls_section(run: dict, runs: list[dict]) -> None:
    """The controls of the selected run: launch them, watch them on one chart, read the verdict."""
    st.subheader("Controls: what does the adversary add?")
    if run["config"]["schedule"].get("reward", "discriminator") != "discriminator" or run["state"].get("branched_from"):
        st.caption("This run is itself a control; open the run it was branched from to compare them.")
        return
    start = Path(run["dir"]) / "checkpoints" / BRANCH_POINTS["adversarial_start"]
    if not start.exists():
        st.caption("Controls can start once this run reaches its adversarial phase: each continues from the same "
                   "checkpoint with one thing changed.")
        return
    have = controls_of(run, runs)
    st.markdown("Each control continues from this run's adversarial start with one change:\n"
                + "\n".join(f"- **{k}**: {v[1]}" for k, v in CONTROLS.items()))
    missing = [k for k in CONTROLS if k not in have]
    if missing:
        chosen = st.multiselect("Controls to train beside this run", missing, default=missing,
                                key=f"lesson.pick.{run['id']}")
        if st.button("Train the chosen controls", icon=":material/science:", key=f"lesson.launch.{run['id']}",
                     disabled=not chosen) and R.allow("controls"):
            made = launch(run, chosen)
            st.success(f"Queued {len(made)} control run(s); they appear on the Runs page and below as they train.")
            st.rerun()
    if have:
        st.caption("Controls: " + " · ".join(f"{k} ({r['status']})" for k, r in have.items()))
    shown = {"SeqGAN (this run)": run, **have}
    series = {k: S.run_series(r["dir"], r["state"]) for k, r in shown.items()}     # read once per rerun
    rows = {k: eval_points(v) for k, v in series.items()}
    rows = {k: v for k, v in rows.items() if len(v)}
    if "SeqGAN (this run)" not in rows:
        st.caption("The chart needs NLL-oracle and NLL-test: a data set with an exact or sampled oracle.")
        return
    key = f"lesson.sweep.{run['id']}"
    if st.button("Add the temperature sweep of the starting G (no training)", key=f"{key}.go") \
            and R.allow("measure"):
        with st.spinner("Sampling the starting generator at τ = 0.7 … 1.2 in a process of its own…"):
            try:
                st.session_state[key] = sweep(run)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                st.error(f"The sweep failed: {e}")
    taus = st.session_state.get(key, [])
    version = ("qd", tuple((shown[k]["id"], v.generation, v.version) for k, v in series.items()),
               json.dumps(taus, sort_keys=True))
    fig = FIGURES.get(version, lambda: quality_diversity(rows, taus))    # shared by every viewer of these runs
    st.plotly_chart(fig, key=f"lesson.qd.{run['id']}", width="stretch", config={"displaylogo": False})
    lines = verdict(rows, "SeqGAN (this run)")
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
        st.caption("One seed each: how much of a difference is noise is not known from these runs alone. The "
                   "README's lesson study repeats this over three seeds. 'Beats' means lower NLL-oracle without a "
                   "higher NLL-test; a lower NLL-oracle bought with a higher NLL-test is only sharpening.")
    elif have:
        st.caption("The verdict appears once SeqGAN and a control have each evaluated in the adversarial phase.")
