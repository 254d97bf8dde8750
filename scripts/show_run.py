"""Print a run's evaluated curves (NLL-oracle, NLL-test, diversity) from its store: python scripts/show_run.py DIR"""
import sys
from collections import defaultdict

from seqgan_core.runs.store import RunDB

NAMES = ("nll/oracle", "nll/test", "div/distinct2", "valid/share", "bleu/2", "bleu/4", "g/reward_mean", "d/acc_real", "d/acc_fake")


def main(run_dir: str):
    db = RunDB(run_dir)
    rows = defaultdict(dict)
    for step, name, phase, x, value, _ in db.metrics_since(-1, NAMES):
        rows[(phase, x)][name] = value
    present = [n for n in NAMES if any(n in r for r in rows.values())]
    print(f"{'phase':12s} {'x':>5s} " + " ".join(f"{n:>13s}" for n in present))
    for (phase, x), r in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if not any(n in r for n in ("nll/oracle", "nll/test")) and "--all" not in sys.argv:
            continue
        print(f"{phase:12s} {x:5.0f} " + " ".join(f"{r[n]:13.4f}" if n in r else " " * 13 for n in present))
    print("status:", db.state().get("status"))


if __name__ == "__main__":
    main(sys.argv[1])
