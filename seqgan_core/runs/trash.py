"""Deleted runs wait in <runs root>/.trash/ until the teacher empties it: a wrong click in a class costs
nothing. A run moves there whole (one rename on the same file system), and can be put back."""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from .store import RUN_ID, run_path

TRASH = ".trash"
STAMP = re.compile(r"\.\d{8}-\d{6}$")          # added to a name already in the trash


def trash_dir(root: Path) -> Path:
    return Path(root) / TRASH


def move_to_trash(run_dir: Path, root: Path) -> Path:
    """Move a run into the trash; a name already there gets the time appended."""
    bin_ = trash_dir(root)
    bin_.mkdir(parents=True, exist_ok=True)
    target = bin_ / run_dir.name
    if target.exists():
        target = bin_ / f"{run_dir.name}.{time.strftime('%Y%m%d-%H%M%S')}"
    os.replace(run_dir, target)
    return target


def trashed(root: Path) -> list[dict]:
    """What the trash holds, newest deletion first: name, when it was deleted, size in MB."""
    bin_ = trash_dir(root)
    if not bin_.is_dir():
        return []
    out = []
    for d in bin_.iterdir():
        size = sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        out.append({"name": d.name, "deleted": d.stat().st_mtime, "mb": size / 1e6})
    return sorted(out, key=lambda r: -r["deleted"])


def restore(root: Path, name: str) -> Path:
    """Put a trashed run back under its own name (refused if a run of that name exists again)."""
    if not RUN_ID.match(name):
        raise ValueError(f"{name!r} is not in the trash")
    src = trash_dir(root) / name
    if not src.is_dir():
        raise ValueError(f"{name!r} is not in the trash")
    target = run_path(root, STAMP.sub("", name))
    if target.exists():
        raise FileExistsError(f"a run named {target.name} exists already")
    os.replace(src, target)
    return target


def empty_trash(root: Path) -> int:
    """Delete everything in the trash for good; returns how many runs went."""
    items = trashed(root)
    for item in items:
        shutil.rmtree(trash_dir(root) / item["name"])
    return len(items)
