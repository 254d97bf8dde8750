"""Live page performance: server-side render time on a long run, data moved per refresh, memory over a watch.

    python benchmarks/bench_live.py                       # render timings only (about a minute)
    python benchmarks/bench_live.py --soak-minutes 30     # and a soak: RSS of `streamlit run` while a
                                                          # headless Chromium keeps the Live page open
    add --json for machine-readable output

1. Render: a SYNTHETIC run store (labelled so in its name and config) written through RunDB with the
   rows a real paper-schedule run records: 120 MLE epochs, 50 D pre-training rounds, then 1000
   adversarial rounds of 1 g-step and 5 d-steps, evaluation every 5 rounds, roll-out / D-score / sample
   snapshots at the real sizes (8 samples × 20 tokens, N = 16). The run is marked running in this
   process. The Live page is then rendered with Streamlit's AppTest: the first render (every row read)
   and repeated refreshes, each after one more round has been written (only new rows read).
2. Soak (optional): a real tiny run that trains for the whole watch, the app under `streamlit run`, the
   Live page open in Chromium (refreshing every second); the server's RSS is sampled every 10 s.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))                      # run as a script from anywhere

import random  # noqa: E402

from seqgan_core.config import apply_overrides, preset  # noqa: E402
from seqgan_core.runs import JobManager, RunDB, create_run  # noqa: E402
from seqgan_core.runs.jobs import _process_start_time, is_alive  # noqa: E402

ROUNDS, MLE_EPOCHS, D_ROUNDS, D_STEPS, K, T, N = 1000, 120, 50, 5, 8, 20, 16
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# --- 1. a synthetic long run ------------------------------------------------------------------------------
def _eval_row(rng: random.Random, progress: float) -> dict:
    """Evaluation metrics drifting the way a real run's do."""
    return {"nll/oracle": 9.1 - 0.4 * progress + rng.gauss(0, 0.02), "nll/test": 7.0 + 0.1 * progress,
            "div/distinct2": 0.8 - 0.1 * progress, "div/unique": 1.0}


def _d_row(rng: random.Random) -> dict:
    """One D phase's metrics."""
    return {"d/loss": 0.6 + rng.gauss(0, 0.02), "d/train_acc": 0.7, "d/acc_real": 0.8, "d/acc_fake": 0.7,
            "d/score_real": 0.6, "d/score_fake": 0.4}


def _rollout_snapshot(rng: random.Random, r: int) -> dict:
    """A roll-out snapshot of the trainer's real shape: K samples, T tokens, N completions."""
    ids = [[rng.randrange(5000) for _ in range(T)] for _ in range(K)]
    return {"round": r, "g_step": 0, "rollout_num": N, "ids": ids, "tokens": [[str(i) for i in row] for row in ids],
            "q": [[round(rng.random(), 5) for _ in range(T)] for _ in range(K)],
            "logp": [[round(-rng.random() * 8, 5) for _ in range(T)] for _ in range(K)],
            "completions": [[[rng.randrange(5000) for _ in range(T)] for _ in range(N)] for _ in range(T - 1)],
            "completion_scores": [[round(rng.random(), 5) for _ in range(N)] for _ in range(T - 1)]}


def write_round(db: RunDB, rng: random.Random, r: int, step: int, snapshots: bool = True) -> int:
    """One adversarial round's rows, as the trainer writes them; returns the next step. The store keeps
    only the latest 20 snapshots of a kind, so older rounds may skip them (same final store, faster)."""
    x = MLE_EPOCHS + r
    db.put_scalars(step, "adversarial", x, {"g/reward_mean": 0.4 + rng.gauss(0, 0.02), "g/reward_last": 0.4,
                                            "g/pg_loss": 500.0, "g/entropy": 6.0 - r / ROUNDS})
    if snapshots:
        db.put_snapshot(step, "rollout", _rollout_snapshot(rng, r))
    step += 1
    for _ in range(D_STEPS):
        db.put_scalars(step, "adversarial", x, _d_row(rng))
        step += 1
    if snapshots:
        db.put_snapshot(step - 1, "d_scores", {"real": [round(rng.random(), 4) for _ in range(256)],
                                               "fake": [round(rng.random(), 4) for _ in range(256)]})
    if r % 5 == 0:
        db.put_scalars(step, "adversarial", x, _eval_row(rng, r / ROUNDS))
        if snapshots:
            db.put_snapshot(step, "samples", {"ids": [[1] * T] * K, "tokens": [["1"] * T] * K})
    return step


def synthetic_run(root: Path) -> tuple[Path, int]:
    """A SYNTHETIC run store of ROUNDS adversarial rounds; returns (run dir, next step)."""
    cfg = apply_overrides(preset("fig3d"), {"name": "SYNTHETIC benchmark store (not trained)"})
    run_dir = create_run(cfg, root)
    db, rng, step = RunDB(run_dir), random.Random(0), 0
    for e in range(MLE_EPOCHS):
        db.put_scalars(step, "mle", e, {"loss/mle": 7.0 - e / 100, **(_eval_row(rng, 0) if e % 5 == 0 else {})})
        step += 1
    for d in range(D_ROUNDS):
        db.put_scalars(step, "d_pretrain", d, _d_row(rng))
        step += 1
    for r in range(ROUNDS):
        step = write_round(db, rng, r, step, snapshots=r >= ROUNDS - 100)
    mark_running(db, ROUNDS, step)
    return run_dir, step


def mark_running(db: RunDB, rounds_done: int, step: int) -> None:
    """The run looks alive (this process is its 'worker'), mid-way through a long schedule."""
    db.set_state(status="running", pid=os.getpid(), pid_start=_process_start_time(os.getpid()), started=1.0,
                 progress={"phase": "adversarial", "index": rounds_done, "phase_total": 2 * ROUNDS, "g_done": 0,
                           "d_done": 0, "step": step, "paused": False,
                           "schedule": {"g_steps": 1, "d_steps": D_STEPS, "k_epochs": 3, "rollout_num": N},
                           "pending": {}, "elapsed_s": 3600.0, "eta_s": 3600.0, "fraction": 0.5})


def bench_render(repeats: int) -> dict:
    """Timings of the Live page's server-side render on the synthetic 1000-round store."""
    from streamlit.testing.v1 import AppTest
    from ui.series import CACHE
    root = Path(tempfile.mkdtemp(prefix="seqgan_bench_live_"))
    os.environ["SEQGAN_RUNS"] = str(root)
    t0 = time.perf_counter()
    run_dir, step = synthetic_run(root)
    build_s = time.perf_counter() - t0
    db, rng = RunDB(run_dir), random.Random(1)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/live.py")
    t0 = time.perf_counter()
    at.run()
    cold_ms = 1000 * (time.perf_counter() - t0)
    assert not at.exception, at.exception
    other = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()   # a second viewer (a student)
    other.switch_page("app_pages/live.py").run()
    rows_before, warm, moved, cpu, conns, cpu_other = CACHE.rows_read, [], [], [], [], []
    opened = _count_connections()
    for i in range(repeats):
        step = write_round(db, rng, ROUNDS + i, step)              # a new round arrives between refreshes
        mark_running(db, ROUNDS + i + 1, step)
        before, c0, n0 = CACHE.rows_read, time.process_time(), opened[0]
        t0 = time.perf_counter()
        at.run()
        warm.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
        conns.append(opened[0] - n0)
        moved.append(CACHE.rows_read - before)
        c0 = time.process_time()
        other.run()                                                  # the same data, seen by another session
        cpu_other.append(1000 * (time.process_time() - c0))
    payload = sum(len(c.proto.spec) for c in at.get("plotly_chart"))
    total_rows = len(db.metrics_since(-1))
    return {"store": f"SYNTHETIC, {ROUNDS} adversarial rounds (+{MLE_EPOCHS} MLE epochs, {D_ROUNDS} D rounds), "
                     f"{total_rows} metric rows", "build_s": round(build_s, 1),
            "first_render_ms": round(cold_ms, 1), "refresh_ms_median": round(statistics.median(warm), 1),
            "refresh_ms_p95": round(sorted(warm)[int(0.95 * (len(warm) - 1))], 1), "refreshes": repeats,
            "rows_read_first_render": rows_before, "rows_read_per_refresh_median": statistics.median(moved),
            # the Live page refreshes once a second: CPU ms per refresh = the server's CPU per viewer per second
            "server_cpu_ms_per_refresh_median": round(statistics.median(cpu), 1),
            "server_cpu_ms_per_refresh_second_viewer_median": round(statistics.median(cpu_other), 1),
            "sqlite_connections_per_refresh_median": statistics.median(conns),
            "chart_payload_kb": round(payload / 1024, 1)}


def _count_connections() -> list:
    """Counts SQLite connections opened from here on (the page's reads of the run store)."""
    import sqlite3
    count, real = [0], sqlite3.connect

    def counting(*a, **k):
        count[0] += 1
        return real(*a, **k)
    sqlite3.connect = counting
    return count


# --- 2. soak ----------------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def _free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, timeout: float = 90) -> None:
    """Wait for the Streamlit server's health endpoint."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("streamlit did not start")


def soak(minutes: float, sample_s: float = 10.0, warmup_s: float = 60.0, log=print) -> dict:
    """RSS of the streamlit server over `minutes` while Chromium watches a real training run."""
    from playwright.sync_api import sync_playwright
    root = Path(tempfile.mkdtemp(prefix="seqgan_soak_"))
    env = {**os.environ, "SEQGAN_RUNS": str(root)}
    run_dir = JobManager(root).submit(apply_overrides(preset("tiny"), {"adv_rounds": 1_000_000, "name": "soak"}))
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless",
                               "true", "--server.port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    samples: list[tuple[float, float]] = []
    try:
        url = f"http://localhost:{port}"
        _wait_healthy(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(f"{url}/live?run={run_dir.name}")
            t0 = time.time()
            while time.time() - t0 < minutes * 60:
                time.sleep(sample_s)
                samples.append((time.time() - t0, rss_mb(server.pid)))
                log(f"  t={samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB  "
                    f"round {RunDB(run_dir).state().get('progress', {}).get('index')}")
            exceptions = page.get_by_test_id("stException").count()
            browser.close()
    finally:
        _stop(run_dir, server)
    return _soak_summary(samples, warmup_s, run_dir, exceptions)


def _stop(run_dir: Path, server: subprocess.Popen) -> None:
    """End the soak's worker (by its own pid) and the server."""
    state = RunDB(run_dir).state()
    if state.get("pid") and is_alive(state):
        os.kill(state["pid"], signal.SIGTERM)
    server.terminate()
    server.wait(timeout=30)


def _soak_summary(samples, warmup_s: float, run_dir: Path, exceptions: int) -> dict:
    """RSS figures after warm-up: first and last sixth of the watch, min, max, drift."""
    steady = [m for t, m in samples if t >= warmup_s] or [m for _, m in samples]
    k = max(1, len(steady) // 6)                   # first and last sixth of the watch after warm-up
    first, last = statistics.mean(steady[:k]), statistics.mean(steady[-k:])
    return {"minutes": round(samples[-1][0] / 60, 1) if samples else 0, "samples": len(samples),
            "rss_mb_after_warmup_first": round(first, 1), "rss_mb_last": round(last, 1),
            "rss_mb_min": round(min(steady), 1), "rss_mb_max": round(max(steady), 1),
            "drift_percent": round(100 * (last - first) / first, 1),
            "band_percent": round(100 * (max(steady) - min(steady)) / first, 1),
            "rounds_trained": RunDB(run_dir).state().get("progress", {}).get("index"),
            "page_exceptions": exceptions}


def main() -> int:
    """Run the chosen parts and print their figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20, help="refreshes timed after the first render")
    ap.add_argument("--soak-minutes", type=float, default=0, help="also watch a real run this long (0: skip)")
    ap.add_argument("--skip-render", action="store_true", help="only the soak")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {}
    if not args.skip_render:
        out["render"] = bench_render(args.repeats)
    if args.soak_minutes:
        out["soak"] = soak(args.soak_minutes, log=(lambda *_: None) if args.json else print)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for part, figures in out.items():
            print(f"[{part}]")
            for k, v in figures.items():
                print(f"  {k:32s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
