"""The lesson's controls, measured: SeqGAN against runs that differ in one thing only, from the same start.

For each seed: the `lesson` preset (SeqGAN: D's Monte-Carlo Q, no baseline) is trained, then branched at
its adversarial start (same G, same pre-trained D, same RNG state) into
    constant   PG with a constant reward (the sharpening control; no D)
    mle        MLE continued: each g-step an MLE minibatch of real data (as many generator updates)
    shuffled   D's Q permuted across the batch at each position (same rewards, no credit)
    baseline   SeqGAN with a batch-mean reward baseline
and the temperature sweep of the starting generator is taken (no training). Reported at the end of each
run: NLL-oracle (exact, lower is better), NLL-test, validity, the error-localisation gap (mean of the live
g-step values over the last 5 rounds), and D's held-out accuracy at the first round. SeqGAN "beats" a
control on a metric only when its worst seed is better than the control's best seed (no overlap).

    python scripts/lesson_study.py --out /tmp/lesson_study [--seeds 0,1,2] [--rounds 30] [--set KEY=VALUE]
Run it niced (nice -n 19, OMP_NUM_THREADS=1); it writes study.json and study.md in --out.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan_core.cli import main as cli  # noqa: E402
from seqgan_core.runs.inspect import sweep_run  # noqa: E402
from seqgan_core.runs.store import RunDB  # noqa: E402

CONTROLS = {"constant": ["reward=constant"], "mle": ["reward=mle"], "shuffled": ["reward=shuffled"],
            "baseline": ["reward_baseline=batch_mean"]}
LOWER_BETTER = {"nll/oracle": True, "nll/test": True, "valid/share": False, "lesson/gap": False}


def summarise(run: Path) -> dict:
    rows = RunDB(run).metrics_since(-1)
    adv = [r for r in rows if r[2] == "adversarial"]

    def last(name):
        vals = [r[4] for r in adv if r[1] == name]
        return vals[-1] if vals else None

    def first(name):
        vals = [r[4] for r in adv if r[1] == name]
        return vals[0] if vals else None
    gaps = [(r[3], r[4]) for r in adv if r[1] == "lesson/gap"]
    end_x = max((x for x, _ in gaps), default=None)
    out = {k: last(k) for k in ("nll/oracle", "nll/test", "valid/share", "g/entropy")}
    out["lesson/gap"] = statistics.mean(v for x, v in gaps if x > end_x - 5) if gaps else None
    out["gap_round0"] = gaps[0][1] if gaps else None
    acc_r, acc_f = first("d/acc_real"), first("d/acc_fake")
    out["d_acc_round1"] = (acc_r + acc_f) / 2 if acc_r is not None else None
    start = [r for r in rows if r[2] != "adversarial" and r[1] == "nll/oracle"]
    out["start_nll_oracle"] = start[-1][4] if start else None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--controls", default=",".join(CONTROLS))
    ap.add_argument("--set", action="append", default=[])
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    common = ["--set", "threads=1", "--set", f"adv_rounds={args.rounds}"]
    for s in args.set:
        common += ["--set", s]
    results: dict = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        base = out / f"seqgan_s{seed}"
        if not (base / "checkpoints" / "latest.pt").exists():
            t0 = time.time()
            assert cli(["train", "--preset", "lesson", "--set", f"seed={seed}", *common, "--out", str(base)]) == 0
            print(f"seqgan seed {seed}: {time.time() - t0:.0f} s", flush=True)
        results.setdefault("seqgan", {})[seed] = summarise(base)
        for name in args.controls.split(","):
            run = out / f"{name}_s{seed}"
            if not (run / "checkpoints" / "latest.pt").exists():
                sets = [x for s in CONTROLS[name] for x in ("--set", s)]
                assert cli(["branch", str(base), *sets, "--out", str(run)]) == 0
            results.setdefault(name, {})[seed] = summarise(run)
        (out / "study.json").write_text(json.dumps(results, indent=1))
    sweep = sweep_run(out / f"seqgan_s{args.seeds.split(',')[0]}", n=2000, at="adversarial_start")
    results["_sweep"] = sweep
    (out / "study.json").write_text(json.dumps(results, indent=1))
    (out / "study.md").write_text(report(results))
    print(report(results))


def _fmt(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    return f"{statistics.mean(vals):.3f} [{min(vals):.3f}, {max(vals):.3f}]"


def report(results: dict) -> str:
    runs = {k: v for k, v in results.items() if not k.startswith("_")}
    seeds = sorted(next(iter(runs.values())))
    lines = [f"Seeds {', '.join(map(str, seeds))}; mean [min, max] over seeds at the end of the run.", "",
             "| run | NLL-oracle | NLL-test | validity | gap (last 5 rounds) | entropy |",
             "|---|---|---|---|---|---|"]
    for name, per in runs.items():
        lines.append(f"| {name} | " + " | ".join(_fmt([r[k] for r in per.values()]) for k in
                                                  ("nll/oracle", "nll/test", "valid/share", "lesson/gap",
                                                   "g/entropy")) + " |")
    s = runs["seqgan"]
    lines += ["", "SeqGAN beats a control on a metric when its worst seed is better than the control's best seed:", ""]
    for name, per in runs.items():
        if name == "seqgan":
            continue
        verdicts = []
        for k, lower in LOWER_BETTER.items():
            a, b = [r[k] for r in s.values() if r[k] is not None], [r[k] for r in per.values() if r[k] is not None]
            if not a or not b:
                continue
            beat = max(a) < min(b) if lower else min(a) > max(b)
            lost = min(a) > max(b) if lower else max(a) < min(b)
            verdicts.append(f"{k}: {'beats' if beat else 'loses' if lost else 'within the seed spread'}")
        lines.append(f"- vs {name}: " + "; ".join(verdicts))
    first = next(iter(s.values()))
    lines += ["", f"Start (shipped MLE G): NLL-oracle {first['start_nll_oracle']:.3f}. D accuracy at round 1: "
              + ", ".join(f"{r['d_acc_round1']:.2f}" for r in s.values()) + ". Gap at round 0: "
              + ", ".join(f"{r['gap_round0']:.3f}" for r in s.values() if r['gap_round0'] is not None) + "."]
    if "_sweep" in results:
        lines += ["", "Temperature sweep of the starting G (no training):", "",
                  "| τ | NLL-oracle | NLL-test | validity | entropy on test prefixes |", "|---|---|---|---|---|"]
        for r in results["_sweep"]:
            lines.append(f"| {r['tau']} | {r['nll/oracle']:.3f} | {r['nll/test']:.3f} | {r['valid/share']:.3f} | "
                         f"{r['entropy/test']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
