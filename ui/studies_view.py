"""The Studies page's parts: a study built from axes (or a shipped spec), its measured cost, Start; the
stored studies with per-run progress, ETA and Cancel; their results table, curves and exports.

Everything goes through seqgan_core.studies, the functions `python -m seqgan_core study ...` uses: the spec
is checked by spec_from_dict, the cost measured by the CLI's own dry run (in a process of its own), the
study made by create_study and started by the local executor; the page reads the run store only.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
import streamlit as st

from seqgan_core.config import PRESET_HELP, ConfigError, preset
from seqgan_core.contract import label
from seqgan_core.runs import RunDB, default_root
from seqgan_core.runs.store import LIVE_STATUSES, read_config
from seqgan_core.studies import METHODS, Study, create_study, expand, load_spec, spec_from_dict
from seqgan_core.studies import results
from seqgan_core.studies.executors import LocalExecutor
from seqgan_core.train.checkpoint import init_from_problem

from . import background, charts, datasets
from .ribbon import clock

SPEC_DIR = Path(__file__).resolve().parents[1] / "studies"
SCHEDULES = {"a": {"g_steps": 100, "d_steps": 1, "k_epochs": 10}, "b": {"g_steps": 30, "d_steps": 1, "k_epochs": 30},
             "c": {"g_steps": 1, "d_steps": 1, "k_epochs": 10}, "d": {"g_steps": 1, "d_steps": 5, "k_epochs": 3}}
REFRESH_S = 2.0
SEQ_SAMPLES = 10000          # per run, for the per-sequence t-test (the paper used 100k per model)
# settings whose values name files on the server: never typed in a browser (presets and shipped specs set them)
PATH_KEYS = ("init_from", "data.name", "data.options", "data.options.path", "data.options.oracle_file")
SOURCE_BUILD, SOURCE_SHIPPED = "Build one from axes", "A shipped spec"


# --- specs ------------------------------------------------------------------------------------------------
def shipped_specs() -> dict[str, Path]:
    """The specs shipped in studies/, by file name: the user picks a name, never types a path."""
    return {p.name: p for p in sorted(SPEC_DIR.glob("*.toml")) + sorted(SPEC_DIR.glob("*.json"))}


def parse_values(text: str) -> list:
    """A comma-separated list of values typed as text: numbers and true/false as JSON, the rest as words."""
    return [datasets.parse_option(v) for v in text.split(",") if v.strip()]


def parse_seeds(text: str) -> list[int]:
    values = parse_values(text)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ConfigError("seeds: whole numbers separated by commas, e.g. 0, 1, 2")
    return values


def build_spec(name: str, preset_name: str, data_name: str, methods: list[str], schedules: list[str],
               set_key: str, set_values: str, seeds: str, rounds: int) -> dict:
    """The spec dict the builder describes (checked later by spec_from_dict, like a file)."""
    base = preset(preset_name)
    overrides: dict = {"device": "auto", "adv_rounds": int(rounds)}     # a GPU when there is one
    if data_name != base.data.name:
        # the preset's options and starting checkpoint belong to its own data set
        overrides.update({"data.name": data_name, "data.options": {}, "init_from": ""})
    axes: dict = {}
    if methods:
        axes["method"] = list(methods)
    if schedules:
        axes["schedule"] = {s: SCHEDULES[s] for s in schedules}
    if set_key.strip():
        key = set_key.strip()
        if key in PATH_KEYS or key.endswith(("path", "file", "_dir")):
            raise ConfigError(f"{key} names a file on the server: it cannot be typed here (presets and the shipped "
                              "specs set it)")
        values = parse_values(set_values)
        if not values:
            raise ConfigError(f"axis {set_key.strip()}: give its values, separated by commas")
        axes[set_key.strip()] = values
    axes["seed"] = parse_seeds(seeds)
    ref = "method=seqgan" if "seqgan" in methods and len(axes) == 2 else ""
    return {"name": name, "preset": preset_name, "set": overrides, "axes": axes, "metric": "nll/oracle",
            "reference": ref, "description": f"built on the Studies page ({preset_name} preset, {data_name})"}


def spec_problems(spec) -> list[str]:
    """What would stop a run of the study: the starting checkpoint of each distinct config (the worker's
    own first check)."""
    seen, out = set(), []
    for m in expand(spec):
        problem = init_from_problem(m.cfg)
        if problem and problem not in seen:
            seen.add(problem)
            out.append(f"{m.cell}: {problem}")
    return out


def builder() -> tuple[dict | None, list[str]]:
    """The axes picked by hand: a preset and data set as the base, methods, schedules, one more setting,
    seeds. Returns (spec dict, problems)."""
    left, right = st.columns(2)
    with left:
        name = st.text_input("Study name", value="my_study", max_chars=60, key="studies.b.name",
                             help="Letters, digits, _ and -; it becomes part of the study's folder name.")
        preset_name = st.selectbox("Base preset", list(PRESET_HELP), key="studies.b.preset",
                                   index=list(PRESET_HELP).index("tiny"))
        st.caption(PRESET_HELP[preset_name])
        names = [n for n, s in datasets.specs().items() if n != "upload"]
        data_name = st.selectbox("Data set", names, key="studies.b.data", format_func=datasets.title,
                                 index=names.index(preset(preset_name).data.name)
                                 if preset(preset_name).data.name in names else 0)
        rounds = st.number_input("Adversarial rounds", min_value=0, max_value=10000, step=1,
                                 value=preset(preset_name).schedule.adv_rounds, key=f"studies.b.rounds.{preset_name}")
    with right:
        methods = st.multiselect("Methods", list(METHODS), default=["mle", "seqgan"], key="studies.b.methods",
                                 help="Each a configuration of the one Algorithm-1 trainer.")
        st.caption(" · ".join(f"**{m}**: {METHODS[m].help}" for m in methods))
        schedules = st.multiselect("Schedules (Figure 3)", list(SCHEDULES), key="studies.b.schedules",
                                   format_func=lambda s: f"({s}) g={SCHEDULES[s]['g_steps']}, "
                                                         f"d={SCHEDULES[s]['d_steps']}, k={SCHEDULES[s]['k_epochs']}")
        c1, c2 = st.columns(2)
        set_key = c1.text_input("Another setting to vary", key="studies.b.setkey", placeholder="e.g. rollout_num",
                                help="Any `--set` key of `python -m seqgan_core train --help-settings`.")
        set_values = c2.text_input("its values", key="studies.b.setvalues", placeholder="e.g. 4, 16")
        seeds = st.text_input("Seeds", value="0, 1, 2", key="studies.b.seeds",
                              help="Every cell is run once per seed; mean and spread are over seeds.")
    try:
        return build_spec(name, preset_name, data_name, methods, schedules, set_key, set_values, seeds, rounds), []
    except (ConfigError, ValueError) as e:
        return None, [str(e)]


def chosen_spec() -> tuple[object | None, list[str]]:
    """The spec of the New-study form: built from axes or a shipped one, checked as the CLI checks a file."""
    source = st.radio("Start from", (SOURCE_BUILD, SOURCE_SHIPPED), horizontal=True, key="studies.source")
    if source == SOURCE_SHIPPED:
        files = shipped_specs()
        if not files:
            return None, ["No specs are shipped in studies/."]
        chosen = st.selectbox("Spec", list(files), key="studies.shipped")
        try:
            spec = load_spec(files[chosen])
        except (ConfigError, ValueError, OSError) as e:
            return None, [f"{chosen}: {e}"]
        st.caption(spec.description)
        with st.expander("The spec", expanded=False):
            st.code(files[chosen].read_text(), language="toml")
        return spec, spec_problems(spec)
    data, errs = builder()
    if data is None:
        return None, errs
    try:
        spec = spec_from_dict(data)
    except (ConfigError, ValueError) as e:
        return None, [str(e)]
    return spec, spec_problems(spec)


# --- cost and start ---------------------------------------------------------------------------------------
def _spec_key(spec) -> str:
    return json.dumps(spec.to_dict(), sort_keys=True)


def estimate_key(spec) -> str:
    return f"estimate:{default_root()}:{_spec_key(spec)}"


def start_estimate(spec) -> None:
    """The CLI's dry run of the study (measures each cell in a process of its own, starts nothing)."""
    background.start(estimate_key(spec), ["seqgan_core", "study", "run", "{input}", "--dry-run"],
                     input_json=json.dumps(spec.to_dict()))


def cost_panel(spec, key: str) -> dict | None:
    """Measure, show and return the whole study's cost (None until measured for exactly this spec)."""
    members = expand(spec)
    cells = list(dict.fromkeys(m.cell for m in members))
    st.markdown(f"**{len(cells)} cell(s) × {len(spec.seeds)} seed(s) = {len(members)} runs** on the "
                f"{spec.preset} preset.")
    task = background.get(estimate_key(spec))
    if task is None:
        if st.button("Measure the cost of the whole study", icon=":material/timer:", key=f"{key}.measure"):
            start_estimate(spec)
            st.rerun()
        st.caption("Each cell is timed once (seeds cost the same), in a process of its own; about ten seconds a "
                   "cell.")
        return None
    if task.running:
        _estimate_progress(estimate_key(spec), len(cells))
        return None
    try:
        est = task.result()["estimate"]
    except (RuntimeError, ValueError, KeyError) as e:
        st.error(f"The measurement failed: {e}")
        if st.button("Measure again", key=f"{key}.again"):
            background.forget(estimate_key(spec))
            st.rerun()
        return None
    show_cost(est)
    return est


def _estimate_progress(task_key: str, cells: int) -> None:
    """While the dry run measures: its latest line, refreshed until it ends (then the whole page reruns)."""
    @st.fragment(run_every=1.0)
    def watch():
        task = background.get(task_key)
        if task is None or not task.running:
            st.rerun()
        st.info(f"Measuring ({task.last_line() or 'starting'}; {cells} cell(s), "
                f"{time.time() - task.started:.0f} s so far)…", icon=":material/timer:")
    watch()


def show_cost(est: dict) -> None:
    cols = st.columns(3)
    cols[0].metric("training in all", clock(est["compute_s"]))
    cols[1].metric(f"wall-clock, {est['parallel']} run(s) at a time", clock(est["wall_s"]))
    cols[2].metric("cells measured", len(est["cells"]))
    st.dataframe(pd.DataFrame([{"cell": c, "runs": v["runs"], "per run": clock(v["per_run_s"]),
                                "all its runs": clock(v["runs"] * v["per_run_s"])} for c, v in est["cells"].items()]),
                 hide_index=True, width="stretch")
    st.caption("Measured on this machine: a few timed minibatches of each kind, scaled by each cell's schedule. "
               "On a shared machine it can be off by a factor of two either way; once runs train, the ETA below "
               "uses their own measured units.")


def start_study(spec, est: dict) -> Path:
    """create_study + the local executor, as `study run` does."""
    ex = LocalExecutor()
    sdir = create_study(spec, root=default_root(), executor=ex.info(), estimate=est)
    ex.start(Study(sdir))
    return sdir


def launch_panel(spec, key: str) -> Path | None:
    """The cost, then Start (enabled once the cost of exactly this spec is known). Returns the new study."""
    est = cost_panel(spec, key)
    if st.button("Start the study", type="primary", icon=":material/play_arrow:", key=f"{key}.start",
                 disabled=est is None, help=None if est else "Measure its cost first."):
        sdir = start_study(spec, est)
        background.forget(estimate_key(spec))
        st.session_state[PICK] = sdir.name
        return sdir
    return None


# --- stored studies ---------------------------------------------------------------------------------------
PICK = "studies.pick"


def study_label(s: dict) -> str:
    made = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["created"]))
    return f"{s['name']} · {s['preset']} preset · {s['runs']} runs · {made} · {s['id']}"


def picker(studies: list[dict], key: str = PICK) -> dict:
    ids = [s["id"] for s in studies]
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    by_id = {s["id"]: s for s in studies}
    chosen = st.selectbox("Study", ids, key=key, format_func=lambda i: study_label(by_id[i]))
    return by_id[chosen]


def status_frame(status: dict) -> pd.DataFrame:
    """One row per run: cell, seed, status, progress (0–1), where it is, its ETA."""
    rows = []
    for r in status["runs"]:
        where = f"{r['phase']} {(r['index'] or 0) + 1}/{r['phase_total']}" if r["phase"] and r["phase_total"] else ""
        done = r["status"] == "finished"
        rows.append({"cell": r["cell"], "seed": r["seed"], "status": r["status"],
                     "progress": 1.0 if done else float(r["fraction"] or 0.0), "at": where if not done else "",
                     "ETA": clock(r["eta_s"]) if r["eta_s"] is not None else "",
                     "note": (r["error"] or "") if r["status"] in ("failed", "interrupted", "stopped") else "",
                     "run": r["run"]})
    return pd.DataFrame(rows)


def progress_panel(sdir: str, finished_shown: int | None = None) -> None:
    """Counts, the overall ETA and each run's progress; Cancel and Resume. Refreshes itself while it runs;
    when another run has finished since the page showed finished_shown of them, the whole page reruns so
    the results below take it in."""
    study = Study(sdir)
    status = study.status()
    if finished_shown is not None and status["counts"].get("finished", 0) != finished_shown:
        st.rerun()
    counts = ", ".join(f"{n} {k}" for k, n in sorted(status["counts"].items()))
    c1, c2, c3 = st.columns([2, 1, 1])
    c1.markdown(f"**{counts}**")
    c2.metric("study ETA", "done" if status["done"] else clock(status["eta_s"]),
              help="Running runs' own ETAs plus the measured cost of the queued ones, shared among the runs "
                   f"that go at once ({status['parallel']} here).")
    live = [r for r in status["runs"] if r["status"] in LIVE_STATUSES or r["status"] == "queued"]
    with c3:
        if live and st.button("Cancel the study", icon=":material/stop:", key=f"studies.cancel.{study.dir.name}",
                              help="Queued runs become stopped; running ones save a checkpoint and stop."):
            n = study.cancel()
            st.toast(f"Told {n} run(s) to stop.")
        restart = study.restartable()
        if restart and not live and st.button(f"Resume {len(restart)} run(s)", icon=":material/replay:",
                                              key=f"studies.resume.{study.dir.name}"):
            LocalExecutor().start(study, restart)
            st.toast(f"{len(restart)} run(s) queued again.")
    st.dataframe(status_frame(status), hide_index=True, width="stretch",
                 column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0,
                                                                            format="percent"),
                                "seed": st.column_config.NumberColumn("seed", format="%d")})


def watch(sdir: Path) -> None:
    """progress_panel, refreshed every REFRESH_S while the study has runs to go."""
    status = Study(sdir).status()
    live = not status["done"]
    st.fragment(progress_panel, run_every=REFRESH_S if live else None)(
        str(sdir), status["counts"].get("finished", 0) if live else None)


# --- results ------------------------------------------------------------------------------------------------
def recorded_metrics(study: Study) -> list[str]:
    """Metrics the study's finished runs recorded at their end, the spec's first."""
    names = set()
    for m in study.members:
        if RunDB(m["dir"]).state().get("status") == "finished":
            names |= set(RunDB(m["dir"]).latest_values())
    names = sorted(n for n in names if not n.startswith(("loss/", "g/", "mle/")))
    spec_metric = study.spec.metric
    return ([spec_metric] if spec_metric in names else []) + [n for n in names if n != spec_metric]


def finished_signature(study: Study) -> str:
    """Changes whenever a run of the study finishes or is resumed (cached results are keyed by it)."""
    return json.dumps(study.signature(), default=str)


TEMP_MATCH = ("method=mle", "method=seqgan")    # the control: MLE's G cooled to SeqGAN's NLL-test


def extras(study: Study, metric: str, ref: str, key: str) -> dict | None:
    """The table with its costly parts, each switched on by the user and computed in a process of its own:
    the per-sequence t-test (NLL-oracle) and the temperature-matched MLE control (a study with MLE and
    SeqGAN cells). None while nothing is asked or the process works."""
    left, right = st.columns(2)
    seq = metric == "nll/oracle" and left.toggle(
        f"Per-sequence t-test ({SEQ_SAMPLES:,} samples per run, as the paper)", key=f"{key}.seq",
        help="Samples each finished run's final generator; about a few seconds a run.")
    temp = set(TEMP_MATCH) <= set(study.cells()) and right.toggle(
        "Temperature-matched MLE control", key=f"{key}.temp",
        help="Each MLE run's final G sampled at τ ≤ 1 (no training) where its NLL-test equals SeqGAN's of the "
             "same seed; its value there is the control, tested against the reference like any cell.")
    if not seq and not temp:
        return None
    args = ["seqgan_core.studies.report", str(study.dir), "--metric", metric, "--ref", ref,
            "--samples", str(SEQ_SAMPLES if seq else 0)] + (["--temperature-match", ":".join(TEMP_MATCH)] if temp else [])
    return background.computed(f"table:{finished_signature(study)}:{args}", args, ":material/functions:",
                               "Sampling the runs' final generators", "The computation failed")


def _p(x) -> str:
    return results._p(x)


def table_frame(tab: dict) -> pd.DataFrame:
    """The results table for st.dataframe: mean ± std over seeds, seeds, the Welch p-values."""
    ref = tab["reference"]
    rows = []
    for r in tab["rows"]:
        value = results.mean_spread(r)
        cell = r["cell"] + (" (τ " + ", ".join(f"{float(t):.2f}" for t in r["taus"].values()) + ")" if r.get("taus") else "")
        row = {"cell": cell, f"{label(tab['metric'])} mean ± std": value or "—",
               "seeds": r["n"], "p vs reference (seeds)": "(reference)" if r["cell"] == ref else _p(r.get("p_seeds"))}
        if tab.get("samples"):
            row["mean over sequences"] = results._num(r.get("seq_mean"))
            row["p vs reference (sequences)"] = "(reference)" if r["cell"] == ref else _p(r.get("p_sequences"))
        rows.append(row)
    return pd.DataFrame(rows)


def downloads(tab: dict, name: str, key: str) -> None:
    cols = st.columns(3)
    for col, (fmt, fn, mime, ext) in zip(cols, (("CSV", results.to_csv, "text/csv", "csv"),
                                                ("Markdown", results.to_markdown, "text/markdown", "md"),
                                                ("LaTeX", results.to_latex, "application/x-tex", "tex"))):
        col.download_button(f"Table ({fmt})", fn(tab), file_name=f"{name}.{ext}", mime=mime, key=f"{key}.dl.{ext}",
                            icon=":material/download:")


def cell_schedules(study: Study) -> dict[str, tuple[int, int]]:
    """cell -> (MLE epochs before the adversarial phase, g-steps per round), from its first run's config."""
    out = {}
    for m in study.members:
        if m["cell"] not in out:
            s = read_config(m["dir"]).schedule
            out[m["cell"]] = (s.pretrain_g_epochs, s.g_steps)
    return out


X_RECORDED, X_ROUNDS, X_UPDATES = "MLE epoch, then E + round", "adversarial round", "generator updates (PG steps)"


def to_x(curve: list[dict], epochs: int, g_steps: int, mode: str) -> list[dict]:
    """A cell's curve on the chosen x: as recorded, or from the adversarial start (round 0 = the last MLE
    evaluation) in rounds or in generator updates."""
    if mode == X_RECORDED:
        return curve
    out = []
    for p in curve:
        r = p["x"] - epochs + 1                     # round r ends at x = E + r - 1
        if r >= 0:
            out.append({**p, "x": r * (g_steps if mode == X_UPDATES else 1)})
    return out


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def curves_figure(curves: dict[str, list[dict]], metric: str, x_title: str, title: str, zoom: bool,
                  uirevision: str, reference: dict | None = None) -> go.Figure:
    """One line per cell (mean over seeds) with a band of ± one standard deviation; reference: an extra
    dashed line {name, x, y} (e.g. a published curve)."""
    traces = []
    for i, (cell, pts) in enumerate(curves.items()):
        if not pts:
            continue
        color = qualitative.D3[i % len(qualitative.D3)]
        x = [p["x"] for p in pts]
        mean = np.array([p["mean"] for p in pts])
        std = np.nan_to_num(np.array([p["std"] for p in pts], dtype=float))
        if std.any():
            traces.append({"type": "scatter", "x": x + x[::-1], "y": list(mean + std) + list((mean - std)[::-1]),
                           "fill": "toself", "fillcolor": _rgba(color, 0.18), "line": {"width": 0}, "mode": "lines",
                           "hoverinfo": "skip", "showlegend": False, "name": f"{cell} ± std"})
        traces.append({"type": "scatter", "x": x, "y": list(mean), "name": cell,
                       "mode": "lines+markers" if len(x) < 60 else "lines",
                       "line": {"color": color, "width": 2.5}, "marker": {"size": 6},
                       "customdata": np.c_[std, [p["n"] for p in pts]],
                       "hovertemplate": f"{cell}<br>x %{{x}}: %{{y:.3f}} ± %{{customdata[0]:.3f}} "
                                        "(%{customdata[1]} seeds)<extra></extra>"})
    if reference:
        traces.append({"type": "scatter", "x": reference["x"], "y": reference["y"], "name": reference["name"],
                       "mode": "lines+markers", "line": {"color": "#555", "dash": "dash", "width": 2}})
    y_title = label(metric)
    sub = ("y axis zoomed to the curves: it does not start at zero" if zoom else
           "y axis from zero: a 1% change is 1% of the height")
    layout = charts._layout(f"{title}<br><sup>{sub}; band: ± one standard deviation over seeds</sup>",
                            uirevision, x_title, y_title, height=440)
    charts.honest_axes(layout, [t for t in traces if t.get("showlegend") is not False], y_title)
    if zoom:
        layout["yaxis"].pop("range", None)
        layout["yaxis"]["rangemode"] = "normal"
    layout["title"].update(y=1, yanchor="top", pad={"t": 12})     # two lines: room above the first
    fig = go.Figure({"data": traces, "layout": layout})
    rows = legend_rows([t["name"] for t in traces if t.get("showlegend") is not False])
    fig.update_layout(margin={"t": 76 + charts.LEGEND_ROW_PX * rows}, height=440 + charts.LEGEND_ROW_PX * rows)
    return fig


WIDE_LEGEND_PX = 640         # a full-width chart is at least this wide on a 1024-pixel projector


def legend_rows(names: list[str]) -> int:
    """Rows of the legend above a full-width chart (charts.legend_room packs for a half-width one)."""
    rows, used = (1 if names else 0), 0
    for name in names:
        w = 55 + 8 * len(name)
        if used and used + w > WIDE_LEGEND_PX:
            rows, used = rows + 1, 0
        used += w
    return rows


def curves_chart(study: Study, metric: str, key: str, default_x: str = X_RECORDED, title: str | None = None,
                 reference: dict | None = None) -> None:
    """The metric's curve per cell on one chart, with the x axis and zoom to choose."""
    mode = st.radio("x axis", (X_RECORDED, X_ROUNDS, X_UPDATES), horizontal=True, key=f"{key}.x",
                    index=(X_RECORDED, X_ROUNDS, X_UPDATES).index(default_x))
    zoom = st.toggle("Zoom the y axis to the curves", key=f"{key}.zoom",
                     help="Off: the axis starts at zero, so the size of a change is drawn honestly.")
    raw = results.curves(study, metric)
    sched = cell_schedules(study)
    curves = {c: to_x(pts, *sched[c], mode) for c, pts in raw.items()}
    if not any(curves.values()):
        st.caption(f"No run of this study has recorded {label(metric)} yet.")
        return
    fig = curves_figure(curves, metric, mode, title or f"{label(metric)} per cell, mean over seeds", zoom,
                        f"{key}:{study.dir.name}", reference if mode != X_RECORDED else None)
    st.plotly_chart(fig, key=f"{key}.chart", width="stretch", config={"displaylogo": False})


def results_section(study: Study, key: str) -> None:
    """The results table (seeds; per-sequence on request), the curves, the exports."""
    metrics = recorded_metrics(study)
    if not metrics:
        st.info("No results yet: no run of this study has finished. The table fills in as runs finish.",
                icon=":material/hourglass_top:")
        return
    cells = study.cells()
    c1, c2 = st.columns(2)
    metric = c1.selectbox("Metric", metrics, key=f"{key}.metric", format_func=label)
    default_ref = study.spec.reference if study.spec.reference in cells else cells[-1]
    ref = c2.selectbox("Tested against (Welch's t-test)", cells, key=f"{key}.ref", index=cells.index(default_ref))
    tab = results.table(study, metric, ref, samples=0)
    tab = extras(study, metric, ref, key) or tab
    st.dataframe(table_frame(tab), hide_index=True, width="stretch")
    unfinished = len(study.members) - sum(r["n"] for r in tab["rows"])
    st.caption(("Over seeds: Welch's t-test (scipy) of the seeds' final values, n = seeds. " +
                ("Over sequences: the per-token NLL-oracle of each sample of each run's final generator, pooled "
                 "over seeds — the paper's test; its n is the sample size, so it finds trained models apart "
                 "almost always and says nothing about other seeds. " if tab.get("samples") else "") +
                (f"{unfinished} run(s) not finished are left out." if unfinished else "")))
    downloads(tab, f"{study.spec.name}-{metric.replace('/', '_')}", key)
    # schedules differ in rounds and updates, not in their MLE start: their curves from the adversarial start
    curves_chart(study, metric, key, default_x=X_ROUNDS if "schedule" in study.spec.axes else X_RECORDED)
