"""What a checkpoint costs, next to what a round costs, and the checkpoint interval that follows from it.

    python benchmarks/bench_checkpoint.py                     # classroom and paper presets
    python benchmarks/bench_checkpoint.py --presets tiny      # any presets; --json for machine output

For each preset a real Trainer is built on its own data set (the models at the preset's sizes, every
optimiser with its Adam moments: one MLE, one policy-gradient and one D minibatch are run first), then:
  - checkpoint: Trainer.checkpoint() (state + durable write: temp file, fsync, rename) repeated, median
    seconds and the file's size in MB;
  - unit-start copy: the in-memory copy of the state the trainer keeps before each unit (so a stop inside
    a unit can save the unit's start), median seconds;
  - round: one g-step, one d-step and one evaluation timed for real, composed by the schedule
    (g_steps · g + d_steps · d + evaluation / eval_every_rounds).
The rule (CHEAP_CHECKPOINT in seqgan_core/train/loop.py): checkpoint every round when a checkpoint costs at
most 5 % of a round, else every ceil(cost / (5 % of a round)) rounds. The trainer applies the same rule
at run time with the costs it measures itself; checkpoint_every_rounds is the preset's upper bound.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from seqgan_core.config import preset  # noqa: E402
from seqgan_core.train import Trainer, steps  # noqa: E402
from seqgan_core.train.loop import CHEAP_CHECKPOINT, _cloned  # noqa: E402


def interval(ckpt_s: float, round_s: float) -> int:
    """The smallest number of rounds between checkpoints that keeps a checkpoint within CHEAP_CHECKPOINT of
    the training it protects (1: every round)."""
    return max(1, math.ceil(ckpt_s / (CHEAP_CHECKPOINT * round_s)))


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(name: str, repeats: int) -> dict:
    cfg = preset(name).replace(device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, checkpoint_dir=tmp)
        s = tr.schedule
        idx = torch.randint(len(tr.train_data), (s.batch_size,))
        tr.mle_step(tr.train_data[idx])                            # G's optimisers get their moments,
        y = tr.gen.sample(s.batch_size, tr.ds.seq_len)             # and D's (a minibatch of each, no roll-outs)
        steps.pg_step(tr.gen, tr.pg_opt, y, torch.rand(y.shape), "none", "sum", s.grad_clip)
        steps.d_train(tr.disc, tr.d_opt, tr.train_data[idx], y, 1, s.batch_size)
        ck, copy = [], []
        for i in range(repeats):
            tr.pos.step = i + 1                                    # a new position: checkpoint() writes again
            ck.append(_timed(tr.checkpoint))
            copy.append(_timed(lambda: _cloned(tr.state(marks=False))))
        mb = os.path.getsize(Path(tmp) / "latest.pt") / 1e6
        print(f"{name:10s} checkpoint {statistics.median(ck):.3f} s (max {max(ck):.3f}), {mb:.1f} MB; unit-start "
              f"copy {statistics.median(copy) * 1000:.1f} ms", flush=True)
        t_g = _timed(tr._g_step)
        t_d = _timed(lambda: tr._d_round(s.k_epochs, "adversarial"))
        t_eval = _timed(tr._eval_g)
        round_s = s.g_steps * t_g + s.d_steps * t_d + t_eval / cfg.eval.eval_every_rounds
    ckpt_s = statistics.median(ck)
    return {"preset": name, "checkpoint_s": ckpt_s, "checkpoint_s_max": max(ck), "checkpoint_mb": mb,
            "unit_start_copy_s": statistics.median(copy), "g_step_s": t_g, "d_step_s": t_d, "eval_s": t_eval,
            "round_s": round_s, "share_of_round": ckpt_s / round_s, "every_rounds": interval(ckpt_s, round_s),
            "preset_checkpoint_every_rounds": cfg.eval.checkpoint_every_rounds}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["classroom", "paper"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    load = os.getloadavg()
    print(f"# {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start", flush=True)
    out = []
    for name in args.presets:
        r = measure(name, args.repeats)
        out.append(r)
        if not args.json:
            print(f"{name:10s} round {r['round_s']:.1f} s (g-step {r['g_step_s']:.1f}, d-step {r['d_step_s']:.1f}, evaluation "
                  f"{r['eval_s']:.1f}); checkpoint = {100 * r['share_of_round']:.2f} % of a round -> every "
                  f"{r['every_rounds']} round(s) (preset bound: {r['preset_checkpoint_every_rounds']})", flush=True)
    load = os.getloadavg()
    print(f"# load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end", flush=True)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
