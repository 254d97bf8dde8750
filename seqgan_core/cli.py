"""python -m seqgan_core: the same engine as the app, headless.

A user mistake prints one line ('error: ...') and exits 2; a traceback means a bug.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .config import PRESET_HELP, ConfigError, RunConfig, apply_overrides, check, field_help, field_paths, \
    parse_set_args, preset
from .data.base import DataError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m seqgan_core", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a run in the foreground (progress bar with ETA)")
    t.add_argument("--preset", default="paper", help=f"one of: {', '.join(PRESET_HELP)}")
    t.add_argument("--config", help="a config.json to start from instead of a preset")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. g_steps=3 or data.options.seq_len=16 (repeatable)")
    t.add_argument("--data", help="train on your own .txt/.csv file (one sequence per line)")
    t.add_argument("--column", help="the CSV column holding the sequences")
    t.add_argument("--tokens", choices=("word", "char"), default="word")
    t.add_argument("--out", required=False, help="run directory (default: a new one under ./runs)")
    t.add_argument("--help-settings", action="store_true", help="list every setting with its help and exit")

    r = sub.add_parser("resume", help="continue a run from its latest checkpoint, in the foreground")
    r.add_argument("dir")
    br = sub.add_parser("branch", help="a new run continuing another's checkpoint with settings changed "
                                       "(a control: e.g. --set reward=constant)")
    br.add_argument("dir", help="the source run")
    br.add_argument("--at", default="adversarial_start", choices=("adversarial_start", "mle_done", "latest"))
    br.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", required=True)
    br.add_argument("--out", help="run directory (default: a new one beside the source)")
    e = sub.add_parser("eval", help="evaluate a run's latest checkpoint")
    e.add_argument("dir")
    e.add_argument("--json", action="store_true")
    e.add_argument("--samples", type=int, help="generator samples for NLL-oracle (default: the run's)")
    e.add_argument("--gap-samples", type=int, default=1000,
                   help="samples behind the error-localisation gap (grammar data; 0 skips it)")
    sw = sub.add_parser("sweep", help="temperature sweep of a run's generator, no training (JSON lines)")
    sw.add_argument("dir")
    sw.add_argument("--at", default="adversarial_start", choices=("adversarial_start", "mle_done", "latest"))
    sw.add_argument("--taus", default="0.7,0.8,0.9,1.0,1.1,1.2")
    sw.add_argument("-n", type=int, default=2000, help="samples per temperature")
    s = sub.add_parser("sample", help="print sequences drawn from a run's latest generator")
    s.add_argument("dir")
    s.add_argument("-n", type=int, default=10)
    b = sub.add_parser("bench", help="measure roll-outs, training speed and memory on this machine")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="smaller sizes (seconds), for a smoke test")
    b.add_argument("--device", default="auto")
    b.add_argument("--modes", default="", help="GPU step modes to measure, e.g. eager,graph,compile (default all)")
    b.add_argument("--no-presets", action="store_true", help="skip the per-preset round times")
    es = sub.add_parser("estimate", help="measure a config's cost per unit on its device (JSON on stdout)")
    es.add_argument("config", help="a config.json, or - to read it from standard input")
    es.add_argument("--vocab-size", type=int)
    es.add_argument("--seq-len", type=int)
    es.add_argument("--num-train", type=int)
    rr = sub.add_parser("reroll", help="Q of one sequence re-rolled from a run's checkpoint (JSON on stdout)")
    rr.add_argument("dir")
    rr.add_argument("--ids", required=True, help="the sequence's token ids, comma-separated")
    rr.add_argument("-n", type=int, default=16)
    rr.add_argument("--seed", type=int, default=0)
    sub.add_parser("presets", help="list the presets")
    dv = sub.add_parser("devices", help="the GPUs and CPU cores a run may use (the app asks this way)")
    dv.add_argument("--json", action="store_true")
    w = sub.add_parser("worker", help=argparse.SUPPRESS)
    w.add_argument("dir")

    from .studies.cli import add_parser as add_study_parser
    add_study_parser(sub)
    from .classroom.cli import add_parser as add_class_parser
    add_class_parser(sub)

    d = sub.add_parser("data", help="data sets: list them, or check your own file")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    dl = dsub.add_parser("list")
    dl.add_argument("--json", action="store_true")
    dc = dsub.add_parser("check")
    dc.add_argument("file")
    dc.add_argument("--column")
    dc.add_argument("--tokens", choices=("word", "char"), default="word")
    dc.add_argument("--json", action="store_true")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.cmd](args)
    except (ConfigError, DataError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the latest checkpoint is kept; `resume` continues from it", file=sys.stderr)
        return 130


# --- commands ------------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    if args.help_settings:
        for short, path in sorted(field_paths().items()):
            if short == path:
                print(f"{path:34s} {field_help(path)}")
        return 0
    cfg = RunConfig.from_dict(json.loads(Path(args.config).read_text())) if args.config else preset(args.preset)
    if args.data:
        cfg.data.name = "upload"
        cfg.data.options = {"path": str(Path(args.data).resolve()), "tokens": args.tokens,
                            **({"column": args.column} if args.column else {})}
    cfg = check(apply_overrides(cfg, parse_set_args(args.set)))
    from . import data
    from .train.checkpoint import init_from_problem
    problem = init_from_problem(cfg)
    if problem:
        raise ConfigError(problem)
    from .runs.store import create_run
    dataset = data.load(cfg.data.name, cfg.data.options, cfg.seed)   # refuse bad data before a run exists
    check(cfg, dataset.vocab_size, dataset.seq_len)
    run_dir = create_run(cfg, run_dir=Path(args.out) if args.out else None)
    print(f"run directory: {run_dir}", file=sys.stderr)
    return _train_foreground(run_dir, fresh=cfg, dataset=dataset)


def cmd_resume(args) -> int:
    run_dir = Path(args.dir)
    if not (run_dir / "config.json").exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    from .runs.jobs import is_alive
    from .runs.store import RunDB
    state = RunDB(run_dir).state()
    if state.get("status") in ("running", "paused") and is_alive(state):
        raise ValueError(f"{run_dir} is being trained by another process right now")
    return _train_foreground(run_dir)


def cmd_branch(args) -> int:
    from .runs.branch import branch_run
    run_dir = branch_run(args.dir, parse_set_args(args.set), args.at, Path(args.out) if args.out else None)
    print(f"run directory: {run_dir}", file=sys.stderr)
    return _train_foreground(run_dir)


def _train_foreground(run_dir: Path, fresh: RunConfig | None = None, dataset=None) -> int:
    from .runs.jobs import open_trainer
    from .runs.store import RunDB, StoreSink
    db = RunDB(run_dir)
    bar = ProgressBar()
    try:
        outcome = open_trainer(run_dir, StoreSink(db, on_progress=bar.update), fresh, dataset).run()
    except KeyboardInterrupt:
        db.transition("interrupted", error="interrupted from the keyboard")
        raise
    except ValueError as e:     # a refused config, data set or checkpoint (ConfigError, DataError included)
        db.transition("failed", error=str(e))
        raise                   # main prints it as one 'error:' line and exits 2
    bar.close()
    db.transition(outcome, ended=time.time())
    final = {k: round(v, 4) for k, v in db.latest_values().items()
             if k in ("nll/oracle", "nll/test", "div/distinct2")}
    print(f"{outcome}: {run_dir}  {json.dumps(final, sort_keys=True)}", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from .runs.inspect import evaluate_run
    res = evaluate_run(args.dir, args.samples, args.gap_samples)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:16s} {v:.4f}" if isinstance(v, float) else f"{k:16s} {v}")
    return 0


def cmd_sweep(args) -> int:
    from .runs.inspect import sweep_run
    taus = [float(t) for t in args.taus.split(",") if t.strip()]
    if not taus or min(taus) <= 0 or args.n < 1:
        raise ValueError("--taus must be positive numbers and -n ≥ 1")
    for row in sweep_run(args.dir, taus, args.n, args.at):
        print(json.dumps(row))
    return 0


def cmd_sample(args) -> int:
    from .runs.inspect import sample_run
    if args.n < 1:
        raise ValueError("-n must be ≥ 1")
    for line in sample_run(args.dir, args.n):
        print(line)
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench
    res = run_bench(quick=args.quick, device=args.device, log=lambda m: print(m, file=sys.stderr),
                    modes=tuple(m for m in args.modes.split(",") if m), presets=not args.no_presets)
    print(json.dumps(res, indent=None if args.json else 2))
    return 0


def cmd_estimate(args) -> int:
    from .estimate import estimate
    text = sys.stdin.read() if args.config == "-" else Path(args.config).read_text()
    cfg = RunConfig.from_dict(json.loads(text))
    print(json.dumps(estimate(cfg, args.vocab_size, args.seq_len, args.num_train)))
    return 0


def cmd_reroll(args) -> int:
    from .runs.inspect import reroll_run
    if not 1 <= args.n <= 4096:
        raise ValueError("-n must be between 1 and 4096")
    ids = [int(i) for i in args.ids.split(",") if i.strip()]
    print(json.dumps(reroll_run(args.dir, ids, args.n, args.seed)))
    return 0


def cmd_devices(args) -> int:
    from .device import probe
    facts = probe()
    if args.json:
        print(json.dumps(facts))
    else:
        print(f"cpu: {facts['cores']} cores")
        for g in facts["cuda"]:
            print(f"cuda:{g['index']}: {g['name']}, {g['free_gb']} of {g['total_gb']} GB free")
    return 0


def cmd_presets(args) -> int:
    for name, text in PRESET_HELP.items():
        print(f"{name:10s} {text}")
    return 0


def cmd_worker(args) -> int:
    from .runs.jobs import run_worker
    return run_worker(args.dir)


def cmd_study(args) -> int:
    from .studies.cli import cmd_study as run_study
    return run_study(args)


def cmd_class(args) -> int:
    from .classroom.cli import cmd_class as run_class
    return run_class(args)


def cmd_data(args) -> int:
    from .data import report
    if args.data_cmd == "list":
        rows = report.list_datasets()
        if args.json:
            print(json.dumps(rows))
        else:
            for r in rows:
                print(f"{r['name']:14s} {'offline' if r['offline'] else 'download':9s} {r['size']}  ({r['source']})")
        return 0
    rep = report.check_file(args.file, column=args.column, tokens=args.tokens)
    print(json.dumps(rep) if args.json else "\n".join(f"{k}: {v}" for k, v in rep.items()))
    return 0


COMMANDS = {"train": cmd_train, "resume": cmd_resume, "branch": cmd_branch, "eval": cmd_eval, "sample": cmd_sample,
            "bench": cmd_bench, "presets": cmd_presets, "devices": cmd_devices, "reroll": cmd_reroll, "estimate": cmd_estimate, "worker": cmd_worker, "data": cmd_data,
            "study": cmd_study, "sweep": cmd_sweep, "class": cmd_class}


class ProgressBar:
    """One line on stderr: phase, position, share done, elapsed and ETA; a plain line per 5 s off a tty."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, info: dict):
        now = time.time()
        if not self.tty and now - self.last < 5 and info["phase"] != "done":
            return
        self.last = now
        frac = info.get("fraction")
        width = 24
        fill = int(width * (frac or 0))
        bar = "█" * fill + "·" * (width - fill)
        pos = f"{info['phase']} {info['index']}/{info['phase_total']}"
        if info["phase"] == "adversarial":
            pos += f" (g {info['g_done']}, d {info['d_done']})"
        eta = "?" if info.get("eta_s") is None else _hms(info["eta_s"])
        line = f"{bar} {100 * (frac or 0):5.1f}%  {pos:34s} elapsed {_hms(info['elapsed_s'])}  ETA {eta}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)

    def close(self):
        if self.tty:
            print(file=sys.stderr)


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
