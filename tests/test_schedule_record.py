"""Issue 9 item 9: the run's record keeps the schedule as it changed (with the round), and a config with
those changes replays the run exactly."""
import json

from seqgan_core.config import RunConfig, preset, validate
from seqgan_core.runs.store import RunDB, StoreSink, create_run
from seqgan_core.train import Control, Trainer

from test_train import Recorder

SMALL = dict(pretrain_g_epochs=1, pretrain_d_rounds=1, adv_rounds=3, nll_samples=64, num_negatives=128,
             eval_every_rounds=1)


class AtRound(Control):
    """Sends one 'set' request when the trainer is at the start of the given adversarial round."""

    def __init__(self, round_: int, changes: dict):
        self.round, self.changes, self.trainer, self.sent = round_, changes, None, False

    def poll(self):
        p = self.trainer.pos
        if not self.sent and p.phase == "adversarial" and p.index == self.round:
            self.sent = True
            return [{"command": "set", "payload": self.changes}]
        return []


def test_item9_config_records_live_changes_and_replays_them(tmp_path):
    cfg = preset("tiny").replace(**SMALL)
    run_dir = create_run(cfg, run_dir=tmp_path / "live")
    control = AtRound(1, {"g_steps": 2})
    tr = Trainer(cfg, StoreSink(RunDB(run_dir)), control)
    control.trainer = tr
    assert tr.run() == "finished"
    recorded = json.loads((run_dir / "config.json").read_text())
    assert recorded["schedule"]["changes"] == [{"from_round": 1, "g_steps": 2}]
    assert recorded["schedule"]["g_steps"] == 1                      # the starting schedule stays as it was
    again = RunConfig.from_dict(recorded)
    assert validate(again) == []
    rec = Recorder()
    assert Trainer(again, rec).run() == "finished"
    first = [(r[0], r[1], r[2], r[3]) for r in RunDB(run_dir).metrics_since(-1)]
    replay = sorted((step, phase, x, name, v) for step, phase, x, vals in rec.rows for name, v in vals.items())
    original = sorted((step, phase, x, name, v) for step, name, phase, x, v, _ in RunDB(run_dir).metrics_since(-1))
    assert first and replay == original                             # the same run, value for value
    assert sum(1 for e in rec.events if e[1] == "schedule") == 1     # applied once, at round 1


def test_item9_bad_recorded_changes_are_refused():
    cfg = preset("tiny")
    cfg.schedule.changes = [{"from_round": -1, "g_steps": 2}, {"from_round": 1, "batch_size": 3}]
    assert sum("schedule changes" in e for e in validate(cfg)) == 2


def _adv_checkpoints(tmp_path, monkeypatch, cheap):
    import seqgan_core.train.loop as loop
    monkeypatch.setattr(loop, "CHEAP_CHECKPOINT", cheap)
    cfg = preset("tiny").replace(**{**SMALL, "adv_rounds": 4, "checkpoint_every_rounds": 10})
    rec = Recorder()
    assert Trainer(cfg, rec, checkpoint_dir=tmp_path / "ck").run() == "finished"
    return [e[0] for e in rec.events if e[1] == "checkpoint" and e[2]["phase"] == "adversarial"]


def test_item10_a_cheap_checkpoint_is_written_every_round(tmp_path, monkeypatch):
    # a checkpoint that costs little next to a round is written at every round's end
    assert len(_adv_checkpoints(tmp_path, monkeypatch, 1e9)) == 1 + 4    # the phase start, then each round
    # one that costs more than training waits for checkpoint_every_rounds (and the phase end)
    assert len(_adv_checkpoints(tmp_path, monkeypatch, 0.0)) == 1      # the phase start only


def test_item10_the_history_says_what_a_resume_trains_again():
    from ui.live import describe
    event = {"id": 3, "step": 40, "kind": "resumed", "t": 0, "step_": 40, "units_redone": 6, "fallback": None,
             "message": "resumed from the checkpoint at step 40; 6 unit(s) recorded after it are trained again"}
    assert describe(event) == event["message"]
