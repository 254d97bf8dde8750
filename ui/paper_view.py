"""The Paper page's parts: Table 1 and Figure 3 from studies stored on this server, beside the paper's
published numbers, and what the controls say about them. Our side is always read from the run store; the
paper's side is the published numbers (seqgan_core.studies.report), labelled as such.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from seqgan_core.runs import RunDB, default_root
from seqgan_core.runs.store import read_config
from seqgan_core.studies import Study, load_spec, results
from seqgan_core.studies.report import PAPER_ADV_LOG, PAPER_TABLE1, PAPER_TABLE1_P, paper_studies

from . import studies_view as V

ALPHA = 0.05
SPECS = {"table1": "table1_classroom.toml", "fig3": "fig3_classroom.toml"}
METHOD_NAMES = {"random": "Random", "pretrained": "MLE start", "mle": "MLE", "ss": "SS", "pg_bleu": "PG-BLEU",
                "seqgan": "SeqGAN", "constant": "Constant reward", "shuffled": "Shuffled reward",
                "baseline": "SeqGAN − baseline"}
TEMP_ROW = "MLE, τ-matched"
ROWS_HELP = ("MLE start: the generator every method starts from, untrained further. Constant reward: policy "
             "gradient with reward 0.5 and no discriminator (a control). MLE, τ-matched: the MLE runs' generators "
             "sampled at the temperature where their NLL-test equals SeqGAN's (a control, no training).")


def scale_text(study: Study) -> str:
    """The study's scale in one line, from its runs' own configs: preset, data, rounds, seeds, samples."""
    cfg = read_config(study.members[-1]["dir"])
    o = cfg.data.options
    data = (f"synthetic oracle, vocabulary {int(o.get('vocab_size', 5000)):,}, length {int(o.get('seq_len', 20))}, "
            f"{int(o.get('num_train', 10000)):,} training sequences" if cfg.data.name == "oracle" else cfg.data.name)
    seeds = study.spec.seeds
    rounds = sorted({read_config(m["dir"]).schedule.adv_rounds for m in study.members} - {0})
    return (f"**Scale:** {study.spec.preset} preset — {data}; {', '.join(map(str, rounds)) or 'no'} adversarial "
            f"round(s); seeds {', '.join(map(str, seeds))} ({len(seeds)} per cell); NLL-oracle of "
            f"{cfg.eval.nll_samples:,} samples per run.")


def no_study(kind: str, what: str) -> None:
    """No stored study: offer the classroom-scale one, its cost first."""
    st.info(f"No {what} study is stored on this server yet, so there is nothing of ours to show: this page never "
            "shows canned numbers. Launch the classroom-scale study (its cost is measured first).",
            icon=":material/science:")
    spec = load_spec(V.SPEC_DIR / SPECS[kind])
    st.caption(spec.description)
    if V.launch_panel(spec, f"paper.{kind}.new"):
        st.rerun()


def in_progress(study: Study, done: int) -> None:
    """A study still running: how far, and where to watch it."""
    if done < len(study.members):
        eta = V.clock(study.status()["eta_s"])
        st.warning(f"{done} of {len(study.members)} runs have finished (study ETA {eta}); the rest are left out of "
                   "the numbers until they finish.", icon=":material/hourglass_top:")
        st.page_link("app_pages/studies.py", label="Watch it on the Studies page", icon=":material/science:")


# --- Table 1 ------------------------------------------------------------------------------------------------
def _row(tab: dict, method: str) -> dict | None:
    return next((r for r in tab["rows"] if r["cell"] == f"method={method}"), None)


def _values(row: dict | None) -> list[float]:
    return [v for v in (row or {}).get("values", {}).values() if v is not None]


def temp_row(tab: dict) -> dict | None:
    """The temperature-matched control's row (results.temperature_matched), when it was computed."""
    return next((r for r in tab["rows"] if "taus" in r), None)


def _ours(row: dict | None) -> str:
    vals = _values(row)
    if not vals:
        return "—"
    spread = f" ± {np.std(vals, ddof=1):.3f}" if len(vals) > 1 else ""
    return f"{np.mean(vals):.3f}{spread} ({len(vals)})"


PAPER_COL, OURS_COL = "paper", "ours: mean ± std (seeds)"
P_SEEDS, P_SEQ = "p vs SeqGAN: seeds", "p vs SeqGAN: sequences"


def table1_frame(tab: dict) -> pd.DataFrame:
    """Paper and ours side by side (NLL-oracle); the p-values are ours, against SeqGAN."""
    methods = ["random"] + [r["cell"].split("=", 1)[1] for r in tab["rows"]
                            if r["cell"].startswith("method=") and "taus" not in r]
    seqgan = _values(_row(tab, "seqgan"))
    named = [(METHOD_NAMES.get(m, m), m, _row(tab, m)) for m in dict.fromkeys(methods)]
    temp = temp_row(tab)
    if temp:
        named.append((TEMP_ROW, "", temp))
    rows = []
    for name, m, row in named:
        line = {"method": name, PAPER_COL: f"{PAPER_TABLE1[m]:.3f}" if m in PAPER_TABLE1 else "—", OURS_COL: _ours(row),
                P_SEEDS: "(reference)" if m == "seqgan" else
                results._p(results.welch(_values(row), seqgan)["p"]) if row else "—"}
        if tab.get("samples"):
            line[P_SEQ] = "(reference)" if m == "seqgan" else results._p(row.get("p_sequences")) \
                if row and "p_sequences" in row else "—"
        rows.append(line)
    return pd.DataFrame(rows)


def rows_help(tab: dict) -> str:
    """What the rows that are not in the paper are (with the temperatures the control used)."""
    temp = temp_row(tab)
    taus = ", ".join(f"{float(t):.2f}" for t in temp["taus"].values()) if temp else ""
    return ROWS_HELP + (f" τ per seed: {taus}." if taus else "") + \
        " NLL-oracle, lower is better; '—': not in the paper, or no run of ours."


def _survives(seqgan: list[float], other: list[float]) -> tuple[bool | None, float]:
    """(SeqGAN is lower and Welch's p < ALPHA over seeds, p); None when a side has fewer than two seeds."""
    p = results.welch(seqgan, other)["p"]
    if math.isnan(p):
        return None, p
    return bool(np.mean(seqgan) < np.mean(other) and p < ALPHA), p


def _cmp(name: str, s: list[float], o: list[float], p: float) -> str:
    test = "" if math.isnan(p) else f"Welch p = {results._p(p)} "
    diff = np.mean(s) - np.mean(o)
    return (f"SeqGAN {np.mean(s):.3f} vs {name} {np.mean(o):.3f} (SeqGAN {'lower' if diff < 0 else 'higher'} by "
            f"{abs(diff):.3f} nats, {test}over {len(s)} and {len(o)} seeds)")


def table1_verdict(tab: dict) -> list[str]:
    """What the numbers say, in plain words: SeqGAN against MLE, then against each control."""
    s = _values(_row(tab, "seqgan"))
    mle = _values(_row(tab, "mle"))
    if not s or not mle:
        return []
    lines = []
    beat, p = _survives(s, mle)
    if beat is None:
        lines.append(f"Too few seeds for a test: {_cmp('MLE', s, mle, p)}.")
    elif beat:
        lines.append(f"**SeqGAN beats MLE** at this scale: {_cmp('MLE', s, mle, p)}.")
    else:
        lines.append(f"**Null result: SeqGAN does not beat MLE** at this scale: {_cmp('MLE', s, mle, p)}.")
    controls = []
    const = _values(_row(tab, "constant"))
    if const:
        controls.append(("the constant-reward control (policy gradient with reward 0.5 and no discriminator)",
                         "constant reward", const))
    temp = temp_row(tab)
    if temp and _values(temp):
        missed = temp.get("not_reached") or []
        controls.append(("the temperature-matched MLE control (MLE's own generator cooled until its NLL-test equals "
                         "SeqGAN's" + (f"; for seed(s) {', '.join(map(str, missed))} no τ ≥ 0.5 reached it"
                                       if missed else "") + ")", "τ-matched MLE", _values(temp)))
    tested = []
    for name, short, vals in controls:
        ok, p = _survives(s, vals)
        tested.append(ok)
        if ok is None:
            lines.append(f"Too few seeds to test SeqGAN against {name}: {_cmp(short, s, vals, p)}.")
        elif not beat:          # no advantage over MLE to keep: the control is only compared
            worse = np.mean(s) > np.mean(vals) and p < ALPHA
            word = "SeqGAN is **better**" if ok else f"the {short} is **better** than SeqGAN" if worse else \
                "**no significant advantage** for SeqGAN"
            lines.append(f"Against {name}, {word}: {_cmp(short, s, vals, p)}.")
        elif ok:
            lines.append(f"The advantage **survives** {name}: {_cmp(short, s, vals, p)}.")
        else:
            lines.append(f"The advantage **does not survive** {name}: {_cmp(short, s, vals, p)}. What SeqGAN gains "
                         "here the control gains without the adversary: sharpening G, not D's reward, explains it.")
    if beat and tested and all(t is True for t in tested):
        lines.append("SeqGAN's advantage over MLE survives every control run here.")
    return lines


def stored(kind: str, title: str, what: str) -> Study | None:
    """The section's heading and its study (picked when several are stored), its scale; with none, the
    launch of the classroom-scale one."""
    st.subheader(title)
    studies = paper_studies(default_root(), kind)
    if not studies:
        no_study(kind, what)
        return None
    study = Study(V.picker(studies, f"paper.{kind}.pick")["dir"])
    st.markdown(scale_text(study))
    return study


def table1_section() -> None:
    study = stored("table1", "Table 1: NLL-oracle of each method", "Table 1")
    if study is None:
        return
    st.caption("The paper: the authors' oracle, 120 MLE epochs then 200 adversarial rounds, NLL-oracle of 100k "
               f"samples, SeqGAN against each baseline p < {PAPER_TABLE1_P:g} (a t-test over sequences). Different "
               "oracles and budgets: compare the order and the gaps, not the absolute numbers.")
    done = sum(RunDB(m["dir"]).state().get("status") == "finished" for m in study.members)
    in_progress(study, done)
    if not done:
        st.info("No results yet: no run of this study has finished.")
        return
    tab = results.table(study, "nll/oracle", "method=seqgan" if "method=seqgan" in study.cells() else None)
    tab = V.extras(study, "nll/oracle", tab["reference"], "paper.t1") or tab
    st.dataframe(table1_frame(tab), hide_index=True, width="stretch")
    st.caption(rows_help(tab))
    lines = table1_verdict(tab)
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))
    V.downloads(tab, f"table1-{study.dir.name}", "paper.t1")


# --- Figure 3 -----------------------------------------------------------------------------------------------
def fig3_lines(study: Study) -> list[str]:
    """Per schedule: its lowest mean NLL-oracle and where, and where it ended (a rise after the low is the
    instability the paper describes)."""
    sched = V.cell_schedules(study)
    out = []
    for cell, pts in results.curves(study, "nll/oracle").items():
        pts = V.to_x(pts, *sched[cell], V.X_ROUNDS)
        if len(pts) < 2:
            continue
        low = min(pts, key=lambda p: p["mean"])
        last = pts[-1]
        out.append(f"{cell}: from {pts[0]['mean']:.3f} at round 0 to a low of {low['mean']:.3f} at round "
                   f"{int(low['x'])}, ending at {last['mean']:.3f} after round {int(last['x'])} "
                   f"({last['mean'] - low['mean']:+.3f} from its low).")
    return out


def fig3_section() -> None:
    study = stored("fig3", "Figure 3: NLL-oracle under the four schedules", "Figure 3")
    if study is None:
        return
    in_progress(study, sum(RunDB(m["dir"]).state().get("status") == "finished" for m in study.members))
    st.caption("The paper's schedules: (a) g=100, d=1, k=10 · (b) g=30, d=1, k=30 · (c) g=1, d=1, k=10 · "
               "(d) g=1, d=5, k=3. The paper finds (a) fast but unstable, (c) and (d) stable, (d) the best. The "
               "authors' code logs schedule (d) at paper scale: " +
               ", ".join(f"{v:.2f} at round {r}" for r, v in PAPER_ADV_LOG.items()) + ".")
    if "schedule" not in study.spec.axes:
        st.info("This study has no schedule axis.")
        return
    reference = None
    if study.spec.preset == "paper":        # the same oracle and scale: the authors' log can share the axes
        reference = {"name": "the authors' code, schedule (d)", "x": list(PAPER_ADV_LOG),
                     "y": list(PAPER_ADV_LOG.values())}
    V.curves_chart(study, "nll/oracle", "paper.f3", default_x=V.X_ROUNDS,
                   title="NLL-oracle per schedule, mean over seeds", reference=reference)
    lines = fig3_lines(study)
    if lines:
        st.markdown("**What ours shows**, from the curves:\n" + "\n".join(f"- {line}" for line in lines))
    tab = results.table(study, "nll/oracle")
    if any(r["n"] for r in tab["rows"]):
        st.dataframe(V.table_frame(tab), hide_index=True, width="stretch")
        V.downloads(tab, f"fig3-{study.dir.name}", "paper.f3")
