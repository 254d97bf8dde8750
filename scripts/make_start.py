"""Builds a preset's shipped MLE-pretrained starting point: assets/pretrained/lesson_mle.pt (lesson) or
assets/pretrained/classroom_mle.pt (classroom).

Made by this project's own trainer (the preset's MLE phase, seed 0), evaluated after every epoch; the file
keeps the generator and its MLE optimiser state *at the epoch where NLL-test was best*, not after it has
over-fitted, with the config (pretrain_g_epochs = that epoch + 1), position and MLE curve up to it.
Run: python scripts/make_start.py lesson|classroom [--epochs E]
"""
import argparse
import copy
import json
from pathlib import Path

import torch

from seqgan_core.config import CLASSROOM_CHECKPOINT, LESSON_CHECKPOINT, apply_overrides, parse_set_args, preset
from seqgan_core.train import Sink, Trainer
from seqgan_core.train.checkpoint import CHECKPOINT_FORMAT

ROOT = Path(__file__).resolve().parents[1]
STARTS = {"lesson": LESSON_CHECKPOINT, "classroom": CLASSROOM_CHECKPOINT}
# Epochs tried: enough to see NLL-test pass its minimum (classroom: best at epoch 3; the old 40-epoch start had over-fitted, NLL-test 7.56 → 8.61).
TRY_EPOCHS = {"lesson": preset("lesson").schedule.pretrain_g_epochs, "classroom": 12}


class KeepBest(Sink):
    def __init__(self):
        self.rows, self.best, self.trainer = [], None, None

    def scalars(self, step, phase, x, values):
        self.rows.append({"step": step, "phase": phase, "x": x, "values": dict(values)})
        if phase == "mle" and "nll/test" in values:
            print(f"epoch {x}: loss {values['loss/mle']:.4f}  NLL-test {values['nll/test']:.4f}  "
                  f"NLL-oracle {values.get('nll/oracle', float('nan')):.4f}  valid {values.get('valid/share')}",
                  flush=True)
            if self.best is None or values["nll/test"] < self.best["nll/test"]:
                tr = self.trainer
                self.best = {"nll/test": values["nll/test"], "epoch": x, "step": step,
                             "gen": copy.deepcopy(tr.gen.state_dict()), "g_opt": copy.deepcopy(tr.g_opt.state_dict())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("preset", choices=sorted(STARTS))
    ap.add_argument("--epochs", type=int, help="MLE epochs to try (default: the preset's start's)")
    ap.add_argument("--out", help=f"default: the preset's shipped file ({', '.join(STARTS.values())})")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="try other settings")
    args = ap.parse_args()
    base = preset(args.preset)
    cfg = apply_overrides(base, {**parse_set_args(args.set), "init_from": "", "device": "cpu",
                                 "pretrain_g_epochs": args.epochs or TRY_EPOCHS[args.preset], "pretrain_d_rounds": 0,
                                 "adv_rounds": 0, "eval_every_epochs": 1})
    sink = KeepBest()
    tr = Trainer(cfg, sink)
    sink.trainer = tr
    tr.run()
    best = sink.best
    epochs = best["epoch"] + 1
    cfg = apply_overrides(cfg, {"pretrain_g_epochs": epochs})
    cfg.schedule.pretrain_d_rounds = base.schedule.pretrain_d_rounds
    cfg.schedule.adv_rounds = base.schedule.adv_rounds
    cfg.eval.eval_every_epochs = base.eval.eval_every_epochs
    history = [r for r in sink.rows if r["phase"] == "mle" and r["step"] <= best["step"]]
    out = {"format": CHECKPOINT_FORMAT, "config": cfg.to_json(),
           "position": {"phase": "d_pretrain", "index": 0, "g_done": 0, "d_done": 0, "step": best["step"] + 1},
           "gen": best["gen"], "g_opt": best["g_opt"], "history": history, "start_id": int(tr.gen.start_token)}
    dest = Path(args.out) if args.out else ROOT / STARTS[args.preset]
    dest.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, dest)
    print(f"wrote {dest} ({dest.stat().st_size / 1e6:.2f} MB): best NLL-test {best['nll/test']:.4f} at epoch "
          f"{best['epoch']} of {args.epochs or TRY_EPOCHS[args.preset]} tried; at that epoch {json.dumps(history[-1]['values'])}")


if __name__ == "__main__":
    main()
