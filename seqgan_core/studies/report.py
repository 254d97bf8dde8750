"""What the app reads about stored studies, beside results.py: the list of study folders under a runs root,
the paper's published numbers to put beside ours, and the temperature-matched MLE control.

The heavy parts (per-sequence NLL-oracle, temperature sweeps) sample from trained generators, so the app runs
them in a process of their own:

    python -m seqgan_core.studies.report table DIR [--metric M] [--ref CELL] [--samples N]   # JSON
    python -m seqgan_core.studies.report tempmatch DIR --mle CELL --target CELL [-n N]       # JSON
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from ..runs.store import RunDB
from .study import STUDY_FILE, Study

# The paper's Table 1 (Yu et al. 2017): NLL-oracle of 100k samples on the authors' oracle; SeqGAN's
# advantage had p < 1e-6 against each baseline. Keys are our method names; "random" has no method here.
PAPER_TABLE1 = {"random": 10.310, "mle": 9.038, "ss": 8.985, "pg_bleu": 8.946, "seqgan": 8.736}
PAPER_TABLE1_P = 1e-6
# The authors' code's log of its adversarial phase (schedule d at paper scale): round -> NLL-oracle.
PAPER_ADV_LOG = {0: 9.08, 20: 8.96, 50: 8.83, 75: 8.73, 100: 8.70, 150: 8.68}
PAPER_SPECS = {"table1": "table1_classroom", "fig3": "fig3_classroom"}
TEMP_TAUS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


def stored_studies(root: str | Path) -> list[dict]:
    """Every study folder under root, newest first: id, dir, name, preset, description, created, runs. A
    folder whose study.json does not read is left out (a study being written, or not a study)."""
    out = []
    root = Path(root)
    if not root.is_dir():
        return out
    for d in root.glob("study-*"):
        try:
            data = json.loads((d / STUDY_FILE).read_text())
            spec = data["spec"]
            out.append({"id": d.name, "dir": d, "name": spec["name"], "preset": spec.get("preset", ""),
                        "description": spec.get("description", ""), "created": float(data.get("created", 0)),
                        "runs": len(data.get("members", [])), "axes": spec.get("axes", {})})
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda s: s["created"], reverse=True)


def paper_studies(root: str | Path, kind: str) -> list[dict]:
    """Stored studies for the paper's Table 1 (kind 'table1': the shipped spec's name, or any study on the
    paper preset with a method axis) or Figure 3 ('fig3': the name, or the paper preset with a schedule axis)."""
    axis = "method" if kind == "table1" else "schedule"
    return [s for s in stored_studies(root)
            if s["name"] == PAPER_SPECS[kind] or (s["preset"] == "paper" and axis in s["axes"])]


def _finished_cell(study: Study, cell: str) -> list[dict]:
    return [m for m in study.members if m["cell"] == cell and RunDB(m["dir"]).state().get("status") == "finished"]


def match_temperature(rows: list[dict], target_test: float) -> Optional[dict]:
    """From one generator's temperature sweep (rows with tau, nll/test, nll/oracle), the τ ≤ 1 at which its
    NLL-test equals target_test (linear between the swept τ), with NLL-oracle there. None when no τ ≤ 1 of
    the sweep reaches it (the target covers real data better than this generator at any sharpening)."""
    pts = sorted((r["tau"], r["nll/test"], r["nll/oracle"]) for r in rows if r["tau"] <= 1.0)
    # Cooling (τ < 1) sharpens G: NLL-test rises as τ falls. Walk down from τ = 1 to the crossing.
    for (t0, a0, o0), (t1, a1, o1) in zip(pts[::-1][1:], pts[::-1][:-1]):     # (lower τ, higher τ)
        lo, hi = min(a0, a1), max(a0, a1)
        if lo <= target_test <= hi:
            w = 0.0 if a0 == a1 else (target_test - a1) / (a0 - a1)
            return {"tau": t1 + w * (t0 - t1), "nll/oracle": o1 + w * (o0 - o1), "nll/test": target_test}
    return None


def temperature_matched(study: Study, mle_cell: str, target_cell: str, taus=TEMP_TAUS, n: int = 2000) -> dict:
    """MLE at the temperature that matches the target cell's NLL-test: each finished run of mle_cell is
    swept over τ at its final checkpoint (no training), and cooled until its NLL-test equals the target
    cell's mean final NLL-test; NLL-oracle there is the control's value for that seed. Welch's test over
    seeds against the target's final NLL-oracle."""
    from ..runs.inspect import sweep_run
    from .results import _std, welch
    targets = [RunDB(m["dir"]).latest_values() for m in _finished_cell(study, target_cell)]
    tests = [v["nll/test"] for v in targets if "nll/test" in v]
    oracle = [v["nll/oracle"] for v in targets if "nll/oracle" in v]
    if not tests or not oracle:
        raise ValueError(f"{target_cell} has no finished run with NLL-test and NLL-oracle")
    target_test = float(np.mean(tests))
    seeds = []
    for m in _finished_cell(study, mle_cell):
        hit = match_temperature(sweep_run(m["dir"], list(taus), n, "latest"), target_test)
        seeds.append({"seed": m["seed"], **(hit or {"tau": None})})
    vals = [s["nll/oracle"] for s in seeds if s.get("tau") is not None]
    return {"mle_cell": mle_cell, "target_cell": target_cell, "target_nll_test": target_test, "samples": n,
            "taus": list(taus), "seeds": seeds, "n": len(vals),
            "mean": float(np.mean(vals)) if vals else math.nan, "std": _std(vals) if vals else math.nan,
            "target_mean": float(np.mean(oracle)), "p_seeds": welch(vals, oracle)["p"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m seqgan_core.studies.report")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("table")
    t.add_argument("dir")
    t.add_argument("--metric")
    t.add_argument("--ref")
    t.add_argument("--samples", type=int, default=0)
    m = sub.add_parser("tempmatch")
    m.add_argument("dir")
    m.add_argument("--mle", required=True)
    m.add_argument("--target", required=True)
    m.add_argument("-n", type=int, default=2000)
    args = p.parse_args(argv)
    study = Study(args.dir)
    try:
        if args.cmd == "table":
            from .results import table
            out = table(study, args.metric, args.ref, max(0, args.samples))
        else:
            out = temperature_matched(study, args.mle, args.target, n=max(1, args.n))
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
