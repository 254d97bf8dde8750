"""Issue 9 item 3: a pause or a stop acts between two minibatches (or roll-out chunks) of a unit, not at its
end, and the run still resumes exactly as an uninterrupted one: same rows, same weights, bit for bit."""
import shutil

import pytest
import torch

from seqgan_core.config import preset
from seqgan_core.train import Control, Trainer

from test_train import Recorder, _final_state


class Progress(Recorder):
    def __init__(self):
        super().__init__()
        self.progress_seen = []

    def progress(self, info):
        self.progress_seen.append(info)


class Inside(Control):
    """Sends `command` from inside the first unit whose label starts with `label`, once `part` `done` of it
    have run; a pause is resumed at the next request read (after copying the checkpoint written then)."""

    def __init__(self, command: str, label: str, part: str, done: int, keep=None):
        self.command, self.label, self.part, self.done, self.keep = command, label, part, done, keep
        self.trainer, self.sent, self.resumed, self.where = None, False, False, None

    def urgent(self):
        u = self.trainer._in_unit
        if not self.sent and u["label"].startswith(self.label) and u["part"] == self.part and u["done"] >= self.done:
            self.sent, self.where = True, dict(u, step=self.trainer.pos.step)
            return [{"command": self.command, "payload": {}}]
        if self.sent and self.command == "pause" and not self.resumed:
            self.resumed = True
            if self.keep:                 # what a kill -9 during the pause would leave
                shutil.copy(self.keep / "latest.pt", self.keep / "while_paused.pt")
            return [{"command": "resume", "payload": {}}]
        return []


def _run(cfg, tmp_path, name, control=None):
    rec = Progress()
    tr = Trainer(cfg, rec, control, checkpoint_dir=tmp_path / name)
    tr.poll_every_s = 0.0             # read requests at every minibatch of every unit, however short, so the
    tr.answer_inside_over_s = 0.0     # test does not depend on speed
    if control:
        control.trainer = tr
    return tr, rec


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    cfg = preset("tiny")
    tr, rec = _run(cfg, tmp_path_factory.mktemp("full"), "a")
    assert tr.run() == "finished"
    return cfg, _final_state(tr), rec.rows


WHERE = [("MLE epoch 2", "minibatch", 5), ("D pre-training round 2", "minibatch", 7),
         ("round 2/4, g-step", "roll-out chunk", 0), ("round 2/4, g-step", "D scoring chunk", 1),
         ("round 3/4, d-step", "minibatch", 9)]


@pytest.mark.parametrize("label,part,done", WHERE)
def test_item3_a_stop_inside_a_unit_drops_it_and_the_resumed_run_is_the_same(tmp_path, uninterrupted, label,
                                                                             part, done):
    cfg, full_state, full_rows = uninterrupted
    control = Inside("stop", label, part, done)
    tr, rec = _run(cfg, tmp_path, "b", control)
    assert tr.run() == "stopped"
    assert control.where is not None, f"never inside {label} at {part} {done}"
    assert tr.pos.step == control.where["step"]             # the unit was dropped, not finished
    if (part, done) != ("roll-out chunk", 0):    # (the unit's first request read comes before its first report)
        assert any((p["unit"] or {}).get("label", "").startswith(label) for p in rec.progress_seen)
    rest = Trainer.resume(tmp_path / "b" / "latest.pt", rec, checkpoint_dir=tmp_path / "b")
    assert rest.pos.step == control.where["step"]           # it starts again from that unit's start
    assert rest.run() == "finished"
    assert rec.rows == full_rows, "the record differs from the uninterrupted run's"
    b = _final_state(rest)
    assert all(torch.equal(full_state[k], b[k]) for k in full_state), "weights differ from the uninterrupted run's"


def test_item3_a_pause_waits_inside_the_unit_and_a_kill_while_paused_loses_nothing(tmp_path, uninterrupted):
    cfg, full_state, full_rows = uninterrupted
    control = Inside("pause", "D pre-training round 2", "minibatch", 7, keep=tmp_path / "b")
    tr, rec = _run(cfg, tmp_path, "b", control)
    assert tr.run() == "finished"
    assert rec.states[:2] == ["paused", "running"]           # paused inside the unit, then went on
    paused = [p for p in rec.progress_seen if p["paused"]]
    assert paused and paused[0]["unit"] == {"label": "D pre-training round 2/2", "part": "minibatch",
                                            "done": 7, "total": 16}
    assert rec.rows == full_rows
    b = _final_state(tr)
    assert all(torch.equal(full_state[k], b[k]) for k in full_state)
    # the checkpoint written while paused holds the unit's start: a worker killed then loses nothing
    rec2 = Progress()
    again = Trainer.resume(tmp_path / "b" / "while_paused.pt", rec2, checkpoint_dir=tmp_path / "c")
    assert again.pos.step == control.where["step"]
    assert again.run() == "finished"
    c = _final_state(again)
    assert all(torch.equal(full_state[k], c[k]) for k in full_state)
    n = len(full_rows) - len(rec2.rows)
    assert rec2.rows == full_rows[n:]                         # the rows after the unit's start, the same


def test_item3_schedule_changes_read_inside_a_unit_wait_for_its_end(tmp_path, uninterrupted):
    cfg, _, _ = uninterrupted

    class SetInside(Inside):
        def urgent(self):
            out = super().urgent()
            return [{"command": "set", "payload": {"g_steps": 2}}] if out else []

    control = SetInside("set", "round 2/4, g-step", "roll-out chunk", 0)
    tr, rec = _run(cfg, tmp_path, "b", control)
    assert tr.run() == "finished"
    sched = [e for e in rec.events if e[1] == "schedule"]
    # read during round 2's first g-step (index 1): it applies from the next round, as between units
    assert sched and sched[0][2]["from_round"] == 2 and sched[0][2]["g_steps"] == 2


class Queue(Control, Progress):
    """The run store's behaviour: one queue read between units and inside them. A stop is put in it as soon as
    the trainer reports being in D pre-training round 2 at minibatch 7."""

    def __init__(self):
        Progress.__init__(self)
        self.queue, self.at = [], None

    def progress(self, info):
        u = info.get("unit") or {}
        if self.at is None and u.get("label", "").startswith("D pre-training round 2") and u["done"] >= 7:
            self.queue.append({"command": "stop", "payload": {}})
            self.at = info["step"]

    def poll(self):
        out, self.queue = self.queue, []
        return out

    urgent = poll


@pytest.mark.parametrize("long_units", [True, False])
def test_item3_a_short_unit_answers_at_its_end_without_a_copy(tmp_path, long_units):
    q = Queue()
    tr = Trainer(preset("tiny"), q, q, checkpoint_dir=tmp_path / "b")
    tr.poll_every_s = 0.0
    tr.answer_inside_over_s = 0.0 if long_units else float("inf")   # inf: every unit counts as short
    assert tr.run() == "stopped"
    # a long unit is dropped at once; a short one (no copy of its start) is finished first
    assert tr.pos.step == q.at + (0 if long_units else 1)
