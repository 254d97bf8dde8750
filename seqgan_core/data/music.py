"""Folk melodies from the corpus that ships with music21, encoded like the paper's music task.

Source: music21's corpus holds Ryan's Mammoth Collection (1,059 tunes, one per file) and a part of the
Essen folk song collection (8,462 tunes in 27 opus files, its test files left out). The paper used the
Nottingham database, of which music21 ships only two tunes. Parsing is slow (~90 ms a tune here), so the
parsed melodies are cached as .npz in the cache folder, per collection and time step, and extended when
more tunes are asked for.

Tokens (the paper sampled the pitch every 0.4 s into 88 piano keys; a rest and a hold token are added so
that a melody keeps its rhythm and can be played back):
  0 <eos> (end/padding)   1 rest   2 hold (the note of the previous step goes on)   3..90 a new note on
  piano key MIDI 21 (A0) .. 108 (C8).
The melody (top note of the first part) is sampled on a grid of `step` quarter notes (default an eighth):
a step whose sounding note started before the step holds, a step where a new note sounds strikes it.
Notes shorter than a step that fall between grid points are skipped (sampling, as in the paper).
Each tune is cut into non-overlapping windows of seq_len steps; windows that are mostly rest are
dropped; a window that starts inside a note starts by striking it. Tunes, not windows, are split into
train and test, so no tune is on both sides.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import os
import re
import wave
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .base import DatasetSpec, SequenceDataset, register
from .common import (EOS, EOS_ID, MAX_SEQ_LEN, DataError, cache_dir, choice_option, float_option, int_option,
                     merge_options, split_indices)

REST_ID, HOLD_ID = 1, 2
LOWEST_KEY, HIGHEST_KEY = 21, 108              # the 88 piano keys, A0..C8
KEY_OFFSET = 3 - LOWEST_KEY                    # token id = MIDI number + KEY_OFFSET
NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
ENCODING_VERSION = 1                           # bump when the encoding changes: old caches are ignored
COLLECTIONS = ("both", "ryans", "essen")
MUSIC_DEFAULTS = {"collection": "both", "max_tunes": 700, "step": 0.5, "seq_len": 32, "max_rest": 0.5,
                  "test_fraction": 0.1, "split_seed": 0}
Progress = Callable[[int, int], None]          # (tunes parsed, tunes to parse)


def midi_name(midi: int) -> str:
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


VOCAB = [EOS, "rest", "hold"] + [midi_name(m) for m in range(LOWEST_KEY, HIGHEST_KEY + 1)]


# ---------------------------------------------------------------- corpus: which tunes, parsed how

def _corpus_root() -> Path:
    """music21's core corpus folder, found without importing music21 (which takes seconds)."""
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("music21 is not installed: pip install music21")
    return Path(spec.submodule_search_locations[0]) / "corpus"


def _round_robin(lists: Sequence[list]) -> list:
    """[a0, b0, c0, a1, b1, ...]: any prefix mixes all the lists."""
    out, longest = [], max((len(x) for x in lists), default=0)
    for i in range(longest):
        out += [x[i] for x in lists if i < len(x)]
    return out


def tune_list(collection: str) -> list[tuple[str, int]]:
    """Every tune of a collection as (file relative to the corpus, tune number or 0 for a one-tune file),
    in a fixed order whose prefixes mix sources. Reads file headers only, parses nothing."""
    root = _corpus_root()
    ryans = [(f"ryansMammoth/{p.name}", 0) for p in sorted((root / "ryansMammoth").glob("*.abc"))]
    essen_files = sorted(p for p in (root / "essenFolksong").glob("*.abc") if not p.name.startswith("test"))
    essen = _round_robin([[(f"essenFolksong/{p.name}", int(n)) for n in
                           re.findall(r"^X:\s*(\d+)", p.read_text(encoding="latin-1"), flags=re.M)]
                          for p in essen_files])
    return {"ryans": ryans, "essen": essen, "both": _round_robin([ryans, essen])}[collection]


def _melody(path: Path, number: int) -> list[tuple[float, float, int]]:
    """(start, end, MIDI) in quarter notes of the top note of the first part, ties merged."""
    from music21 import chord, converter, harmony, note, stream
    parsed = converter.parse(path, number=number) if number else converter.parse(path)
    if isinstance(parsed, stream.Opus):
        parsed = parsed.scores[0]
    part = parsed.parts[0] if parsed.parts else parsed
    events = []
    for n in part.stripTies().flatten().getElementsByClass([note.Note, chord.Chord]):
        if isinstance(n, harmony.ChordSymbol) or n.quarterLength <= 0:
            continue
        top = max(p.midi for p in n.pitches)
        events.append((float(n.offset), float(n.offset + n.quarterLength), top))
    return sorted(events)


def encode_melody(events: Sequence[tuple[float, float, int]], step: float) -> np.ndarray:
    """Token ids on a grid of `step` quarter notes (see the module docstring)."""
    if not events:
        return np.zeros(0, dtype=np.int16)
    starts, ends, midis = (np.array(x) for x in zip(*events))
    times = np.arange(int(ends.max() / step)) * step
    which = np.searchsorted(starts, times, side="right") - 1          # latest note started by each time
    sounding = (which >= 0) & (ends[np.maximum(which, 0)] > times)
    in_range = (midis >= LOWEST_KEY) & (midis <= HIGHEST_KEY)
    sounding &= in_range[np.maximum(which, 0)]                        # off-keyboard notes become rests
    held = sounding & np.concatenate([[False], (which[1:] == which[:-1]) & sounding[:-1]])
    ids = np.where(sounding, midis[np.maximum(which, 0)] + KEY_OFFSET, REST_ID)
    return np.where(held, HOLD_ID, ids).astype(np.int16)


def _cache_path(collection: str, step: float) -> Path:
    version = importlib.metadata.version("music21")     # another parser version may read tunes differently
    return cache_dir() / "music" / f"folk_{collection}_step{float(step)}_m21-{version}_v{ENCODING_VERSION}.npz"


def _read_cache(path: Path) -> list[np.ndarray]:
    if not path.is_file():
        return []
    with np.load(path) as z:
        return np.split(z["tokens"], np.cumsum(z["lengths"])[:-1]) if len(z["lengths"]) else []


def _write_cache(path: Path, tunes: list[np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part.npz")
    np.savez_compressed(tmp, tokens=np.concatenate(tunes) if tunes else np.zeros(0, np.int16),
                        lengths=np.array([len(t) for t in tunes], dtype=np.int64))
    os.replace(tmp, path)      # readers never see a half-written cache


def prepare(options: dict, progress: Optional[Progress] = None) -> list[np.ndarray]:
    """Encoded tunes (one id array each, empty for a tune music21 could not read), parsing only those not
    in the cache yet. Call it with a progress callback to show the first, slow, parse."""
    opts = _check_options(options)
    wanted = tune_list(opts["collection"])[: opts["max_tunes"]]
    path = _cache_path(opts["collection"], opts["step"])
    tunes = _read_cache(path)
    if len(tunes) >= len(wanted):
        return tunes[: len(wanted)]
    root = _corpus_root()
    for done, (rel, number) in enumerate(wanted[len(tunes):], start=len(tunes)):
        try:
            tunes.append(encode_melody(_melody(root / rel, number), opts["step"]))
        except Exception:     # music21 raises many kinds of errors on odd ABC; one bad tune is skipped
            tunes.append(np.zeros(0, dtype=np.int16))
        if progress:
            progress(done + 1, len(wanted))
    _write_cache(path, tunes)
    return tunes


# ---------------------------------------------------------------- windows and the data set

def windows(tune: np.ndarray, seq_len: int, max_rest: float) -> list[np.ndarray]:
    """Non-overlapping seq_len windows of a tune; mostly-rest ones dropped; a leading hold struck."""
    out = []
    for start in range(0, len(tune) - seq_len + 1, seq_len):
        win = tune[start: start + seq_len].astype(np.int64)
        if np.mean(win == REST_ID) > max_rest:
            continue
        if win[0] == HOLD_ID:
            struck = tune[:start][tune[:start] != HOLD_ID]
            win[0] = struck[-1] if len(struck) else REST_ID
        out.append(win)
    return out


def _check_options(options: dict) -> dict:
    opts = merge_options(options, MUSIC_DEFAULTS, "folk_music")
    choice_option(opts, "collection", COLLECTIONS)
    choice_option(opts, "step", (0.25, 0.5, 1.0))
    int_option(opts, "max_tunes", 2, 20_000)
    int_option(opts, "seq_len", 4, MAX_SEQ_LEN)
    int_option(opts, "split_seed", 0, 2**32 - 1)
    float_option(opts, "max_rest", 0.0, 1.0)
    float_option(opts, "test_fraction", 0.01, 0.5)
    return opts


def _stack(wins: list[np.ndarray], seq_len: int) -> torch.Tensor:
    return torch.from_numpy(np.stack(wins)) if wins else torch.zeros(0, seq_len, dtype=torch.long)


def load_music(options: dict, seed: int, progress: Optional[Progress] = None) -> SequenceDataset:
    opts = _check_options(options)
    tunes = prepare(opts, progress)
    usable = [t for t in tunes if len(t) >= opts["seq_len"]]
    if len(usable) < 2:
        raise DataError(f"only {len(usable)} tune(s) are at least {opts['seq_len']} steps long; "
                        f"raise max_tunes or lower seq_len")
    train_idx, test_idx = split_indices(len(usable), opts["test_fraction"], opts["split_seed"])
    train = [w for i in train_idx for w in windows(usable[i], opts["seq_len"], opts["max_rest"])]
    test = [w for i in test_idx for w in windows(usable[i], opts["seq_len"], opts["max_rest"])]
    if not train or not test:
        raise DataError("no melody windows left: raise max_rest or max_tunes")
    info = {"source": f"music21 corpus ({opts['collection']})", "tunes_read": len(tunes),
            "tunes_unreadable": sum(len(t) == 0 for t in tunes), "tunes_used": len(usable),
            "train_tunes": len(train_idx), "test_tunes": len(test_idx), "step_quarter_notes": opts["step"]}
    return SequenceDataset(name="folk_music", train=_stack(train, opts["seq_len"]),
                           test=_stack(test, opts["seq_len"]), vocab=list(VOCAB), eos_id=EOS_ID,
                           metrics=("bleu", "music"), info=info)


# ---------------------------------------------------------------- showing and hearing a sequence

def notes(ids: Sequence[int]) -> list[tuple[int, int, int]]:
    """(start step, length in steps, MIDI) of each note of a row, cut at <eos>. A hold with no note
    before it is silent, like a rest."""
    out: list[list[int]] = []
    open_note = False
    for t, tok in enumerate(int(i) for i in ids):
        if tok == EOS_ID:
            break
        if tok == HOLD_ID and open_note:
            out[-1][1] += 1
        elif tok >= LOWEST_KEY + KEY_OFFSET:
            out.append([t, 1, tok - KEY_OFFSET])
            open_note = True
        else:
            open_note = False
    return [tuple(n) for n in out]


def piano_roll(ids: Sequence[int]) -> np.ndarray:
    """(time steps, 88 keys) bool: True where a key sounds. Column k is MIDI 21 + k."""
    roll = np.zeros((len(ids), HIGHEST_KEY - LOWEST_KEY + 1), dtype=bool)
    for start, length, midi in notes(ids):
        roll[start: start + length, midi - LOWEST_KEY] = True
    return roll


def midi_to_hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _tone(midi: int, n: int, sample_rate: int) -> np.ndarray:
    """One note: fundamental plus two softer harmonics, a 10 ms attack, a decay, a 20 ms release (so
    repeated notes are heard as separate strikes and nothing clicks)."""
    t = np.arange(n) / sample_rate
    f = midi_to_hz(midi)
    wave_ = np.sin(2 * np.pi * f * t) + 0.4 * np.sin(4 * np.pi * f * t) + 0.15 * np.sin(6 * np.pi * f * t)
    envelope = np.minimum(1.0, t / 0.010) * np.exp(-t / 0.6)
    envelope *= np.clip((n - np.arange(n)) / (0.020 * sample_rate), 0.0, 1.0)
    return 0.5 * wave_ * envelope / 1.55


def synthesize(ids: Sequence[int], sample_rate: int = 22050, step_seconds: float = 0.25) -> np.ndarray:
    """Mono float32 audio in [-1, 1] of a row (cut at <eos>), step_seconds per time step."""
    ids = [int(i) for i in ids]
    steps = ids.index(EOS_ID) if EOS_ID in ids else len(ids)
    per_step = int(round(step_seconds * sample_rate))
    audio = np.zeros(steps * per_step)
    for start, length, midi in notes(ids):
        a = start * per_step
        audio[a: a + length * per_step] += _tone(midi, length * per_step, sample_rate)
    return audio.astype(np.float32)


def to_wav_bytes(audio: np.ndarray, sample_rate: int = 22050) -> bytes:
    """16-bit PCM mono WAV, what st.audio and a browser play."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# ---------------------------------------------------------------- the paper's MSE

def pitch_contour(ids: Sequence[int]) -> Optional[np.ndarray]:
    """The MIDI pitch heard at each step of a row, float; rests (and steps after <eos>) keep the last
    pitch heard, leading rests take the first. None for a row without a note."""
    contour = np.full(len(ids), np.nan)
    for start, length, midi in notes(ids):
        contour[start: start + length] = midi
    known = np.flatnonzero(~np.isnan(contour))
    if not len(known):
        return None
    last = np.maximum.accumulate(np.where(np.isnan(contour), -1, np.arange(len(ids))))
    return np.where(last >= 0, contour[np.maximum(last, 0)], contour[known[0]])


def music_mse(samples, references, chunk: int = 1024) -> float:
    """The music task's MSE, defined plainly (the paper cites Manaris et al. 2007 and gives no formula):
    for each generated row, the mean squared pitch difference in semitones^2 per step between its pitch
    contour and the contour of the nearest reference row; the mean over generated rows. Lower is better.
    Rows without a note are left out (nan if none is left). Rows of both sets must be equally long."""
    gen = [c for c in (pitch_contour(r) for r in np.asarray(samples)) if c is not None]
    ref = np.array([c for c in (pitch_contour(r) for r in np.asarray(references)) if c is not None])
    if not gen or not len(ref):
        return float("nan")
    gen_arr = np.array(gen)
    if gen_arr.shape[1] != ref.shape[1]:
        raise ValueError(f"samples have {gen_arr.shape[1]} steps, references {ref.shape[1]}")
    ref_sq = (ref ** 2).sum(1)
    best = []
    for i in range(0, len(gen_arr), chunk):           # (chunk, R) distances at a time: bounded memory
        g = gen_arr[i: i + chunk]
        dist = (g ** 2).sum(1)[:, None] + ref_sq[None, :] - 2 * g @ ref.T
        best.append(np.maximum(dist.min(1), 0.0) / ref.shape[1])
    return float(np.concatenate(best).mean())


def _offline() -> bool:
    """The corpus ships inside the music21 package: available whenever music21 is installed."""
    try:
        return (_corpus_root() / "ryansMammoth").is_dir()
    except DataError:
        return False


register(DatasetSpec(
    name="folk_music", title="Folk melodies",
    description="Melodies from Ryan's Mammoth Collection and the Essen folk songs (music21's corpus) as "
                "32 steps of eighth notes: 88 piano keys plus rest and hold.",
    source="music21 corpus (offline)", offline=_offline, load=load_music,
    options_help={"collection": "both, ryans or essen", "max_tunes": "tunes to read (first read is slow)",
                  "step": "time step in quarter notes: 0.25, 0.5 or 1",
                  "seq_len": "steps per sequence", "max_rest": "drop windows with more rest than this",
                  "test_fraction": "share of tunes held out", "split_seed": "seed of the split"},
    size_hint="700 tunes -> ~1,800 melodies of 32 eighth notes; the first load parses for about a minute"))
