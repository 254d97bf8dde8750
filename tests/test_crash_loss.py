"""Issue 9 item 10: a worker that dies abruptly in round 3 of a small run loses at most that round, and the
resume message says what was lost (rounds and metric rows)."""
import pytest

from seqgan_core.config import preset
from seqgan_core.runs.jobs import open_trainer
from seqgan_core.runs.store import RunDB, StoreSink, create_run
from seqgan_core.train import Control, Trainer


class Killed(BaseException):
    """An abrupt end: nothing in the trainer catches it, no checkpoint is written (as with kill -9)."""


class KillInRound(Control):
    def __init__(self, round_index: int, g_done: int):
        self.round, self.g_done, self.trainer = round_index, g_done, None

    def poll(self):
        p = self.trainer.pos
        if p.phase == "adversarial" and p.index == self.round and p.g_done == self.g_done:
            raise Killed()
        return []


def _metrics(run_dir):
    return sorted((step, name, phase, x, v) for step, name, phase, x, v, _ in RunDB(run_dir).metrics_since(-1))


@pytest.fixture
def small():
    # a small run checkpoints every round (its checkpoint costs far less than 5 % of a round: bench_checkpoint)
    return preset("tiny").replace(adv_rounds=5, g_steps=2, checkpoint_every_rounds=1)


def test_item10_a_kill_in_round_3_loses_only_round_3_and_the_message_says_so(tmp_path, small):
    full = create_run(small, run_dir=tmp_path / "full")
    assert Trainer(small, StoreSink(RunDB(full)), checkpoint_dir=full / "checkpoints").run() == "finished"

    run_dir = create_run(small, run_dir=tmp_path / "killed")
    db = RunDB(run_dir)
    control = KillInRound(2, 1)                   # round 3 (index 2), after its first g-step and before the second
    tr = Trainer(small, StoreSink(db), control, checkpoint_dir=run_dir / "checkpoints")
    control.trainer = tr
    with pytest.raises(Killed):
        tr.run()
    recorded = len(db.metrics_since(-1))

    resumed = open_trainer(run_dir, StoreSink(db))
    p = resumed.pos
    assert (p.phase, p.index, p.g_done, p.d_done) == ("adversarial", 2, 0, 0)     # from round 3's start
    assert resumed._ckpt_cost is not None           # the checkpoint rule knows the cost from the start
    event = db.events(["resumed"])[-1]
    rows_left = len(db.metrics_since(-1))
    assert event["rows_lost"] == recorded - rows_left > 0
    assert event["units_redone"] == 1                                            # round 3's first g-step
    assert event["message"] == (
        f"resumed from the checkpoint at step {p.step} (next: round 3/5, g-step 1/2); lost what the worker "
        f"recorded after it: 1 unit(s) in 1 adversarial round (3), {event['rows_lost']} metric rows; they are "
        "trained again")
    assert resumed.run() == "finished"
    assert _metrics(run_dir) == _metrics(full)                                   # and nothing else differs


def test_item10_a_resume_after_a_clean_stop_says_nothing_was_lost(tmp_path, small):
    run_dir = create_run(small, run_dir=tmp_path / "stopped")
    db = RunDB(run_dir)
    db.request("stop")
    assert Trainer(small, StoreSink(db), StoreSink(db), checkpoint_dir=run_dir / "checkpoints").run() == "stopped"
    open_trainer(run_dir, StoreSink(db))
    assert db.events(["resumed"])[-1]["message"] == (
        "resumed from the checkpoint at step 0 (next: MLE epoch 1/3); nothing recorded after it was lost")
