"""BLEU / self-BLEU must equal nltk's sentence_bleu with method1 smoothing; diversity on hand-made data."""
import math
import random

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from seqgan_core.metrics.bleu import BleuScorer, self_bleu
from seqgan_core.metrics.diversity import distinct_n, unique_fraction

TOL = 1e-9
SMOOTH = SmoothingFunction().method1


def nltk_bleu(refs, hyp, n):
    return sentence_bleu(refs, hyp, weights=(1 / n,) * n, smoothing_function=SMOOTH)


def random_corpus(rng, count, vocab, min_len=0, max_len=12):
    # A tiny vocabulary so that higher-order n-grams still match sometimes.
    return [[rng.randrange(vocab) for _ in range(rng.randint(min_len, max_len))] for _ in range(count)]


@pytest.mark.parametrize("seed", range(5))
def test_sentence_bleu_matches_nltk(seed):
    rng = random.Random(seed)
    refs = random_corpus(rng, 30, vocab=6, min_len=1)
    hyps = random_corpus(rng, 25, vocab=7) + [[], [0], [6], [6, 6, 6], [0, 1]]  # 6 is never in a reference
    scorer = BleuScorer(refs, max_n=5)
    for n in range(2, 6):
        expected = [nltk_bleu(refs, h, n) for h in hyps]
        got = [scorer.sentence(h, n) for h in hyps]
        assert max(abs(a - b) for a, b in zip(got, expected)) <= TOL
        assert abs(scorer.corpus(hyps, n) - math.fsum(expected) / len(expected)) <= TOL


def test_scores_agree_with_corpus_and_string_tokens():
    rng = random.Random(11)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog"]
    refs = [[rng.choice(words) for _ in range(rng.randint(2, 9))] for _ in range(20)]
    hyps = [[rng.choice(words) for _ in range(rng.randint(0, 9))] for _ in range(15)]
    scorer = BleuScorer(refs)
    scores = scorer.scores(hyps, ns=(2, 3, 4, 5))
    for n, value in scores.items():
        assert abs(value - scorer.corpus(hyps, n)) <= TOL
        expected = math.fsum(nltk_bleu(refs, h, n) for h in hyps) / len(hyps)
        assert abs(value - expected) <= TOL


def test_edge_cases():
    # Lengths 3 and 5 are equally close to 4: nltk takes the shorter one, so no brevity penalty.
    refs = [[1, 2, 3], [1, 2, 3, 4, 5], [1, 1, 1, 1, 1, 1, 1, 1]]
    scorer = BleuScorer(refs)
    for hyp in ([1, 2, 3, 4], [1], [9, 9], [], [1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 9]):
        for n in (2, 3, 4, 5):
            assert abs(scorer.sentence(hyp, n) - nltk_bleu(refs, hyp, n)) <= TOL
    assert scorer.sentence([], 4) == 0.0  # empty hypothesis
    assert scorer.sentence([9, 9], 4) == 0.0  # no unigram match: 0 even with smoothing
    with pytest.raises(ValueError):
        scorer.sentence([1, 2], 6)
    with pytest.raises(ValueError):
        BleuScorer([])


def nltk_self_bleu(samples, n, indices):
    scores = [nltk_bleu(samples[:i] + samples[i + 1:], samples[i], n) for i in indices]
    return math.fsum(scores) / len(scores)


@pytest.mark.parametrize("seed", range(3))
def test_self_bleu_matches_nltk_loop(seed):
    rng = random.Random(100 + seed)
    samples = random_corpus(rng, 25, vocab=5, max_len=10)
    samples += [list(samples[3]), [4] * 7, [4] * 7, [4] * 13, []]  # shared counts, a length held alone
    for n in (2, 3, 4, 5):
        assert abs(self_bleu(samples, n) - nltk_self_bleu(samples, n, range(len(samples)))) <= TOL


def test_self_bleu_subset_is_seeded():
    rng = random.Random(7)
    samples = random_corpus(rng, 20, vocab=5, min_len=1)
    chosen = random.Random(3).sample(range(len(samples)), 8)
    assert abs(self_bleu(samples, 3, max_hyps=8, seed=3) - nltk_self_bleu(samples, 3, chosen)) <= TOL
    assert self_bleu(samples, 3, max_hyps=100) == self_bleu(samples, 3)
    with pytest.raises(ValueError):
        self_bleu([[1, 2]], 2)


def test_distinct_n_and_unique_fraction():
    samples = [["a", "b", "a", "b"], ["a", "b", "c"], ["a"]]
    # bigrams: ab ba ab | ab bc | (none) -> unique {ab, ba, bc} = 3 of 5
    assert distinct_n(samples, 2) == pytest.approx(3 / 5)
    # unigrams: 8 tokens, unique {a, b, c}
    assert distinct_n(samples, 1) == pytest.approx(3 / 8)
    assert distinct_n([["a"]], 2) == 0.0
    assert unique_fraction([[1, 2], [1, 2], [3], []]) == pytest.approx(3 / 4)
    assert unique_fraction([]) == 0.0


UNK = 1


def _unk_apart(rows, start):
    """Each <unk> replaced by a token of its own that occurs nowhere else: nltk's view of 'never matches'."""
    fresh = iter(range(start, start + 10_000))
    return [[next(fresh) if t == UNK else t for t in row] for row in rows]


@pytest.mark.parametrize("seed", range(3))
def test_unk_never_matches_in_references_or_hypotheses(seed):
    rng = random.Random(200 + seed)
    refs = random_corpus(rng, 30, vocab=5, min_len=1)          # token 1 plays <unk>, common on both sides
    hyps = random_corpus(rng, 20, vocab=5) + [[UNK] * 6, [0, UNK, UNK, 2]]
    scorer = BleuScorer(refs, max_n=5, ignore=UNK)
    refs_apart, hyps_apart = _unk_apart(refs, 1000), _unk_apart(hyps, 50_000)
    for n in (2, 3, 4, 5):
        for hyp, apart in zip(hyps, hyps_apart):
            assert abs(scorer.sentence(hyp, n) - nltk_bleu(refs_apart, apart, n)) <= TOL
    assert scorer.sentence([UNK] * 6, 4) == 0.0                 # all-<unk> scores nothing
    assert BleuScorer(refs, max_n=5).sentence([UNK] * 6, 4) > 0  # ... where <unk> would count as a word


def test_self_bleu_ignores_unk():
    rng = random.Random(9)
    samples = random_corpus(rng, 20, vocab=4, min_len=1) + [[UNK] * 5, [UNK] * 5]
    apart = _unk_apart(samples, 1000)
    for n in (2, 4):
        got = self_bleu(samples, n, ignore=UNK)
        assert abs(got - nltk_self_bleu(apart, n, range(len(apart)))) <= TOL
        assert got < self_bleu(samples, n)


def test_live_bleu_label_names_its_references_from_one_place():
    from seqgan_core import contract
    from seqgan_core.metrics import evaluate
    assert evaluate.BLEU_REFS is contract.BLEU_REFS
    for n in (2, 3, 4, 5):
        assert contract.label(f"bleu/{n}") == f"BLEU-{n} vs {contract.BLEU_REFS:,} test lines"
    assert contract.label("bleu/4") == "BLEU-4 vs 2,000 test lines"


def test_evaluator_bleu_does_not_reward_unk():
    import torch

    from seqgan_core.data.base import SequenceDataset
    from seqgan_core.metrics.evaluate import Evaluator

    class AllUnk:                                   # a "generator" that writes <unk> only
        def sample(self, n, seq_len):
            return torch.full((n, seq_len), UNK, dtype=torch.long)

        def log_probs(self, y):
            return torch.zeros(y.shape)

        training = False

        def eval(self):
            return self

        def train(self, mode=True):
            return self

    test = torch.tensor([[2, UNK, 3, UNK, UNK, 0], [UNK, UNK, UNK, UNK, 4, 0]])
    ds = SequenceDataset("t", train=test, test=test, vocab=["<eos>", "<unk>", "a", "b", "c"], eos_id=0,
                         unk_id=UNK, metrics=("bleu",))
    values, _ = Evaluator(ds, nll_samples=4)(AllUnk())
    assert values["bleu/2"] == 0.0 and values["bleu/4"] == 0.0
