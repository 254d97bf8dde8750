"""`python -m seqgan_core study run|status|table|cancel|resume`: studies from the command line."""
from __future__ import annotations

import json
import sys
import time
from typing import Optional


def add_parser(sub) -> None:
    st = sub.add_parser("study", help="many runs as one study: run a spec, watch it, read its table")
    ss = st.add_subparsers(dest="study_cmd", required=True)
    r = ss.add_parser("run", help="start a study from a TOML or JSON spec (prints its cost estimate first)")
    r.add_argument("spec")
    r.add_argument("--executor", choices=("local", "ray"), default="local")
    r.add_argument("--address", help="Ray cluster: auto (this node is in it) or ray://HEAD:10001")
    r.add_argument("--per-device", type=int, help="local: runs at once on each device (default 1)")
    r.add_argument("--wait", action="store_true", help="stay until every run has ended, showing progress")
    r.add_argument("--dry-run", action="store_true", help="print the runs and the cost estimate, start nothing")
    r.add_argument("--no-estimate", action="store_true", help="start without measuring the cost first")
    s = ss.add_parser("status", help="per-run progress and the study's ETA")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true")
    t = ss.add_parser("table", help="the study's results table")
    t.add_argument("dir")
    t.add_argument("--metric", help="default: the spec's (nll/oracle)")
    t.add_argument("--ref", help="the cell the others are tested against (default: the spec's reference)")
    t.add_argument("--samples", type=int, default=10000,
                   help="sequences per run for the per-sequence NLL-oracle t-test (0: seeds only)")
    t.add_argument("--temperature-match", metavar="SOURCE:TARGET",
                   help="add the control 'SOURCE's G at the temperature matching TARGET's NLL-test', per seed, "
                        "e.g. method=mle:method=seqgan")
    fmt = t.add_mutually_exclusive_group()
    fmt.add_argument("--csv", action="store_true")
    fmt.add_argument("--markdown", action="store_true")
    fmt.add_argument("--latex", action="store_true")
    c = ss.add_parser("cancel", help="stop every run of the study")
    c.add_argument("dir")
    rs = ss.add_parser("resume", help="continue the study's stopped, interrupted or failed runs")
    rs.add_argument("dir")
    rs.add_argument("--address")


def cmd_study(args) -> int:
    return {"run": _run, "status": _status, "table": _table, "cancel": _cancel, "resume": _resume}[args.study_cmd](args)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _run(args) -> int:
    from .cost import study_cost
    from .executors import executor_for
    from .spec import expand, load_spec
    from .study import Study, create_study
    spec = load_spec(args.spec)
    members = expand(spec)
    if args.address and args.executor != "ray":
        raise ValueError("--address is for --executor ray")
    ex = executor_for(args.executor, args.address, args.per_device)
    info = ex.info() if not args.dry_run or args.executor == "local" else {"kind": "ray", "parallel": 1}
    cells = list(dict.fromkeys(m.cell for m in members))
    _log(f"study {spec.name}: {len(cells)} cells × {len(spec.seeds)} seeds = {len(members)} runs "
         f"(preset {spec.preset})")
    est = {}
    if not args.no_estimate:
        est = study_cost(members, info["parallel"], log=_log)
        for cell, c in est["cells"].items():
            _log(f"  {cell:40s} {c['runs']} runs × {_hms(c['per_run_s'])}")
        _log(f"cost: {_hms(est['compute_s'])} of training in all; about {_hms(est['wall_s'])} wall-clock with "
             f"{est['parallel']} run(s) at a time on this machine")
    if args.dry_run:
        print(json.dumps({"runs": len(members), "cells": cells, "estimate": est}))
        return 0
    sdir = create_study(spec, executor=info, estimate=est)
    print(sdir)
    ex.start(Study(sdir))
    if args.wait:
        return _watch(Study(sdir))
    return 0


def _watch(study) -> int:
    last = 0.0
    while True:
        st = study.status()
        if st["done"] or time.time() - last > 10:
            last = time.time()
            counts = ", ".join(f"{n} {k}" for k, n in sorted(st["counts"].items()))
            _log(f"{counts}; {_eta(st['eta_s'])}")
        if st["done"]:
            return 0 if all(r["status"] == "finished" for r in st["runs"]) else 1
        time.sleep(1.0)


def _status(args) -> int:
    from .study import Study
    st = Study(args.dir).status()
    if args.json:
        print(json.dumps(st))
        return 0
    for r in st["runs"]:
        where = f"{r['phase']} {r['index']}/{r['phase_total']}" if r["phase"] else ""
        frac = "" if r["fraction"] is None else f"{100 * r['fraction']:5.1f}%"
        eta = "" if r["eta_s"] is None else f"ETA {_hms(r['eta_s'])}"
        print(f"{r['cell']:40s} seed {r['seed']:<3d} {r['status']:11s} {where:22s} {frac:6s} {eta}"
              + (f"  ({r['error']})" if r["error"] and r["status"] != "finished" else ""))
    counts = ", ".join(f"{n} {k}" for k, n in sorted(st["counts"].items()))
    print(f"{st['id']}: {counts}; " + ("done" if st["done"] else f"{_eta(st['eta_s'])} "
                                        f"({st['parallel']} at a time)"))
    return 0


def _table(args) -> int:
    from . import results
    from .report import table_json
    from .study import Study
    if args.samples < 0:
        raise ValueError("--samples must be ≥ 0")
    tab = table_json(Study(args.dir), args.metric, args.ref, args.samples, args.temperature_match or "")
    if args.csv:
        print(results.to_csv(tab), end="")
    elif args.latex:
        print(results.to_latex(tab), end="")
    else:
        print(results.to_markdown(tab), end="")
    return 0


def _cancel(args) -> int:
    from .study import Study
    n = Study(args.dir).cancel()
    _log(f"told {n} run(s) to stop")
    return 0


def _resume(args) -> int:
    from .executors import executor_for
    from .study import Study
    study = Study(args.dir)
    dirs = study.restartable()
    ex = executor_for(study.executor.get("kind", "local"), args.address or study.executor.get("address"),
                      study.executor.get("per_device"))
    ex.start(study, dirs)
    _log(f"{len(dirs)} run(s) queued again")
    return 0


def _eta(s: Optional[float]) -> str:
    """Never 'ETA 0:00' for work that is left: without a figure (no estimate, no finished run) it says so."""
    return "ETA unknown until a run finishes" if s is None else f"ETA {_hms(s)}"


def _hms(s: float) -> str:
    s = int(s or 0)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
