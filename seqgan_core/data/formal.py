"""Two generated formal languages with an exact validity check: balanced brackets and true equations.

Why they are here: a generator trained by MLE only ever sees correct prefixes (teacher forcing). When it
samples on its own, one early slip (a bracket that closes the wrong pair, a sum it cannot carry) leads it
into prefixes it never saw, and the slip is never repaired: the share of invalid samples makes this
exposure bias visible and measurable. Both samplers spread probability over many lengths and shapes so
that a briefly trained LSTM still gets a visible share wrong.

The validity checkers define each language exactly as the support of its sampler: a sequence is valid if
and only if the sampler could have produced it (same length range, depth, operand range, operators).
"""
from __future__ import annotations

from functools import lru_cache, partial
from typing import Optional, Sequence

import numpy as np

from .base import DatasetSpec, SequenceDataset, register
from .common import EOS, EOS_ID, MAX_SEQ_LEN, DataError, int_option, length_counts, merge_options, pad_rows

BRACKET_PAIRS = ["()", "[]", "{}", "<>"]

# Calibrated so that an LSTM (hidden 32) after 3-6 MLE epochs writes ~75-85% valid sequences, ~88% after 15:
# long enough rows and three kinds leave room for slips. The equation defaults give ~20% valid after 6
# epochs and ~50% after 15: carrying and precedence are hard for a small LSTM.
BRACKETS_DEFAULTS = {"seq_len": 30, "min_len": 10, "max_depth": 6, "kinds": 3,
                     "num_train": 10000, "num_test": 1000}
ARITHMETIC_DEFAULTS = {"seq_len": 12, "min_operands": 2, "max_operands": 3, "max_operand": 9,
                       "operators": "+-*", "num_train": 10000, "num_test": 1000}
MAX_SEQUENCES = 1_000_000


def cut_at_eos(ids: Sequence[int]) -> list[int]:
    """The row as generated, up to (not including) its first <eos>."""
    ids = [int(i) for i in ids]
    return ids[: ids.index(EOS_ID)] if EOS_ID in ids else ids


# ---------------------------------------------------------------- balanced brackets

def bracket_vocab(kinds: int) -> list[str]:
    """<eos>, then open/close per kind: id 2k+1 opens kind k, id 2k+2 closes it."""
    return [EOS] + [ch for pair in BRACKET_PAIRS[:kinds] for ch in pair]


@lru_cache(maxsize=32)
def _open_probability(max_len: int, max_depth: int) -> np.ndarray:
    """P[k, d]: probability of opening with k tokens left at depth d, so that every bounded Dyck path of
    the target length is equally likely. ways[k, d] counts the ways to get back to depth 0 in k steps."""
    ways = np.zeros((max_len + 1, max_depth + 2), dtype=object)  # object: exact big integers
    ways[0, 0] = 1
    for k in range(1, max_len + 1):
        for d in range(max_depth + 1):
            ways[k, d] = (ways[k - 1, d + 1] if d < max_depth else 0) + (ways[k - 1, d - 1] if d else 0)
    prob = np.zeros((max_len + 1, max_depth + 1))
    for k in range(1, max_len + 1):
        for d in range(max_depth + 1):
            if ways[k, d] and d < max_depth:
                prob[k, d] = float(ways[k - 1, d + 1] / ways[k, d])
    return prob


def _sample_brackets(rng: np.random.Generator, length: int, count: int, kinds: int,
                     max_depth: int) -> np.ndarray:
    """(count, length) ids: uniform bounded Dyck paths, each open bracket of a uniform kind."""
    prob = _open_probability(length, max_depth)
    out = np.zeros((count, length), dtype=np.int64)
    stack = np.zeros((count, max_depth + 1), dtype=np.int64)   # kind open at each depth
    depth = np.zeros(count, dtype=np.int64)
    rows = np.arange(count)
    for step in range(length):
        opens = rng.random(count) < prob[length - step, depth]
        kind = rng.integers(kinds, size=count)
        stack[rows[opens], depth[opens]] = kind[opens]
        depth = np.where(opens, depth + 1, depth - 1)
        closing_kind = stack[rows, np.maximum(depth, 0)]
        out[:, step] = np.where(opens, 2 * kind + 1, 2 * closing_kind + 2)
    return out


def why_invalid_brackets(ids: Sequence[int], kinds: int, max_depth: int, min_len: int,
                         seq_len: int) -> Optional[str]:
    """None for a valid bracket sequence, else a short reason a student can read."""
    ids = cut_at_eos(ids)
    if not min_len <= len(ids) <= seq_len:
        return f"length {len(ids)} is outside {min_len}..{seq_len}"
    stack: list[int] = []
    for pos, tok in enumerate(ids, start=1):
        if not 1 <= tok <= 2 * kinds:
            return f"token id {tok} at position {pos} is not a bracket"
        if tok % 2 == 1:
            stack.append(tok)
            if len(stack) > max_depth:
                return f"nested deeper than {max_depth} at position {pos}"
        elif not stack:
            return f"position {pos} closes a bracket that was never opened"
        elif stack.pop() != tok - 1:
            return f"position {pos} closes the wrong kind of bracket"
    return f"{len(stack)} bracket(s) left open" if stack else None


def is_valid_brackets(ids: Sequence[int], **params) -> bool:
    return why_invalid_brackets(ids, **params) is None


def _bracket_params(options: dict) -> dict:
    opts = merge_options(options, BRACKETS_DEFAULTS, "brackets")
    seq_len = int_option(opts, "seq_len", 2, MAX_SEQ_LEN)
    params = {"kinds": int_option(opts, "kinds", 1, len(BRACKET_PAIRS)),
              "max_depth": int_option(opts, "max_depth", 1, MAX_SEQ_LEN // 2),
              "min_len": int_option(opts, "min_len", 2, seq_len), "seq_len": seq_len}
    if params["min_len"] % 2:
        raise DataError("option min_len must be even: a balanced sequence has an even length")
    counts = {k: int_option(opts, k, 1, MAX_SEQUENCES) for k in ("num_train", "num_test")}
    return {**params, **counts}


def load_brackets(options: dict, seed: int) -> SequenceDataset:
    p = _bracket_params(options)
    rng = np.random.default_rng(seed)
    lengths = np.arange(p["min_len"], p["seq_len"] + 1, 2)
    total = p["num_train"] + p["num_test"]
    drawn = rng.choice(lengths, size=total)          # uniform over the even lengths
    rows: list[list[int]] = [[] for _ in range(total)]
    for length in lengths:
        where = np.flatnonzero(drawn == length)
        for i, row in zip(where, _sample_brackets(rng, int(length), len(where), p["kinds"], p["max_depth"])):
            rows[i] = row.tolist()
    data = pad_rows(rows, p["seq_len"])
    check = {k: p[k] for k in ("kinds", "max_depth", "min_len", "seq_len")}
    return SequenceDataset(
        name="brackets", train=data[: p["num_train"]], test=data[p["num_train"]:],
        vocab=bracket_vocab(p["kinds"]), eos_id=EOS_ID, metrics=("validity",),
        validity=partial(is_valid_brackets, **check),
        info={"source": "generated (uniform bounded Dyck words)", "params": p,
              "lengths": length_counts(len(r) for r in rows)})


# ---------------------------------------------------------------- arithmetic equations

def arithmetic_vocab(operators: str) -> list[str]:
    """<eos>, digits 0-9, the chosen operators, "=". Multi-digit numbers are several digit tokens."""
    return [EOS] + [str(d) for d in range(10)] + list(operators) + ["="]


def evaluate(operands: Sequence[int], ops: Sequence[str]) -> int:
    """Value of o0 op o1 op o2 ... with * before + and -, left to right (no eval())."""
    total, sign, term = 0, 1, operands[0]
    for op, x in zip(ops, operands[1:]):
        if op == "*":
            term *= x
        else:
            total, sign, term = total + sign * term, (1 if op == "+" else -1), x
    return total + sign * term


def _worst_length(max_operands: int, max_operand: int, operators: str) -> int:
    """An upper bound on the tokens of any equation the sampler can draw (the seq_len it needs)."""
    biggest = max_operand ** max_operands if "*" in operators else max_operand * max_operands
    result = len(str(biggest)) + ("-" in operators)
    return max_operands * len(str(max_operand)) + (max_operands - 1) + 1 + result


def _arithmetic_params(options: dict) -> dict:
    opts = merge_options(options, ARITHMETIC_DEFAULTS, "arithmetic")
    ops = opts["operators"]
    if not isinstance(ops, str) or not ops or set(ops) - set("+-*") or len(set(ops)) != len(ops):
        raise DataError(f"option operators must be some of '+-*' (each once), got {ops!r}")
    operators = "".join(op for op in "+-*" if op in ops)   # canonical order: vocab ids don't depend on typing
    max_operands = int_option(opts, "max_operands", 1, 10)
    p = {"operators": operators, "max_operands": max_operands,
         "min_operands": int_option(opts, "min_operands", 1, max_operands),
         "max_operand": int_option(opts, "max_operand", 1, 999),
         "seq_len": int_option(opts, "seq_len", 3, MAX_SEQ_LEN),
         "num_train": int_option(opts, "num_train", 1, MAX_SEQUENCES),
         "num_test": int_option(opts, "num_test", 1, MAX_SEQUENCES)}
    need = _worst_length(max_operands, p["max_operand"], operators)
    if need > p["seq_len"]:
        raise DataError(f"seq_len {p['seq_len']} is too short: equations with up to {max_operands} operands "
                        f"of at most {p['max_operand']} need seq_len >= {need}")
    return p


def equation_tokens(operands: Sequence[int], ops: Sequence[str]) -> list[str]:
    """["3", "+", "4", "*", "2", "=", "1", "1"] for 3 + 4 * 2 = 11."""
    toks = list(str(operands[0]))
    for op, x in zip(ops, operands[1:]):
        toks += [op, *str(x)]
    return toks + ["=", *str(evaluate(operands, ops))]


def _parse_number(toks: list[str], allow_sign: bool) -> Optional[int]:
    """A canonical integer (no leading zeros, no "-0"), or None."""
    sign = -1 if allow_sign and toks[:1] == ["-"] else 1
    digits = "".join(toks[1:] if sign < 0 else toks)
    if not digits.isdigit() or not digits.isascii() or (len(digits) > 1 and digits[0] == "0"):
        return None
    if sign < 0 and digits == "0":
        return None
    return sign * int(digits)


def why_invalid_equation(ids: Sequence[int], operators: str, min_operands: int, max_operands: int,
                         max_operand: int, seq_len: int) -> Optional[str]:
    """None for a true equation of the language, else a short reason."""
    vocab = arithmetic_vocab(operators)
    ids = cut_at_eos(ids)
    if not ids or len(ids) > seq_len:
        return "empty" if not ids else f"longer than {seq_len} tokens"
    if any(not 0 < i < len(vocab) for i in ids):
        return "contains a token outside the vocabulary"
    toks = [vocab[i] for i in ids]
    if toks.count("=") != 1:
        return "needs exactly one '='"
    left, right = toks[: toks.index("=")], toks[toks.index("=") + 1:]
    operands, ops, current = [], [], []
    for tok in left + ["+"]:            # a sentinel operator closes the last operand
        if tok.isdigit():
            current.append(tok)
            continue
        number = _parse_number(current, allow_sign=False) if current else None
        if number is None:
            return "an operator is missing a number" if not current else "a number has a leading zero"
        operands.append(number)
        ops.append(tok)
        current = []
    ops.pop()
    if not min_operands <= len(operands) <= max_operands:
        return f"has {len(operands)} operands, the language has {min_operands}..{max_operands}"
    if max(operands) > max_operand:
        return f"operand {max(operands)} is above {max_operand}"
    stated = _parse_number(right, allow_sign=True)
    if stated is None:
        return "the result after '=' is not a number"
    true = evaluate(operands, ops)
    return None if stated == true else f"wrong result: {stated} stated, {true} is right"


def is_valid_equation(ids: Sequence[int], **params) -> bool:
    return why_invalid_equation(ids, **params) is None


def load_arithmetic(options: dict, seed: int) -> SequenceDataset:
    p = _arithmetic_params(options)
    rng = np.random.default_rng(seed)
    total = p["num_train"] + p["num_test"]
    n_operands = rng.integers(p["min_operands"], p["max_operands"] + 1, size=total)
    operands = rng.integers(0, p["max_operand"] + 1, size=(total, p["max_operands"]))
    op_index = rng.integers(len(p["operators"]), size=(total, p["max_operands"]))
    vocab = arithmetic_vocab(p["operators"])
    index = {tok: i for i, tok in enumerate(vocab)}
    rows = []
    for n, xs, chosen in zip(n_operands, operands, op_index):
        toks = equation_tokens(xs[:n].tolist(), [p["operators"][o] for o in chosen[: n - 1]])
        rows.append([index[t] for t in toks])
    data = pad_rows(rows, p["seq_len"])
    check = {k: p[k] for k in ("operators", "min_operands", "max_operands", "max_operand", "seq_len")}
    return SequenceDataset(
        name="arithmetic", train=data[: p["num_train"]], test=data[p["num_train"]:],
        vocab=vocab, eos_id=EOS_ID, metrics=("validity",), joiner="",
        validity=partial(is_valid_equation, **check),
        info={"source": "generated (uniform operands and operators)", "params": p,
              "lengths": length_counts(len(r) for r in rows)})


def _always() -> bool:
    return True


register(DatasetSpec(
    name="brackets", title="Balanced brackets",
    description="Nested brackets such as ( [ ] ) ( ) of bounded depth. Validity: every bracket closes "
                "the last one opened, with the same kind, and nothing is left open.",
    source="generated", offline=_always, load=load_brackets,
    options_help={"seq_len": "longest sequence (tokens)", "min_len": "shortest sequence (even)",
                  "max_depth": "deepest nesting allowed", "kinds": "bracket kinds, 1-4: () [] {} <>",
                  "num_train": "training sequences", "num_test": "test sequences"},
    size_hint="10,000 sequences of 10-30 tokens"))

register(DatasetSpec(
    name="arithmetic", title="Arithmetic equations",
    description="True equations such as 3+4*2=11 (digits are tokens; * before + and -). Validity: "
                "well formed and the stated result is right.",
    source="generated", offline=_always, load=load_arithmetic,
    options_help={"seq_len": "longest equation (tokens)", "min_operands": "fewest operands",
                  "max_operands": "most operands", "max_operand": "largest operand",
                  "operators": "operators to use, some of +-*",
                  "num_train": "training sequences", "num_test": "test sequences"},
    size_hint="10,000 equations of up to 12 tokens"))
