"""Issue 12: a class on one server. Each role's forbidden actions are refused on the server side; tokens
that are forged, of an earlier class or of a removed student get nothing; students start within the rules."""
import time

import pytest
from streamlit.testing.v1 import AppTest

from seqgan_core import classroom as C
from seqgan_core.runs import JobManager, RunDB
from seqgan_core.runs.trash import trashed
from ui import roles as R

from test_app_support import APP, TIMEOUT, add_run, controls, make_alive, no_exception, no_workers  # noqa: F401

LIVE, RUNS, SETUP, CLASS = "app_pages/live.py", "app_pages/runs.py", "app_pages/setup.py", "app_pages/class_page.py"


@pytest.fixture
def room(runs_root, monkeypatch):
    """Class mode on, with a teacher key and an empty class."""
    monkeypatch.setenv("SEQGAN_CLASS", "1")
    monkeypatch.delenv("SEQGAN_TEACHER_KEY", raising=False)
    C.ensure_key(runs_root)
    return C.Room(runs_root)


def visit(page=None, token=None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if token:
        at.query_params["as"] = token
    at.query_params.update(params)
    at.run()
    if page:
        at.switch_page(page).run()
    no_exception(at)
    return at


def joins_only(token=None, **params) -> AppTest:
    """The app as a visitor sees it: the join page, and no other page to switch to."""
    at = visit(None, token, **params)
    assert at.title[0].value == "Join the class" and not at.dataframe and not at.get("plotly_chart")
    for page in (RUNS, LIVE, SETUP):
        with pytest.raises(ValueError, match="navigation page"):
            at.switch_page(page)
    return at


def student(room, name="Ada") -> tuple[str, str]:
    sid, _ = room.add_student(name)
    return sid, C.sign(C.STUDENT, {"c": room.class_id, "s": sid})


def teacher_token() -> str:
    return C.sign(C.TEACHER, {"ip": "local"})


def run_ids(at) -> set:
    return set(at.dataframe[0].value["run"]) if at.dataframe else set()


def texts(at) -> str:
    return " ".join(e.value for e in [*at.error, *at.warning, *at.info, *at.caption, *at.markdown])


# --- visitors and tokens -----------------------------------------------------------------------------------

def test_class_mode_needs_a_teacher_key(runs_root, monkeypatch):
    monkeypatch.setenv("SEQGAN_CLASS", "1")
    monkeypatch.delenv("SEQGAN_TEACHER_KEY", raising=False)
    add_run(runs_root)
    at = visit(RUNS)
    assert "no teacher key" in at.error[0].value and not at.dataframe


def test_a_visitor_sees_the_join_page_only(room, runs_root):
    add_run(runs_root)
    joins_only()


@pytest.mark.parametrize("token", ["garbage", "x.y.z"])
def test_a_forged_token_gets_nothing(room, runs_root, token):
    add_run(runs_root)
    at = joins_only(token)
    assert "not valid" in at.error[0].value
    assert "as" not in at.query_params


def test_a_token_signed_by_another_key_or_of_an_earlier_class_gets_nothing(room, runs_root):
    add_run(runs_root)
    sid, token = student(room)
    assert visit(RUNS, token=token).title[0].value == "Runs"
    room.new_class()                                            # the same token, replayed in the next class
    joins_only(token)
    _, token = student(room, "Bea")
    C.rotate_key(runs_root)
    joins_only(token)
    assert visit(RUNS, token=teacher_token()).title[0].value == "Runs"      # signed with the new key


def test_a_removed_student_is_out_at_once(room, runs_root):
    sid, token = student(room)
    assert visit(LIVE, token=token).title[0].value == "Live"
    room.remove_student(sid)
    joins_only(token)


def test_a_teacher_token_from_another_address_gets_nothing(room, runs_root):
    token = C.sign(C.TEACHER, {"ip": "10.0.0.7"})              # photographed off the projector elsewhere
    joins_only(token)


def test_join_with_the_code_and_a_name(room, runs_root):
    at = visit(join=room.code.lower())
    assert at.text_input(key="class.code").value == room.code.lower()
    at.text_input(key="class.name").input("Ada")
    at.button[0].click().run()          # the form's submit button
    no_exception(at)
    token = at.query_params["as"]
    assert C.read_token(C.STUDENT, token)["c"] == room.class_id
    assert [s["name"] for s in room.students().values()] == ["Ada"]
    at = visit(CLASS, token=token)                               # a refresh keeps the pass
    assert "You are in the class as" in at.success[0].value


def test_a_wrong_code_or_a_taken_name_is_refused(room):
    student(room, "Ada")
    at = visit(join="ZZZZZZ")
    at.text_input(key="class.name").input("Bea")
    at.button[0].click().run()
    assert "not this class's code" in at.error[0].value and "as" not in at.query_params
    at.text_input(key="class.code").input(room.code)
    at.text_input(key="class.name").input("ada")
    at.button[0].click().run()
    assert "taken" in at.error[0].value


def test_the_teacher_key_link_becomes_a_token_and_leaves_the_url(room, runs_root):
    at = visit(CLASS, key=C.teacher_key(runs_root))
    assert "key" not in at.query_params and C.read_token(C.TEACHER, at.query_params["as"])
    assert at.title[0].value == "Class" and room.code in " ".join(h.proto.body for h in at.get("html"))
    at = joins_only(key="not-the-key-at-all")
    assert "teacher key" in at.error[0].value


# --- what each role may see and do ------------------------------------------------------------------------

def _four_runs(room, runs_root, sid):
    shared = add_run(runs_root, "20990101-000001-oracle-shared")
    private = add_run(runs_root, "20990101-000002-oracle-private")
    mine = add_run(runs_root, "20990101-000003-oracle-mine")
    theirs = add_run(runs_root, "20990101-000004-oracle-theirs")
    RunDB(mine).set_state(owner=sid)
    RunDB(theirs).set_state(owner="someone-else")
    room.share(shared.name)
    return shared, private, mine, theirs


def test_a_student_sees_shared_runs_and_their_own_only(room, runs_root):
    sid, token = student(room)
    shared, private, mine, theirs = _four_runs(room, runs_root, sid)
    at = visit(RUNS, token=token)
    assert run_ids(at) == {shared.name, mine.name}
    assert len(at.sidebar.selectbox(key="studio.run_picker").options) == 2
    at = visit(RUNS, token=teacher_token())
    assert run_ids(at) == {shared.name, private.name, mine.name, theirs.name}


def test_a_student_cannot_steer_stop_or_delete_the_teachers_run(room, runs_root):
    sid, token = student(room)
    run = add_run(runs_root)
    room.share(run.name)
    make_alive(run)
    at = visit(LIVE, token=token)
    assert at.title[0].value == "Live" and not [b for b in at.button if b.key and b.key.startswith("live.")]
    assert not at.number_input                                      # no schedule form either
    with_role = {"role": R.Role(R.STUDENT, sid=sid, name="Ada")}
    assert "not yours" in R.refusal("control", run=run, **with_role)   # what send() asks on the server
    assert R.refusal("control", run=run, role=R.Role(R.TEACHER)) is None
    assert controls(run) == []
    RunDB(run).set_state(status="stopped", pid=None)
    at = visit(RUNS, token=token)
    # offered greyed out with the reason; the refusal behind them is what the server asks (above)
    assert at.button(key="runs.resume").disabled and "not yours" in at.button(key="runs.resume").help
    assert at.button(key="runs.delete_locked").disabled and "not yours" in at.button(key="runs.delete_locked").help
    assert not [c for c in at.checkbox if c.key == "runs.confirm"]
    assert "not yours" in R.refusal("resume", run=run, **with_role) and "not yours" in R.refusal("delete", run=run, **with_role)
    assert RunDB(run).state()["status"] == "stopped" and run.exists()
    at = visit(RUNS, token=teacher_token())
    assert not at.button(key="runs.resume").disabled and [c for c in at.checkbox if c.key == "runs.confirm"]


def test_a_student_steers_their_own_run_within_the_rules(room, runs_root):
    sid, token = student(room)
    run = add_run(runs_root)
    RunDB(run).set_state(owner=sid)
    make_alive(run)
    room.set_rules(C.Rules(max_rollout_num=8))
    at = visit(LIVE, token=token)
    at.button(key="live.pause").click().run()
    assert [c for c, _ in controls(run)] == ["pause"]
    at.number_input(key=f"live.set.{run.name}.rollout_num").set_value(12)
    next(b for b in at.get("button") if "Apply" in str(b.proto.label)).click().run()
    assert "N is at most 8" in at.error[0].value and [c for c, _ in controls(run)] == ["pause"]


def test_a_viewer_link_shows_one_run_read_only(room, runs_root):
    one = add_run(runs_root, "20990101-000001-oracle-one")
    other = add_run(runs_root, "20990101-000002-oracle-two")
    make_alive(one)
    token = C.sign(C.VIEWER, {"run": one.name})
    at = visit(LIVE, token=token)
    assert one.name in at.sidebar.selectbox(key="studio.run_picker").value
    assert not [b for b in at.button if b.key and b.key.startswith("live.")]
    RunDB(one).set_state(status="stopped", pid=None)
    at = visit(RUNS, token=token)
    assert run_ids(at) == {one.name}
    assert at.button(key="runs.delete_locked").disabled and "watching" in at.button(key="runs.delete_locked").help
    assert at.button(key="runs.resume").disabled and one.exists() and other.exists()
    at = visit(SETUP, token=token)
    assert not [b for b in at.button if b.key in ("setup.start", "setup.measure")] and "watching" in texts(at)


def test_a_class_of_watchers_shares_one_refresh_budget(room, runs_root, monkeypatch):
    """Up to ten watchers refresh at the normal pace; beyond, all slow down together and the page says so."""
    from ui import live
    assert [live.Watchers.pace(n) for n in (1, 10, 11, 20, 21, 30)] == [1, 1, 2, 2, 3, 3]
    monkeypatch.setattr(live, "WATCHERS", live.Watchers())
    one = add_run(runs_root, "20990101-000001-oracle-one")
    make_alive(one)
    token = C.sign(C.VIEWER, {"run": one.name})
    at = visit(LIVE, token=token)
    assert not [c for c in at.caption if "people are watching" in c.value]          # alone: normal pace
    for i in range(24):                                                              # the rest of the class
        live.WATCHERS.seen(f"student-{i}")
    at = visit(LIVE, token=token)
    no_exception(at)
    said = [c.value for c in at.caption if "people are watching" in c.value]
    assert said and "26 people" in said[0] and "every 6 s (charts every 15 s)" in said[0]
    teacher = visit(CLASS, token=teacher_token())                                  # the teacher sees it too
    assert any("26 watching a Live page now" in c.value and "3× less often" in c.value for c in teacher.caption)
    assert live.WATCHERS.seen("student-0", now=time.time() + 60) == 1                  # those gone are forgotten


def test_a_plain_run_link_opens_shared_runs_only(room, runs_root):
    shared = add_run(runs_root, "20990101-000001-oracle-shared")
    private = add_run(runs_root, "20990101-000002-oracle-private")
    room.share(shared.name)
    at = visit(RUNS, run=shared.name)
    assert run_ids(at) == {shared.name}
    joins_only(run=private.name)


def test_a_student_starts_within_the_rules_and_the_rate_limit(room, runs_root, no_workers):
    sid, token = student(room)
    at = visit(SETUP, token=token)
    assert not [b for b in at.button if b.key == "setup.start"] and "not opened" in texts(at)
    room.set_rules(C.Rules(students_may_start=True, presets=["tiny", "classroom"], max_adv_rounds=30,
                           max_active=1, min_start_interval_s=600))
    at = visit(SETUP, token=token)
    at.selectbox(key="setup.preset").select("tiny").run()
    at.button(key="setup.start").click().run()
    no_exception(at)
    assert len(C.room.owned(JobManager(runs_root).runs(), sid)) == 1 and len(room.starts(sid)) == 1
    at = visit(SETUP, token=token)
    at.selectbox(key="setup.preset").select("tiny").run()
    assert at.button(key="setup.start").disabled
    assert "queued or training" in texts(at) and "try again in" in texts(at)


def test_a_student_cannot_start_a_bigger_run_than_the_class_allows(room, runs_root, no_workers):
    sid, token = student(room)
    room.set_rules(C.Rules(students_may_start=True, presets=["tiny"], max_rollout_num=4))
    at = visit(SETUP, token=token)
    at.selectbox(key="setup.preset").select("tiny").run()
    at.number_input(key="setup.f.schedule.rollout_num").set_value(16).run()
    assert at.button(key="setup.start").disabled and "N is at most 4" in texts(at)
    assert len(room.starts(sid)) == 0


def test_the_teacher_deletes_to_the_trash_and_empties_it(room, runs_root):
    run = add_run(runs_root)
    at = visit(RUNS, token=teacher_token())
    at.checkbox(key="runs.confirm").check().run()
    at.button(key="runs.delete").click().run()
    assert not run.exists() and [t["name"] for t in trashed(runs_root)] == [run.name]
    at = visit(CLASS, token=teacher_token())
    at.button(key="class.restore").click().run()
    assert run.exists()


def test_only_the_teacher_sees_the_desk(room, runs_root):
    _, token = student(room)
    at = visit(CLASS, token=token)
    assert not at.get("imgs") and room.code not in " ".join(h.proto.body for h in at.get("html"))
    at = visit(CLASS, token=teacher_token())
    assert room.code in " ".join(h.proto.body for h in at.get("html"))
    at.toggle[0].set_value(True)
    next(b for b in at.get("button") if "Save the rules" in str(b.proto.label)).click().run()
    assert room.rules().students_may_start


# --- lessons by link ------------------------------------------------------------------------------------------

def _lesson(runs_root, lock, hide):
    from seqgan_core.config import preset
    from ui.lesson_link import make
    C.ensure_key(runs_root)
    cfg = preset("tiny")
    cfg.schedule.rollout_num, cfg.schedule.adv_rounds = 3, 7
    return make(cfg.to_dict(), lock, hide)


def test_a_lesson_link_opens_setup_with_its_values_locked_and_hidden(runs_root, no_workers):
    token = _lesson(runs_root, ["preset", "data", "schedule.rollout_num"], ["schedule.adv_rounds"])
    at = visit(None, lesson=token)
    assert at.title[0].value == "Setup"
    n = at.number_input(key="setup.f.schedule.rollout_num")
    assert n.value == 3 and n.disabled
    assert not [w for w in at.number_input if w.key == "setup.f.schedule.adv_rounds"]     # hidden
    assert at.selectbox(key="setup.preset").disabled and at.selectbox(key="setup.dataset").disabled
    assert not at.number_input(key="setup.f.schedule.g_steps").disabled                    # left open
    at.button(key="setup.start").click().run()
    cfg = JobManager(runs_root).runs()[0]["config"]
    assert cfg["schedule"]["rollout_num"] == 3 and cfg["schedule"]["adv_rounds"] == 7


def test_a_lesson_cannot_be_unlocked(runs_root):
    token = _lesson(runs_root, ["schedule.rollout_num"], [])
    from itsdangerous import URLSafeTimedSerializer
    lesson = C.read_token(C.LESSON, token)
    forged = URLSafeTimedSerializer("a student's guess", salt="seqgan-lesson").dumps({**lesson, "lock": []})
    at = visit(None, lesson=forged)
    assert "not valid" in at.error[0].value
    assert not at.number_input(key="setup.f.schedule.rollout_num").disabled                 # no lesson applied
    at = visit(None, lesson=token)
    at.session_state["setup.f.schedule.rollout_num"] = 9         # a value the locked widget could never send
    at.run()
    assert at.button(key="setup.start").disabled and "lesson fixes schedule.rollout_num" in texts(at)
