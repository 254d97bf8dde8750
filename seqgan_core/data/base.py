"""The one interface every data set goes through.

A data set is two LongTensors of token ids, shape (N, T), every row exactly T long (shorter sequences are
padded with the end token), plus what the UI needs to show a sequence and which metrics make sense.
Loaders are registered by name; `load(name, options, seed)` builds the data set.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import torch


class DataError(ValueError):
    """A user-facing problem with a data set or an uploaded file; the message is shown as is."""


@dataclass
class SequenceDataset:
    name: str
    train: torch.Tensor                      # (N, T) long
    test: torch.Tensor                       # (M, T) long
    vocab: Optional[list[str]] = None        # id -> token text; None: ids are shown as numbers
    eos_id: Optional[int] = None             # end/pad token, if the data set has one
    unk_id: Optional[int] = None
    start_id: Optional[int] = None           # the generator's first input, an id of its own (text data sets);
                                             # None: id 0 (the oracle's and the authors' layout)
    metrics: tuple[str, ...] = ()            # extra metrics that apply: "nll_oracle", "bleu", "validity", "music"
    validity: Optional[Callable[[list[int]], bool]] = None  # exact checker for formal languages
    oracle: Optional[torch.nn.Module] = None  # the synthetic oracle G_oracle, when there is one
    joiner: str = " "                        # how tokens are joined when rendered ("" for characters)
    info: dict = field(default_factory=dict)  # source, counts, dropped lines and why, ...

    @property
    def seq_len(self) -> int:
        return int(self.train.shape[1])

    @property
    def vocab_size(self) -> int:
        if self.vocab is not None:
            return len(self.vocab)
        return int(self.info["vocab_size"])

    def tokens(self, ids) -> list[str]:
        """Token texts of one sequence, cut at the first end token."""
        ids = [int(i) for i in ids]
        if self.eos_id is not None and self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        if self.vocab is None:
            return [str(i) for i in ids]
        return [self.vocab[i] for i in ids]

    def render(self, ids) -> str:
        return self.joiner.join(self.tokens(ids))


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    description: str
    source: str                               # where the data comes from
    offline: Callable[[], bool]               # available without a download right now?
    load: Callable[[dict, int], SequenceDataset]  # (options, seed) -> data set
    options_help: dict = field(default_factory=dict)  # option -> one line of help
    size_hint: str = ""                       # e.g. "10,000 sequences of 20 tokens"
    start_id: Optional[int] = None            # the start id its data sets have (known without loading one)


_REGISTRY: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    _REGISTRY[spec.name] = spec
    return spec


def registry() -> dict[str, DatasetSpec]:
    from . import builtin  # noqa: F401  (registers the built-in data sets on first use)
    return dict(_REGISTRY)


def get_spec(name: str) -> DatasetSpec:
    specs = registry()
    if name not in specs:
        raise DataError(f"unknown data set '{name}'; choose one of: {', '.join(sorted(specs))}")
    return specs[name]


def start_id_of(name: str) -> int:
    """The generator's start input for data set `name`, without loading it: 0 unless the data set gives the
    start an id of its own (0 for a name no longer registered)."""
    spec = registry().get(name)
    return spec.start_id if spec is not None and spec.start_id is not None else 0


def load(name: str, options: dict | None = None, seed: int = 0) -> SequenceDataset:
    return get_spec(name).load(dict(options or {}), seed)
