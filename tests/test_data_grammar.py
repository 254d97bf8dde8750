"""The grammar data set: exact probabilities, the first error of a sentence, seeded determinism."""
import itertools
import math
import pickle

import pytest
import torch

from seqgan_core.data import DataError, load, registry
from seqgan_core.data.common import EOS_ID
from seqgan_core.data.grammar import Grammar, grammar_params

SMALL = {"num_train": 300, "num_test": 100}


def tiny(**kw) -> Grammar:
    return Grammar(grammar_params({"nouns": 2, "verbs": 1, "adjectives": 1, "max_depth": 1, **kw}))


def ids(g: Grammar, text: str) -> list[int]:
    return [g.index[w] for w in text.split()]


def derivations(g: Grammar, stack=None):
    """Every complete derivation straight from the rules (no parser): yields (probability, token ids)."""
    stack = (("S",),) if stack is None else stack
    if not stack:
        yield 1.0, ()
        return
    top, rest = stack[0], stack[1:]
    if isinstance(top, str):
        for tok, w in g.words[top]:
            for p, tail in derivations(g, rest):
                yield w * p, (tok,) + tail
        return
    for pr, rhs in g.rules(top):
        for p, toks in derivations(g, tuple(rhs) + rest):
            yield pr * p, toks


def test_sentence_probabilities_sum_to_one_and_match_the_parser():
    g = tiny(nouns=1, adjectives=0)        # depth 1: relative clauses of both kinds, ~21,000 derivations
    by_sentence = {}
    for p, toks in derivations(g):
        by_sentence[toks] = by_sentence.get(toks, 0.0) + p
    assert math.isclose(sum(by_sentence.values()), 1.0, rel_tol=1e-9)
    T = g.max_len + 1
    for toks, p in itertools.islice(by_sentence.items(), 0, None, 97):
        row = list(toks) + [EOS_ID] * (T - len(toks))
        # the parser's exact next-token probabilities multiply to the rules' probability of the sentence
        state, prod = g.START, 1.0
        for tok in row:
            pg, state = g.next_dist(state)[tok]
            prod *= pg
        assert math.isclose(prod, p, rel_tol=1e-9)
        assert g.first_error(row) is None
        # and the smoothed source scores it exactly as documented
        want = sum(math.log((1 - g.eps) * pg + g.eps / g.V) for pg in _step_probs(g, row))
        assert math.isclose(g.log_prob(row), want, rel_tol=1e-12)


def _step_probs(g, row):
    state = g.START
    for tok in row:
        pg, state = g.next_dist(state)[tok]
        yield pg


def test_smoothed_source_is_a_distribution_over_rows():
    g = tiny(max_depth=0, adjectives=0, nouns=1)
    total = sum(math.exp(g.log_prob(row)) for row in itertools.product(range(g.V), repeat=3))
    assert math.isclose(total, 1.0, rel_tol=1e-9)


def test_first_error_of_known_sentences():
    g = Grammar(grammar_params({}))
    assert g.first_error(ids(g, "the dogs that the cat chases sleep") + [EOS_ID]) is None
    # agreement across the relative clause: the subject is plural, "sleeps" is singular
    assert g.first_error(ids(g, "the dogs that the cat chases sleeps") + [EOS_ID]) == 6
    assert g.first_error(ids(g, "the dog the")) == 2
    assert g.first_error(ids(g, "dog runs")) == 0
    assert g.first_error(ids(g, "the dog") + [EOS_ID, EOS_ID]) == 2          # <eos> too early
    assert g.first_error(ids(g, "the dog that")) == 3                        # ran out of room unfinished
    assert g.first_error(ids(g, "a dogs runs")) == 1                         # "a" is singular
    assert g.first_error(ids(g, "the dog runs") + [EOS_ID, g.index["dog"]]) is None   # cut at <eos>
    assert g.log_prob(ids(g, "the dogs that the cat chases sleeps")) < \
        g.log_prob(ids(g, "the dogs that the cat chases sleep"))


def test_registered_rows_are_grammatical_and_scored_exactly():
    assert "grammar" in registry()
    ds = load("grammar", SMALL)
    assert ds.train.shape == (300, 20) and ds.vocab[EOS_ID] == "<eos>"
    assert all(ds.validity(r) for r in torch.cat([ds.train, ds.test]).tolist())
    g = ds.oracle.grammar
    row = ds.test[0]
    assert math.isclose(float(ds.oracle.nll(row[None])[0]), -g.log_prob(row.tolist()) / 20, rel_tol=1e-6)
    assert " " in ds.render(row) and all(w in g.vocab for w in ds.tokens(row))


def test_seeded_and_independent_of_the_run_seed():
    a, b = load("grammar", SMALL, seed=0), load("grammar", SMALL, seed=5)
    assert torch.equal(a.train, b.train)
    c = load("grammar", {**SMALL, "grammar_seed": 1})
    assert not torch.equal(a.train, c.train)
    fresh = Grammar(grammar_params({**SMALL}))
    assert fresh.words == a.oracle.grammar.words
    assert pickle.loads(pickle.dumps(a.oracle.grammar)).words == fresh.words


def test_options_are_checked():
    with pytest.raises(DataError, match="seq_len"):
        load("grammar", {**SMALL, "max_depth": 2, "seq_len": 20})
    with pytest.raises(DataError, match="unknown"):
        load("grammar", {"vocab": 3})
    big = load("grammar", {**SMALL, "nouns": 24, "verbs": 12, "adjectives": 12})
    assert big.vocab_size > load("grammar", SMALL).vocab_size
