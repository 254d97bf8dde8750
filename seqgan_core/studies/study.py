"""A study on disk: a folder under the runs root, beside the runs, holding its spec and the list of its runs.

    <root>/study-<time>-<name>-<hex>/study.json   spec, executor, cost estimate, members (cell, seed, run id)
    <root>/<run id>/                              each member: an ordinary run (config.json, run.db, ...)

The member runs are ordinary runs in the one runs root, not nested in the study folder: the job manager's
per-device limit then holds across studies and single runs, the Runs page lists them, and every reader
of the run store (RunDB) reads them unchanged. The study id is made here and checked like a run id.
"""
from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from pathlib import Path
from typing import Optional

from ..contract import LIVE_STATUSES
from ..runs.store import RunDB, create_run, default_root, run_path
from .spec import StudySpec, expand, spec_from_dict

STUDY_FILE = "study.json"
DONE = ("finished", "stopped", "failed", "interrupted")


def new_study_id(spec: StudySpec) -> str:
    return f"study-{time.strftime('%Y%m%d-%H%M%S')}-{spec.name}-{secrets.token_hex(2)}"


def study_path(root: str | Path, study_id: str) -> Path:
    """The folder of a study under root; refused like a run id when it is not a plain name."""
    if not isinstance(study_id, str) or not study_id.startswith("study-"):
        raise ValueError(f"{study_id!r} is not a study id")
    return run_path(root, study_id)


def create_study(spec: StudySpec, root: Optional[Path] = None, executor: Optional[dict] = None,
                 estimate: Optional[dict] = None) -> Path:
    """The study folder and one queued run per member. executor: {"kind": "local"|"ray", ...} — a run for
    the Ray executor is marked so that the local job manager never starts it."""
    root = Path(root or default_root())
    executor = executor or {"kind": "local"}
    sdir = study_path(root, new_study_id(spec))
    sdir.mkdir(parents=True)
    members = []
    for m in expand(spec):
        run_dir = create_run(m.cfg, root)
        RunDB(run_dir).set_state(study=sdir.name, executor=executor["kind"])
        members.append({"cell": m.cell, "values": m.values, "seed": m.seed, "run": run_dir.name})
    _write(sdir, {"id": sdir.name, "spec": spec.to_dict(), "created": time.time(), "executor": executor,
                  "estimate": estimate or {}, "members": members})
    return sdir


def _write(sdir: Path, data: dict) -> None:
    tmp = sdir / (STUDY_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, sdir / STUDY_FILE)


def study_eta(rows: list[dict], estimated: dict, parallel: int) -> Optional[float]:
    """Seconds until a study's runs are done, or None while some run left has no figure at all. A running
    run counts its own ETA; a queued one the median training time of its cell's finished runs (measured
    here), else the up-front estimate of its cell. The queued work is shared among the runs that go in
    parallel, and the study lasts at least as long as its longest running run."""
    finished: dict[str, list] = {}
    for r in rows:
        if r["status"] == "finished" and r.get("elapsed_s"):
            finished.setdefault(r["cell"], []).append(float(r["elapsed_s"]))
    running, queued = [], 0.0
    for r in rows:
        if r["status"] in LIVE_STATUSES or r["status"] == "queued":
            measured = statistics.median(finished[r["cell"]]) if r["cell"] in finished else None
            guess = measured if measured is not None else estimated.get(r["cell"])
            if r["status"] == "queued":
                if guess is None:
                    return None
                queued += guess
            else:
                left = r.get("eta_s") if r.get("eta_s") is not None else guess
                if left is None:
                    return None
                running.append(left)
    return max(max(running, default=0.0), (sum(running) + queued) / parallel)


class Study:
    def __init__(self, sdir: str | Path):
        self.dir = Path(sdir)
        if not (self.dir / STUDY_FILE).is_file():
            raise FileNotFoundError(f"{self.dir} is not a study folder (no {STUDY_FILE})")
        self.data = json.loads((self.dir / STUDY_FILE).read_text())
        self.spec = spec_from_dict(self.data["spec"])
        self.root = self.dir.parent

    @property
    def members(self) -> list[dict]:
        """Members with their run folder (resolved under the root: the file's ids are checked again)."""
        return [{**m, "dir": run_path(self.root, m["run"])} for m in self.data["members"]]

    @property
    def executor(self) -> dict:
        return self.data.get("executor", {"kind": "local"})

    def cells(self) -> list[str]:
        return list(dict.fromkeys(m["cell"] for m in self.data["members"]))

    def run_dirs(self) -> list[Path]:
        return [m["dir"] for m in self.members]

    def signature(self) -> list[list]:
        """[run, status, worker start] per member: changes when a run finishes or is resumed (keys the
        tables computed from the runs)."""
        out = []
        for m in self.members:
            st = RunDB(m["dir"]).state()
            out.append([m["run"], st.get("status"), st.get("started")])
        return out

    # --- watching -----------------------------------------------------------------------------------
    def status(self) -> dict:
        """Per-run status and progress, and the study's: counts, elapsed, and an overall ETA (see eta)."""
        if self.executor.get("kind", "local") == "local":
            from ..runs.jobs import JobManager
            JobManager(self.root).runs()          # marks runs whose worker died as interrupted
        rows = []
        for m in self.members:
            st = RunDB(m["dir"]).state()
            prog = st.get("progress") or {}
            status = st.get("status", "queued")
            rows.append({"cell": m["cell"], "seed": m["seed"], "run": m["run"], "status": status,
                         "phase": prog.get("phase"), "index": prog.get("index"),
                         "phase_total": prog.get("phase_total"), "fraction": prog.get("fraction"),
                         "eta_s": prog.get("eta_s") if status in LIVE_STATUSES else None,
                         "elapsed_s": prog.get("elapsed_s"), "error": st.get("error")})
        parallel = max(1, int(self.executor.get("parallel", 1)))
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        done = all(r["status"] in DONE for r in rows)
        return {"id": self.dir.name, "runs": rows, "counts": counts, "done": done,
                "eta_s": 0.0 if done else study_eta(rows, self.data.get("estimate", {}).get("per_run", {}), parallel),
                "parallel": parallel}

    # --- control ------------------------------------------------------------------------------------
    def cancel(self) -> int:
        """Stop every run of the study through the run store, whatever executes it: queued runs become
        stopped (neither executor starts a run that is not queued), live ones get the stop request the Stop
        button sends (they checkpoint and end as stopped). Returns how many runs were told."""
        n = 0
        for d in self.run_dirs():
            db = RunDB(d)
            status = db.state().get("status", "queued")
            if status in LIVE_STATUSES or status == "queued":
                # the request first: a worker starting right now (queued, about to say running) stops at once
                db.request("stop")
                db.transition("stopped", expect=("queued",), error="the study was cancelled")
                n += 1
        return n

    def restartable(self) -> list[Path]:
        return [m["dir"] for m in self.members
                if RunDB(m["dir"]).state().get("status") in ("stopped", "interrupted", "failed")]
