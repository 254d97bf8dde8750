"""Helpers the data set modules share: option checking, the cache folder, vocabularies, padding, splits.

Kept free of any one data set so that corpora, uploads, formal languages and music build their tensors
the same way: id 0 is "<eos>" (end and padding), id 1 is "<unk>" where a data set has unknown tokens.
Text data sets (build_vocab: corpora, uploads) also have id 2, "<start>": the generator's first input, which
never occurs in the data. (Before, start and end shared id 0, so "the line begins" and "the line ended"
were one input; checkpoints of that layout are refused, see train/checkpoint.py layout_problem.)
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import torch

from .base import DataError

EOS, UNK, START = "<eos>", "<unk>", "<start>"
EOS_ID, UNK_ID, START_ID = 0, 1, 2
TEXT_SPECIALS = (EOS, UNK, START)       # the first ids of a text vocabulary, in this order
MAX_SEQ_LEN = 200                       # the longest sequence any data set makes: roll-outs cost O(T^2)


def merge_options(options: dict, defaults: dict, dataset: str) -> dict:
    """`defaults` overlaid with `options`; an unknown key is a DataError (a typo would otherwise be ignored)."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise DataError(f"{dataset}: unknown option(s) {', '.join(unknown)}; "
                        f"valid options: {', '.join(sorted(defaults))}")
    return {**defaults, **options}


def int_option(opts: dict, key: str, lo: int, hi: int) -> int:
    """An integer option within [lo, hi], or a DataError naming the option and the range."""
    value = opts[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise DataError(f"option {key} must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise DataError(f"option {key} must be between {lo} and {hi}, got {value}")
    return int(value)


def float_option(opts: dict, key: str, lo: float, hi: float) -> float:
    value = opts[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise DataError(f"option {key} must be a number between {lo} and {hi}, got {value!r}")
    return float(value)


def choice_option(opts: dict, key: str, choices: Sequence[str]) -> str:
    value = opts[key]
    if value not in choices:
        raise DataError(f"option {key} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def cache_dir() -> Path:
    """The download/parse cache: $SEQGAN_CACHE, else ~/.cache/seqgan_studio. Writers create it; looking
    (is a file cached?) leaves no folder behind."""
    return Path(os.environ.get("SEQGAN_CACHE") or Path.home() / ".cache" / "seqgan_studio")


def build_vocab(token_lists: Iterable[Sequence[str]], max_vocab: Optional[int] = None,
                min_count: int = 1) -> list[str]:
    """["<eos>", "<unk>", "<start>", most frequent tokens...]; ties broken alphabetically so the order is
    reproducible."""
    counts = Counter(tok for toks in token_lists for tok in toks)
    ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    if max_vocab is not None:
        ranked = ranked[:max_vocab]
    return list(TEXT_SPECIALS) + [t for t in ranked if t not in TEXT_SPECIALS]


def encode(token_lists: Iterable[Sequence[str]], vocab: Sequence[str]) -> list[list[int]]:
    """Token texts -> ids under `vocab`, unseen tokens -> <unk>."""
    index = {tok: i for i, tok in enumerate(vocab)}
    return [[index.get(tok, UNK_ID) for tok in toks] for toks in token_lists]


def unk_rate(rows: Sequence[Sequence[int]]) -> float:
    """Share of <unk> among all tokens (0 when there are no tokens)."""
    total = sum(len(r) for r in rows)
    return sum(r.count(UNK_ID) for r in rows) / total if total else 0.0


def pad_rows(rows: Sequence[Sequence[int]], seq_len: int, pad: int = EOS_ID) -> torch.Tensor:
    """(N, seq_len) LongTensor; every row must already be at most seq_len long."""
    out = np.full((len(rows), seq_len), pad, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return torch.from_numpy(out)


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of range(n) cut into (train, test); both get at least one item when n >= 2."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(max(1, round(n * test_fraction)), n - 1)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def length_counts(lengths: Iterable[int]) -> list[list[int]]:
    """[[length, count], ...] sorted by length: a histogram the UI can bin as it likes."""
    return [[int(k), int(v)] for k, v in sorted(Counter(lengths).items())]


def fit_length(token_lists: Sequence[list[str]], seq_len: int, too_long: str
               ) -> tuple[list[list[str]], int, int]:
    """Apply the length rule: (kept lists, how many dropped, how many cut). too_long is "drop" or "cut"."""
    kept, dropped, cut = [], 0, 0
    for toks in token_lists:
        if len(toks) > seq_len:
            if too_long == "drop":
                dropped += 1
                continue
            toks, cut = toks[:seq_len], cut + 1
        kept.append(toks)
    return kept, dropped, cut
