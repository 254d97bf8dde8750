"""The cost of a whole study before it starts, from the measured estimate (seqgan_core.estimate) of each
cell's configuration on this machine (seeds cost the same, so each cell is measured once, in a process
of its own)."""
from __future__ import annotations

import time

from ..config import RunConfig
from ..estimate import estimate_in_subprocess
from .methods import mle_epochs_done
from .spec import Member


def run_seconds(cfg: RunConfig, per_unit: dict) -> float:
    """Seconds of one run from the per-unit costs: the MLE epochs it trains (a run starting from a finished
    checkpoint trains only those past it, and only when it continues MLE), D pre-training, rounds."""
    s, e = cfg.schedule, cfg.eval
    mle = s.pretrain_g_epochs
    if cfg.init_from:
        mle = max(0, mle - mle_epochs_done(cfg)) if s.mle_continue else 0
    return (mle * (per_unit["mle_epoch"] + per_unit["eval"] / e.eval_every_epochs)
            + s.pretrain_d_rounds * per_unit["d_pretrain_round"] + s.adv_rounds * per_unit["round"])


def study_cost(members: list[Member], parallel: int = 1, log=None) -> dict:
    """{per_run: {cell: s}, cells: {cell: {runs, per_run_s}}, compute_s, wall_s, parallel}. A run's cost
    includes its worker's start (the measurement's own process start and timing, which a worker repeats)."""
    per_run, runs = {}, {}
    for m in members:
        runs[m.cell] = runs.get(m.cell, 0) + 1
        if m.cell in per_run:
            continue
        if log:
            log(f"measuring {m.cell} ...")
        t0 = time.time()
        per_unit = estimate_in_subprocess(m.cfg)
        per_run[m.cell] = run_seconds(m.cfg, per_unit) + (time.time() - t0)
    compute = sum(per_run[c] * n for c, n in runs.items())
    return {"per_run": per_run, "cells": {c: {"runs": runs[c], "per_run_s": per_run[c]} for c in runs},
            "compute_s": compute, "wall_s": compute / max(1, parallel), "parallel": parallel,
            "device": "this machine", "measured_at": time.time()}
