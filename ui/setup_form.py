"""The Setup page's form: a preset or a cloned run as the starting point, every setting as a widget that
says in one line what it does, the engine's validation shown inline, and Start.

The draft lives in session_state under "setup.*" keys (a UI choice, not training state). Widgets are
built from the config dataclasses' fields and their `help` metadata, so the form follows the engine.
"""
from __future__ import annotations

import dataclasses
import math
import subprocess
import time

import streamlit as st

from seqgan_core.data import DataError
from seqgan_core.config import PRESET_HELP, SECTIONS, ConfigError, RunConfig, apply_overrides, preset, validate
from seqgan_core.accel import threads_for
from seqgan_core.estimate import estimate_in_subprocess
from seqgan_core.device import device_facts, list_devices
from seqgan_core.runs.jobs import active_cpu_runs
from seqgan_core.train.checkpoint import init_from_problem, known_starts, resolve_asset

from . import datasets, lesson_link as L, roles as R, state as U

BASE = "setup.base"          # the config dict the draft started from (a preset or a cloned run)
PRESET = "setup.preset"
DATASET = "setup.dataset"
DEVICE = "setup.device"
DEFAULT_PRESETS = ("classroom", "tiny")   # the first whose files are all here opens the page

GROUPS = {
    "The adversarial game": ["schedule.g_steps", "schedule.d_steps", "schedule.k_epochs", "schedule.rollout_num",
                             "schedule.adv_rounds", "schedule.rollout_delay", "schedule.reward_baseline"],
    "Pre-training": ["schedule.pretrain_g_epochs", "schedule.pretrain_d_rounds", "schedule.pretrain_d_epochs"],
    "Optimisation": ["schedule.batch_size", "schedule.g_lr", "schedule.pg_lr", "schedule.d_lr",
                     "schedule.num_negatives", "schedule.grad_clip", "schedule.pg_loss_norm",
                     "schedule.fresh_pg_optimizer"],
    "Models": ["generator.emb_dim", "generator.hidden_dim", "generator.init_std",
               "discriminator.emb_dim", "discriminator.filter_sizes", "discriminator.num_filters",
               "discriminator.dropout", "discriminator.l2_reg"],
    "Run": ["name", "seed", "init_from"],
    "Evaluation and checkpoints": ["eval.eval_every_epochs", "eval.eval_every_rounds", "eval.nll_samples",
                                   "eval.snapshot_samples", "eval.checkpoint_every_rounds"],
}
LABELS = {"schedule.g_steps": "g-steps", "schedule.d_steps": "d-steps", "schedule.k_epochs": "k (epochs per d-step)",
          "schedule.rollout_num": "N (roll-outs per token)", "schedule.adv_rounds": "adversarial rounds",
          "schedule.rollout_delay": "roll-out delay r", "schedule.reward_baseline": "reward baseline",
          "schedule.pretrain_g_epochs": "MLE pre-training epochs",
          "schedule.pretrain_d_rounds": "D pre-training rounds",
          "schedule.pretrain_d_epochs": "epochs per D pre-training round", "schedule.batch_size": "batch size",
          "schedule.g_lr": "G learning rate (MLE)", "schedule.pg_lr": "G learning rate (policy gradient)",
          "schedule.d_lr": "D learning rate"}
EXPANDED = ("The adversarial game", "Pre-training")


# Not on the form: the device has its own picker; the generator temperature only shapes the samples the
# CLI's `sample` prints (training and NLL-oracle always use τ = 1), so offering it here would mislead.
NOT_ON_FORM = ("device", "generator.temperature", "schedule.changes")   # changes: recorded by Live


def _unlisted() -> list[str]:
    """Settings the engine has that GROUPS does not place (a field added later still gets a widget)."""
    listed = {p for paths in GROUPS.values() for p in paths}
    top = [f.name for f in dataclasses.fields(RunConfig) if f.name not in SECTIONS]
    nested = [f"{sec}.{f.name}" for sec, cls in SECTIONS.items() if sec != "data" for f in dataclasses.fields(cls)]
    return [p for p in top + nested if p not in listed and p not in NOT_ON_FORM]


FORM_GROUPS = {**GROUPS, **({"Other settings": _unlisted()} if _unlisted() else {})}


def _field(path: str) -> dataclasses.Field:
    """The dataclass field behind a dotted setting path."""
    sec, _, name = path.rpartition(".")
    return next(f for f in dataclasses.fields(SECTIONS[sec] if sec else RunConfig) if f.name == name)


def _get(cfg: dict, path: str):
    """The value at a dotted setting path of a config dict."""
    sec, _, name = path.rpartition(".")
    return (cfg[sec] if sec else cfg)[name]


def _widget_value(value):
    """Lists are edited as comma-separated text."""
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


def load(cfg: RunConfig) -> None:
    """Make cfg the draft: every widget key takes its value (called before the widgets are drawn)."""
    d = cfg.to_dict()
    d["name"] = str(d.get("name") or "")[:U.NAME_MAX]     # the form's bound (a cloned run may be longer)
    st.session_state[BASE] = d
    for paths in FORM_GROUPS.values():
        for path in paths:
            st.session_state[f"setup.f.{path}"] = _widget_value(_get(d, path))
    st.session_state[DATASET] = d["data"]["name"]
    st.session_state[DEVICE] = d["device"]
    for k in [k for k in st.session_state if str(k).startswith("setup.opt.")]:
        del st.session_state[k]        # data-set options re-read from the new base


def first_preset() -> str:
    """classroom when its shipped checkpoint is present, else tiny."""
    for name in DEFAULT_PRESETS:
        if _init_from_problem(preset(name).init_from) is None:
            return name
    return "tiny"


def init() -> None:
    """Guarded start of the draft; a config cloned on the Runs page replaces it."""
    if BASE not in st.session_state:
        st.session_state[PRESET] = first_preset()
        load(preset(st.session_state[PRESET]))
    L.take(load)
    clone = st.session_state.get(U.KEY_CLONE)
    if clone:
        load(RunConfig.from_dict(clone))
        st.session_state[U.KEY_CLONE] = None
        st.toast("Loaded the cloned run's settings.")


def preset_picker() -> None:
    """The preset choice; choosing one loads all its values into the form."""
    L.banner()
    st.selectbox("Preset", list(PRESET_HELP), key=PRESET, on_change=lambda: load(preset(st.session_state[PRESET])),
                 help="A starting point; every value below can still be changed.",
                 disabled=L.mode(L.PRESET) is not None)
    st.caption(PRESET_HELP[st.session_state[PRESET]])


def field_widget(path: str, errors: list[str]):
    """The widget for one setting, its one-line help under it, and any engine message about it."""
    f, key = _field(path), f"setup.f.{path}"
    label, help_text = LABELS.get(path, path.rpartition(".")[2].replace("_", " ")), f.metadata.get("help", "")
    current = st.session_state[key]
    if L.mode(path) == "hide":          # a lesson's hidden setting keeps its value, unseen
        return current
    off = L.mode(path) == "lock"
    if path == "init_from":             # a server path: chosen from the checkpoints the project knows
        starts = dict(known_starts(U.jobs().root))
        if current and current not in starts:
            starts[current] = current   # a preset's or a cloned run's own start stays selectable
        value = st.selectbox(label, [""] + list(starts), key=key, disabled=off,
                             format_func=lambda v: starts.get(v, "(none: pre-train from scratch)"))
    elif f.metadata.get("choices"):
        value = st.selectbox(label, f.metadata["choices"], key=key, disabled=off)
    elif isinstance(current, bool):
        value = st.toggle(label, key=key, disabled=off)
    elif isinstance(current, int):
        value = st.number_input(label, step=1, key=key, disabled=off)
    elif isinstance(current, float):
        value = st.number_input(label, format="%g", step=_float_step(_get(st.session_state[BASE], path)), key=key,
                                disabled=off)
    else:
        value = st.text_input(label, key=key, disabled=off, max_chars=U.NAME_MAX if path == "name" else None)
    st.caption(help_text)
    for msg in errors:
        st.error(msg, icon=":material/block:")
    return value


def _float_step(value: float) -> float:
    """A tenth of the value's order of magnitude (0.01 -> 0.001, 0.25 -> 0.01); 0.05 from zero."""
    return 10 ** math.floor(math.log10(abs(value))) / 10 if value else 0.05


def overrides() -> dict:
    """The draft's values as dotted overrides (lists parsed from their text)."""
    out = {}
    for paths in FORM_GROUPS.values():
        for path in paths:
            value = st.session_state[f"setup.f.{path}"]
            if isinstance(_get(st.session_state[BASE], path), list):
                value = "[" + str(value) + "]"      # apply_overrides parses JSON lists
            out[path] = value
    return out


def build(data_name: str, options: dict, device: str) -> tuple[RunConfig | None, list[str]]:
    """The config the draft describes, or the reason it cannot be built."""
    try:
        cfg = apply_overrides(RunConfig.from_dict(st.session_state[BASE]), overrides())
    except (ConfigError, ValueError) as e:
        return None, [str(e)]
    cfg.data.name, cfg.data.options, cfg.device = data_name, options, device
    return cfg, []


def problems(cfg: RunConfig, shape) -> list[str]:
    """The engine's validation messages (with the data set's size where known), the engine's own check of
    the starting checkpoint (the same one the CLI and the worker run) and a missing upload."""
    errs = validate(cfg, *(shape or (None, None)))
    missing = [init_from_problem(cfg), datasets.missing_input(cfg.data.name, cfg.data.options)]
    return errs + [m for m in missing if m]


FIT_FOR = "setup.fit_for"          # the data set the starting checkpoint was last fitted to
FIT_NOTE = "setup.fit_note"        # what Setup changed about the starting checkpoint, and why
MAX_STARTS_TRIED = 12              # starting checkpoints looked at for one that fits a new data set


def fit_start(cfg: RunConfig) -> str | None:
    """When the data set changes under a draft that starts from a checkpoint trained on another one (the
    classroom preset starts from the oracle's), use a known checkpoint that fits this data set, else clear
    the starting point so the run pre-trains from scratch. Changes the draft (before the form is drawn)
    and cfg; returns the note that says so (kept until the data set changes again)."""
    data_key = datasets.key(cfg.data.name, cfg.data.options)
    if st.session_state.get(FIT_FOR) == data_key:
        return st.session_state.get(FIT_NOTE)
    first = FIT_FOR not in st.session_state
    st.session_state[FIT_FOR], st.session_state[FIT_NOTE] = data_key, None
    problem = init_from_problem(cfg) if cfg.init_from and not first else None
    if not problem or "was trained on data set" not in problem:
        return None
    was, fits = cfg.init_from, ""
    for value, label in known_starts(U.jobs().root)[:MAX_STARTS_TRIED]:
        trial = RunConfig.from_dict(cfg.to_dict())
        trial.init_from = value
        if value != was and init_from_problem(trial) is None:
            fits = value
            note = f"starts from {label}, which was trained on {cfg.data.name}"
            break
    else:
        note = (f"pre-trains G from scratch ({cfg.schedule.pretrain_g_epochs} MLE epochs): no known starting "
                f"checkpoint was trained on {cfg.data.name}")
    cfg.init_from = fits
    st.session_state["setup.f.init_from"] = fits
    st.session_state[FIT_NOTE] = (f"The preset's starting point ({was}) was trained on another data set, so "
                                  f"this run {note}. Change it under Run → init_from.")
    return st.session_state[FIT_NOTE]


def data_problem(name: str, options: dict, seed: int) -> str | None:
    """The worker's own first check, made here before Start: load the data set. Done at once for a file
    (an upload) and for a built-in data set whose options were changed; any data set that failed to load
    here (also by "Load and check") keeps its reason."""
    bad = datasets.rejected(name, options)
    if bad or datasets.checked(name, options) or datasets.missing_input(name, options):
        return bad
    spec = datasets.specs()[name]
    if "path" in options or (options and spec.offline()):
        with st.spinner("Checking the data set as the worker will…"):
            try:
                datasets.load_preview(name, options, seed)
            except (DataError, OSError, ValueError) as e:
                return datasets.remember_rejection(name, options, e)
    return None


def _init_from_problem(path: str) -> str | None:
    """Whether a preset's starting checkpoint is present (it is shipped; a trimmed checkout may lack it)."""
    if path and not resolve_asset(path).is_file():
        return f"init_from: no checkpoint at {path} (clear init_from to pre-train from scratch)"
    return None


def errors_for(path: str, errs: list[str]) -> list[str]:
    """The messages that name this setting (the engine's messages start with the field's name)."""
    name = path.rpartition(".")[2]
    return [e for e in errs if e.startswith(name) or f" {name} " in e or e.startswith(f"{name}:")]


def groups(errs: list[str]) -> None:
    """Every setting, grouped; the game and pre-training open, the rest folded."""
    for title, paths in FORM_GROUPS.items():
        with st.expander(title, expanded=title in EXPANDED or any(errors_for(p, errs) for p in paths)):
            cols = st.columns(3)
            for i, path in enumerate(paths):
                with cols[i % 3]:
                    field_widget(path, errors_for(path, errs))


def device_picker() -> str:
    """auto, the CPU, or each CUDA device with its name and free memory."""
    devices = {d["name"]: d["label"] for d in _devices()}
    if st.session_state.get(DEVICE) not in devices:
        st.session_state[DEVICE] = "auto"
    st.selectbox("Device", list(devices), key=DEVICE, format_func=devices.get,
                 help="Chosen once when the run starts; one run per device at a time, the others queue.")
    facts = _facts()
    busy = active_cpu_runs(U.jobs().root)
    st.caption(f"Where the worker process trains: auto, the CPU or one CUDA GPU (name and free memory shown). "
               f"A CPU run uses {threads_for(0, busy + 1, facts['cores'])} torch thread(s) with threads = 0 "
               f"(auto): {facts['cores']} cores shared by {busy} CPU run(s) active now and this one.")
    return st.session_state[DEVICE]


@st.cache_data(ttl=10, show_spinner=False)
def _facts() -> dict:
    """From a short-lived probe process (the web server never initialises CUDA); at most every 10 s."""
    return device_facts(max_age=10)


def _devices() -> list[dict]:
    return list_devices(_facts())


def summary(cfg: RunConfig) -> str:
    """The run in one sentence, above the Start button."""
    s = cfg.schedule
    mle = "the shipped MLE generator" if cfg.init_from else f"{s.pretrain_g_epochs} MLE epochs"
    return (f"{mle} → {s.pretrain_d_rounds} D pre-training rounds → {s.adv_rounds} adversarial rounds of "
            f"g = {s.g_steps}, d = {s.d_steps}, k = {s.k_epochs}, N = {s.rollout_num}, on "
            f"{cfg.data.name}, device {cfg.device}, seed {cfg.seed}.")


def start(cfg: RunConfig) -> str | None:
    """Queue the run (it starts at once if its device is free) and make it the session's run; None when this
    session may not start it (said on the page)."""
    run_dir = R.submit(cfg)
    if run_dir is None:
        return None
    U.select(run_dir.name)
    return run_dir.name


def estimate_panel(cfg: RunConfig, sizes: dict) -> None:
    """Time per unit on the chosen device, measured by the engine, before anything is started.
    sizes: vocab_size / seq_len / num_train where known (else the engine assumes the oracle's)."""
    if st.button("Measure the cost on this device", icon=":material/timer:", key="setup.measure"):
        t0 = time.time()
        with st.spinner("Timing a few units on the chosen device (in a process of its own)…"):
            try:
                result = estimate_in_subprocess(cfg, **sizes)
            except (ConfigError, ValueError, RuntimeError, subprocess.TimeoutExpired) as e:
                st.error(f"The measurement failed: {e}")
                return
            st.session_state["setup.estimate"] = (cfg.to_json(), result, time.time() - t0)
    shown = st.session_state.get("setup.estimate")
    if shown and shown[0] == cfg.to_json():
        _show_estimate(shown[1], shown[2])
        for w in cost_warnings(cfg, shown[1]):
            st.warning(w, icon=":material/hourglass_bottom:")
    elif shown:
        st.caption("Settings changed since the last measurement: measure again.")


SLOW_UNIT_S = 30.0          # a g-step or d-step longer than this leaves a class looking at a still page
SLOW_RUN_S = 2 * 3600.0     # a whole run longer than this does not fit a lesson


def cost_warnings(cfg: RunConfig, est: dict) -> list[str]:
    """What the measured cost means for a class, above the thresholds (empty below them)."""
    from .ribbon import clock
    s, out = cfg.schedule, []
    g, d, total = est.get("g_step"), est.get("d_step"), est.get("total")
    if g is not None and g > SLOW_UNIT_S and s.g_steps and s.adv_rounds:
        out.append(f"One g-step takes about {clock(g)} here (N = {s.rollout_num} roll-outs for every token): "
                   f"the charts move once per step. Lower N (the paper uses 16) or g-steps to keep it lively.")
    if d is not None and d > SLOW_UNIT_S and s.d_steps and s.adv_rounds:
        out.append(f"One d-step takes about {clock(d)} here (k = {s.k_epochs} epochs over "
                   f"{s.num_negatives:,} negatives): lower k or the number of negatives.")
    if total is not None and total > SLOW_RUN_S:
        out.append(f"The whole run would take about {clock(total)} on this device, longer than a lesson: fewer "
                   "adversarial rounds or a cheaper schedule, or start it before class.")
    return out


def measured(cfg: RunConfig) -> dict | None:
    """The measurement made for exactly this draft, if any."""
    shown = st.session_state.get("setup.estimate")
    return shown[1] if shown and shown[0] == cfg.to_json() else None


def _show_estimate(est: dict, took: float) -> None:
    """The measured seconds per round, g-step, d-step and for the whole run."""
    from .ribbon import clock
    cols = st.columns(4)
    for col, (k, label) in zip(cols, [("round", "per adversarial round"), ("g_step", "per g-step"),
                                      ("d_step", "per d-step"), ("total", "whole run")]):
        value = est.get(k)
        col.metric(label, clock(value) if k == "total" and value is not None else
                   (f"{value:.2f} s" if value is not None else "—"))
    st.caption("How it is made: the engine times a few minibatches of each kind (an MLE step, a D step, sampling, "
               "the roll-outs of one minibatch, scoring) in a process of its own on the chosen device and "
               "multiplies them by the schedule's counts. It is a few seconds of one moment: on a shared machine "
               "it can be off by a factor of two either way. Once the run trains, Live's ETA moves to the run's "
               "own unit times (the mean of the last 20 of each kind, the estimate counting as 3 of them) and "
               "shows a likely range from their spread.")
    st.caption(f"Measured on {est.get('device', 'this device')} in {took:.0f} s: MLE epoch "
               f"{est.get('mle_epoch', float('nan')):.2f} s, D pre-training round "
               f"{est.get('d_pretrain_round', float('nan')):.2f} s, evaluation {est.get('eval', float('nan')):.2f} s.")
