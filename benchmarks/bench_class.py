"""A class watching one run: N viewers on the Live page of a classroom run that trains, for N in 0, 1, 10, 30
(and 0 again at the end, so that the machine's drift shows).

    python benchmarks/bench_class.py                     # 120 s per N (about 12 minutes with the start)
    python benchmarks/bench_class.py --window 180 --json
    python benchmarks/bench_class.py --viewers-kind chromium [--viewers-priority normal]

For each N: the web server's CPU (share of one core) and resident memory, the viewers' own CPU, p50 / p95 of
a Live refresh inside the server (either of the page's two panels that rerun on a timer: for a watcher the
status every 2 s and the charts every 5 s, slower beyond ten watchers), refreshes per viewer and second,
and the worker's seconds per adversarial round against the no-viewer windows. The viewers use the
read-only link of a shared run in class mode (the viewer role a projector or a student has).

The server is `streamlit run` started by this script with the two panels wrapped by a timer (the only
change). In a room each student's browser runs on the student's machine, so by default the viewers are
websocket clients (benchmarks/ws_viewers.py, one process) that ask for exactly what a Live tab asks for and
render nothing, under SCHED_IDLE: the server does a class's work, the viewers take only CPU the worker and
the server leave, and the worker's round time shows what the class costs it. `--viewers-priority normal`
lets them compete; `--viewers-kind chromium` opens real tabs on this machine instead.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]      # run as a script from anywhere

from bench_live import CHROMIUM, CHROMIUM_ARGS, _free_port, _stop, _wait_healthy, rss_mb  # noqa: E402

VIEWERS = (0, 1, 10, 30, 0)     # no viewers again at the end: the machine's drift shows
TIMES = "SEQGAN_BENCH_PANEL_TIMES"      # where the wrapped panel appends its durations


def serve() -> None:
    """The server side: the Live page's two refreshing panels timed, then Streamlit's own CLI in this process."""
    from streamlit.web import cli

    import ui.live
    out = open(os.environ[TIMES], "a", buffering=1)

    def timed(real, kind: str):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                out.write(f"{time.time():.3f} {time.perf_counter() - t0:.4f} {kind}\n")
        return run
    ui.live.panel = timed(ui.live.panel, "status")
    ui.live.charts_panel = timed(ui.live.charts_panel, "charts")
    sys.argv = ["streamlit", "run", str(REPO / "app.py"), *sys.argv[2:]]
    sys.exit(cli.main())


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def chromium(folder: Path, priority: str) -> str:
    """The browser to launch: Chromium itself, or a wrapper that starts it under SCHED_IDLE."""
    if priority == "normal":
        return CHROMIUM
    wrapper = folder / "chromium-idle"
    wrapper.write_text(f'#!/bin/sh\nexec chrt --idle 0 {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@contextlib.contextmanager
def viewers(args, port: int, url: str, run_id: str, folder: Path):
    """Yields add(n): bring the number of viewers on the run's Live page up to n, each showing the run."""
    if args.viewers_kind == "ws":
        # In a room the viewers run on the students' machines: here they are one process under SCHED_IDLE,
        # so that they take only CPU the worker and the server leave (their own CPU is reported beside).
        proc = [None]

        def add(n: int) -> None:
            if proc[0] is not None:
                _end(proc[0])
            proc[0] = None
            if n:
                cmd = [sys.executable, str(REPO / "benchmarks" / "ws_viewers.py"), str(port), "live", f"run={run_id}",
                       str(n)]
                p = subprocess.Popen((["chrt", "--idle", "0"] if args.viewers_priority == "idle" else []) + cmd,
                                     stdout=subprocess.PIPE, text=True)
                if p.stdout.readline().strip() != "ready":      # each viewer has been answered once
                    raise RuntimeError("the websocket viewers did not start")
                proc[0] = p
        add.pid = lambda: proc[0].pid if proc[0] else None
        try:
            yield add
        finally:
            if proc[0] is not None:
                _end(proc[0])
        return
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(folder, args.viewers_priority), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        tabs = []

        def add(n: int) -> None:
            while len(tabs) < n:
                tab = context.new_page()
                tab.goto(f"{url}/live?run={run_id}", wait_until="commit", timeout=300_000)
                tabs.append(tab)
            for tab in tabs:     # every tab shows the run before the window opens
                tab.get_by_role("heading", name="Live", exact=True).wait_for(timeout=300_000)
        try:
            yield add
        finally:
            browser.close()


def _end(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def round_times(run_dir: Path, t0: float, t1: float) -> list[float]:
    """Seconds between successive adversarial rounds whose end was recorded inside [t0, t1]."""
    from seqgan_core.runs import RunDB
    with RunDB(run_dir).connect() as con:
        ends = [t for (t,) in con.execute("SELECT t FROM metrics WHERE name = 'g/reward_mean' AND phase = "
                                          "'adversarial' ORDER BY step")]
    return [b - a for a, b in zip(ends, ends[1:]) if t0 <= a and b <= t1]


def panel_times(path: Path, t0: float, t1: float, kind: str | None = None) -> list[float]:
    """Durations of the Live panels' refreshes inside [t0, t1] (kind: 'status' or 'charts'; None: both)."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [float(d) for t, d, k in rows if t0 <= float(t) <= t1 and kind in (None, k)]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=float, default=120.0, help="seconds measured per N")
    ap.add_argument("--viewers", default=",".join(map(str, VIEWERS)))
    ap.add_argument("--preset", default="classroom", help="the run's preset (tiny: rounds of a second, for a "
                                                            "machine too busy for the classroom run)")
    ap.add_argument("--viewers-kind", choices=("ws", "chromium"), default="ws",
                    help="ws: websocket clients that request what a Live tab requests and render nothing (the "
                         "server's work for a class whose browsers are elsewhere); chromium: real tabs here")
    ap.add_argument("--viewers-priority", choices=("idle", "normal"), default="idle",
                    help="idle (default): the viewers (standing in for the students' machines) run under "
                         "SCHED_IDLE and take only the CPU the worker and the server leave")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    counts = [int(v) for v in args.viewers.split(",")]

    from seqgan_core import classroom as C
    from seqgan_core.config import apply_overrides, preset
    from seqgan_core.runs import JobManager

    root = Path(tempfile.mkdtemp(prefix="seqgan_bench_class_")) / "runs"
    times = root.parent / "panel_times.txt"
    times.touch()
    key = "bench-" + os.urandom(12).hex()
    env = {**os.environ, "SEQGAN_RUNS": str(root), "SEQGAN_CLASS": "1", "SEQGAN_TEACHER_KEY": key, TIMES: str(times)}
    os.environ.update(SEQGAN_RUNS=str(root), SEQGAN_TEACHER_KEY=key)
    # one D pre-training round only: the windows start with the adversarial rounds
    cfg = apply_overrides(preset(args.preset), {"adv_rounds": 100_000, "pretrain_d_rounds": 1, "name": "bench-class"})
    jm = JobManager(root)
    run_dir = jm.submit(cfg)
    C.Room(root).share(run_dir.name)
    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--server.headless", "true", "--server.port",
                               str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    rows = []
    try:
        _wait_healthy(url)
        # the worker must be in its adversarial rounds before anything is measured
        deadline = time.time() + 900
        while len(round_times(run_dir, 0, time.time())) < 2 and time.time() < deadline:
            time.sleep(2)
        with viewers(args, port, url, run_dir.name, root.parent) as add:
            for n in counts:
                add(n)
                vpid = getattr(add, "pid", lambda: None)()
                v0 = cpu_seconds(vpid) if vpid else 0.0
                t0, c0, load0 = time.time(), cpu_seconds(server.pid), os.getloadavg()[0]
                mem = []
                while time.time() - t0 < args.window:
                    mem.append(rss_mb(server.pid))
                    time.sleep(2)
                t1, c1 = time.time(), cpu_seconds(server.pid)
                v1 = cpu_seconds(vpid) if vpid else 0.0
                panels, rounds = panel_times(times, t0, t1), round_times(run_dir, t0, t1)
                rows.append({"viewers": n, "server_cpu_pct": round(100 * (c1 - c0) / (t1 - t0), 1),
                             "viewers_cpu_pct": round(100 * (v1 - v0) / (t1 - t0), 1) if vpid else None,
                             "charts_p95_s": pct(panel_times(times, t0, t1, "charts"), 0.95),
                             "server_rss_mb": round(max(mem), 1), "refreshes": len(panels),
                             "refresh_p50_s": pct(panels, 0.5), "refresh_p95_s": pct(panels, 0.95),
                             "refreshes_per_viewer_s": round(len(panels) / max(n, 1) / (t1 - t0), 2),
                             "rounds": len(rounds), "s_per_round": round(statistics.median(rounds), 2) if rounds
                             else None, "load1_start": round(load0, 1), "load1_end": round(os.getloadavg()[0], 1)})
                if not args.json:
                    print(rows[-1], flush=True)
    finally:
        _stop(run_dir, server)
    bases = [r["s_per_round"] for r in rows if r["viewers"] == 0 and r["s_per_round"]]
    base = statistics.mean(bases) if bases else None      # the no-viewer windows, before and after
    for r in rows:
        r["round_vs_no_viewers"] = (round(r["s_per_round"] / base - 1, 3) if base and r["s_per_round"] else None)
    if args.json:
        print(json.dumps({"cores": os.cpu_count(), "rows": rows}, indent=1))
        return 0
    print(f"\npreset {args.preset}; {os.cpu_count()} cores; this machine is shared (load average per window)")
    print("viewers: websocket clients (no rendering here)" if args.viewers_kind == "ws" else
          f"viewers: Chromium tabs at {args.viewers_priority} priority")
    print(f"no-viewer round time: mean of {len(bases)} window(s), {bases}")
    print("viewers | server CPU % | viewers' CPU % | server RSS MB | refreshes (per viewer·s) | p50 s | p95 s | "
          "s/round (rounds) | vs no viewers | load1")
    for r in rows:
        vs = "" if r["round_vs_no_viewers"] is None else f"{100 * r['round_vs_no_viewers']:+.0f} %"
        fmt = lambda v: "—" if v is None else f"{v:.3f}"   # noqa: E731
        vc = "—" if r["viewers_cpu_pct"] is None else f"{r['viewers_cpu_pct']:.1f}"
        print(f"{r['viewers']:7d} | {r['server_cpu_pct']:12.1f} | {vc:>14} | {r['server_rss_mb']:13.1f} | "
              f"{r['refreshes']:9d} ({r['refreshes_per_viewer_s']:.2f}) | "
              f"{fmt(r['refresh_p50_s'])} | {fmt(r['refresh_p95_s'])} | {r['s_per_round']} ({r['rounds']}) | {vs} | "
              f"{r['load1_start']}→{r['load1_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
