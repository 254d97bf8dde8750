"""Formal languages: every generated row is valid, corrupted rows are not, options are checked."""
import pickle

import pytest
import torch

from seqgan_core.data import DataError, load
from seqgan_core.data.formal import (arithmetic_vocab, bracket_vocab, evaluate, load_arithmetic, load_brackets,
                                     why_invalid_brackets, why_invalid_equation)

SMALL = {"num_train": 1500, "num_test": 200}


def ids_of(text: str, vocab: list[str]) -> list[int]:
    """'(()' or '3+4=7' -> ids; every character is one token."""
    return [vocab.index(ch) for ch in text]


@pytest.fixture(scope="module", params=[
    ("brackets", {}), ("brackets", {"kinds": 1, "max_depth": 2, "seq_len": 12, "min_len": 2}),
    ("arithmetic", {}), ("arithmetic", {"operators": "+-", "max_operand": 20, "max_operands": 4, "seq_len": 16}),
])
def dataset(request):
    name, opts = request.param
    return load(name, {**opts, **SMALL}, seed=3)


def test_shapes_and_padding(dataset):
    assert dataset.train.dtype == torch.long and dataset.train.shape == (1500, dataset.seq_len)
    assert dataset.test.shape == (200, dataset.seq_len)
    for row in torch.cat([dataset.train, dataset.test]).tolist():
        if 0 in row:     # after the first <eos> there is only <eos>
            assert set(row[row.index(0):]) == {0}
    assert int(dataset.train.max()) < dataset.vocab_size


def test_every_generated_row_is_valid(dataset):
    assert all(dataset.validity(row) for row in torch.cat([dataset.train, dataset.test]).tolist())


def test_substituting_a_bracket_or_dropping_the_last_token_is_invalid():
    ds = load_brackets({**SMALL, "num_train": 300}, seed=1)
    for row in ds.train.tolist():
        n = row.index(0) if 0 in row else len(row)
        assert not ds.validity(row[: n - 1])
        for pos in (0, n // 2, n - 1):
            for other in range(1, ds.vocab_size):
                if other != row[pos]:
                    assert not ds.validity(row[:pos] + [other] + row[pos + 1:])


def test_wrong_result_or_dropping_the_last_token_is_invalid():
    ds = load_arithmetic({**SMALL, "num_train": 300}, seed=1)
    digits = {ds.vocab.index(str(d)) for d in range(10)}
    for row in ds.train.tolist():
        n = row.index(0) if 0 in row else len(row)
        assert not ds.validity(row[: n - 1])
        for other in digits - {row[n - 1]}:
            assert not ds.validity(row[: n - 1] + [other])


def test_validity_cuts_at_eos_and_is_picklable():
    ds = load_brackets(SMALL, seed=0)
    row = ds.train[0].tolist()
    assert ds.validity(row + [0, 1, 1])              # what follows <eos> is ignored
    assert pickle.loads(pickle.dumps(ds.validity))(row)   # worker processes can carry the checker


@pytest.mark.parametrize("text, reason", [
    ("(([]))", None), ("()[]", None), ("(]", "wrong kind"), ("())(", "never opened"), ("(()", "open"),
    ("((((((()))))))", "deeper"), ("", "length 0"),
])
def test_bracket_reasons(text, reason):
    vocab = bracket_vocab(2)
    got = why_invalid_brackets(ids_of(text, vocab), kinds=2, max_depth=6, min_len=2, seq_len=30)
    assert got is None if reason is None else reason in got


@pytest.mark.parametrize("text, reason", [
    ("3+4*2=11", None), ("8-2-3=3", None), ("2-9=-7", None), ("0*5=0", None), ("9*9*9=729", None),
    ("3+4*2=14", "wrong result"), ("3+4=", "not a number"), ("3+4", "exactly one"), ("3+4=7=7", "exactly one"),
    ("03+1=4", "leading zero"), ("3++1=4", "missing a number"), ("1-1=-0", "not a number"),
    ("12+1=13", "above 9"), ("7=7", "operands"), ("1+1+1+1=4", "operands"), ("", "empty"),
])
def test_equation_reasons(text, reason):
    params = {"operators": "+-*", "min_operands": 2, "max_operands": 3, "max_operand": 9, "seq_len": 12}
    got = why_invalid_equation(ids_of(text, arithmetic_vocab("+-*")), **params)
    assert got is None if reason is None else reason in got


def test_evaluate_uses_precedence_left_to_right():
    assert evaluate([3, 4, 2], ["+", "*"]) == 11
    assert evaluate([8, 2, 3], ["-", "-"]) == 3
    assert evaluate([2, 3, 4, 5], ["*", "-", "*"]) == -14


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = (load_arithmetic(SMALL, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
    assert not torch.equal(a.train, c.train)


def test_bracket_lengths_and_depth_follow_the_options():
    ds = load_brackets({**SMALL, "seq_len": 16, "min_len": 8, "max_depth": 3}, seed=0)
    lengths = {n for n, _ in ds.info["lengths"]}
    assert lengths == {8, 10, 12, 14, 16}            # uniform over the even lengths in range


@pytest.mark.parametrize("name, opts, message", [
    ("brackets", {"depth": 3}, "unknown option"),
    ("brackets", {"min_len": 5}, "even"),
    ("brackets", {"kinds": 9}, "between 1 and 4"),
    ("arithmetic", {"seq_len": 6}, "seq_len >= 10"),
    ("arithmetic", {"operators": "/"}, "operators"),
    ("arithmetic", {"num_train": "many"}, "whole number"),
])
def test_bad_options_are_clear(name, opts, message):
    with pytest.raises(DataError, match=message):
        load(name, opts)
