"""Control of a running trainer: pause, resume, step, stop and live schedule changes, read between units.

The trainer asks `Controller.between_units()` before each unit; it returns False when the run must stop.
Schedule changes are checked with the one rule set (config.live_problems) and take effect at the start
of the next adversarial round (at once outside the adversarial phase), recorded as 'schedule' events.
"""
from __future__ import annotations

import time
from typing import Callable

from ..config import LIVE_FIELDS, live_problems


class Sink:
    """Receives what a run produces; the run store implements it, tests may collect it."""

    def scalars(self, step: int, phase: str, x: float, values: dict) -> None: ...
    def snapshot(self, step: int, kind: str, payload: dict) -> None: ...
    def event(self, step: int, kind: str, payload: dict) -> None: ...
    def progress(self, info: dict) -> None: ...
    def status(self, state: str) -> None: ...

    def marks(self) -> dict:
        """Where the record stands now (stored in each checkpoint so a resume can cut back to it)."""
        return {}


class Control:
    """Source of control requests: a list of {"command": ..., "payload": {...}} per poll."""

    def poll(self) -> list[dict]:
        return []


class Controller:
    def __init__(self, control: Control, sink: Sink, schedule, position, on_pause: Callable[[], None]):
        self.control, self.sink, self.schedule, self.pos = control, sink, schedule, position
        self.on_pause = on_pause          # checkpoint + progress report: a paused run is safe to kill
        self.paused = self.stopping = self.step_once = False
        self.pending: dict = {}

    def between_units(self) -> bool:
        """Apply waiting requests; wait while paused. False when the run must stop."""
        self._apply(self.control.poll())
        was_paused = self.paused
        if self.paused and not self.stopping and not self.step_once:
            self.on_pause()
            self.sink.status("paused")
        while self.paused and not self.stopping and not self.step_once:
            time.sleep(0.2)
            self._apply(self.control.poll())
        if (was_paused and not self.paused and not self.stopping) or self.step_once:
            self.sink.status("running")
        return not self.stopping

    def after_unit(self) -> None:
        """A single step ends in a pause."""
        if self.step_once:
            self.step_once, self.paused = False, True
            self.sink.status("paused")

    def _apply(self, commands: list[dict]) -> None:
        for c in commands:
            cmd, payload = c.get("command"), c.get("payload") or {}
            if cmd == "pause":
                self.paused = True
            elif cmd == "resume":
                self.paused = False
            elif cmd == "stop":
                self.stopping = True
            elif cmd == "step":
                self.step_once = True
            elif cmd == "set":
                self.request_schedule(payload)
            self.sink.event(self.pos.step, "control", {"command": cmd, **payload})

    def request_schedule(self, changes: dict) -> None:
        errs, _ = live_problems(self.schedule, changes)
        if errs:
            self.sink.event(self.pos.step, "rejected", {"changes": changes, "why": "; ".join(errs)})
            return
        self.pending.update({k: int(v) for k, v in changes.items()})
        if self.pos.phase != "adversarial" or (self.pos.g_done == 0 and self.pos.d_done == 0):
            self.apply_pending()

    def _planned(self) -> dict:
        """The recorded changes (schedule.changes) due at the start of this adversarial round."""
        p = self.pos
        if p.phase != "adversarial" or p.g_done or p.d_done:
            return {}
        out = {}
        for c in getattr(self.schedule, "changes", None) or []:
            if c.get("from_round") == p.index:
                out.update({k: int(v) for k, v in c.items() if k in LIVE_FIELDS})
        return out

    def apply_pending(self) -> None:
        """At the start of a round (or at once outside the adversarial phase): the changes recorded for this
        round, then the ones requested now. A requested change is recorded in schedule.changes (and in the
        run's config, through the sink) with the round it starts at, so the record replays it."""
        user = dict(self.pending)
        self.pending = {}
        if user:
            start = self.pos.index if self.pos.phase == "adversarial" else 0
            self.schedule.changes = list(getattr(self.schedule, "changes", None) or []) + \
                [{"from_round": start, **user}]
            record = getattr(self.sink, "record_schedule", None)
            if record:
                record(self.schedule.changes)
        changed = {k: v for k, v in {**self._planned(), **user}.items() if getattr(self.schedule, k) != v}
        if not changed:
            return
        for k, v in changed.items():
            setattr(self.schedule, k, v)
        self.sink.event(self.pos.step, "schedule", {**changed, "from_round": self.pos.index})

    def live_schedule(self) -> dict:
        return {k: getattr(self.schedule, k) for k in LIVE_FIELDS}
