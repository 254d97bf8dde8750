"""A readable synthetic language with an exact oracle: English-like sentences from a probabilistic grammar.

    the old dog that the cats chase sleeps        the teachers see a fox that runs

Why it is here: the synthetic LSTM oracle of the paper gives an exact NLL-oracle but its samples are token
numbers no class can read; real corpora can be read but have no oracle. This grammar has both. The
subject's number (dog / dogs) must agree with the main verb (sleeps / sleep) *across* a relative clause
whose own noun may have the other number, which is what a small LSTM gets wrong first.

The grammar (n = sg | pl, d = relative-clause depth, max_depth an option):

    S      → NP(n, 0) VP(n, 0)                      n: sg or pl, 1/2 each
    NP(n,d)→ DET_n [ADJ] N_n [RC(n, d)]            ADJ with p_adjective; RC with p_relative when d < max_depth
    RC(n,d)→ that VP(n, d+1)                        subject relative (1 − p_object_relative)
           | that NP(m, d+1) TV_m                   object relative: "the dog that the cats chase ..."
    VP(n,d)→ IV_n                                   (1 − p_transitive)
           | TV_n NP(m, d)                          m: sg or pl, 1/2 each

Each word class picks a lemma with seeded weights (a Dirichlet draw from grammar_seed) and shows it in
the number the rule asks for. A sentence ends with <eos>, and rows are padded with <eos>.

Exact probabilities. The oracle reads a row left to right keeping every partial derivation consistent with
the prefix (a weighted set of stacks of pending symbols; the grammar has no left recursion, so the set is
finite), which gives the exact next-token distribution p_g(· | prefix). The *source* used for NLL-oracle
is p_g smoothed per token so that G's ungrammatical samples get a finite score:

    p(y_t | y_<t) = (1 − ε) · p_g(y_t | y_<t) + ε / V     while y_<t is a prefix of the grammar,
    p(y_t | y_<t) = 1 / V                                  once the row has left the grammar,

with ε = `epsilon` (default 1e-3) and V the vocabulary size. After a sentence's <eos> the grammar predicts
<eos> with probability 1. This is a proper distribution over rows of length T (its probabilities sum to 1
exactly; tests/test_data_grammar.py checks it by enumeration), and NLL-oracle is its exact mean per-token
negative log-probability of G's samples.

Grammaticality and the first error. A sequence (cut at its first <eos>, as shown) is grammatical if the
grammar can derive it. Otherwise its *first error* is the first position t at which p_g(y_t | y_<t) = 0:
the word that no grammatical sentence could have there (an <eos> too early counts); a row that fills all T
positions without finishing its sentence has its first error at T (no token to blame).
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np
import torch

from .base import DataError, DatasetSpec, SequenceDataset, register
from .common import EOS, EOS_ID, float_option, int_option, length_counts, merge_options, pad_rows

NOUNS = [("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("child", "children"), ("teacher", "teachers"),
         ("student", "students"), ("farmer", "farmers"), ("doctor", "doctors"), ("king", "kings"),
         ("queen", "queens"), ("horse", "horses"), ("fox", "foxes"), ("man", "men"), ("woman", "women"),
         ("girl", "girls"), ("boy", "boys"), ("baker", "bakers"), ("singer", "singers"), ("mouse", "mice"),
         ("wolf", "wolves"), ("pilot", "pilots"), ("judge", "judges"), ("nurse", "nurses"), ("poet", "poets")]
INTRANSITIVE = [("runs", "run"), ("sleeps", "sleep"), ("sings", "sing"), ("laughs", "laugh"),
                ("waits", "wait"), ("swims", "swim"), ("falls", "fall"), ("smiles", "smile"),
                ("dances", "dance"), ("cries", "cry"), ("jumps", "jump"), ("works", "work")]
TRANSITIVE = [("chases", "chase"), ("sees", "see"), ("likes", "like"), ("helps", "help"), ("follows", "follow"),
              ("feeds", "feed"), ("knows", "know"), ("finds", "find"), ("calls", "call"), ("watches", "watch"),
              ("meets", "meet"), ("loves", "love")]
ADJECTIVES = ["big", "small", "old", "young", "happy", "quiet", "clever", "brave", "lazy", "red", "tall", "kind"]
DETERMINERS = {"sg": ["the", "a", "every", "this"], "pl": ["the", "some", "these", "many"]}
THAT = "that"

DEFAULTS = {"nouns": 12, "verbs": 6, "adjectives": 6, "max_depth": 1, "seq_len": 20,
            "p_relative": 0.3, "p_object_relative": 0.5, "p_adjective": 0.3, "p_transitive": 0.5,
            "epsilon": 1e-3, "grammar_seed": 0, "num_train": 10000, "num_test": 2000}
HELP = {
    "nouns": f"nouns in the lexicon (1-{len(NOUNS)}; each has a singular and a plural word)",
    "verbs": f"intransitive and as many transitive verbs (1-{len(INTRANSITIVE)}; two forms each)",
    "adjectives": f"adjectives (0-{len(ADJECTIVES)})",
    "max_depth": "deepest nesting of relative clauses (0-3)",
    "seq_len": "row length in tokens (must fit the longest sentence the grammar can make, plus <eos>)",
    "p_relative": "probability that a noun phrase takes a relative clause (below max_depth)",
    "p_object_relative": "share of relative clauses of the form 'that the cats chase'",
    "p_adjective": "probability of an adjective in a noun phrase",
    "p_transitive": "probability that a verb phrase has an object",
    "epsilon": "smoothing of the source for NLL-oracle: ε/V for a word the grammar forbids",
    "grammar_seed": "seed of the word weights and of the data (runs with other seeds share the data)",
    "num_train": "training sentences", "num_test": "held-out sentences for NLL-test",
}
NUMBERS = ("sg", "pl")

Stack = tuple          # pending symbols, top first
State = tuple          # ((stack, weight), ...) sorted, weights sum to 1


class Grammar:
    """The grammar with its vocabulary, an exact next-token distribution, sampling and scoring."""

    def __init__(self, params: dict):
        p = self.p = dict(params)
        rng = np.random.default_rng(p["grammar_seed"])
        nouns, iv, tv = NOUNS[:p["nouns"]], INTRANSITIVE[:p["verbs"]], TRANSITIVE[:p["verbs"]]
        adjs = ADJECTIVES[:p["adjectives"]]
        dets = sorted(set(DETERMINERS["sg"] + DETERMINERS["pl"]), key=(DETERMINERS["sg"] + DETERMINERS["pl"]).index)
        self.vocab = [EOS] + dets + [THAT] + adjs + [w for pair in nouns for w in pair] + \
            [w for pair in iv for w in pair] + [w for pair in tv for w in pair]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        if len(self.index) != len(self.vocab):
            raise DataError("grammar vocabulary has a repeated word")
        # word classes: symbol -> ((token id, probability), ...); lemma weights are seeded
        weights = {name: rng.dirichlet(np.full(k, 2.0)) for name, k in
                   (("N", len(nouns)), ("IV", len(iv)), ("TV", len(tv)), ("ADJ", max(len(adjs), 1)))}
        self.words: dict[str, tuple] = {}
        for i, n in enumerate(NUMBERS):
            self.words[f"DET_{n}"] = tuple((self.index[w], 1 / len(DETERMINERS[n])) for w in DETERMINERS[n])
            self.words[f"N_{n}"] = tuple((self.index[pair[i]], float(w)) for pair, w in zip(nouns, weights["N"]))
            self.words[f"IV_{n}"] = tuple((self.index[pair[i]], float(w)) for pair, w in zip(iv, weights["IV"]))
            self.words[f"TV_{n}"] = tuple((self.index[pair[i]], float(w)) for pair, w in zip(tv, weights["TV"]))
        self.words["ADJ"] = tuple((self.index[a], float(w)) for a, w in zip(adjs, weights["ADJ"]))
        self.words["THAT"] = ((self.index[THAT], 1.0),)
        self.V = len(self.vocab)
        self.eps = p["epsilon"]
        self._next: dict = {}
        self._prefix: dict = {}
        self.max_len = self._longest(("S",))

    def __getstate__(self):   # caches are rebuilt on demand
        return {**self.__dict__, "_next": {}, "_prefix": {}}

    # --- the rules ---------------------------------------------------------------------------------------
    def rules(self, sym) -> list[tuple[float, tuple]]:
        """Right-hand sides of a non-terminal with their probabilities (summing to 1)."""
        p = self.p
        if sym == ("S",):
            return [(0.5, (("NP", n, 0), ("VP", n, 0))) for n in NUMBERS]
        kind, n, d = sym
        if kind == "NP":
            p_adj = p["p_adjective"] if self.words["ADJ"] else 0.0
            p_rc = p["p_relative"] if d < p["max_depth"] else 0.0
            out = []
            for adj, pa in ((True, p_adj), (False, 1 - p_adj)):
                for rc, pr in ((True, p_rc), (False, 1 - p_rc)):
                    if pa * pr > 0:
                        rhs = (f"DET_{n}",) + (("ADJ",) if adj else ()) + (f"N_{n}",) + ((("RC", n, d),) if rc else ())
                        out.append((pa * pr, rhs))
            return out
        if kind == "RC":
            po = p["p_object_relative"]
            out = [(1 - po, ("THAT", ("VP", n, d + 1)))] if po < 1 else []
            if po > 0:
                out += [(po / 2, ("THAT", ("NP", m, d + 1), f"TV_{m}")) for m in NUMBERS]
            return out
        if kind == "VP":
            pt = p["p_transitive"]
            out = [(1 - pt, (f"IV_{n}",))] if pt < 1 else []
            if pt > 0:
                out += [(pt / 2, (f"TV_{n}", ("NP", m, d))) for m in NUMBERS]
            return out
        raise ValueError(f"unknown symbol {sym}")

    def _longest(self, sym) -> int:
        if isinstance(sym, str):
            return 1
        return max(sum(self._longest(s) for s in rhs) for _, rhs in self.rules(sym))

    @lru_cache(maxsize=None)
    def expand(self, stack: Stack) -> tuple:
        """((probability, token, rest of the stack), ...): every way the next token can be produced from
        this stack, expanding the leftmost non-terminal until a word is on top. An empty stack (the sentence
        is finished) produces <eos> forever."""
        if not stack:
            return ((1.0, EOS_ID, ()),)
        top, rest = stack[0], stack[1:]
        if isinstance(top, str):
            return tuple((w, tok, rest) for tok, w in self.words[top])
        out = []
        for pr, rhs in self.rules(top):
            out += [(pr * w, tok, r) for w, tok, r in self.expand(tuple(rhs) + rest)]
        return tuple(out)

    START: State = (((("S",),), 1.0),)

    def next_dist(self, state: State) -> dict:
        """{token: (p_g(token | prefix), state after it)} for the tokens the grammar allows next."""
        hit = self._next.get(state)
        if hit is not None:
            return hit
        acc: dict = {}
        for stack, w in state:
            for pr, tok, rest in self.expand(stack):
                per = acc.setdefault(tok, {})
                per[rest] = per.get(rest, 0.0) + w * pr
        out = {}
        for tok, per in acc.items():
            total = sum(per.values())
            out[tok] = (total, tuple(sorted(((s, v / total) for s, v in per.items()), key=repr)))
        if len(self._next) < 500_000:
            self._next[state] = out
        return out

    # --- sampling -------------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> list[int]:
        """One sentence (token ids, without <eos>) drawn top-down from the rules."""
        stack: Stack = (("S",),)
        out = []
        while stack:
            options, cum = self._choices(stack)
            _, tok, stack = options[min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")),
                                        len(options) - 1)]
            out.append(tok)
        return out

    @lru_cache(maxsize=None)
    def _choices(self, stack: Stack):
        options = self.expand(stack)
        return options, np.cumsum([o[0] for o in options])

    # --- scoring --------------------------------------------------------------------------------------------
    def log_prob(self, ids: Sequence[int]) -> float:
        """Exact log-probability of a full row under the smoothed source (see the module doc)."""
        ids = tuple(int(i) for i in ids)
        logp, state = 0.0, self.START        # state None: the prefix has left the grammar
        for t in range(len(ids)):
            key = ids[:t + 1]
            hit = self._prefix.get(key)
            if hit is None:
                tok = ids[t]
                if state is None:
                    step, new = 1.0 / self.V, None
                else:
                    pg, new = self.next_dist(state).get(tok, (0.0, None))
                    step = (1 - self.eps) * pg + self.eps / self.V
                hit = (logp + math.log(step), new)
                if len(self._prefix) < 2_000_000:
                    self._prefix[key] = hit
            logp, state = hit
        return logp

    def grammar_log_prob(self, ids: Sequence[int]) -> float:
        """log p_g of a full row without smoothing: −inf when the grammar cannot produce it."""
        state, total = self.START, 0.0
        for tok in ids:
            hit = self.next_dist(state).get(int(tok))
            if hit is None:
                return -math.inf
            total += math.log(hit[0])
            state = hit[1]
        return total

    def first_error(self, ids: Sequence[int]) -> Optional[int]:
        """None if the sentence (cut at its first <eos>) is grammatical, else the position of its first
        error: the first token p_g gives probability 0 (an early <eos> included), or len(ids) when the row
        ends with the sentence unfinished."""
        state = self.START
        for t, tok in enumerate(int(i) for i in ids):
            nxt = self.next_dist(state)
            if tok not in nxt:
                return t
            if tok == EOS_ID:
                return None
            state = nxt[tok][1]
        return None if EOS_ID in self.next_dist(state) else len(ids)

    def is_grammatical(self, ids: Sequence[int]) -> bool:
        return self.first_error(ids) is None


class GrammarOracle(torch.nn.Module):
    """The exact source as the trainer's oracle: nll(rows) is each row's mean per-token −log p."""

    def __init__(self, grammar: Grammar):
        super().__init__()
        self.grammar = grammar
        self.vocab_size = grammar.V

    def nll(self, y: torch.Tensor) -> torch.Tensor:
        T = y.shape[1]
        vals = [-self.grammar.log_prob(row) / T for row in y.tolist()]
        return torch.tensor(vals, dtype=torch.float32, device=y.device)

    def first_error(self, ids) -> Optional[int]:
        return self.grammar.first_error(ids)


def grammar_params(options: dict) -> dict:
    opts = merge_options(options, DEFAULTS, "grammar")
    p = {"nouns": int_option(opts, "nouns", 1, len(NOUNS)),
         "verbs": int_option(opts, "verbs", 1, len(INTRANSITIVE)),
         "adjectives": int_option(opts, "adjectives", 0, len(ADJECTIVES)),
         "max_depth": int_option(opts, "max_depth", 0, 3),
         "seq_len": int_option(opts, "seq_len", 4, 200),
         "epsilon": float_option(opts, "epsilon", 1e-12, 0.5),
         "grammar_seed": int_option(opts, "grammar_seed", 0, 2**31 - 1),
         "num_train": int_option(opts, "num_train", 1, 1_000_000),
         "num_test": int_option(opts, "num_test", 1, 1_000_000)}
    for k in ("p_relative", "p_object_relative", "p_adjective", "p_transitive"):
        p[k] = float_option(opts, k, 0.0, 1.0)
    if p["p_relative"] >= 1:
        raise DataError("option p_relative must be below 1: a noun phrase must be able to end")
    return p


@lru_cache(maxsize=4)
def _build(key: str) -> SequenceDataset:
    p = json.loads(key)
    g = Grammar(p)
    if g.max_len > p["seq_len"]:
        raise DataError(f"seq_len {p['seq_len']} is too short: with max_depth {p['max_depth']} a sentence can "
                        f"have {g.max_len} words; set seq_len ≥ {g.max_len} or lower max_depth")
    rng = np.random.default_rng(p["grammar_seed"] + 1)
    rows = [g.sample(rng) for _ in range(p["num_train"] + p["num_test"])]
    data = pad_rows(rows, p["seq_len"])
    oracle = GrammarOracle(g)
    test = data[p["num_train"]:]
    floor = float(oracle.nll(test).mean())
    return SequenceDataset(
        name="grammar", train=data[: p["num_train"]], test=test, vocab=list(g.vocab), eos_id=EOS_ID,
        metrics=("nll_oracle", "validity", "lesson"), validity=g.is_grammatical, oracle=oracle,
        info={"source": "generated (probabilistic grammar)", "params": p, "oracle_nll_floor": floor,
              "longest_sentence": g.max_len, "lengths": length_counts(len(r) for r in rows)})


def load_grammar(options: dict, seed: int = 0) -> SequenceDataset:
    """The data depend on the options only (grammar_seed), not on the run's seed: runs compare."""
    return _build(json.dumps(grammar_params(options), sort_keys=True))


register(DatasetSpec(
    name="grammar", title="English-like grammar (exact oracle)",
    description="Sentences such as 'the old dog that the cats chase sleeps' from a probabilistic grammar with "
                "subject-verb agreement across relative clauses. The probability of any sequence is exact "
                "(NLL-oracle), and so are grammaticality and the position of the first error.",
    source="generated", offline=lambda: True, load=load_grammar, options_help=HELP,
    size_hint="10,000 sentences of up to 17 words (rows of 20), vocabulary 63 (options change both)"))
