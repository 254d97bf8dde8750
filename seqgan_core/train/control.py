"""Control of a running trainer: pause, resume, step, stop and live schedule changes, read between units.

The trainer asks `Controller.between_units()` before each unit; it returns False when the run must stop.
Inside a unit it asks `within_unit()` between minibatches (a few times a second at most), so a pause waits
there and a stop abandons the unit (the trainer then saves the state from the unit's start); requests
taken there are read from `Control.urgent()`, and schedule changes among them wait for the unit's end.
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

    def urgent(self) -> list[dict]:
        """Requests read inside a unit (the run store's: the same queue as poll). None by default, so a
        scripted control that counts its polls sees one poll per unit."""
        return []


class Controller:
    def __init__(self, control: Control, sink: Sink, schedule, position, on_pause: Callable[[], None]):
        self.control, self.sink, self.schedule, self.pos = control, sink, schedule, position
        self.on_pause = on_pause          # checkpoint + progress report: a paused run is safe to kill
        self.paused = self.stopping = self.step_once = False
        self.pending: dict = {}
        self.deferred: list[dict] = []    # 'set' requests taken inside a unit: applied when it ends

    def between_units(self) -> bool:
        """Apply waiting requests; wait while paused. False when the run must stop."""
        waiting, self.deferred = self.deferred, []
        self._apply(waiting + self.control.poll())
        return self._wait(self.on_pause, self.control.poll, inside=False)

    def within_unit(self, on_pause: Callable[[], None]) -> bool:
        """Between two minibatches of a unit: pause here (on_pause saves the unit's starting state, so a
        paused run stays safe to kill) or say that the run must stop (False)."""
        self._apply(self.control.urgent(), inside=True)
        return self._wait(on_pause, self.control.urgent, inside=True)

    def _wait(self, on_pause, poll, inside: bool) -> bool:
        was_paused = self.paused
        if self.paused and not self.stopping and not self.step_once:
            on_pause()
            self.sink.status("paused")
        while self.paused and not self.stopping and not self.step_once:
            time.sleep(0.2)
            self._apply(poll(), inside)
        if (was_paused and not self.paused and not self.stopping) or self.step_once:
            self.sink.status("running")
        return not self.stopping

    def settle_deferred(self) -> None:
        """A stopped unit: its deferred schedule changes are taken as they would have been at its end. In the
        adversarial phase they wait in `pending` (saved with the checkpoint) for the next round's start, where
        they would have applied had the unit finished, so the unit trained again keeps its schedule; outside
        that phase they apply at once."""
        for c in self.deferred:
            payload = c.get("payload") or {}
            self.request_schedule(payload, at_once=self.pos.phase != "adversarial")
            self.sink.event(self.pos.step, "control", {"command": "set", **payload})
        self.deferred = []

    def after_unit(self) -> None:
        """A single step ends in a pause."""
        if self.step_once:
            self.step_once, self.paused = False, True
            self.sink.status("paused")

    def _apply(self, commands: list[dict], inside: bool = False) -> None:
        for c in commands:
            cmd, payload = c.get("command"), c.get("payload") or {}
            if cmd == "set" and inside:      # a unit uses one schedule from start to end
                self.deferred.append(c)
                continue
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

    def request_schedule(self, changes: dict, at_once: bool = True) -> None:
        errs, _ = live_problems(self.schedule, changes)
        if errs:
            self.sink.event(self.pos.step, "rejected", {"changes": changes, "why": "; ".join(errs)})
            return
        self.pending.update({k: int(v) for k, v in changes.items()})
        if at_once and (self.pos.phase != "adversarial" or (self.pos.g_done == 0 and self.pos.d_done == 0)):
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
