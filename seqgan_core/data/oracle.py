"""The synthetic-oracle data set: sequences drawn from a fixed LSTM oracle (the paper's Section 5.1).

The oracle and its data depend only on the options (oracle_seed), not on the run's seed, so runs with
different seeds train on the same task and can be compared.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import torch

from ..models import load_authors_oracle, random_oracle
from .base import DataError, DatasetSpec, SequenceDataset, register

DEFAULTS = {"vocab_size": 5000, "seq_len": 20, "num_train": 10000, "num_test": 2000, "source": "random",
            "oracle_seed": 0, "emb_dim": 32, "hidden_dim": 32, "oracle_file": ""}
HELP = {
    "source": "random: an LSTM with N(0,1) weights; authors: the SeqGAN authors' oracle (.npz, oracle_file)",
    "vocab_size": "tokens in the vocabulary (random oracle only; the authors' is 5000)",
    "seq_len": "length of every sequence (paper: 20)",
    "num_train": "training sequences drawn from the oracle (paper: 10,000)",
    "num_test": "held-out sequences for NLL-test",
    "oracle_seed": "seed of the oracle's weights and of its data",
    "oracle_file": "path of the authors' oracle .npz (layout in REFERENCE.md)",
}
SHARED_ORACLE = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "seqgan_paper_oracle.npz"


def known_oracle_files() -> list[str]:
    """Oracle files a browser may choose from (it never types a server path): the development copy beside
    the project when present, and .npz files in the data cache."""
    from .common import cache_dir
    found = [SHARED_ORACLE] if SHARED_ORACLE.is_file() else []
    found += sorted(cache_dir().glob("*.npz")) if cache_dir().is_dir() else []
    return [str(p) for p in found]


def build_oracle(opts: dict):
    if opts["source"] == "authors":
        path = Path(opts["oracle_file"] or SHARED_ORACLE)
        if not path.is_file():
            raise DataError(f"the authors' oracle file was not found at {path}: set data option oracle_file "
                            "to the .npz (see REFERENCE.md for its layout)")
        return load_authors_oracle(path)
    if opts["source"] != "random":
        raise DataError("oracle source must be 'random' or 'authors'")
    if not 2 <= int(opts["vocab_size"]) <= 200_000:
        raise DataError("oracle vocab_size must be between 2 and 200,000")
    return random_oracle(int(opts["vocab_size"]), int(opts["emb_dim"]), int(opts["hidden_dim"]),
                         int(opts["oracle_seed"]))


def load_oracle(options: dict, seed: int = 0) -> SequenceDataset:
    opts = {**DEFAULTS, **options}
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise DataError(f"unknown oracle option(s): {', '.join(sorted(unknown))}")
    for k in ("seq_len", "num_train", "num_test"):
        if int(opts[k]) < 1:
            raise DataError(f"oracle {k} must be ≥ 1")
    return _cached(json.dumps(opts, sort_keys=True))


@functools.lru_cache(maxsize=2)
def _cached(key: str) -> SequenceDataset:
    opts = json.loads(key)
    oracle = build_oracle(opts)
    g = torch.Generator().manual_seed(int(opts["oracle_seed"]) + 1)
    T = int(opts["seq_len"])
    train = oracle.sample(int(opts["num_train"]), T, generator=g)
    test = oracle.sample(int(opts["num_test"]), T, generator=g)
    with torch.no_grad():
        entropy = oracle.nll(test).mean().item()
    return SequenceDataset(
        name="oracle", train=train, test=test, vocab=None, metrics=("nll_oracle",), oracle=oracle,
        info={"vocab_size": oracle.vocab_size, "oracle_nll_floor": entropy, "source": opts["source"]})


register(DatasetSpec(
    name="oracle", title="Synthetic oracle (the paper's Section 5.1)",
    description="Sequences drawn from a fixed random LSTM. The true distribution is known, so NLL-oracle "
                "measures exactly how close G gets to it.",
    source="generated locally", offline=lambda: True, load=load_oracle, options_help=HELP,
    size_hint="10,000 sequences of 20 tokens, vocabulary 5,000"))
