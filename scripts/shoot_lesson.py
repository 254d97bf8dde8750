"""Screenshots of a lesson run with its controls, as a class sees them: Live, Roll-outs and Learn at
1400x900 and 1024x768, the page scrolled section by section (Streamlit scrolls an inner container, so a
full-page screenshot shows only the first screen).

    python scripts/shoot_lesson.py --runs /tmp/lesson-runs --out /tmp/shots [--train] [--rounds 4]

--train first trains a short lesson run and its four controls into --runs with the engine's CLI (each in
the foreground, one after the other); without it the newest lesson run under --runs is shown. Needs
playwright and Chromium (/usr/bin/chromium). Waits on conditions (the page's charts drawn, Streamlit idle),
never on fixed sleeps.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SIZES = ((1400, 900), (1024, 768))
PAGES = ("live", "rollouts", "learn")
CONTROLS = {"mle": "reward=mle", "constant": "reward=constant", "shuffled": "reward=shuffled",
            "baseline": "reward_baseline=batch_mean"}
# Streamlit is idle: no "running" status widget, no skeletons, every Plotly chart has drawn its title
IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('.js-plotly-plot')].every(gd => gd.querySelector('.main-svg'))"""


def cli(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "seqgan_core", *args], cwd=REPO, env=env, check=True)


def train(root: Path, rounds: int, env: dict) -> Path:
    """A lesson run and its controls, branched at its adversarial start (as the Live page's button does)."""
    run = root / "lesson"
    cli("train", "--preset", "lesson", "--set", f"adv_rounds={rounds}", "--set", "name=lesson", "--out", str(run),
        env=env)
    for name, change in CONTROLS.items():
        cli("branch", str(run), "--at", "adversarial_start", "--set", change, "--set", f"name=lesson · {name}",
            "--out", str(root / f"lesson-{name}"), env=env)
    return run


def newest_lesson(root: Path) -> Path:
    """The newest SeqGAN run on the grammar data under root (not one of its controls)."""
    found = []
    for d in root.iterdir():
        if (d / "config.json").exists():
            cfg = json.loads((d / "config.json").read_text())
            s = cfg["schedule"]
            if cfg["data"]["name"] == "grammar" and s.get("reward", "discriminator") == "discriminator" \
                    and s.get("reward_baseline", "none") == "none":
                found.append(d)
    return max(found, key=lambda d: d.stat().st_mtime)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(root: Path, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=REPO, env={**env, "SEQGAN_RUNS": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("streamlit exited")
            time.sleep(0.5)
    proc.terminate()
    raise TimeoutError("streamlit did not start")


def shoot(page, url: str, out: Path, stem: str, max_shots: int = 14) -> list[Path]:
    """Open url, wait until idle, then screenshot each screenful of the scrolled main container."""
    page.goto(url)
    page.get_by_role("heading", level=1).first.wait_for(timeout=90_000)
    page.wait_for_function(IDLE, timeout=120_000, polling=500)
    shots, seen = [], -1
    main = "document.querySelector('[data-testid=\"stMain\"]')"
    for i in range(max_shots):
        top = page.evaluate(f"() => {{ const m = {main}; m.scrollTo(0, {i} * (m.clientHeight - 80)); "
                            "return m.scrollTop; }")
        if top == seen:
            break                                   # the bottom was reached
        seen = top
        page.wait_for_function(IDLE, timeout=60_000, polling=300)
        path = out / f"{stem}-{i + 1:02d}.png"
        page.screenshot(path=str(path))
        shots.append(path)
    return shots


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--pages", default=",".join(PAGES))
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright
    env = {**os.environ, "SEQGAN_RUNS": str(args.runs), "OMP_NUM_THREADS": "1"}
    args.runs.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    run = train(args.runs, args.rounds, env) if args.train else newest_lesson(args.runs)
    port = free_port()
    proc = serve(args.runs, port, env)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for w, h in SIZES:
                page = browser.new_page(viewport={"width": w, "height": h})
                for name in args.pages.split(","):
                    for path in shoot(page, f"http://localhost:{port}/{name}?run={run.name}", args.out,
                                      f"{name}-{w}x{h}"):
                        print(path)
                page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
