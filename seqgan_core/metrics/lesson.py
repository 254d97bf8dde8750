"""The lesson's metrics on a data set with an exact grammar: validity and the error-localisation gap.

Validity is the share of samples the grammar accepts. The error-localisation gap asks whether the reward
Q of a policy-gradient step points at the place where a sample went wrong: over the generated samples that
are ungrammatical, with first error at position e (1 ≤ e < T),

    gap = mean over samples of ( mean_{t < e} Q_t  −  mean_{t ≥ e} Q_t ).

Positive: Q falls where the sample breaks (D gives credit where it is due). Near 0: Q does not know
where the error is (a constant reward gives exactly 0). Samples whose first token is already wrong (e = 0)
or that only run out of room without finishing (e = T) have no "before" or no "after" and are left out.
Positions after an early <eos> are part of "from the error on": Q is defined on every token of the row.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from ..models.generator import pad_mask

GAP = "lesson/gap"
Q_BEFORE = "lesson/q_before"
Q_AFTER = "lesson/q_from_error"
GAP_SAMPLES = "lesson/gap_samples"
VALID_BATCH = "lesson/valid_batch"
D_BAYES = "lesson/d_bayes_acc"


def first_errors(first_error: Callable, rows: Sequence[Sequence[int]]) -> list[Optional[int]]:
    return [first_error(r) for r in rows]


def validity(errors: Sequence[Optional[int]]) -> float:
    return sum(e is None for e in errors) / max(len(errors), 1)


def localisation_gap(q: torch.Tensor, errors: Sequence[Optional[int]]) -> dict:
    """{lesson/gap, lesson/q_before, lesson/q_from_error, lesson/gap_samples} for Q (B, T) and each row's
    first error (None when grammatical); the three means are None when no sample qualifies."""
    q = q.detach().float().cpu()
    T = q.shape[1]
    before, after = [], []
    for row, e in zip(q, errors):
        if e is not None and 1 <= e < T:
            before.append(float(row[:e].mean()))
            after.append(float(row[e:].mean()))
    n = len(before)
    if not n:
        return {GAP: None, Q_BEFORE: None, Q_AFTER: None, GAP_SAMPLES: 0}
    mb, ma = sum(before) / n, sum(after) / n
    return {GAP: mb - ma, Q_BEFORE: mb, Q_AFTER: ma, GAP_SAMPLES: n}


def grammar_of(ds) -> Optional[Callable]:
    """The data set's first-error function, when it has an exact grammar (else None)."""
    return getattr(ds.oracle, "first_error", None) if "lesson" in ds.metrics else None


def live_values(ds, y: torch.Tensor, q: Optional[torch.Tensor]) -> dict:
    """The g-step's lesson metrics: validity of its batch and, with a reward Q, the gap (absent keys when
    the data set has no grammar or no sample qualifies)."""
    fe = grammar_of(ds)
    if fe is None:
        return {}
    errs = first_errors(fe, y.tolist())
    out = {VALID_BATCH: validity(errs)}
    if q is not None:
        out.update({k: v for k, v in localisation_gap(q, errs).items() if v is not None})
    return out


# --- what D's Q says about many samples (eval) ----------------------------------------------------------
@torch.no_grad()
def gap_of(policy, disc, gen, ds, n: int, n_rollouts: int) -> dict:
    """The gap over n fresh samples of gen, with Q from n_rollouts roll-outs of policy scored by disc."""
    from ..rollout import rollout_q
    fe = grammar_of(ds)
    if fe is None:
        return {}
    gen.eval()
    disc.eval()
    y = gen.sample(n, ds.seq_len)
    q = rollout_q(policy, disc, y, n_rollouts).q
    return localisation_gap(q, first_errors(fe, y.tolist()))


@torch.no_grad()
def bayes_accuracy(gen, ds, n: int) -> Optional[float]:
    """The best accuracy any discriminator could reach on n held-out real and n generated rows: the
    Bayes-optimal D says "real" exactly when p_data(x) > p_G(x), and both are exact here. A G close to the
    data caps what D can show, whatever its size or training."""
    grammar = getattr(ds.oracle, "grammar", None)
    if grammar is None:
        return None
    gen.eval()
    dev = gen.out.weight.device
    real = ds.test[:n].to(dev)
    fake = gen.sample(len(real), ds.seq_len)

    def says_real(rows):
        log_g = gen.log_probs(rows).sum(1).tolist()
        return [grammar.grammar_log_prob(r) > g for r, g in zip(rows.tolist(), log_g)]
    return 0.5 * (sum(says_real(real)) / len(real) + 1 - sum(says_real(fake)) / len(fake))


# --- the temperature control ------------------------------------------------------------------------------
SWEEP_TAUS = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)


@torch.no_grad()
def temperature_sweep(gen, ds, taus: Sequence[float] = SWEEP_TAUS, n: int = 2000) -> list[dict]:
    """The generator sampled at each temperature τ, with no training: one row per τ with NLL-oracle of
    its samples (quality), NLL-test of held-out data under G at τ, entropy/test: G's mean per-token entropy
    at τ on the held-out rows' prefixes (diversity; unlike the entropy along G's own samples it does not
    change with how long those samples are, and it rises with τ), and validity when the data set has a
    grammar. τ < 1 sharpens G as a reward without a baseline does: the curve SeqGAN must beat at matched
    diversity."""
    import torch.nn.functional as F
    gen.eval()
    fe = grammar_of(ds)
    dev = gen.out.weight.device
    test = ds.test.to(dev)
    rows = []
    for tau in taus:
        y = gen.sample(n, ds.seq_len, temperature=float(tau))
        logp = F.log_softmax(gen(test) / tau, dim=-1)                     # (M, T, V)
        tok = -logp.gather(2, test.unsqueeze(2)).squeeze(2)                  # (M, T)
        if ds.eos_id is not None:      # as NLL-test is measured in a run: no padding after the first end token
            m = pad_mask(test, ds.eos_id).to(tok.dtype)
            nll_test = float((tok * m).sum() / m.sum().clamp(min=1))
        else:
            nll_test = float(tok.mean())
        row = {"tau": float(tau), "nll/test": nll_test,
               "entropy/test": float(-(logp.exp() * logp).sum(-1).mean())}
        if ds.oracle is not None:
            row["nll/oracle"] = float(ds.oracle.nll(y).mean())
        if fe is not None:
            row["valid/share"] = validity(first_errors(fe, y.tolist()))
        rows.append(row)
    return rows
