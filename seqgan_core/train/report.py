"""Reporting beside the algorithm: time per kind of unit, ETA, progress, and the snapshot payloads.

Elapsed time is carried in checkpoints, so it accumulates across resumes instead of restarting at zero.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Optional

from ..contract import DScoresSnapshot, RolloutSnapshot, SamplesSnapshot
from . import steps


class Clock:
    """Seconds spent per kind of unit and in all; the ETA from the measured means (or estimates)."""

    def __init__(self, elapsed_before: float = 0.0):
        self.unit_time: dict[str, list] = {}        # kind -> [count, seconds]
        self.elapsed_before = elapsed_before       # seconds trained by earlier workers of this run
        self.started = time.time()

    def elapsed(self) -> float:
        return self.elapsed_before + time.time() - self.started

    def account(self, kind: str, seconds: float) -> None:
        c = self.unit_time.setdefault(kind, [0, 0.0])
        c[0] += 1
        c[1] += seconds

    def eta(self, remaining: dict, estimates: Optional[dict] = None) -> Optional[float]:
        """Remaining seconds: measured mean per kind where known, else the estimate; None if neither."""
        total = 0.0
        for kind, n in remaining.items():
            if n == 0:
                continue
            if kind in self.unit_time:
                c, secs = self.unit_time[kind]
                total += n * secs / c
            elif estimates and kind in estimates:
                total += n * estimates[kind]
            else:
                return None
        return total


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
