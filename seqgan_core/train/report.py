"""Reporting beside the algorithm: time per kind of unit, ETA and its range, progress, and the snapshot payloads.

Elapsed time is carried in checkpoints, so it accumulates across resumes instead of restarting at zero.
"""
from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Optional

from ..contract import DScoresSnapshot, RolloutSnapshot, SamplesSnapshot
from . import steps


RECENT = 20               # unit times per kind the ETA looks at: the recent ones follow a change of machine load
PRIOR_UNITS = 3           # the up-front estimate counts as this many measured units until they exist
ESTIMATE_RANGE = (0.5, 1.5)   # before a kind is timed: the range around the up-front estimate (issue 9 found it
                              # off by 2-3x on a busy machine before it was corrected)


def _quartiles(xs: list) -> tuple[float, float]:
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


class Clock:
    """Seconds spent per kind of unit and in all; the ETA and its range from this run's own unit times.

    Per kind, the time of a unit is the mean of the last RECENT units of that kind, blended with the up-front
    estimate (seqgan_core.estimate) while few are timed: weight c / (c + PRIOR_UNITS) on the measured mean
    after c units. The range uses the quartiles of the same recent times (the estimate's ESTIMATE_RANGE for
    its share), so a run whose units vary widely shows a wide range. ETA = sum over kinds of the units
    left times that time."""

    def __init__(self, elapsed_before: float = 0.0):
        self.times: dict[str, list] = {}            # kind -> the last RECENT unit times (s)
        self.counts: dict[str, int] = {}            # kind -> units timed in all
        self.elapsed_before = elapsed_before       # seconds trained by earlier workers of this run
        self.started = time.time()

    def elapsed(self) -> float:
        return self.elapsed_before + time.time() - self.started

    def account(self, kind: str, seconds: float) -> None:
        self.times[kind] = (self.times.get(kind, []) + [seconds])[-RECENT:]
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def dump(self) -> dict:
        return {"times": self.times, "counts": self.counts}

    def load(self, saved: dict) -> None:
        """From a checkpoint; one from before the recent times were kept holds {kind: [count, seconds]}."""
        if "times" in saved:
            self.times, self.counts = saved["times"], saved["counts"]
        else:
            self.times = {k: [secs / c] for k, (c, secs) in saved.items() if c}
            self.counts = {k: c for k, (c, _) in saved.items() if c}

    def per_unit(self, kind: str, estimates: Optional[dict] = None) -> Optional[tuple[float, float, float]]:
        """(low, expected, high) seconds of one unit of this kind, or None when neither timed nor estimated."""
        est = (estimates or {}).get(kind)
        xs = self.times.get(kind)
        if not xs:
            return None if est is None else (est * ESTIMATE_RANGE[0], est, est * ESTIMATE_RANGE[1])
        mean, (lo, hi) = statistics.fmean(xs), _quartiles(xs)
        if est is None:
            return min(lo, mean), mean, max(hi, mean)
        c = self.counts.get(kind, len(xs))
        w = c / (c + PRIOR_UNITS)
        mid = w * mean + (1 - w) * est
        return (min(w * lo + (1 - w) * est * ESTIMATE_RANGE[0], mid), mid,
                max(w * hi + (1 - w) * est * ESTIMATE_RANGE[1], mid))

    def eta_range(self, remaining: dict, estimates: Optional[dict] = None) -> Optional[tuple[float, float, float]]:
        """(low, expected, high) seconds left; None if some kind still to run is neither timed nor estimated."""
        total = [0.0, 0.0, 0.0]
        for kind, n in remaining.items():
            if n == 0:
                continue
            one = self.per_unit(kind, estimates)
            if one is None:
                return None
            total = [t + n * v for t, v in zip(total, one)]
        return total[0], total[1], total[2]

    def eta(self, remaining: dict, estimates: Optional[dict] = None) -> Optional[float]:
        r = self.eta_range(remaining, estimates)
        return None if r is None else r[1]


def rounded(rows, digits: int = 5) -> list:
    return [[round(v, digits) for v in row] for row in rows]


def samples_snapshot(samples, ds, k: int) -> dict:
    ids = samples[:k].tolist()
    return dataclasses.asdict(SamplesSnapshot(ids=ids, tokens=[ds.tokens(r) for r in ids],
                                              first_error=_first_errors(ds, ids)))


def _first_errors(ds, ids: list) -> list:
    from ..metrics.lesson import grammar_of
    fe = grammar_of(ds)
    return [fe(r) for r in ids] if fe else []


def rollout_snapshot(y, res, logp, ds, k: int, pos, schedule) -> dict:
    ids = y[:k].tolist()
    comp, scores = res.completions.get(0), res.completion_scores.get(0)   # none without D's roll-outs
    T = res.q.shape[1]
    baseline = steps.reward_baseline(res.q, schedule.reward_baseline).reshape(-1).expand(T)   # over the whole batch
    return dataclasses.asdict(RolloutSnapshot(
        round=pos.index, g_step=pos.g_done, rollout_num=schedule.rollout_num, reward=schedule.reward,
        ids=ids, tokens=[ds.tokens(r) for r in ids], q=rounded(res.q[:k].tolist()),
        logp=rounded(logp[:k].tolist()), completions=comp.tolist() if comp is not None else [],
        completion_scores=rounded(scores.tolist()) if scores is not None else [],
        baseline=rounded([baseline.tolist()])[0], loss_norm=schedule.pg_loss_norm,
        first_error=_first_errors(ds, ids)))


def d_scores_snapshot(real_scores, fake_scores) -> dict:
    return dataclasses.asdict(DScoresSnapshot(real=[round(v, 4) for v in real_scores.tolist()],
                                              fake=[round(v, 4) for v in fake_scores.tolist()]))
