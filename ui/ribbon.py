"""The phase ribbon: where a run is in Algorithm 1, as HTML (crisp on a projector, no chart overhead).

MLE pre-training → D pre-training → adversarial rounds; inside the current round, one chip per g-step
and per d-step, filled as they finish.
"""
from __future__ import annotations

import html

PHASES = ("mle", "d_pretrain", "adversarial")
TITLES = {"mle": "1 · MLE pre-training of G", "d_pretrain": "2 · D pre-training",
          "adversarial": "3 · Adversarial rounds"}
UNITS = {"mle": "epochs", "d_pretrain": "rounds", "adversarial": "rounds"}
MAX_CHIPS = 24            # beyond this a round is shown as counts, not chips

CSS = """<style>
.sg-ribbon{display:flex;gap:8px;margin:4px 0 8px 0;font-family:sans-serif}
.sg-seg{flex:1;border:2px solid #ccd;border-radius:8px;padding:8px 10px;background:#f7f8fb;position:relative}
.sg-seg.active{border-color:#1f77b4;background:#eef5fc}
.sg-seg.done{border-color:#2ca02c;background:#f1f9f1}
.sg-t{font-weight:700;font-size:1.05rem}
.sg-sub{font-size:.95rem;color:#333;margin-top:2px}
.sg-bar{height:8px;background:#dde;border-radius:4px;margin-top:6px;overflow:hidden}
.sg-fill{height:8px;background:#1f77b4}
.sg-seg.done .sg-fill{background:#2ca02c}
.sg-chip{display:inline-block;min-width:22px;padding:1px 5px;margin:3px 2px 0 0;border-radius:4px;
 border:1px solid #889;font-size:.85rem;text-align:center;color:#333;background:#fff}
.sg-chip.g.on{background:#2ca02c;color:#fff;border-color:#2ca02c}
.sg-chip.d.on{background:#9467bd;color:#fff;border-color:#9467bd}
.sg-chip.next{outline:2px solid #1f77b4}
</style>"""


def phase_totals(schedule_cfg: dict) -> dict:
    """Units in each phase, from the run's config schedule section."""
    return {"mle": schedule_cfg["pretrain_g_epochs"], "d_pretrain": schedule_cfg["pretrain_d_rounds"],
            "adversarial": schedule_cfg["adv_rounds"]}


def _done_in(phase: str, progress: dict, totals: dict) -> int:
    """Units of `phase` finished, given the run's current position."""
    current = progress.get("phase", "mle")
    if current == "done" or PHASES.index(phase) < PHASES.index(current):
        return totals[phase]
    return progress.get("index", 0) if phase == current else 0


def _chips(progress: dict) -> str:
    """One chip per g-step and d-step of the current round; the next one outlined."""
    sched = progress.get("schedule", {})
    g, d = int(sched.get("g_steps", 0)), int(sched.get("d_steps", 0))
    g_done, d_done = progress.get("g_done", 0), progress.get("d_done", 0)
    k, n = sched.get("k_epochs", "?"), sched.get("rollout_num", "?")
    if g + d > MAX_CHIPS:
        return f"<div class='sg-sub'>G {g_done}/{g} policy-gradient steps · D {d_done}/{d} d-steps × k={k}</div>"
    nxt = g_done if g_done < g else g + d_done
    cells = [f"<span class='sg-chip g{' on' if i < g_done else ''}{' next' if i == nxt else ''}'>G</span>"
             for i in range(g)]
    cells += [f"<span class='sg-chip d{' on' if j < d_done else ''}{' next' if g + j == nxt else ''}'>D</span>"
              for j in range(d)]
    legend = f"G = policy-gradient step with N={n} roll-outs · D = fresh negatives + k={k} epochs"
    return f"<div>{''.join(cells)}</div><div class='sg-sub'>{html.escape(legend)}</div>"


def _segment(phase: str, progress: dict, totals: dict, init_from: str = "") -> str:
    """One phase's box: title, units done, a bar, and the round's chips when it is current."""
    total, done = totals[phase], _done_in(phase, progress, totals)
    current = progress.get("phase") == phase
    cls = "done" if total and done >= total and not current else ("active" if current else "")
    frac = done / total if total else 1.0
    sub = f"{done} / {total} {UNITS[phase]}" if total else "skipped"
    if phase == "adversarial" and current:
        sub = f"round {done + 1} of {total}"
    if phase == "mle" and init_from and progress.get("phase", "mle") == "mle" and not done:
        # the worker has not loaded the starting checkpoint yet: its epochs are not ahead of the run
        sub, cls, frac = "from the starting checkpoint (loading…)", "active", 0.0
    body = _chips(progress) if phase == "adversarial" and current else ""
    return (f"<div class='sg-seg {cls}'><div class='sg-t'>{TITLES[phase]}</div><div class='sg-sub'>{sub}</div>"
            f"<div class='sg-bar'><div class='sg-fill' style='width:{100 * frac:.1f}%'></div></div>{body}</div>")


def ribbon_html(progress: dict, schedule_cfg: dict, init_from: str = "") -> str:
    """The whole ribbon for a run's progress dict (RunDB.state()['progress']) and config schedule; a run
    that starts from a checkpoint (init_from) does not show its MLE epochs as work to do."""
    totals = phase_totals(schedule_cfg)
    segs = "".join(_segment(p, progress, totals, init_from) for p in PHASES)
    return f"{CSS}<div class='sg-ribbon'>{segs}</div>"


def clock(seconds: float | None) -> str:
    """h:mm:ss, or 'unknown' before the first unit has been timed."""
    if seconds is None:
        return "unknown"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
