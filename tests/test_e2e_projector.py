"""Issue 9 in headless Chromium: a finished run on a 1024 × 768 projector (items 12, 13) and download
buttons clicked in quick succession (item 11). Waits on conditions, never on sleeps."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from test_app_support import template_run
from test_e2e_browser import CHROMIUM, CHROMIUM_ARGS, REPO, button, free_port, sync_api, wait_healthy

pytestmark = pytest.mark.e2e
RUN_ID = "20990101-000000-oracle-test"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` over a runs root holding one finished tiny run."""
    root = tmp_path_factory.mktemp("proj") / "runs"
    shutil.copytree(template_run(), root / RUN_ID)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless",
                             "true", "--server.port", str(port)], cwd=REPO,
                            env={**os.environ, "SEQGAN_RUNS": str(root)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, url: str, path: str, width: int = 1024, height: int = 768):
    page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    page.goto(f"{url}/{path}?run={RUN_ID}")
    page.get_by_role("heading", level=1).first.wait_for(timeout=60_000)
    return page


def _charts_drawn(page, n: int) -> None:
    page.wait_for_function("(n) => document.querySelectorAll('.js-plotly-plot .gtitle').length >= n", arg=n,
                           timeout=60_000)


OVERFLOW = """(sel) => [...document.querySelectorAll(sel)]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.innerText.slice(0, 60))"""

LEGEND_ON_TITLE = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(gd => {
    const t = gd.querySelector('.gtitle'), l = gd.querySelector('.legend');
    if (!t || !l) return [];
    const a = t.getBoundingClientRect(), b = l.getBoundingClientRect();
    const hit = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    return hit ? [t.textContent] : []; })"""


def test_item12_live_reads_on_a_1024_projector(server, browser):
    page = _open(browser, server, "live")
    page.locator(".sg-seq").first.wait_for(timeout=60_000)
    _charts_drawn(page, 6)
    sidebar = page.locator("section[data-testid=stSidebar]").bounding_box()
    assert sidebar["width"] <= 0.25 * 1024, sidebar
    assert page.evaluate(OVERFLOW, ".sg-seq") == []                      # sample rows wrap, none cut
    assert page.evaluate(OVERFLOW, "[data-testid=stMetricLabel] *") == []  # metric labels whole
    assert page.evaluate(LEGEND_ON_TITLE) == []                           # no legend over a title
    page.close()


def test_item12_runs_buttons_are_whole_on_a_1024_projector(server, browser):
    page = _open(browser, server, "runs")
    button(page, "runs.dl.samples").wait_for(timeout=60_000)
    cut = page.evaluate(OVERFLOW, "[data-testid^=stBaseButton] [data-testid=stMarkdownContainer]")
    assert cut == []
    page.close()


def test_item11_downloads_clicked_in_quick_succession_all_arrive(server, browser, tmp_path):
    page = _open(browser, server, "runs", 1400, 900)
    keys = ["runs.dl.csv", "runs.dl.cfg", "runs.dl.ckpt", "runs.dl.samples"]
    for k in keys:
        button(page, k).wait_for(timeout=60_000)
    got = []
    for k in keys:                                   # each click straight after the previous download began
        with page.expect_download(timeout=60_000) as d:
            button(page, k).click()
        got.append(d.value)
    for d in got:
        assert d.failure() is None, d.suggested_filename
        path = tmp_path / d.suggested_filename
        d.save_as(path)
        assert path.stat().st_size > 0, d.suggested_filename
    assert page.get_by_test_id("stException").count() == 0
    page.close()
