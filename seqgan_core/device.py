"""Devices: chosen once per run, here; nothing else names one.

The web server must never initialise CUDA (a CUDA context costs hundreds of MB per process, and a
forked or long-lived server holding one gets in the workers' way). What it needs to know (how many
GPUs, their names and free memory, the CPU's cores) comes from a short-lived probe process,
`python -m seqgan_core devices --json`, asked at most every PROBE_TTL seconds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from .config import ConfigError

PROBE_TTL = 30.0
_probe_cache: dict = {}          # one entry: {"at": time, "facts": {...}}


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def probe() -> dict:
    """The device facts of this machine, measured in this process (the probe's own body)."""
    import torch
    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(i)
            gpus.append({"index": i, "name": torch.cuda.get_device_name(i),
                         "free_gb": round(free / 2**30, 1), "total_gb": round(total / 2**30, 1)})
    return {"cuda": gpus, "cores": cores()}


def device_facts(max_age: float = PROBE_TTL) -> dict:
    """The facts from a short-lived probe process (cached for max_age seconds); CPU only if it fails."""
    hit = _probe_cache.get("entry")
    if hit and time.time() - hit["at"] < max_age:
        return hit["facts"]
    facts = {"cuda": [], "cores": cores(), "probe_error": None}
    try:
        out = subprocess.run([sys.executable, "-m", "seqgan_core", "devices", "--json"], capture_output=True,
                             text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
        if out.returncode == 0:
            facts.update(json.loads(out.stdout))
        else:
            facts["probe_error"] = (out.stderr.strip().splitlines() or ["failed"])[-1]
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        facts["probe_error"] = f"{type(e).__name__}: {e}"
    _probe_cache["entry"] = {"at": time.time(), "facts": facts}
    return facts


def resolve_device(name: str = "auto"):
    """The torch device of a run (in the worker: this initialises CUDA there, and only there)."""
    import torch
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device '{name}' asked for, but no CUDA GPU is available here: use cpu or auto")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device '{name}' does not exist: this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")
    return torch.device(name)


def list_devices(facts: Optional[dict] = None) -> list[dict]:
    """Every device a run may use, with a label for the Setup page (from the probe, not from CUDA)."""
    facts = facts or device_facts()
    gpus = facts.get("cuda", [])
    auto = "auto (a free GPU if there is one, else the CPU)" if gpus else "auto (the CPU: no GPU here)"
    out = [{"name": "auto", "label": auto},
           {"name": "cpu", "label": f"cpu ({facts.get('cores', cores())} cores)"}]
    for g in gpus:
        out.append({"name": f"cuda:{g['index']}", "label": f"cuda:{g['index']} {g['name']} "
                                                          f"({g['free_gb']:.1f} of {g['total_gb']:.1f} GB free)"})
    return out


def choose_slot(name: str, busy: dict[str, int], per_slot: int, facts: Optional[dict] = None) -> Optional[str]:
    """The concurrency slot ('cpu' or 'cuda:i') a queued run takes now, or None while its slot is full.

    auto takes the least busy GPU with room (one run per GPU by default), else the CPU; a named device
    waits for its own slot. Raises ConfigError for a GPU this machine does not have."""
    facts = facts or device_facts()
    gpus = [f"cuda:{g['index']}" for g in facts.get("cuda", [])]
    if name == "auto":
        if gpus:
            free = [g for g in gpus if busy.get(g, 0) < per_slot]
            return min(free, key=lambda g: busy.get(g, 0)) if free else None
        name = "cpu"
    if name.startswith("cuda"):
        slot = name if ":" in name else "cuda:0"
        if slot not in gpus:
            raise ConfigError(f"device '{name}' does not exist here (GPUs: {', '.join(gpus) or 'none'})")
        name = slot
    return name if busy.get(name, 0) < per_slot else None
