"""End to end in headless Chromium: `streamlit run app.py`, choose the tiny preset, Start, watch the NLL
chart gain points and the Q heatmap appear, pause, resume, stop, and visit every page without an exception.

Screenshots of every page go to $SEQGAN_SCREENSHOTS when set (else to the test's tmp folder). Skips with
a reason when Chromium or Playwright is missing.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from seqgan_core.runs import JobManager
from seqgan_core.runs.jobs import is_alive

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[1]
PAGES = {"Setup": "", "Live": "live", "Roll-outs": "rollouts", "Runs": "runs", "Learn": "learn"}
ADV_ROUNDS = 400          # long enough to pause, resume and stop while it trains

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait for the Streamlit server's health endpoint."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited early")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("streamlit did not become healthy")


def stop_workers(root: Path) -> None:
    """End every worker the test started (by its own pid) and wait for it."""
    for run in JobManager(root).runs():
        pid = run["state"].get("pid")
        if pid and is_alive(run["state"]):
            os.kill(pid, signal.SIGTERM)


@contextmanager
def streamlit_server(root: Path, **env):
    """`streamlit run app.py` on a free port over the runs root (env added); workers and server ended after."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless",
                             "true", "--server.port", str(port)], cwd=REPO,
                            env={**os.environ, "SEQGAN_RUNS": str(root), **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop_workers(root)
        proc.terminate()
        proc.wait(timeout=60)


@pytest.fixture
def app_url(tmp_path):
    """The app on an empty runs root."""
    with streamlit_server(tmp_path / "runs") as url:
        yield url, tmp_path / "runs"


@pytest.fixture
def page():
    """A headless Chromium page, tall enough to hold the Live page."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1400, "height": 2400})
        browser.close()


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go."""
    out = Path(os.environ.get("SEQGAN_SCREENSHOTS") or tmp_path / "shots")
    out.mkdir(parents=True, exist_ok=True)
    return out


def choose(page, label: str, option: str) -> None:
    """Pick an option of the Streamlit selectbox with this label."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def set_number(page, label: str, value: int) -> None:
    """Type a value into the Streamlit number input with this label."""
    box = page.get_by_test_id("stNumberInput").filter(has_text=label).first.locator("input")
    box.fill(str(value))
    box.press("Enter")


def button(page, key: str):
    """A button by its Streamlit key (its container carries the class st-key-<key>, dots made dashes)."""
    return page.locator(f".st-key-{key.replace('.', '-')} button").first


def plot_points(page, title_start: str) -> int:
    """Points drawn in the Plotly chart whose title starts with title_start (0 when it is not there).
    Plotly's own count per trace (_length): Streamlit sends arrays base64-packed, without a .length."""
    return page.evaluate("""(start) => {
        for (const gd of document.querySelectorAll('.js-plotly-plot')) {
            const t = gd.layout && gd.layout.title && gd.layout.title.text;
            if (t && t.replace(/<[^>]*>/g, '').startsWith(start))
                return gd._fullData.reduce((n, tr) => n + (tr._length || 0), 0);
        }
        return 0; }""", title_start)


def has_heatmap(page) -> bool:
    """Whether a Plotly heatmap (the Q map) is on the page."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .some(gd => gd.data && gd.data.some(tr => tr.type === 'heatmap'))""")


def wait_for(predicate, timeout: float, what: str, page=None) -> None:
    """Poll predicate until it holds; on timeout save a screenshot and fail."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    if page is not None:
        page.screenshot(path=str(Path(os.environ.get("SEQGAN_SCREENSHOTS", "/tmp")) / "e2e_timeout.png"))
    raise AssertionError(f"timed out waiting for {what}")


def status_is(page, status: str) -> bool:
    """Whether the Live page's header shows this status."""
    return page.get_by_text(re.compile(rf"· {status}$")).count() > 0


def no_exception(page) -> None:
    """No Streamlit exception box on the page."""
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()


def test_train_watch_control_and_every_page(app_url, page, tmp_path):
    url, root = app_url
    shots = shots_dir(tmp_path)
    page.goto(url)
    page.get_by_role("heading", name="Setup", exact=True).wait_for(timeout=60_000)
    choose(page, "Preset", "tiny")
    set_number(page, "adversarial rounds", ADV_ROUNDS)
    page.wait_for_timeout(1500)                      # the rerun that takes the new value
    page.screenshot(path=str(shots / "setup.png"))
    no_exception(page)
    page.get_by_role("button", name=re.compile("Start")).click()

    page.get_by_role("heading", name="Live", exact=True).wait_for(timeout=30_000)
    wait_for(lambda: status_is(page, "running"), 90, "the run to start", page)
    wait_for(lambda: plot_points(page, "Generator NLL") > 0, 90, "the first NLL points", page)
    first = plot_points(page, "Generator NLL")
    wait_for(lambda: plot_points(page, "Generator NLL") > first, 90, "the NLL chart to gain points", page)
    wait_for(lambda: has_heatmap(page), 120, "the Q heatmap", page)
    no_exception(page)
    page.screenshot(path=str(shots / "live.png"))

    button(page, "live.pause").click()
    wait_for(lambda: status_is(page, "paused"), 60, "the run to pause", page)
    button(page, "live.resume").click()
    wait_for(lambda: status_is(page, "running"), 60, "the run to resume", page)
    button(page, "live.stop").click()
    wait_for(lambda: status_is(page, "stopped"), 60, "the run to stop", page)
    no_exception(page)
    assert [r["status"] for r in JobManager(root).runs()] == ["stopped"]

    for title, path in PAGES.items():
        page.goto(f"{url}/{path}")
        page.get_by_role("heading", name=title, exact=True).wait_for(timeout=30_000)
        page.wait_for_timeout(2500)                  # charts and fragments settle
        no_exception(page)
        page.screenshot(path=str(shots / f"page_{path or 'setup'}.png"))
