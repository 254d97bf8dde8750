"""Data sets as the Setup page sees them: the registry's list, options typed as text, a checked preview.

Everything comes from seqgan_core.data's registry, so a data set another engineer registers shows up here
without a page change. Loading can be slow (the paper-size oracle samples 12,000 sequences; corpora are
downloaded; melodies are parsed once), so it happens only when asked, with progress where the loader
reports it, and the result is kept for the whole server.
"""
from __future__ import annotations

import inspect
import json
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Optional

import streamlit as st

from seqgan_core.data import DataError, get_spec, registry
from seqgan_core.data.music import synthesize, to_wav_bytes
from seqgan_core.data.oracle import known_oracle_files
from seqgan_core.data.upload import save_upload
from seqgan_core.runs import default_root

_CHECKED: "OrderedDict[str, dict]" = OrderedDict()   # (name, options) key -> preview of a data set loaded here
MAX_CHECKED = 32                                         # previews kept (least recently checked dropped first)


def specs() -> dict:
    """name -> DatasetSpec, in the registry's order."""
    return registry()


def title(name: str) -> str:
    """The picker's label of a data set; one that needs a download says so."""
    spec = specs()[name]
    return spec.title if spec.offline() else f"{spec.title} (downloaded on first use)"


def parse_option(text: str):
    """An option typed as text: JSON where it parses (numbers, true/false, null, lists), else the string."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def show_option(value) -> str:
    """The text a widget shows for an option value (the inverse of parse_option)."""
    return value if isinstance(value, str) else json.dumps(value)


def key(name: str, options: dict) -> str:
    """A cache key for a data set and its options."""
    return json.dumps([name, options], sort_keys=True, default=str)


def shape_hint(name: str, options: dict) -> Optional[tuple[int, int]]:
    """(vocabulary size, sequence length) without loading, where it is known: from the oracle's options,
    or from a data set checked earlier on this server. None otherwise (validation then skips the checks
    that need it; the worker still makes them)."""
    if key(name, options) in _CHECKED:
        p = _CHECKED[key(name, options)]
        return p["vocab_size"], p["seq_len"]
    if name == "oracle":
        from seqgan_core.data.oracle import DEFAULTS
        opts = {**DEFAULTS, **options}
        if opts["source"] == "authors":
            return 5000, 20                     # the authors' oracle file fixes both
        return int(opts["vocab_size"]), int(opts["seq_len"])
    return None


def missing_input(name: str, options: dict) -> Optional[str]:
    """A data set that reads a file cannot start before one is chosen."""
    if "path" in specs()[name].options_help and not options.get("path"):
        if st.session_state.get(f"setup.upload_refused.{name}"):     # already said under the file picker
            return "data set: the chosen file was refused (the reason is under the file picker)"
        return "data set: choose a file to upload first (.txt, one sequence per line, or .csv)"
    return None


def load_preview(name: str, options: dict, seed: int, progress: Optional[Callable] = None) -> dict:
    """Load the data set (a DataError says what is wrong) and keep a small summary of it."""
    spec = get_spec(name)
    kwargs = {"progress": progress} if progress and "progress" in inspect.signature(spec.load).parameters else {}
    ds = spec.load(dict(options), seed, **kwargs)
    preview = {"vocab_size": ds.vocab_size, "seq_len": ds.seq_len, "train": len(ds.train), "test": len(ds.test),
               "examples": [ds.render(r) for r in ds.train[:5].tolist()], "example_ids": ds.train[:3].tolist(),
               "metrics": list(ds.metrics), "report": ds.info.get("report")}
    _CHECKED[key(name, options)] = preview
    _CHECKED.move_to_end(key(name, options))
    while len(_CHECKED) > MAX_CHECKED:
        _CHECKED.popitem(last=False)
    return preview


def sizes(name: str, options: dict) -> dict:
    """What the cost estimate needs to know about the data: vocab_size, seq_len, num_train where known."""
    shape, p = shape_hint(name, options), checked(name, options)
    out = {"vocab_size": shape[0], "seq_len": shape[1]} if shape else {}
    if p:
        out["num_train"] = p["train"]
    elif name == "oracle":
        from seqgan_core.data.oracle import DEFAULTS
        out["num_train"] = int({**DEFAULTS, **options}["num_train"])
    return out


_REJECTED: "OrderedDict[str, str]" = OrderedDict()     # (name, options) key -> why loading it failed here


def remember_rejection(name: str, options: dict, error: Exception) -> str:
    """Keep why a data set failed to load (Setup keeps Start disabled with this reason)."""
    _REJECTED[key(name, options)] = f"data set: this data set cannot be used as set: {error}"
    while len(_REJECTED) > MAX_CHECKED:
        _REJECTED.popitem(last=False)
    return _REJECTED[key(name, options)]


def rejected(name: str, options: dict) -> Optional[str]:
    """Why this data set with these options failed to load on this server, if it did."""
    return _REJECTED.get(key(name, options))


def checked(name: str, options: dict) -> Optional[dict]:
    """The preview of a data set already loaded on this server, if any."""
    return _CHECKED.get(key(name, options))


def save_uploaded(data: bytes, filename: str) -> Optional[Path]:
    """Store an uploaded file next to the runs (content-addressed) and return its path."""
    return save_upload(data, filename, default_root() / "uploads")


def listen(ids: list[int]) -> Optional[bytes]:
    """WAV bytes of a melody, where the engine's music module can synthesise one."""
    return to_wav_bytes(synthesize(ids))


def options_form(name: str, preset_options: dict) -> dict:
    """One text box per option the data set documents (blank = its default); an option named `path` is
    a file, asked for with an uploader. Returns the options that were set."""
    spec = specs()[name]
    options = {}
    for opt, help_text in spec.options_help.items():
        if opt == "path":
            path = _upload_widget(name)
            if path:
                options["path"] = str(path)
            continue
        k = f"setup.opt.{name}.{opt}"
        if opt == "oracle_file":        # a server path: chosen from the files the project knows, never typed
            choice = st.selectbox(opt, [""] + known_oracle_files(), key=k, help=help_text,
                                  format_func=lambda p: Path(p).name if p else "(none: the random oracle)")
            st.caption(help_text)
            if choice:
                options[opt] = choice
            continue
        if k not in st.session_state:
            st.session_state[k] = show_option(preset_options[opt]) if opt in preset_options else ""
        text = st.text_input(opt, key=k, placeholder="default", help=help_text)
        st.caption(help_text)
        if text.strip():
            options[opt] = parse_option(text)
    return options


def _upload_widget(name: str) -> Optional[Path]:
    """A .txt / .csv uploader; the file is saved so the run can be reproduced from the same bytes."""
    file = st.file_uploader("Your file: one sequence per line (.txt) or a column of a .csv",
                            type=["txt", "csv", "tsv"], key=f"setup.upload.{name}")
    refused = f"setup.upload_refused.{name}"
    st.session_state[refused] = False
    if file is None:
        return None
    try:
        return save_uploaded(file.getvalue(), file.name)
    except DataError as e:
        st.error(str(e))
        st.session_state[refused] = True
        return None


def picker(dataset_key: str, base: dict, disabled: bool = False) -> tuple[str, dict]:
    """The data set choice with its description, and its options (the draft's own when it is the base's
    data set). Returns (name, options). disabled: a lesson fixed the data set."""
    names = list(specs())
    if st.session_state.get(dataset_key) not in names:
        st.session_state[dataset_key] = "oracle"
    name = st.selectbox("Data set", names, key=dataset_key, format_func=title,
                        help="Every data set the engine's registry offers.", disabled=disabled)
    spec = specs()[name]
    st.caption(f"{spec.description} · {spec.size_hint} · source: {spec.source}")
    base_options = base["data"]["options"] if base["data"]["name"] == name else {}
    with st.expander("Data-set options (blank = the data set's default)", expanded=name == "upload"):
        options = options_form(name, base_options)
    shape = shape_hint(name, options)
    if shape:
        st.caption(f"With these options: vocabulary {shape[0]:,}, sequences of {shape[1]} tokens.")
    return name, options


def preview_section(name: str, options: dict, seed: int) -> None:
    """Load on request (with progress where the loader reports it) and show sizes and examples."""
    shown = checked(name, options)
    if shown is None and st.button("Load and check this data set", icon=":material/fact_check:",
                                   key="setup.check", help="Builds the data set here as the run will."):
        bar = st.progress(0.0, text="loading…")
        try:
            shown = load_preview(name, options, seed,
                                 progress=lambda done, total: bar.progress(min(done / total, 1.0) if total else 0.0,
                                                                           text=f"{done} of {total}"))
        except (DataError, OSError, ValueError) as e:
            remember_rejection(name, options, e)
            st.error(f"This data set cannot be used as set: {e}")
        bar.empty()
    if shown:
        _show_preview(shown)


def _show_preview(p: dict) -> None:
    """Sizes, a few training sequences, a melody to hear, and an upload's report."""
    st.success(f"{p['train']:,} training and {p['test']:,} test sequences · vocabulary {p['vocab_size']:,} · "
               f"length {p['seq_len']}")
    if (p.get("report") or {}).get("note"):        # a large upload: "kept k of n lines" (a seeded sample)
        st.info(p["report"]["note"])
    st.code("\n".join(p["examples"]) or "(empty)", language=None)
    if "music" in p["metrics"] and p["example_ids"]:
        wav = listen(p["example_ids"][0])
        if wav:
            st.audio(wav, format="audio/wav")
    if p.get("report"):
        with st.expander("What happened to your file"):
            st.json(p["report"], expanded=False)
