"""CPU throughput of this tree against an earlier commit, measured alternately in one run.

    python benchmarks/bench_before_after.py --base 261118f [--rounds 3]

Each round runs `python -m seqgan_core bench --json --no-presets` in the base commit (a temporary git
worktree) and then in this tree, with the same thread count; each figure keeps its best value over the
rounds (minimum time, maximum throughput), so load that comes and goes on a shared machine hits both
sides alike. Prints MLE tokens/s, D training sequences/s, the roll-out's time, its ratio to the floor and
its speed-up over the authors' loop, side by side with after/before ratios.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIGURES = [  # (label, path in the bench JSON, better)
    ("MLE tokens/s (as each tree's bench measures it)", ("training", "mle_tokens_per_s"), max),
    ("MLE tokens/s (the trainer's mle_epoch, same code)", ("mle_epoch_tokens_per_s",), max),
    ("D training sequences/s", ("training", "d_train_sequences_per_s"), max),
    ("roll-out, vectorised (s)", ("rollout", "vectorised_s"), min),
    ("roll-out / its floor", ("rollout", "vs_floor"), min),
    ("roll-out speed-up vs the authors' loop", ("rollout", "speedup_vs_loop"), max),
]


def bench(tree: Path, threads: int) -> dict:
    env = {"OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    cmd = [sys.executable, "-m", "seqgan_core", "bench", "--json", "--device", "cpu"]
    usage = subprocess.run(cmd[:4] + ["--help"], cwd=tree, capture_output=True, text=True, env=env).stdout
    if "--no-presets" in usage:
        cmd.append("--no-presets")
    else:                                # an older tree always estimates every preset: skip that part there
        cmd[1:3] = ["-c", "import sys, seqgan_core.bench as b; from seqgan_core.cli import main; "
                          "b.bench_presets = lambda dev, log: {}; sys.exit(main(sys.argv[1:]))"]
    out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, timeout=1800, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"bench failed in {tree}: {out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    # the bench's own MLE figure changed method between versions (now a bare captured step, 2 repeats); this
    # one runs the same lines in both trees: the trainer's mle_epoch, best of 15 epochs of 20 minibatches
    mle = subprocess.run([sys.executable, "-c", MLE_EPOCH], cwd=tree, capture_output=True, text=True,
                         timeout=900, env={**env, "PYTHONPATH": str(tree)})
    if mle.returncode == 0:
        res["mle_epoch_tokens_per_s"] = float(mle.stdout.strip().splitlines()[-1])
    return res


MLE_EPOCH = """
import time, torch
from seqgan_core.models import Generator
from seqgan_core.train import steps
V, T, B, n = 5000, 20, 64, 20
torch.manual_seed(0)
gen = Generator(V, 32, 32).init_normal(0.1)
opt = torch.optim.Adam(gen.parameters(), lr=0.01)
data = torch.randint(0, V, (B * n, T))
steps.mle_epoch(gen, opt, data[:B], B, 5.0)
best = 1e9
for _ in range(15):
    t = time.perf_counter()
    steps.mle_epoch(gen, opt, data, B, 5.0)
    best = min(best, time.perf_counter() - t)
print(data.numel() / best)
"""


def pick(res: dict, path: tuple):
    for k in path:
        res = res.get(k, {}) if isinstance(res, dict) else {}
    return res if isinstance(res, (int, float)) else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the commit to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="seqgan_base_"))
    base = tmp / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=REPO, check=True,
                   capture_output=True)
    results: dict = {"before": [], "after": []}
    try:
        for r in range(args.rounds):
            for side, tree in (("before", base), ("after", REPO)):
                results[side].append(bench(tree, args.threads))
                print(f"round {r + 1}/{args.rounds}: {side} done: {json.dumps(results[side][-1])}", file=sys.stderr,
                      flush=True)                                # kept even if a later round is cut off
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, capture_output=True)
    print(f"CPU, {args.threads} threads, best of {args.rounds} alternating rounds; before = {args.base}")
    print(f"{'figure':42s} {'before':>12s} {'after':>12s} {'after/before':>13s}")
    for label, path, best in FIGURES:
        b = [v for v in (pick(x, path) for x in results["before"]) if v is not None]
        a = [v for v in (pick(x, path) for x in results["after"]) if v is not None]
        if not a or not b:
            continue
        vb, va = best(b), best(a)
        print(f"{label:42s} {vb:12.3f} {va:12.3f} {va / vb:13.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
