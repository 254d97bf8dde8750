"""Builds assets/pretrained/lesson_mle.pt: the lesson preset's MLE-pretrained starting point.

Made by this project's own trainer (the lesson config's MLE phase on the grammar data, seed 0), evaluated
after every epoch; the file keeps the generator and its MLE optimiser state *at the epoch where NLL-test
was best*, not after it has over-fitted, with the config (pretrain_g_epochs = that epoch + 1), position and
MLE curve up to it. Run: python scripts/make_lesson_start.py [--epochs E]
"""
import argparse
import copy
import json
from pathlib import Path

import torch

from seqgan_core.config import LESSON_CHECKPOINT, apply_overrides, parse_set_args, preset
from seqgan_core.train import Sink, Trainer
from seqgan_core.train.checkpoint import CHECKPOINT_FORMAT

ROOT = Path(__file__).resolve().parents[1]


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
    ap.add_argument("--epochs", type=int, default=preset("lesson").schedule.pretrain_g_epochs)
    ap.add_argument("--out", default=str(ROOT / LESSON_CHECKPOINT))
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="try other settings")
    args = ap.parse_args()
    cfg = apply_overrides(preset("lesson"), {**parse_set_args(args.set), "init_from": "", "device": "cpu",
                                             "pretrain_g_epochs": args.epochs, "pretrain_d_rounds": 0,
                                             "adv_rounds": 0})
    sink = KeepBest()
    tr = Trainer(cfg, sink)
    sink.trainer = tr
    tr.run()
    best = sink.best
    epochs = best["epoch"] + 1
    cfg = apply_overrides(cfg, {"pretrain_g_epochs": epochs})
    cfg.schedule.pretrain_d_rounds = preset("lesson").schedule.pretrain_d_rounds
    cfg.schedule.adv_rounds = preset("lesson").schedule.adv_rounds
    history = [r for r in sink.rows if r["phase"] == "mle" and r["step"] <= best["step"]]
    out = {"format": CHECKPOINT_FORMAT, "config": cfg.to_json(),
           "position": {"phase": "d_pretrain", "index": 0, "g_done": 0, "d_done": 0, "step": best["step"] + 1},
           "gen": best["gen"], "g_opt": best["g_opt"], "history": history}
    dest = Path(args.out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, dest)
    print(f"wrote {dest} ({dest.stat().st_size / 1e6:.2f} MB): best NLL-test {best['nll/test']:.4f} at epoch "
          f"{best['epoch']} of {args.epochs}; at that epoch {json.dumps(history[-1]['values'])}")


if __name__ == "__main__":
    main()
