"""The class engine: the teacher's key, tokens (forged, expired, replayed after a rotation or a new class),
the rules a student's start must keep, the trash and the teacher-first queue."""
import os
import stat
import time

import pytest

from seqgan_core.classroom import (STUDENT, TEACHER, VIEWER, Room, Rules, ensure_key, is_teacher_key, key_path,
                                   read_token, rotate_key, sign, start_problems)
from seqgan_core.classroom.room import preset_of
from seqgan_core.config import preset
from seqgan_core.runs import JobManager, RunDB, create_run
from seqgan_core.runs.trash import empty_trash, restore, trashed


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQGAN_TEACHER_KEY", raising=False)
    monkeypatch.setenv("SEQGAN_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_key_is_made_once_private_and_compared_whole(root):
    key = ensure_key(root)
    assert ensure_key(root) == key and len(key) >= 16
    assert stat.S_IMODE(os.stat(key_path(root)).st_mode) == 0o600
    assert is_teacher_key(key, root) and is_teacher_key(f" {key}\n", root)
    assert not is_teacher_key(key[:-1], root) and not is_teacher_key("", root)


def test_key_from_the_environment_wins(root, monkeypatch):
    ensure_key(root)
    monkeypatch.setenv("SEQGAN_TEACHER_KEY", "x" * 20)
    assert is_teacher_key("x" * 20, root)
    with pytest.raises(ValueError):
        rotate_key(root)
    monkeypatch.setenv("SEQGAN_TEACHER_KEY", "short")
    with pytest.raises(ValueError):
        ensure_key(root)


def test_tokens_forged_of_another_kind_or_after_rotation_get_nothing(root):
    ensure_key(root)
    token = sign(STUDENT, {"c": "class", "s": "abc"}, root)
    assert read_token(STUDENT, token, root) == {"c": "class", "s": "abc"}
    assert read_token(TEACHER, token, root) is None                  # a student token is not a teacher's
    assert read_token(VIEWER, token, root) is None
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert read_token(STUDENT, forged, root) is None
    payload, sig = token.rsplit(".", 1)[0], token.rsplit(".", 1)[1]
    assert read_token(STUDENT, payload.replace("a", "b") + "." + sig, root) is None
    rotate_key(root)
    assert read_token(STUDENT, token, root) is None                  # replayed after a rotation


def test_expired_token_gets_nothing(root, monkeypatch):
    ensure_key(root)
    token = sign(TEACHER, {"r": "teacher"}, root)
    from seqgan_core.classroom import keys
    monkeypatch.setitem(keys.MAX_AGE_S, TEACHER, 10)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 11)
    assert read_token(TEACHER, token, root) is None


def test_code_students_and_a_new_class(root):
    room = Room(root)
    code = room.code
    assert len(code) == 6 and room.check_code(code.lower()) and not room.check_code("ZZZZZZ")
    sid, err = room.add_student("  Ada   L. ")
    assert err is None and room.student(sid)["name"] == "Ada L."
    assert room.add_student("ada l.")[0] is None                     # names are unique in a class
    assert room.add_student("")[1] and room.add_student("x" * 31)[1]
    room.remove_student(sid)
    assert room.student(sid) is None
    old = room.class_id
    room.new_class()
    assert room.class_id != old and room.students() == {}


def _runs(root):
    return JobManager(root).runs()


def test_start_rules(root):
    room = Room(root)
    rules = Rules(students_may_start=True, presets=["tiny"], datasets=["oracle"], max_rollout_num=4,
                  max_adv_rounds=4, max_active=1, max_total=2, min_start_interval_s=60)
    cfg = preset("tiny")
    assert "not opened" in start_problems(Rules(), cfg, "s1", room, [])[0]
    assert start_problems(rules, cfg, "s1", room, []) == []
    big = preset("tiny")
    big.schedule.rollout_num, big.schedule.adv_rounds = 8, 9
    errs = " ".join(start_problems(rules, big, "s1", room, []))
    assert "N is at most 4" in errs and "At most 4 adversarial rounds" in errs
    wide = preset("tiny")
    wide.generator.hidden_dim *= 4
    assert "presets" in " ".join(start_problems(rules, wide, "s1", room, []))
    assert preset_of(preset("classroom"), ["tiny", "classroom"]) == "classroom"
    other = preset("lesson")
    assert "Data set grammar" in " ".join(start_problems(rules, other, "s1", room, []))
    # at once, rate, total
    run = create_run(cfg, root)
    RunDB(run).set_state(owner="s1")
    room.record_start("s1", run.name, now=time.time())
    errs = " ".join(start_problems(rules, cfg, "s1", room, _runs(root)))
    assert "1 run(s) queued or training" in errs and "try again in" in errs
    assert start_problems(rules, cfg, "s2", room, _runs(root)) == []   # another student is not counted
    RunDB(run).set_state(status="finished")
    room.record_start("s1", run.name, now=time.time() - 120)
    errs = " ".join(start_problems(rules, cfg, "s1", room, _runs(root), now=time.time() + 120))
    assert "started 2 runs" in errs and "queued" not in errs and "try again" not in errs
    disk = Rules(**{**rules.__dict__, "max_total": 9, "max_disk_mb": 0})
    assert "MB" in " ".join(start_problems(disk, cfg, "s1", room, _runs(root), now=time.time() + 120))


def test_rules_are_checked_before_they_are_kept(root):
    room = Room(root)
    assert room.set_rules(Rules(presets=["nope"], max_rollout_num=0))
    assert room.rules() == Rules()
    assert room.set_rules(Rules(students_may_start=True)) == []
    assert room.rules().students_may_start


def test_delete_moves_to_a_trash_the_teacher_empties(root):
    jm = JobManager(root)
    run = create_run(preset("tiny"), root)
    RunDB(run).set_state(status="finished")
    jm.delete(run)
    assert not run.exists() and [t["name"] for t in trashed(root)] == [run.name]
    assert jm.runs() == []                                           # the trash is not a run
    restore(root, run.name)
    assert [r["id"] for r in jm.runs()] == [run.name]
    jm.delete(run)
    assert empty_trash(root) == 1 and trashed(root) == []


def test_students_runs_queue_behind_the_teachers(root, monkeypatch):
    jm = JobManager(root)
    spawned = []
    monkeypatch.setattr(JobManager, "_spawn", lambda self, d, slot: spawned.append(d.name) or
                        RunDB(d).set_state(starting=True, pid=os.getpid(), pid_start=None))
    monkeypatch.setattr("seqgan_core.runs.jobs.max_per_slot", lambda: 1)
    cfg = preset("tiny")
    cfg.device = "cpu"
    # nothing starts while the slot is taken: a live run of this very process holds it
    busy = create_run(cfg, root)
    from seqgan_core.runs.jobs import _process_start_time
    RunDB(busy).set_state(status="running", pid=os.getpid(), pid_start=_process_start_time(os.getpid()))
    student = jm.submit(cfg, owner="s1")
    teacher = jm.submit(cfg)
    assert RunDB(student).state()["created"] <= RunDB(teacher).state()["created"]
    RunDB(busy).set_state(status="finished")
    jm.schedule()
    assert spawned == [teacher.name]                                 # the teacher's later run goes first


def test_class_serve_makes_the_key_and_opens_to_the_room_in_class_mode(root, capsys):
    from seqgan_core.cli import main
    assert main(["class", "serve", "--dry-run", "--url", "http://10.1.2.3:8501"]) == 0
    out = capsys.readouterr().out
    key = key_path(root).read_text().strip()
    assert f"/class?key={key}" in out and f"http://10.1.2.3:8501/?join={Room(root).code}" in out
    assert "--server.address 0.0.0.0" in out
    assert main(["class", "key"]) == 0 and capsys.readouterr().out.strip() == key
    assert main(["class", "rotate"]) == 0 and capsys.readouterr().out.strip() != key


def test_the_server_listens_on_this_machine_only_by_default():
    import tomllib
    from pathlib import Path
    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "127.0.0.1"
