"""Engine commands the pages start in a process of their own and poll (a study's cost estimate, the
per-sequence t-test, the temperature sweep): the web server never samples or times a model itself, and a
page that asked for a minute of work stays usable while it runs.

Tasks are kept for the whole server (every session sees a task another started for the same key) and
their output goes to files, so a task outlives the script run that started it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import streamlit as st

CODE_ROOT = Path(__file__).resolve().parents[1]
MAX_TASKS = 64


@dataclass
class Task:
    proc: subprocess.Popen
    folder: Path
    started: float = field(default_factory=time.time)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def last_line(self) -> str:
        """The task's latest progress line (its standard error)."""
        lines = (self.folder / "stderr").read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def result(self):
        """The JSON the command printed, once it has ended well; raises RuntimeError with its last error
        line when it failed."""
        if self.proc.returncode != 0:
            raise RuntimeError(self.last_line().removeprefix("error: ") or "the process failed")
        out = (self.folder / "stdout").read_text().strip().splitlines()
        return json.loads(out[-1])


@st.cache_resource
def _tasks() -> dict[str, Task]:
    return {}


def start(key: str, args: list[str], input_json: Optional[str] = None) -> Task:
    """`python -m <args>` in a process of its own, its output in a fresh temporary folder; input_json, when
    given, is written there as input.json and named in args by {input} (a file the server made, never a
    path from the browser)."""
    tasks = _tasks()
    for old in [k for k, t in tasks.items() if not t.running][:max(0, len(tasks) - MAX_TASKS + 1)]:
        del tasks[old]
    folder = Path(tempfile.mkdtemp(prefix="seqgan_task_"))
    if input_json is not None:
        (folder / "input.json").write_text(input_json)
        args = [a.replace("{input}", str(folder / "input.json")) for a in args]
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=CODE_ROOT, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
    tasks[key] = Task(proc, folder)
    return tasks[key]


def get(key: str) -> Optional[Task]:
    return _tasks().get(key)


def forget(key: str) -> None:
    task = _tasks().pop(key, None)
    if task is not None and task.running:
        task.proc.terminate()


def computed(key: str, args: list[str], icon: str, waiting: str, failed: str):
    """The JSON of `python -m <args>`, started on the first call for key: None while the process works (a
    note that refreshes itself says so), then its result; on failure, the error is shown."""
    task = get(key) or start(key, args)
    if task.running:
        @st.fragment(run_every=1.0)
        def wait():
            if not task.running:
                st.rerun()
            st.info(f"{waiting} ({time.time() - task.started:.0f} s so far)…", icon=icon)
        wait()
        return None
    try:
        return task.result()
    except (RuntimeError, ValueError) as e:
        st.error(f"{failed}: {e}")
        return None
