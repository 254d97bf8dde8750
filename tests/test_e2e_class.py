"""Two browsers at once on a server in class mode: the teacher (signed in by the key link) and a student
(joined by the code link) — the student is in the teacher's list, sees the shared run and not the private
one, stays in after a refresh, is read-only on the shared run's Live page, and is out once the teacher
removes them.

Screenshots (the teacher's Class page with its code and QR, a student's view) at 1400 × 900 and 1024 × 768
go to $SEQGAN_SCREENSHOTS when set. Skips when Chromium or Playwright is missing.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from seqgan_core import classroom as C

from test_app_support import add_run
from test_e2e_browser import CHROMIUM, CHROMIUM_ARGS, no_exception, shots_dir, streamlit_server, sync_api

pytestmark = pytest.mark.e2e
SIZES = {"1400x900": (1400, 900), "1024x768": (1024, 768)}


@pytest.fixture
def class_server(tmp_path, monkeypatch):
    """The app in class mode: a shared and a private finished run."""
    root, key = tmp_path / "runs", secrets.token_urlsafe(18)
    monkeypatch.setenv("SEQGAN_TEACHER_KEY", key)         # this process writes the register the server reads
    shared = add_run(root, "20990101-000001-oracle-shared")
    private = add_run(root, "20990101-000002-oracle-private")
    C.Room(root).share(shared.name)
    with streamlit_server(root, SEQGAN_CLASS="1", SEQGAN_TEACHER_KEY=key) as url:
        yield url, root, key, shared.name, private.name


@pytest.fixture
def two_browsers():
    """Two isolated browser contexts (no shared cookies or storage): the teacher's and a student's."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_context(viewport={"width": 1400, "height": 900}).new_page(), \
            browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        browser.close()


def heading(page, text: str, timeout: float = 60_000) -> None:
    page.get_by_role("heading", name=text, exact=True).wait_for(timeout=timeout)


def shoot(page, shots: Path, name: str) -> None:
    for label, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_function("([w]) => window.innerWidth === w", arg=[w])
        page.screenshot(path=str(shots / f"{name}_{label}.png"))
    page.set_viewport_size({"width": 1400, "height": 900})


def test_teacher_and_student_at_once(class_server, two_browsers, tmp_path):
    url, root, key, shared, private = class_server
    teacher, student = two_browsers
    shots = shots_dir(tmp_path)
    code = C.Room(root).code

    teacher.goto(f"{url}/class?key={key}")
    heading(teacher, "Class")
    teacher.get_by_text(code, exact=True).wait_for()
    teacher.wait_for_function("() => !location.search.includes('key=') && location.search.includes('as=')")
    teacher.locator("[data-testid='stImage'] img").first.wait_for()
    no_exception(teacher)

    student.goto(f"{url}/?join={code}")
    heading(student, "Join the class")
    student.get_by_label("Your name").fill("Ada Lovelace")
    student.get_by_role("button", name=re.compile("Join the class")).click()
    student.get_by_text(re.compile("You are in the class as")).wait_for(timeout=30_000)
    student.wait_for_function("() => location.search.includes('as=')")
    no_exception(student)

    teacher.reload()                                  # the teacher's pass survives a refresh too
    heading(teacher, "Class")
    # the students table (a canvas grid; its cells are in an accessible table, attached but not "visible")
    teacher.get_by_text("Ada Lovelace", exact=True).first.wait_for(state="attached", timeout=30_000)
    shoot(teacher, shots, "class_teacher")

    student.reload()
    student.get_by_text(re.compile("You are in the class as")).wait_for(timeout=30_000)
    student.get_by_role("link", name="Runs").click()
    heading(student, "Runs")
    student.get_by_text("Student: Ada Lovelace").wait_for()
    student.wait_for_function("() => location.search.includes('as=')")   # a page switch keeps the pass
    student.get_by_text(shared, exact=True).first.wait_for(state="attached")
    cells = student.get_by_test_id("stDataFrame").first.text_content()
    assert shared in cells and private not in cells
    shoot(student, shots, "class_student_runs")
    # the shared run on Live: read-only (the server-side refusals of each action are AppTests)
    student.get_by_role("link", name="Live").click()
    heading(student, "Live")
    student.get_by_text(re.compile(r"tiny-test · oracle · finished")).first.wait_for(timeout=30_000)
    assert student.locator(".st-key-live-resume, .st-key-live-stop").count() == 0
    assert student.get_by_test_id("stNumberInput").count() == 0          # no schedule form
    no_exception(student)

    token = student.evaluate("() => new URLSearchParams(location.search).get('as')")
    C.Room(root).remove_student(next(iter(C.Room(root).students())))
    student.goto(f"{url}/runs?as={token}")       # (a plain ?run= link of a shared run would still show it)
    heading(student, "Join the class")
    student.get_by_text(re.compile("not valid here any more")).wait_for()
    no_exception(teacher)
