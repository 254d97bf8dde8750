"""The paper's synthetic experiment end to end, with its control, through the CLI's own commands.

    python scripts/paper_run.py --out runs/paper [--oracle-file PATH] [--quick] [--set KEY=VALUE ...]

1. `train --preset paper` on the authors' oracle (120 MLE epochs, 50 D rounds of 3 epochs, 200
   adversarial rounds of g=1, d=5, k=3, N=16, the 1,720-filter CNN): the SeqGAN run.
2. `branch --at adversarial_start --set reward=constant --set d_steps=0`: from the very same G, D and
   optimiser states, the adversarial phase with D's reward replaced by a constant (policy gradient
   without D; D is not trained since nothing reads it).
3. A summary: wall time of each, NLL-oracle at MLE epochs 0 / 5 / 115 beside the authors' log, and
   the two adversarial NLL-oracle curves side by side (summary.json and curves.csv in --out).

--quick shortens every phase (a few units each) to measure per-unit costs.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan_core.cli import main as cli  # noqa: E402
from seqgan_core.runs.store import RunDB  # noqa: E402

AUTHORS_LOG = {0: 10.17, 5: 9.43, 115: 9.07}   # NLL-oracle after MLE epochs, the authors' log (REFERENCE.md)


def curve(run_dir: Path, phase: str) -> dict:
    with RunDB(run_dir).connect() as con:
        rows = con.execute("SELECT x, value FROM metrics WHERE name = 'nll/oracle' AND phase = ? ORDER BY x",
                           (phase,)).fetchall()
    return {int(x): v for x, v in rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--oracle-file", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    out = Path(args.out)
    sets = ["data.options.source=authors"]
    if args.oracle_file:
        sets.append(f"data.options.oracle_file={Path(args.oracle_file).resolve()}")
    if args.quick:
        sets += ["pretrain_g_epochs=6", "pretrain_d_rounds=2", "adv_rounds=3", "eval_every_rounds=1"]
    sets += args.set
    argv = ["train", "--preset", "paper", "--out", str(out / "seqgan")]
    for s in sets:
        argv += ["--set", s]
    t0 = time.time()
    if cli(argv) != 0:
        return 1
    t_main = time.time() - t0
    t0 = time.time()
    if cli(["branch", str(out / "seqgan"), "--out", str(out / "constant"),
            "--set", "reward=constant", "--set", "d_steps=0"]) != 0:
        return 1
    t_control = time.time() - t0

    mle = curve(out / "seqgan", "mle")
    adv = curve(out / "seqgan", "adversarial")
    ctl = curve(out / "constant", "adversarial")
    summary = {
        "wall_s": {"seqgan_run": round(t_main, 1), "constant_control": round(t_control, 1)},
        "mle_vs_authors": {e: {"ours": round(mle[e], 3), "authors": a} for e, a in AUTHORS_LOG.items() if e in mle},
        "adversarial": {x: {"seqgan": round(adv[x], 4), "constant": round(ctl.get(x, float("nan")), 4)}
                        for x in sorted(adv)},
        "state": {k: RunDB(out / "seqgan").state().get(k) for k in ("status", "elapsed_s")},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    with open(out / "curves.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["x", "phase", "seqgan_nll_oracle", "constant_reward_nll_oracle"])
        for x in sorted(mle):
            w.writerow([x, "mle", mle[x], mle[x]])
        for x in sorted(set(adv) | set(ctl)):
            w.writerow([x, "adversarial", adv.get(x, ""), ctl.get(x, "")])
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
