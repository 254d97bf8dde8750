"""The run store: one directory per run, readable while a worker writes it.

    <root>/<run_id>/config.json     everything needed to reproduce the run
    <root>/<run_id>/run.db          SQLite (WAL): metrics, snapshots, events, control requests, state
    <root>/<run_id>/checkpoints/    latest.pt (+ mle_done.pt)
    <root>/<run_id>/worker.log      the worker's output (tracebacks of failures land here)

The worker is the only writer of metrics, snapshots and state; the UI writes control requests only.
WAL lets readers go on while the writer commits.
"""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Optional

from ..config import RunConfig

LIVE_STATUSES = ("running", "paused")
SNAPSHOTS_KEPT = 20   # per kind: the Live page needs the latest; a few more for scrubbing back

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


def new_run_id(cfg: RunConfig) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{cfg.data.name}-{secrets.token_hex(2)}"


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
            con.execute("PRAGMA journal_mode=WAL")
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
            con.execute("DELETE FROM snapshots WHERE kind = ? AND id NOT IN "
                        "(SELECT id FROM snapshots WHERE kind = ? ORDER BY id DESC LIMIT ?)",
                        (kind, kind, SNAPSHOTS_KEPT))

    def put_event(self, step: int, kind: str, payload: dict):
        with self.connect(write=True) as con:
            con.execute("INSERT INTO events (step, kind, payload, t) VALUES (?,?,?,?)",
                        (step, kind, json.dumps(payload), time.time()))

    def set_state(self, **values):
        with self.connect(write=True) as con:
            con.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)",
                            [(k, json.dumps(v)) for k, v in values.items()])

    def truncate_after(self, step: int):
        """Forget what a killed worker recorded after the checkpoint a resume starts from."""
        with self.connect(write=True) as con:
            # rows at the checkpoint's own step are replayed identically (INSERT OR REPLACE)
            con.execute("DELETE FROM metrics WHERE step > ?", (step,))
            con.execute("DELETE FROM snapshots WHERE step > ?", (step,))
            con.execute("DELETE FROM events WHERE step > ?", (step,))

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
        self.db.set_state(status=state)

    def poll(self):
        return self.db.take_control()


def create_run(cfg: RunConfig, root: Optional[Path] = None, run_dir: Optional[Path] = None) -> Path:
    """A new run directory with its config and a 'queued' status."""
    if run_dir is None:
        root = Path(root or default_root())
        run_dir = root / new_run_id(cfg)
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
