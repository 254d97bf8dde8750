"""Per-run metric tables kept in the Streamlit process and extended, never re-read, on each refresh.

One cache for the whole server (every session and tab shares it): run dir -> the rows read so far and the
step they reach. A refresh asks the run store only for rows from that step on, and only when the store has
been written since the last read (SQLite's data_version): thirty viewers of one run read it as one does.
The last step is read again because the trainer may add rows to it later (the evaluation at the end of a
round and the next g-step share a step number). A resumed run may have dropped rows after its checkpoint, so a new worker
start (a new `started` time) reloads the run from scratch. Only the most recently used runs are kept, so
memory stays flat however long a class watches.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from seqgan_core.runs.store import RunReader, reader

COLUMNS = ["step", "name", "phase", "x", "value", "t"]
MAX_RUNS = 16                # runs whose tables stay in memory (least recently used dropped first)
MAX_POINTS = 800             # points per curve sent to the browser (about a chart's width in pixels)


@dataclass
class RunSeries:
    """Rows of one run read so far, and the same rows split by metric name."""
    generation: object = None
    last_step: int = -1
    version: int = 0             # grows with every read that brought rows: keys the shared figure cache
    mark: object = None          # the run store's change mark at the last read (nothing new: no query)
    frame: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    by_name: dict = field(default_factory=dict)


class SeriesCache:
    """Thread-safe LRU of RunSeries; Streamlit runs sessions in threads of one process."""

    def __init__(self, max_runs: int = MAX_RUNS):
        self.max_runs = max_runs
        self._runs: OrderedDict[str, RunSeries] = OrderedDict()
        self._lock = threading.Lock()
        self.rows_read = 0           # for the benchmark: rows fetched from the store, in total

    def get(self, run_dir: str | Path, generation=None) -> RunSeries:
        """The run's series, extended with the rows written since the last call."""
        key = str(run_dir)
        with self._lock:
            series = self._runs.pop(key, None)
            if series is None or series.generation != generation:
                series = RunSeries(generation=generation)
            self._extend(series, reader(run_dir))
            self._runs[key] = series
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)
            return series

    def _extend(self, series: RunSeries, db: RunReader) -> None:
        """Append the rows from the last step on (that step's rows replace the copies held)."""
        if not db.path.exists():
            return
        mark = db.change_mark()
        if mark == series.mark:
            return                     # nothing written since the last read, by any viewer: no query at all
        rows = db.metrics_since(series.last_step - 1)    # read after the mark: a write between is read again
        series.mark = mark
        self.rows_read += len(rows)
        if not rows:
            return
        new = pd.DataFrame(rows, columns=COLUMNS)
        if len(series.frame):
            held = series.frame[series.frame["step"] >= series.last_step]
            if len(held) == len(new) and (held[["step", "name", "value"]].to_numpy() ==
                                          new[["step", "name", "value"]].to_numpy()).all():
                return                 # only the rows already held: nothing changed, figures stay valid
        old = series.frame[series.frame["step"] < series.last_step] if len(series.frame) else series.frame
        series.frame = pd.concat([old, new], ignore_index=True) if len(old) else new
        series.last_step = int(new["step"].max())
        series.version += 1
        series.by_name = {name: part for name, part in series.frame.groupby("name", sort=False)}

    def forget(self, run_dir: str | Path) -> None:
        """Drop a run's rows (after it is deleted)."""
        with self._lock:
            self._runs.pop(str(run_dir), None)


CACHE = SeriesCache()


def run_series(run_dir: str | Path, state: dict) -> RunSeries:
    """The shared, incrementally refreshed metrics of a run (state: the run's RunDB state)."""
    return CACHE.get(run_dir, generation=state.get("started"))


def curve(series: RunSeries, name: str, phases: tuple[str, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, value) of one metric, rows of the same x (several g- or d-steps in one round) spread evenly
    over [x, x + 1) so they read as a sequence, thinned to MAX_POINTS."""
    part = series.by_name.get(name)
    if part is None or not len(part):
        return np.array([]), np.array([])
    if phases:
        part = part[part["phase"].isin(phases)]
    x = part["x"].to_numpy(dtype=float)
    x = x + _rank_within(x)
    y = part["value"].to_numpy(dtype=float)
    return _thin(x, y)


def _rank_within(x: np.ndarray) -> np.ndarray:
    """For each entry, (its rank among entries with the same x) / (their count): 0 when x is unique."""
    if len(x) == 0:
        return x
    order = np.argsort(x, kind="stable")                      # keeps the recorded order within a group
    starts = np.r_[0, np.flatnonzero(np.diff(x[order])) + 1]
    sizes = np.diff(np.r_[starts, len(x)])
    first = np.repeat(starts, sizes)
    rank = np.empty(len(x))
    rank[order] = (np.arange(len(x)) - first) / np.repeat(sizes, sizes)
    return rank


def _thin(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_POINTS evenly spaced points, always keeping the newest."""
    if len(x) <= MAX_POINTS:
        return x, y
    idx = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(int))
    return x[idx], y[idx]


def last_value(series: RunSeries, name: str) -> float | None:
    """The most recent value of a metric, or None."""
    part = series.by_name.get(name)
    return None if part is None or not len(part) else float(part["value"].iloc[-1])
