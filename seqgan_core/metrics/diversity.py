"""Diversity metrics over generated samples (lists of token lists)."""
from __future__ import annotations

from typing import Hashable, Iterable, Sequence

from .bleu import ngrams


def distinct_n(samples: Iterable[Sequence[Hashable]], n: int) -> float:
    """Distinct-n: unique n-grams / total n-grams, pooled over all samples (0.0 when there are none)."""
    unique: set[tuple] = set()
    total = 0
    for s in samples:
        grams = list(ngrams(tuple(s), n))
        unique.update(grams)
        total += len(grams)
    return len(unique) / total if total else 0.0


def unique_fraction(samples: Iterable[Sequence[Hashable]]) -> float:
    """Share of samples that are distinct whole sequences: |set(samples)| / len(samples) (0.0 if empty)."""
    seqs = [tuple(s) for s in samples]
    return len(set(seqs)) / len(seqs) if seqs else 0.0
