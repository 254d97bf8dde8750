"""The engine and the app agree on one contract: every name the trainer writes is defined in
seqgan_core.contract, every metric name the pages mention is one the contract defines, and every
snapshot payload has exactly the contract's fields."""
import re
from pathlib import Path

from seqgan_core.config import apply_overrides, preset
from seqgan_core.contract import EVENTS, METRICS, PHASES, SNAPSHOTS, Status, curve_x, snapshot_fields
from seqgan_core.train import Trainer

from test_train import Recorder

ROOT = Path(__file__).resolve().parents[1]
METRIC_LITERAL = re.compile(r"""["']((?:nll|loss|div|valid|music|bleu|d|g)/[a-z0-9_]+)["']""")


def _tiny_run():
    rec = Recorder()
    tr = Trainer(apply_overrides(preset("tiny"), {"device": "cpu", "adv_rounds": 2}), rec)
    tr.run()
    return rec


def test_everything_the_trainer_writes_is_in_the_contract():
    rec = _tiny_run()
    written = {name for _, _, _, values in rec.rows for name in values}
    assert written and written <= set(METRICS), written - set(METRICS)
    assert {phase for _, phase, _, _ in rec.rows} <= set(PHASES)
    for _, kind, payload in rec.snaps:
        assert set(payload) == set(snapshot_fields(kind)), (kind, set(payload) ^ set(snapshot_fields(kind)))
    assert {kind for _, kind, _ in rec.events} <= set(EVENTS)
    assert set(rec.states) <= {s.value for s in Status}
    assert set(SNAPSHOTS) == {kind for _, kind, _ in rec.snaps}


def test_the_pages_only_name_metrics_the_contract_defines():
    names = set()
    for path in list((ROOT / "ui").glob("*.py")) + list((ROOT / "app_pages").glob("*.py")):
        names |= set(METRIC_LITERAL.findall(path.read_text()))
    assert names, "the pattern should find the pages' metric names"
    assert names <= set(METRICS), names - set(METRICS)


def test_the_curve_axis_continues_after_mle():
    assert curve_x("mle", 7, 120) == 7
    assert curve_x("adversarial", 0, 120) == 120
    assert curve_x("d_pretrain", 3, 120) == 3
