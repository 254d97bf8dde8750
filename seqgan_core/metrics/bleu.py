"""Fast sentence BLEU against one shared reference set, and self-BLEU.

Scores equal nltk's `sentence_bleu(refs, hyp, weights=(1/n,)*n,
smoothing_function=SmoothingFunction().method1)` bit for bit: nltk rebuilds every
reference's n-gram counts for every hypothesis, while here the per-n-gram maximum
count over the references and the sorted reference lengths are built once.

nltk behaviour reproduced on purpose:
- a hypothesis shorter than k has precision 0/1 for order k, smoothed to 0.1/1;
- an order with zero clipped matches is smoothed to 0.1 / (number of hyp k-grams);
- zero unigram matches (including an empty hypothesis) scores 0, smoothing or not;
- brevity penalty uses the closest reference length, ties going to the shorter one.

One deliberate difference, only when `ignore` is given (the data set's <unk> id): an n-gram that contains
that token never matches. It is left out of the reference tables, so a hypothesis <unk> matches nothing,
but it still counts in the hypothesis's n-gram total (a generator cannot score by writing <unk>).
With ignore=None the scores are nltk's exactly.
"""
from __future__ import annotations

import bisect
import math
import random
from collections import Counter
from typing import Hashable, Iterable, Iterator, Sequence

Tokens = Sequence[Hashable]

_EPSILON = 0.1  # SmoothingFunction().method1's default epsilon


def ngrams(seq: Tokens, k: int) -> Iterator[tuple]:
    """The k-grams of seq as tuples, like nltk.util.ngrams (nothing when len(seq) < k)."""
    return zip(*[seq[i:] for i in range(k)])


def _closest_length(sorted_lens: list[int], hyp_len: int) -> int:
    """The reference length closest to hyp_len, the shorter one on a tie (nltk's rule)."""
    i = bisect.bisect_left(sorted_lens, hyp_len)
    if i == len(sorted_lens):
        return sorted_lens[-1]
    if i == 0 or sorted_lens[i] == hyp_len:
        return sorted_lens[i]
    below, above = sorted_lens[i - 1], sorted_lens[i]
    return below if hyp_len - below <= above - hyp_len else above


def _brevity_penalty(ref_len: int, hyp_len: int) -> float:
    """nltk's brevity_penalty for one hypothesis (hyp_len > 0 here)."""
    return 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)


def _combine(matches: list[int], hyp_len: int, ref_len: int, n: int) -> float:
    """BLEU-n from clipped match counts per order 1..n, with method1 smoothing as nltk does it."""
    if hyp_len == 0 or matches[0] == 0:
        return 0.0  # nltk returns 0 before smoothing when no unigram matches
    w = 1 / n  # the same float nltk multiplies by, so the log-sum is identical
    logs = []
    for k in range(1, n + 1):
        total = max(1, hyp_len - k + 1)
        m = matches[k - 1]
        logs.append(w * math.log(m / total if m else _EPSILON / total))
    return _brevity_penalty(ref_len, hyp_len) * math.exp(math.fsum(logs))


class BleuScorer:
    """Scores hypotheses against one fixed reference set, for orders up to max_n."""

    def __init__(self, references: Iterable[Tokens], max_n: int = 5, ignore: Hashable | None = None):
        refs = [tuple(r) for r in references]
        if not refs:
            raise ValueError("BLEU needs at least one reference")
        self.max_n = max_n
        self._lens = sorted(set(len(r) for r in refs))
        self._max_counts = [_max_counts(refs, k, ignore) for k in range(1, max_n + 1)]
        self._ref_len_cache: dict[int, int] = {}

    def _ref_len(self, hyp_len: int) -> int:
        if hyp_len not in self._ref_len_cache:
            self._ref_len_cache[hyp_len] = _closest_length(self._lens, hyp_len)
        return self._ref_len_cache[hyp_len]

    def _matches(self, hyp: tuple, n: int) -> list[int]:
        """Clipped match counts for orders 1..n."""
        if n > self.max_n:
            raise ValueError(f"order {n} exceeds max_n={self.max_n}")
        out = []
        for k in range(1, n + 1):
            mx = self._max_counts[k - 1]
            out.append(sum(min(c, mx.get(g, 0)) for g, c in Counter(ngrams(hyp, k)).items()))
        return out

    def sentence(self, hyp: Tokens, n: int) -> float:
        """BLEU-n of one hypothesis against all references (equals nltk sentence_bleu + method1)."""
        hyp = tuple(hyp)
        return _combine(self._matches(hyp, n), len(hyp), self._ref_len(len(hyp)), n)

    def corpus(self, hyps: Iterable[Tokens], n: int) -> float:
        """Mean sentence BLEU-n over hyps (not nltk's micro-averaged corpus_bleu)."""
        return self.scores(hyps, (n,))[n]

    def scores(self, hyps: Iterable[Tokens], ns: Sequence[int] = (2, 3, 4, 5)) -> dict[int, float]:
        """Mean sentence BLEU for every order in ns, counting each hypothesis's n-grams once."""
        top = max(ns)
        per_n: dict[int, list[float]] = {n: [] for n in ns}
        for hyp in hyps:
            hyp = tuple(hyp)
            matches = self._matches(hyp, top)
            ref_len = self._ref_len(len(hyp))
            for n in ns:
                per_n[n].append(_combine(matches, len(hyp), ref_len, n))
        return {n: _mean(v) for n, v in per_n.items()}


def _max_counts(refs: list[tuple], k: int, ignore: Hashable | None = None) -> dict[tuple, int]:
    """For every k-gram, its largest count within any single reference (the clipping ceiling); k-grams
    holding `ignore` are left out, so they never match."""
    mx: dict[tuple, int] = {}
    seen: set[tuple] = set()
    for r in refs:
        grams = list(ngrams(r, k))
        unique = set(grams)
        seen |= unique
        if len(unique) == len(grams):
            continue  # the common case, every k-gram once: the C-speed set union is all it takes
        for g, c in Counter(grams).items():
            if c > mx.get(g, 1):
                mx[g] = c
    out = dict.fromkeys(seen, 1)
    out.update(mx)  # k-grams repeated inside some reference raise the default ceiling of 1
    if ignore is not None:
        out = {g: c for g, c in out.items() if ignore not in g}
    return out


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


def self_bleu(samples: Iterable[Tokens], n: int, max_hyps: int | None = None, seed: int = 0,
              ignore: Hashable | None = None) -> float:
    """Mean BLEU-n of each sample against all the other samples (Texygen's self-BLEU).

    max_hyps scores a seeded random subset of the samples; every other sample stays a reference.
    ignore: a token (the <unk> id) whose n-grams never match, as in BleuScorer.
    """
    samples = [tuple(s) for s in samples]
    if len(samples) < 2:
        raise ValueError("self-BLEU needs at least two samples")
    idx = list(range(len(samples)))
    if max_hyps is not None and max_hyps < len(samples):
        idx = random.Random(seed).sample(idx, max_hyps)
    tables = [_top_two_counts(samples, k) for k in range(1, n + 1)]
    len_counts = Counter(len(s) for s in samples)
    ref_len = _LeaveOneOutLengths(len_counts)
    scores = []
    for i in idx:
        hyp = samples[i]
        matches = [_loo_matches(hyp, k, *tables[k - 1], ignore) for k in range(1, n + 1)]
        scores.append(_combine(matches, len(hyp), ref_len(len(hyp)), n))
    return _mean(scores)


def _top_two_counts(samples: list[tuple], k: int) -> tuple[dict, dict]:
    """Per k-gram, the largest and second-largest count among samples (ties count twice)."""
    top1: dict[tuple, int] = {}
    top2: dict[tuple, int] = {}
    for s in samples:
        for g, c in Counter(ngrams(s, k)).items():
            t1 = top1.get(g, 0)
            if c > t1:
                top1[g] = c
                top2[g] = t1
            elif c > top2.get(g, 0):
                top2[g] = c
    return top1, top2


def _loo_matches(hyp: tuple, k: int, top1: dict, top2: dict, ignore: Hashable | None = None) -> int:
    """Clipped k-gram matches of hyp against every sample but itself.

    hyp is one of the samples, so its own count c is in the table: the best of the others is
    top1, unless c is top1 itself, in which case it is top2 (equal to top1 when shared).
    """
    total = 0
    for g, c in Counter(ngrams(hyp, k)).items():
        if ignore is not None and ignore in g:
            continue
        t1 = top1[g]
        total += min(c, top2[g] if c == t1 else t1)
    return total


class _LeaveOneOutLengths:
    """Closest reference length when the references are all samples but the hypothesis."""

    def __init__(self, len_counts: Counter):
        self._counts = len_counts
        self._all = sorted(len_counts)
        self._cache: dict[int, int] = {}

    def __call__(self, hyp_len: int) -> int:
        if hyp_len not in self._cache:
            lens = self._all
            if self._counts[hyp_len] == 1:  # the hypothesis was the only one of its length
                lens = [x for x in lens if x != hyp_len]
            self._cache[hyp_len] = _closest_length(lens, hyp_len)
        return self._cache[hyp_len]
