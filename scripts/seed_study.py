"""Does adversarial training move a metric beyond the MLE starting point by more than the seed-to-seed
spread? Trains a preset once per seed (sequentially, via the CLI) and prints one table.

    python scripts/seed_study.py [--preset classroom] [--metric nll/oracle] [--seeds 0 1 2]
                                 [--out /tmp/classroom] [--set key=value ...]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from seqgan_core.runs.store import RunDB

ROOT = Path(__file__).resolve().parents[1]


def series(db: RunDB, name: str, phase: str) -> list[tuple[float, float, float]]:
    """(x, value, wall time) of one metric in one phase."""
    return sorted((x, v, t) for _, _, ph, x, v, t in db.metrics_since(-1, [name]) if ph == phase)


def train(out: Path, args, seed: int) -> float:
    """Train one seed unless already finished; returns the launch time ('Start')."""
    if (out / "launched.json").exists() and RunDB(out).state().get("status") == "finished":
        return json.loads((out / "launched.json").read_text())["launched"]
    cmd = [sys.executable, "-m", "seqgan_core", "train", "--preset", args.preset, "--set", f"seed={seed}",
           "--out", str(out)] + [a for s in args.set for a in ("--set", s)]
    launched = time.time()  # includes the interpreter, torch import and data generation
    subprocess.run(cmd, cwd=ROOT, check=True)
    (out / "launched.json").write_text(json.dumps({"launched": launched}))
    return launched


def study_seed(out: Path, metric: str, launched: float) -> dict:
    db = RunDB(out)
    mle, adv = series(db, metric, "mle"), series(db, metric, "adversarial")
    test, div = series(db, "nll/test", "adversarial"), series(db, "div/distinct2", "adversarial")
    first_g = series(db, "g/reward_mean", "adversarial")[0][2]
    return {"mle_end": mle[-1][1], "adv_first": adv[0][1], "adv_final": adv[-1][1],
            "adv_best": min(v for _, v, _ in adv) if metric.startswith("nll") else max(v for _, v, _ in adv),
            "nll_test_first": test[0][1], "nll_test_final": test[-1][1],
            "distinct2_first": div[0][1], "distinct2_final": div[-1][1],
            "first_g_step_s": first_g - launched, "first_round_s": adv[0][2] - launched,
            "total_s": db.state()["ended"] - launched}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="classroom")
    ap.add_argument("--metric", default="nll/oracle")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="/tmp/classroom")
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    rows = []
    for seed in args.seeds:
        out = Path(args.out) / f"seed{seed}"
        rows.append({"seed": seed, **study_seed(out, args.metric, train(out, args, seed))})
    print(f"metric {args.metric}, preset {args.preset} {' '.join(args.set)}")
    print(" ".join(f"{k:>15s}" for k in rows[0]))
    for r in rows:
        print(" ".join(f"{v:15.4f}" if isinstance(v, float) else f"{v:15d}" for v in r.values()))
    finals = [r["adv_final"] for r in rows]
    start = statistics.mean(r["mle_end"] for r in rows)
    change, spread = statistics.mean(finals) - start, max(finals) - min(finals)
    print(f"MLE end {start:.4f}; adversarial final {statistics.mean(finals):.4f} (range {min(finals):.4f}.."
          f"{max(finals):.4f}, spread {spread:.4f}); change {change:+.4f}: "
          f"{'larger' if abs(change) > spread else 'NOT larger'} than the spread")


if __name__ == "__main__":
    main()
