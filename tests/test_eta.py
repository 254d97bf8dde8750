"""Issue 9 item 8: the ETA is corrected from the run's own unit times and comes with a range; the study's ETA
is never 0:00 for work that is left."""
import json
import random

import numpy as np
import pytest

from seqgan_core.train.report import ESTIMATE_RANGE, PRIOR_UNITS, RECENT, Clock


def reference(times: dict, remaining: dict, estimates: dict):
    """The documented rule, computed plainly: per kind the mean of the last RECENT times blended with the
    estimate by c / (c + PRIOR_UNITS); the range from their quartiles (the estimate's share: ESTIMATE_RANGE)."""
    lo = mid = hi = 0.0
    for kind, n in remaining.items():
        if n == 0:
            continue
        est, xs = estimates.get(kind), times.get(kind, [])
        if not xs:
            a, b, c = est * ESTIMATE_RANGE[0], est, est * ESTIMATE_RANGE[1]
        else:
            recent = np.array(xs[-RECENT:])
            q25, q75 = np.percentile(recent, [25, 75])
            w = len(xs) / (len(xs) + PRIOR_UNITS) if est is not None else 1.0
            e = est if est is not None else 0.0
            b = w * recent.mean() + (1 - w) * e
            a = min(w * q25 + (1 - w) * e * ESTIMATE_RANGE[0], b)
            c = max(w * q75 + (1 - w) * e * ESTIMATE_RANGE[1], b)
        lo, mid, hi = lo + n * a, mid + n * b, hi + n * c
    return lo, mid, hi


@pytest.mark.parametrize("seed", range(5))
def test_item8_eta_matches_the_plain_computation_on_synthetic_timings(seed):
    rng = random.Random(seed)
    estimates = {"mle": 2.0, "d_pretrain": 5.0, "g_step": 3.0, "d_step": 1.5}
    clock, times = Clock(), {}
    counts = {"mle": rng.randint(0, 60), "d_pretrain": rng.randint(0, 4), "g_step": rng.randint(1, 40),
              "d_step": 0}
    for kind, n in counts.items():       # a machine twice as fast as estimated, getting busier, with noise
        for i in range(n):
            t = 0.5 * estimates[kind] * (1 + i / 50) * rng.lognormvariate(0, 0.3)
            clock.account(kind, t)
            times.setdefault(kind, []).append(t)
    remaining = {"mle": 3, "d_pretrain": 2, "g_step": 50, "d_step": 50}
    got = clock.eta_range(remaining, estimates)
    assert got == pytest.approx(reference(times, remaining, estimates), rel=1e-12)
    assert got[0] <= got[1] <= got[2]
    # a checkpoint carries the times: the resumed clock gives the same ETA
    again = Clock()
    again.load(json.loads(json.dumps(clock.dump())))
    assert again.eta_range(remaining, estimates) == pytest.approx(got, rel=1e-12)


def test_item8_the_measured_times_take_over_from_the_estimate():
    clock = Clock()
    est = {"g_step": 10.0}
    assert clock.eta_range({"g_step": 10}, est) == (50.0, 100.0, 150.0)    # the estimate alone, with its range
    for _ in range(30):
        clock.account("g_step", 4.0)
    lo, mid, hi = clock.eta_range({"g_step": 10}, est)
    assert mid == pytest.approx(10 * (30 / 33 * 4.0 + 3 / 33 * 10.0))        # mostly the run's own 4 s
    assert clock.eta_range({"g_step": 10}) == (40.0, 40.0, 40.0)            # no spread, no estimate: exact
    assert clock.eta_range({"g_step": 1, "d_step": 1}) is None              # d-steps neither timed nor estimated


def test_item8_a_checkpoint_from_before_keeps_its_mean():
    clock = Clock()
    clock.load({"g_step": [4, 20.0]})                                        # the old {kind: [count, seconds]}
    assert clock.eta({"g_step": 2}) == pytest.approx(10.0)


# --- the study's ETA -------------------------------------------------------------------------------------

def _row(cell, status, eta=None, elapsed=None):
    return {"cell": cell, "status": status, "eta_s": eta, "elapsed_s": elapsed}


def test_item8_study_eta_uses_finished_runs_and_is_unknown_without_any_figure():
    from seqgan_core.studies.cli import _eta
    from seqgan_core.studies.study import study_eta
    rows = [_row("a", "running", eta=50.0), _row("a", "queued"), _row("b", "queued")]
    assert study_eta(rows, {}, 1) is None                      # --no-estimate, nothing finished yet
    assert _eta(None) == "ETA unknown until a run finishes"
    # a finished run of cell a: its queued runs cost its measured time (median); b still has no figure
    rows += [_row("a", "finished", elapsed=90.0), _row("a", "finished", elapsed=130.0), _row("a", "finished",
                                                                                            elapsed=100.0)]
    assert study_eta(rows, {}, 1) is None
    assert study_eta(rows, {"b": 400.0}, 1) == pytest.approx(50 + 100 + 400)
    assert study_eta(rows, {"a": 999.0, "b": 400.0}, 2) == pytest.approx((50 + 100 + 400) / 2)   # measured wins
    rows = [r for r in rows if r["cell"] == "a"]
    assert study_eta(rows, {}, 1) == pytest.approx(150.0)
    assert _eta(150.0) == "ETA 2:30"


def test_item8_live_shows_the_eta_with_its_range(runs_root):
    import time

    from seqgan_core.runs import RunDB
    from test_app_support import add_run, make_alive, no_exception, open_page
    run_dir = add_run(runs_root)
    make_alive(run_dir, elapsed_s=100.0, eta_s=500.0, eta_range_s=[400.0, 900.0])
    RunDB(run_dir).set_state(heartbeat=time.time() + 3600)    # (a clock that moves nothing during the test)
    at = open_page("app_pages/live.py")
    no_exception(at)
    assert "ETA 0:08:20 (likely 0:06:40–0:15:00)" in at.get("progress")[0].proto.text
