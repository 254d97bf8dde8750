"""Builds assets/pretrained/classroom_mle.pt: the classroom preset's MLE-pretrained starting point.

It is made by this project's own trainer (the classroom config's MLE phase on the random oracle, seed 0),
so a lecture can start at the adversarial phase within a minute. The file holds the generator's weights,
the config it was trained with, its position, and its MLE curve (shown on the Live page as the run's
pre-training history). Run: python scripts/make_classroom_start.py [--epochs E]
"""
import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch

from seqgan_core.config import CLASSROOM_CHECKPOINT, apply_overrides, preset
from seqgan_core.runs.store import RunDB, StoreSink, create_run
from seqgan_core.train import Trainer
from seqgan_core.train.checkpoint import CHECKPOINT_FORMAT, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=preset("classroom").schedule.pretrain_g_epochs)
    args = ap.parse_args()
    cfg = apply_overrides(preset("classroom"), {"init_from": "", "pretrain_g_epochs": args.epochs,
                                                "pretrain_d_rounds": 0, "adv_rounds": 0})
    work = Path(tempfile.mkdtemp())
    run_dir = create_run(cfg, run_dir=work / "run")
    sink = StoreSink(RunDB(run_dir), on_progress=lambda i: print(i["phase"], i["index"], flush=True))
    Trainer(cfg, sink, checkpoint_dir=run_dir / "checkpoints").run()
    package(run_dir)
    shutil.rmtree(work)


def package(run_dir: Path):
    """Write the shipped file from a finished MLE-only run: generator, config, position, MLE curve."""
    ck = load_checkpoint(run_dir / "checkpoints" / "mle_done.pt")
    rows = {}
    for step, name, phase, x, value, _ in RunDB(run_dir).metrics_since(-1):
        rows.setdefault((step, phase, x), {})[name] = value
    history = [{"step": s, "phase": ph, "x": x, "values": v} for (s, ph, x), v in sorted(rows.items())]
    # the MLE optimiser's state travels too, so fresh_pg_optimizer=False can mean what it says
    out = {"format": CHECKPOINT_FORMAT, "config": ck["config"], "position": ck["position"], "gen": ck["gen"],
           "g_opt": ck["g_opt"], "history": history, "start_id": ck.get("start_id", 0)}
    dest = ROOT / CLASSROOM_CHECKPOINT
    dest.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, dest)
    last = history[-1]["values"]
    print(f"wrote {dest} ({dest.stat().st_size / 1e6:.1f} MB); final {json.dumps(last)}")


if __name__ == "__main__":
    main()
