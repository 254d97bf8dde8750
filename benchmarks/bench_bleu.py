"""Benchmark BleuScorer against nltk's sentence_bleu on 1,000 hypotheses x 10,000 references.

Usage: python benchmarks/bench_bleu.py [--json] [--nltk-subset 20] [--repeats 3]

nltk rebuilds all reference counts for every hypothesis, so running it on all 1,000 hypotheses
would take many minutes: it is timed on a random subset against all references and extrapolated
linearly to the full set (labelled as such). The subset's scores are also checked for agreement.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import string
import sys
import time
from pathlib import Path

# Run as a script from anywhere: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu  # noqa: E402

from seqgan_core.metrics.bleu import BleuScorer  # noqa: E402

N_HYPS, N_REFS, VOCAB, ORDER, SEED = 1000, 10_000, 3000, 4, 0


def make_vocab(rng: random.Random, size: int) -> list[str]:
    """size distinct lowercase word-like strings of 2-9 letters."""
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))))
    return sorted(words)


def make_corpus(rng: random.Random, vocab: list[str], count: int) -> list[list[str]]:
    """count sentences of 8-20 tokens drawn Zipf-like (p ~ 1/rank), so common n-grams recur."""
    cum, total = [], 0.0
    for rank in range(1, len(vocab) + 1):
        total += 1.0 / rank
        cum.append(total)
    return [rng.choices(vocab, cum_weights=cum, k=rng.randint(8, 20)) for _ in range(count)]


def time_ours(refs, hyps, repeats: int) -> tuple[float, float, float]:
    """Best-of-repeats (precompute, scoring) seconds, and the corpus BLEU-4."""
    best = (math.inf, math.inf)
    for _ in range(repeats):
        t0 = time.perf_counter()
        scorer = BleuScorer(refs, max_n=ORDER)
        t1 = time.perf_counter()
        value = scorer.corpus(hyps, ORDER)
        t2 = time.perf_counter()
        best = min(best, (t1 - t0, t2 - t1), key=sum)
    return best[0], best[1], value


def time_nltk(refs, subset) -> tuple[float, list[float]]:
    smooth = SmoothingFunction().method1
    weights = (1 / ORDER,) * ORDER
    t0 = time.perf_counter()
    scores = [sentence_bleu(refs, h, weights=weights, smoothing_function=smooth) for h in subset]
    return time.perf_counter() - t0, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--nltk-subset", type=int, default=20, help="hypotheses nltk is timed on")
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours; the fastest counts")
    args = parser.parse_args()

    rng = random.Random(SEED)
    vocab = make_vocab(rng, VOCAB)
    refs = make_corpus(rng, vocab, N_REFS)
    hyps = make_corpus(rng, vocab, N_HYPS)
    subset = rng.sample(hyps, args.nltk_subset)

    pre_s, score_s, bleu = time_ours(refs, hyps, args.repeats)
    ours_s = pre_s + score_s
    nltk_subset_s, nltk_scores = time_nltk(refs, subset)
    nltk_full_s = nltk_subset_s * N_HYPS / len(subset)
    check = BleuScorer(refs, max_n=ORDER)
    max_diff = max(abs(check.sentence(h, ORDER) - s) for h, s in zip(subset, nltk_scores))

    result = {
        "hypotheses": N_HYPS, "references": N_REFS, "vocab": VOCAB, "order": ORDER, "seed": SEED,
        "ours_bleu4_mean": bleu,
        "ours_precompute_s": pre_s, "ours_scoring_s": score_s, "ours_total_s": ours_s,
        "ours_repeats_best_of": args.repeats,
        "nltk_subset_hypotheses": len(subset), "nltk_subset_s": nltk_subset_s,
        "nltk_extrapolated_full_s": nltk_full_s,
        "speedup_vs_extrapolated_nltk": nltk_full_s / ours_s,
        "subset_max_abs_diff": max_diff, "subset_agrees_1e-9": max_diff <= 1e-9,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)


def print_table(r: dict) -> None:
    print(f"BLEU-{r['order']}, {r['hypotheses']} hypotheses x {r['references']} references "
          f"(vocab {r['vocab']}, Zipf, seed {r['seed']})")
    print(f"{'ours: precompute':40s}{r['ours_precompute_s']:10.3f} s")
    print(f"{'ours: score all hypotheses':40s}{r['ours_scoring_s']:10.3f} s")
    print(f"{'ours: total (best of %d)' % r['ours_repeats_best_of']:40s}{r['ours_total_s']:10.3f} s")
    print(f"{'nltk: %d hypotheses (measured)' % r['nltk_subset_hypotheses']:40s}{r['nltk_subset_s']:10.3f} s")
    print(f"{'nltk: %d hypotheses (EXTRAPOLATED)' % r['hypotheses']:40s}{r['nltk_extrapolated_full_s']:10.1f} s")
    print(f"{'speedup vs extrapolated nltk':40s}{r['speedup_vs_extrapolated_nltk']:10.0f} x")
    print(f"{'corpus BLEU-4 (mean of sentences)':40s}{r['ours_bleu4_mean']:10.4f}")
    print(f"{'subset max |ours - nltk|':40s}{r['subset_max_abs_diff']:10.1e}"
          f"  ({'agrees' if r['subset_agrees_1e-9'] else 'DISAGREES'} to 1e-9)")


if __name__ == "__main__":
    main()
