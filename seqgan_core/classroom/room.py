"""The class register (class.json beside the runs) and the rules a student's start must keep.

One JSON file, changed under a file lock and replaced atomically, read through a cache keyed by its
modification time: thirty sessions asking for their role each second read it once per change.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..config import RunConfig, preset
from ..contract import LIVE_STATUSES
from .keys import class_dir

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"     # no 0/O or 1/I: read off a projector
CODE_LEN = 6
NAME_MAX = 30
ACTIVE = (*LIVE_STATUSES, "queued")


@dataclass
class Rules:
    """What students may do. Bounds are per student."""
    students_may_start: bool = field(default=False, metadata={"help": "Students may start runs of their own."})
    presets: list = field(default_factory=lambda: ["classroom", "tiny", "lesson"],
                          metadata={"help": "Presets a student's run may be built from (their model sizes)."})
    datasets: list = field(default_factory=lambda: ["oracle", "grammar"],
                           metadata={"help": "Data sets a student's run may use."})
    max_rollout_num: int = field(default=16, metadata={"help": "Largest N (roll-outs per token)."})
    max_adv_rounds: int = field(default=30, metadata={"help": "Most adversarial rounds per run."})
    max_active: int = field(default=1, metadata={"help": "Runs queued or training at once."})
    max_total: int = field(default=5, metadata={"help": "Runs started in total."})
    max_disk_mb: int = field(default=200, metadata={"help": "Disk their runs may take (MB)."})
    min_start_interval_s: int = field(default=60, metadata={"help": "Seconds between two starts."})

    @classmethod
    def from_dict(cls, d: dict) -> "Rules":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in names})

    def problems(self) -> list[str]:
        errs = [f"{name} must be ≥ {low}" for name, low in (("max_rollout_num", 1), ("max_adv_rounds", 0),
                                                            ("max_active", 0), ("max_total", 0),
                                                            ("max_disk_mb", 0), ("min_start_interval_s", 0))
                if int(getattr(self, name)) < low]
        from ..config import PRESET_HELP
        from ..data import registry
        errs += [f"unknown preset {p!r}" for p in self.presets if p not in PRESET_HELP]
        errs += [f"unknown data set {d!r}" for d in self.datasets if d not in registry()]
        return errs


def _empty() -> dict:
    return {"class_id": secrets.token_hex(8), "code": new_code(), "rules": dataclasses.asdict(Rules()),
            "students": {}, "shared": [], "starts": {}}


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))


class Room:
    """The class of one runs root."""

    _cache: dict[str, tuple] = {}          # path -> (mtime_ns, data): shared by every session of the server
    _cache_lock = threading.Lock()

    def __init__(self, root: Optional[Path] = None):
        self.dir = class_dir(root)
        self.path = self.dir / "class.json"

    # --- storage ---------------------------------------------------------------------------------------
    def data(self) -> dict:
        """The register as stored (made on first use)."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            with self._edit() as d:
                return json.loads(json.dumps(d))
        with self._cache_lock:
            hit = self._cache.get(str(self.path))
        if hit and hit[0] == mtime:
            return hit[1]
        d = json.loads(self.path.read_text())
        with self._cache_lock:
            self._cache[str(self.path)] = (mtime, d)
        return d

    @contextmanager
    def _edit(self):
        """Read, change and write the register under an exclusive lock (two tabs never lose each other's edit)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "class.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                d = json.loads(self.path.read_text()) if self.path.exists() else _empty()
                yield d
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(d, indent=1, sort_keys=True))
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- the class -----------------------------------------------------------------------------------------
    @property
    def class_id(self) -> str:
        return self.data()["class_id"]

    @property
    def code(self) -> str:
        return self.data()["code"]

    def check_code(self, given: str) -> bool:
        import hmac
        return hmac.compare_digest("".join(str(given or "").upper().split()).encode(), self.code.encode())

    def new_class(self) -> None:
        """A fresh class: new id and code, no students; every student token handed out before stops working.
        The rules and the shared runs stay."""
        with self._edit() as d:
            d.update(class_id=secrets.token_hex(8), code=new_code(), students={}, starts={})

    def new_code(self) -> str:
        with self._edit() as d:
            d["code"] = new_code()
            return d["code"]

    def rules(self) -> Rules:
        return Rules.from_dict(self.data().get("rules"))

    def set_rules(self, rules: Rules) -> list[str]:
        errs = rules.problems()
        if not errs:
            with self._edit() as d:
                d["rules"] = dataclasses.asdict(rules)
        return errs

    # --- students ------------------------------------------------------------------------------------------
    def add_student(self, name: str) -> tuple[Optional[str], Optional[str]]:
        """(student id, None), or (None, why the name was refused)."""
        name = " ".join(str(name or "").split())
        if not name:
            return None, "Type a name your teacher will recognise."
        if len(name) > NAME_MAX or not name.isprintable():
            return None, f"A name has at most {NAME_MAX} printable characters."
        with self._edit() as d:
            taken = {s["name"].casefold() for s in d["students"].values() if not s.get("removed")}
            if name.casefold() in taken:
                return None, f"“{name}” is taken in this class: add an initial."
            sid = secrets.token_hex(4)
            d["students"][sid] = {"name": name, "joined": time.time()}
        return sid, None

    def student(self, sid: str) -> Optional[dict]:
        s = self.data()["students"].get(str(sid))
        return None if s is None or s.get("removed") else s

    def students(self) -> dict[str, dict]:
        return {k: v for k, v in self.data()["students"].items() if not v.get("removed")}

    def remove_student(self, sid: str) -> None:
        """Their token stops working at once; their runs stay (the teacher may still look at them)."""
        with self._edit() as d:
            if sid in d["students"]:
                d["students"][sid]["removed"] = time.time()

    # --- runs ----------------------------------------------------------------------------------------------
    def shared(self) -> set[str]:
        return set(self.data().get("shared", []))

    def share(self, run_id: str, on: bool = True) -> None:
        with self._edit() as d:
            ids = set(d.get("shared", []))
            ids = ids | {run_id} if on else ids - {run_id}
            d["shared"] = sorted(ids)

    def record_start(self, sid: str, run_id: str, now: Optional[float] = None) -> None:
        with self._edit() as d:
            d["starts"].setdefault(sid, []).append([now or time.time(), run_id])

    def starts(self, sid: str) -> list:
        return list(self.data().get("starts", {}).get(sid, []))


# --- the rules applied ---------------------------------------------------------------------------------

def preset_of(cfg: RunConfig, names: list[str]) -> Optional[str]:
    """The first allowed preset whose models and starting checkpoint cfg keeps (what a preset bounds: the
    size of what trains; the schedule is bounded by the rules' own limits)."""
    def shape(c: RunConfig) -> tuple:
        g = dataclasses.asdict(c.generator)
        g.pop("temperature", None)      # shapes samples only, never cost
        return g, dataclasses.asdict(c.discriminator), c.init_from or ""
    for name in names:
        try:
            if shape(preset(name)) == shape(cfg):
                return name
        except Exception:
            continue
    return None


def owned(runs: list[dict], sid: str) -> list[dict]:
    return [r for r in runs if r["state"].get("owner") == sid]


def disk_mb(runs: list[dict]) -> float:
    total = 0
    for r in runs:
        for dirpath, _, files in os.walk(r["dir"]):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, f))
                except OSError:
                    pass
    return total / 1e6


def schedule_problems(rules: Rules, values: dict) -> list[str]:
    """A student's live schedule change within the class's bounds."""
    n = values.get("rollout_num")
    if n is not None and int(n) > rules.max_rollout_num:
        return [f"N is at most {rules.max_rollout_num} in this class"]
    return []


def start_problems(rules: Rules, cfg: RunConfig, sid: str, room: Room, runs: list[dict],
                   now: Optional[float] = None) -> list[str]:
    """Why this student may not start cfg now (empty: they may)."""
    now = time.time() if now is None else now
    if not rules.students_may_start:
        return ["Your teacher has not opened starting runs to students yet: watch the shared runs."]
    errs = []
    if cfg.data.name not in rules.datasets:
        errs.append(f"Data set {cfg.data.name} is not open to this class "
                    f"(open: {', '.join(rules.datasets) or 'none'}).")
    if preset_of(cfg, rules.presets) is None:
        errs.append(f"Start from one of the class's presets ({', '.join(rules.presets) or 'none'}) and keep its "
                    "model sizes and starting checkpoint.")
    s = cfg.schedule
    biggest_n = max([s.rollout_num] + [int(c.get("rollout_num", 0)) for c in s.changes or []])
    if biggest_n > rules.max_rollout_num:
        errs.append(f"N is at most {rules.max_rollout_num} in this class (this run asks for {biggest_n}).")
    if s.adv_rounds > rules.max_adv_rounds:
        errs.append(f"At most {rules.max_adv_rounds} adversarial rounds in this class (this run has {s.adv_rounds}).")
    mine = owned(runs, sid)
    active = [r for r in mine if r["status"] in ACTIVE]
    if len(active) >= rules.max_active:
        errs.append(f"You have {len(active)} run(s) queued or training; the class allows {rules.max_active} at once.")
    started = room.starts(sid)
    if len(started) >= rules.max_total:
        errs.append(f"You have started {len(started)} runs; the class allows {rules.max_total} in all.")
    if started and now - started[-1][0] < rules.min_start_interval_s:
        wait = int(rules.min_start_interval_s - (now - started[-1][0])) + 1
        errs.append(f"One start per {rules.min_start_interval_s} s: try again in {wait} s.")
    used = disk_mb(mine)
    if used >= rules.max_disk_mb:
        errs.append(f"Your runs take {used:.0f} MB; the class allows {rules.max_disk_mb} MB: ask your teacher to "
                    "delete some.")
    return errs

