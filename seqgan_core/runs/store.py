"""The run store: one directory per run, readable while a worker writes it.

    <root>/<run_id>/config.json     everything needed to reproduce the run
    <root>/<run_id>/run.db          SQLite (WAL): metrics, snapshots, events, control requests, state
    <root>/<run_id>/checkpoints/    latest.pt (+ mle_done.pt)
    <root>/<run_id>/worker.log      the worker's output (tracebacks of failures land here)

The worker is the only writer of metrics, snapshots and state; the UI writes control requests only.
WAL lets readers go on while the writer commits.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Optional

from ..config import ConfigError, RunConfig
from ..contract import LIVE_STATUSES

SNAPSHOTS_KEPT = 20   # per kind, besides the first: the Live page needs the latest; a few more for scrubbing back

SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (step INTEGER NOT NULL, name TEXT NOT NULL, phase TEXT, x REAL,
    value REAL, t REAL, PRIMARY KEY (step, name));
CREATE TABLE IF NOT EXISTS snapshots (id INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER, kind TEXT,
    payload TEXT, t REAL);
CREATE INDEX IF NOT EXISTS snapshots_kind ON snapshots (kind, id);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER, kind TEXT,
    payload TEXT, t REAL);
CREATE TABLE IF NOT EXISTS control (id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT, payload TEXT,
    t REAL, taken INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
"""


def default_root() -> Path:
    return Path(os.environ.get("SEQGAN_RUNS", "runs")).resolve()


# WAL (default) lets readers go on while the worker writes, but needs them on the worker's host; a run store
# on a network file system read from other hosts (a Ray cluster) uses DELETE (README).
JOURNAL_MODE = "DELETE" if os.environ.get("SEQGAN_SQLITE_JOURNAL", "WAL").upper() == "DELETE" else "WAL"
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
DATASET_NAME = re.compile(r"^[a-z0-9_]{1,40}$")


def new_run_id(cfg: RunConfig) -> str:
    """A fresh id: time, data set and a random suffix. The data set name comes from a config that anyone
    may have written, so it is checked before it becomes part of a path."""
    if not DATASET_NAME.match(str(cfg.data.name)):
        raise ConfigError(f"data set name {cfg.data.name!r} is not a registry name (letters, digits, _)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{cfg.data.name}-{secrets.token_hex(2)}"


def run_path(root: str | Path, run_id: str) -> Path:
    """The directory of run `run_id` under root; an id that is not a plain name (../x, a/b) is refused.
    A plain name cannot leave root; a run folder that the server's owner linked into root (runs kept on
    another disk) is followed, as `list_runs` lists it."""
    root = Path(root).resolve()
    if not isinstance(run_id, str) or not RUN_ID.match(run_id) or run_id in (".", ".."):
        raise ValueError(f"{run_id!r} is not a run id")
    return root / run_id


class RunDB:
    """One run's database. Short-lived connections per call keep readers and the writer independent."""

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)
        self.path = self.dir / "run.db"

    @contextmanager
    def connect(self, write: bool = False):
        """A short-lived connection; with write=True, one transaction (readers never see half of it)."""
        if not self.dir.is_dir():
            raise FileNotFoundError(f"no run at {self.dir}")
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            con.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")
            con.execute("PRAGMA synchronous=NORMAL")
            if write:
                con.execute("BEGIN IMMEDIATE")
            yield con
            if write:
                con.execute("COMMIT")
        except BaseException:
            if write and con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def init(self):
        with self.connect() as con:
            con.executescript(SCHEMA)

    # --- writer side (the worker) --------------------------------------------------------------------
    def put_scalars(self, step: int, phase: str, x: float, values: dict):
        now = time.time()
        rows = [(step, k, phase, x, float(v), now) for k, v in values.items()]
        with self.connect(write=True) as con:
            con.executemany("INSERT OR REPLACE INTO metrics VALUES (?,?,?,?,?,?)", rows)

    def put_snapshot(self, step: int, kind: str, payload: dict):
        with self.connect(write=True) as con:
            con.execute("INSERT INTO snapshots (step, kind, payload, t) VALUES (?,?,?,?)",
                        (step, kind, json.dumps(payload), time.time()))
            # the latest few, and the first of each kind: the Learn page tells the story from the start
            # (MLE's samples, D's scores when round 1 began) after any number of rounds
            con.execute("DELETE FROM snapshots WHERE kind = ? AND id NOT IN "
                        "(SELECT id FROM snapshots WHERE kind = ? ORDER BY id DESC LIMIT ?) AND id != "
                        "(SELECT MIN(id) FROM snapshots WHERE kind = ?)",
                        (kind, kind, SNAPSHOTS_KEPT, kind))

    def put_event(self, step: int, kind: str, payload: dict):
        with self.connect(write=True) as con:
            con.execute("INSERT INTO events (step, kind, payload, t) VALUES (?,?,?,?)",
                        (step, kind, json.dumps(payload), time.time()))

    def set_state(self, **values):
        with self.connect(write=True) as con:
            con.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in values.items()])

    def transition(self, to: str, expect: Optional[Iterable[str]] = None, pid: Optional[int] = None,
                   **extra) -> bool:
        """Set the status to `to` (with extra state) only if it is one of `expect` (any when None) and, when
        pid is given, the recorded worker is that pid: one compare-and-set in one transaction, so a
        worker's 'finished' is never overwritten by a viewer who saw it running a moment earlier."""
        with self.connect(write=True) as con:
            cur = dict(con.execute("SELECT key, value FROM state WHERE key IN ('status', 'pid')").fetchall())
            status = json.loads(cur.get("status", '"queued"'))
            if expect is not None and status not in set(expect):
                return False
            if pid is not None and json.loads(cur.get("pid", "null")) != pid:
                return False
            con.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in {"status": to, **extra}.items()])
        return True

    def marks(self) -> dict:
        """How far the record goes now (row ids); a checkpoint stores this so a resume can cut back to it."""
        with self.connect() as con:
            return {t: con.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {t}").fetchone()[0]
                    for t in ("metrics", "snapshots", "events")}

    def truncate_to(self, marks: dict) -> dict:
        """Forget what a killed worker recorded after the checkpoint a resume starts from (rows written after
        its marks). Returns what was forgotten, for the resume message: the metric rows (rows), the units
        they came from (steps) and the (phase, x) of the epochs and rounds those belonged to."""
        mark = int(marks.get("metrics", 0))
        with self.connect(write=True) as con:
            rows, steps = con.execute("SELECT COUNT(*), COUNT(DISTINCT step) FROM metrics WHERE rowid > ?",
                                      (mark,)).fetchone()
            units = con.execute("SELECT phase, x FROM metrics WHERE rowid > ? GROUP BY phase, x ORDER BY MIN(rowid)",
                                (mark,)).fetchall()
            for table in ("metrics", "snapshots", "events"):
                con.execute(f"DELETE FROM {table} WHERE rowid > ?", (int(marks.get(table, 0)),))
        return {"rows": int(rows), "steps": int(steps),
                "units": [(phase, int(x)) for phase, x in units]}

    def truncate_after(self, step: int):
        """For checkpoints written before marks existed: forget rows after the checkpoint's step."""
        with self.connect(write=True) as con:
            con.execute("DELETE FROM metrics WHERE step > ?", (step,))
            con.execute("DELETE FROM snapshots WHERE step > ?", (step,))
            con.execute("DELETE FROM events WHERE step > ?", (step,))

    def drop_stale_requests(self) -> list[dict]:
        """Control requests a dead worker never took: they were meant for it, not for the resumed one."""
        with self.connect(write=True) as con:
            rows = con.execute("SELECT id, command, payload FROM control WHERE taken = 0 ORDER BY id").fetchall()
            con.execute("UPDATE control SET taken = 2 WHERE taken = 0")
        return [{"command": c, "payload": json.loads(p or "{}")} for _, c, p in rows]

    def take_control(self) -> list[dict]:
        with self.connect(write=True) as con:
            rows = con.execute("SELECT id, command, payload FROM control WHERE taken = 0 ORDER BY id").fetchall()
            if rows:
                con.execute("UPDATE control SET taken = 1 WHERE id <= ?", (rows[-1][0],))
        return [{"command": c, "payload": json.loads(p or "{}")} for _, c, p in rows]

    # --- UI side -----------------------------------------------------------------------------------------
    def request(self, command: str, payload: Optional[dict] = None):
        with self.connect(write=True) as con:
            con.execute("INSERT INTO control (command, payload, t) VALUES (?,?,?)",
                        (command, json.dumps(payload or {}), time.time()))

    # --- readers -------------------------------------------------------------------------------------------
    def state(self) -> dict:
        if not self.path.exists():
            return {}
        with self.connect() as con:
            return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM state")}

    def metrics_since(self, step: int = -1, names: Optional[Iterable[str]] = None) -> list[tuple]:
        """Rows (step, name, phase, x, value, t) with step > the given one: a refresh reads only new data."""
        q = "SELECT step, name, phase, x, value, t FROM metrics WHERE step > ?"
        args: list = [step]
        if names:
            names = list(names)
            q += f" AND name IN ({','.join('?' * len(names))})"
            args += names
        with self.connect() as con:
            return con.execute(q + " ORDER BY step", args).fetchall()

    def latest_snapshot(self, kind: str) -> Optional[dict]:
        with self.connect() as con:
            row = con.execute("SELECT step, payload, t FROM snapshots WHERE kind = ? ORDER BY id DESC LIMIT 1",
                              (kind,)).fetchone()
        if row is None:
            return None
        return {"step": row[0], "t": row[2], **json.loads(row[1])}

    def snapshots(self, kind: str) -> list[dict]:
        with self.connect() as con:
            rows = con.execute("SELECT step, payload FROM snapshots WHERE kind = ? ORDER BY id", (kind,)).fetchall()
        return [{"step": s, **json.loads(p)} for s, p in rows]

    def events(self, kinds: Optional[Iterable[str]] = None) -> list[dict]:
        q, args = "SELECT step, kind, payload, t FROM events", []
        if kinds:
            kinds = list(kinds)
            q += f" WHERE kind IN ({','.join('?' * len(kinds))})"
            args = kinds
        with self.connect() as con:
            rows = con.execute(q + " ORDER BY id", args).fetchall()
        return [{"step": s, "kind": k, "t": t, **json.loads(p)} for s, k, p, t in rows]

    def latest_values(self) -> dict:
        """The last recorded value of every metric, in one query."""
        if not self.path.exists():
            return {}
        with self.connect() as con:
            return dict(con.execute(
                "SELECT m.name, m.value FROM metrics m JOIN (SELECT name, MAX(step) AS s FROM metrics "
                "GROUP BY name) l ON m.name = l.name AND m.step = l.s").fetchall())

    def last_step(self) -> int:
        with self.connect() as con:
            row = con.execute("SELECT MAX(step) FROM metrics").fetchone()
        return -1 if row[0] is None else int(row[0])


class RunReader:
    """The pages' view of one run: a single connection kept open and shared by every viewer of the run
    (a lock serialises it: Streamlit serves sessions from several threads), reading only what changed —
    a snapshot's JSON is parsed once, when a newer one arrives, and events are read from an id on."""

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)
        self.path = self.dir / "run.db"
        self._con: Optional[sqlite3.Connection] = None
        self._lock = threading.Lock()
        self._snaps: dict[str, tuple] = {}          # kind -> (id, parsed payload)
        self._serial = 0                             # which connection: data_version counts per connection

    def _open(self) -> sqlite3.Connection:
        """The connection, opened on first use (call with the lock held)."""
        if self._con is None:
            if not self.path.exists():
                raise FileNotFoundError(f"no run at {self.dir}")
            self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._serial = next(_connections)
        return self._con

    def _rows(self, sql: str, args=()) -> list:
        with self._lock:
            return self._open().execute(sql, args).fetchall()

    def change_mark(self) -> tuple:
        """Equal between two calls exactly when nothing was written to the run in between: SQLite's
        data_version moves with every commit of another connection (the worker's), and is compared only
        within one connection of this reader."""
        with self._lock:
            version = self._open().execute("PRAGMA data_version").fetchone()[0]
            return (self._serial, version)

    def state(self) -> dict:
        if not self.path.exists():
            return {}
        return {k: json.loads(v) for k, v in self._rows("SELECT key, value FROM state")}

    def metrics_since(self, step: int = -1) -> list[tuple]:
        return self._rows("SELECT step, name, phase, x, value, t FROM metrics WHERE step > ? ORDER BY step", (step,))

    def latest_snapshot(self, kind: str) -> Optional[dict]:
        row = self._rows("SELECT MAX(id) FROM snapshots WHERE kind = ?", (kind,))[0]
        if row[0] is None:
            return None
        cached = self._snaps.get(kind)
        if cached and cached[0] == row[0]:
            return cached[1]
        step, payload, t = self._rows("SELECT step, payload, t FROM snapshots WHERE id = ?", (row[0],))[0]
        parsed = {"step": step, "t": t, **json.loads(payload)}
        self._snaps[kind] = (row[0], parsed)
        return parsed

    def events(self, kinds: Iterable[str], after_id: int = 0) -> list[dict]:
        kinds = list(kinds)
        rows = self._rows(f"SELECT id, step, kind, payload, t FROM events WHERE id > ? AND kind IN "
                          f"({','.join('?' * len(kinds))}) ORDER BY id", [after_id, *kinds])
        return [{"id": i, "step": s, "kind": k, "t": t, **json.loads(p)} for i, s, k, p, t in rows]

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


_connections = itertools.count(1)
_readers: "OrderedDict[str, RunReader]" = OrderedDict()
_readers_lock = threading.Lock()
MAX_READERS = 32          # open connections kept (least recently used closed first)


def reader(run_dir: str | Path) -> RunReader:
    """The shared reader of a run (one connection per run for the whole web server)."""
    key = str(Path(run_dir))
    with _readers_lock:
        r = _readers.pop(key, None) or RunReader(run_dir)
        _readers[key] = r
        while len(_readers) > MAX_READERS:
            _readers.popitem(last=False)[1].close()
        return r


def forget_reader(run_dir: str | Path) -> None:
    with _readers_lock:
        r = _readers.pop(str(Path(run_dir)), None)
    if r is not None:
        r.close()


class StoreSink:
    """Adapts the trainer's Sink and Control interfaces to a run's database."""

    def __init__(self, db: RunDB, on_progress=None):
        self.db, self.on_progress = db, on_progress
        self._last_progress = 0.0

    def scalars(self, step, phase, x, values):
        self.db.put_scalars(step, phase, x, values)

    def snapshot(self, step, kind, payload):
        self.db.put_snapshot(step, kind, payload)

    def event(self, step, kind, payload):
        self.db.put_event(step, kind, payload)

    def progress(self, info):
        self.db.set_state(progress=info, heartbeat=time.time())
        if self.on_progress:
            self.on_progress(info)

    def status(self, state):
        self.db.transition(state, expect=LIVE_STATUSES)

    def record_schedule(self, changes: list):
        """Keep the schedule's live changes in config.json, so the record reproduces the run as played."""
        path = self.db.dir / "config.json"
        cfg = json.loads(path.read_text())
        cfg["schedule"]["changes"] = changes
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(cfg, indent=2, sort_keys=True))
        os.replace(tmp, path)

    def marks(self):
        return self.db.marks()

    def poll(self):
        return self.db.take_control()

    def urgent(self):   # inside a unit the worker reads the same queue (schedule changes wait in the trainer)
        return self.db.take_control()


def create_run(cfg: RunConfig, root: Optional[Path] = None, run_dir: Optional[Path] = None) -> Path:
    """A new run directory with its config and a 'queued' status."""
    if run_dir is None:   # (a run_dir given by the CLI's --out is the user's own path)
        run_dir = run_path(Path(root or default_root()), new_run_id(cfg))
    run_dir = Path(run_dir)
    if (run_dir / "run.db").exists():
        raise FileExistsError(f"{run_dir} already holds a run: choose another --out or use `resume`")
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(cfg.to_json())
    db = RunDB(run_dir)
    db.init()
    db.set_state(status="queued", created=time.time(), versions=_versions())
    return run_dir


def _versions() -> dict:
    import platform

    import torch
    from .. import __version__
    return {"seqgan_studio": __version__, "torch": torch.__version__, "python": platform.python_version()}


def write_vocab(run_dir: str | Path, vocab: Optional[list]) -> None:
    """The data set's id → token table beside the run (pages name tokens without loading the data)."""
    path = Path(run_dir) / "vocab.json"
    if vocab is not None and not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(list(vocab)))
        os.replace(tmp, path)


def read_vocab(run_dir: str | Path) -> Optional[list]:
    try:
        return json.loads((Path(run_dir) / "vocab.json").read_text())
    except (OSError, ValueError):
        return None


def read_config(run_dir: str | Path) -> RunConfig:
    return RunConfig.from_dict(json.loads((Path(run_dir) / "config.json").read_text()))


def list_runs(root: Optional[Path] = None) -> list[dict]:
    """Every run under root, newest first: id, dir, status, config, state."""
    root = Path(root or default_root())
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir(), reverse=True):
        if not (d / "run.db").exists() or not (d / "config.json").exists():
            continue
        try:
            st = RunDB(d).state()
            cfg = json.loads((d / "config.json").read_text())
        except (sqlite3.Error, json.JSONDecodeError, OSError):
            continue  # half-written by a run being created right now
        out.append({"id": d.name, "dir": d, "status": st.get("status", "queued"), "config": cfg, "state": st})
    return out
