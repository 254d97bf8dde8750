"""Branching: a new run that continues another run's checkpoint with one or more settings changed.

This is how a control is run beside SeqGAN: the same generator, discriminator, optimiser states and RNG
state at the branch point, and only the changed settings differ (the reward, say). The new run's
history starts with the source's rows up to the branch point, so both draw on the same charts.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from ..config import RunConfig, apply_overrides, check
from ..train.checkpoint import layout_problem, load_checkpoint, save_checkpoint
from .store import RunDB, create_run

BRANCH_POINTS = {"adversarial_start": "adv_start.pt", "mle_done": "mle_done.pt", "latest": "latest.pt"}


def branch_run(src: str | Path, overrides: dict, at: str = "adversarial_start", run_dir: Optional[Path] = None,
               root: Optional[Path] = None, name: Optional[str] = None) -> Path:
    """Create (not train) a run continuing src's checkpoint `at` with `overrides` applied."""
    src = Path(src)
    if at not in BRANCH_POINTS:
        raise ValueError(f"branch point must be one of {', '.join(BRANCH_POINTS)}")
    ck = load_checkpoint(src / "checkpoints" / BRANCH_POINTS[at])
    made = RunConfig.from_dict(json.loads(ck["config"]))
    problem = layout_problem(ck, made.data.name, src / "checkpoints" / BRANCH_POINTS[at])
    if problem:
        raise ValueError(problem)
    cfg = check(apply_overrides(made, overrides))
    cfg.init_from = ""
    cfg.name = name or f"{cfg.name or src.name} · " + ", ".join(f"{k}={v}" for k, v in overrides.items())
    run_dir = create_run(cfg, root=root or src.parent, run_dir=run_dir)
    ck["config"] = cfg.to_json()
    save_checkpoint(ck, run_dir / "checkpoints" / "latest.pt")
    step = ck["position"]["step"]
    src_db, db = RunDB(src), RunDB(run_dir)
    with src_db.connect() as con:
        rows = con.execute("SELECT step, name, phase, x, value, t FROM metrics WHERE step <= ?", (step,)).fetchall()
    with db.connect(write=True) as con:
        con.executemany("INSERT OR REPLACE INTO metrics VALUES (?,?,?,?,?,?)", rows)
    db.put_event(step, "branched", {"from": src.name, "at": at, "step": step, "changes": overrides})
    db.set_state(branched_from=src.name, branch_at=at)
    return run_dir
