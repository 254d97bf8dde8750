"""Checkpoint files: durable writes, a previous copy kept until the new one is safe, safe loading, and the
checks on a starting checkpoint (init_from).

A checkpoint holds tensors and plain containers only, loaded with weights_only=True: never an arbitrary
pickle. `save_checkpoint` writes a temp file, fsyncs it, links the old file as `<name>.prev` and renames the
new one over it, then fsyncs the folder: at every moment `<name>` itself is a complete checkpoint (the old or
the new one), so a worker killed mid-save never leaves a run without its latest file. `load_latest` falls back to the previous copy when the newest cannot be read, and says so.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional

import torch

from ..config import RunConfig

CHECKPOINT_FORMAT = 1
REPO_ROOT = Path(__file__).resolve().parents[2]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(state: dict, path: Path) -> None:
    """Durable and atomic; the file it replaces survives as path.prev until this one is on disk."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        torch.save(state, fh)
        fh.flush()
        os.fsync(fh.fileno())
    if path.exists():
        _keep_as_previous(path)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _keep_as_previous(path: Path) -> None:
    """path stays in place (a hard link shares its bytes); a copy where the file system has no links."""
    prev = previous(path)
    prev.unlink(missing_ok=True)
    try:
        os.link(path, prev)
    except OSError:
        shutil.copyfile(path, prev)


def previous(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".prev")


def load_checkpoint(path) -> dict:
    """Tensors and plain containers only (weights_only): never unpickle arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt or foreign file
        raise ValueError(f"{path} is not a readable SeqGAN Studio checkpoint ({type(e).__name__})") from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a SeqGAN Studio checkpoint (format {CHECKPOINT_FORMAT})")
    return ck


def load_latest(path: Path) -> tuple[dict, Optional[str]]:
    """The checkpoint at path, or its previous copy if path is missing or unreadable; with a message
    saying what was used when it was not path itself."""
    try:
        return load_checkpoint(path), None
    except (FileNotFoundError, ValueError) as e:
        prev = previous(path)
        if not prev.is_file():
            raise
        ck = load_checkpoint(prev)
        return ck, (f"{e}; resumed from the previous checkpoint instead (step {ck['position']['step']}): "
                    "the units after it are trained again")


def resolve_asset(path: str | Path) -> Path:
    """A relative path that does not exist from here is looked up in the repository (shipped assets)."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        return REPO_ROOT / path
    return path


def layout_problem(ck: dict, data_name: str, path) -> Optional[str]:
    """Why checkpoint ck (made on data set data_name) cannot be used with today's token layout, or None.

    Text data sets give the generator's start input an id of its own; before, start and end shared id 0.
    A generator trained that way expects other ids, so its checkpoint is refused rather than misused.
    Checkpoints carry the start id they were made with ("start_id"); one without it is from before, when
    every data set started from id 0 (still right for the synthetic oracle, e.g. the shipped assets)."""
    from ..data.base import start_id_of
    have, want = int(ck.get("start_id", 0)), start_id_of(data_name)
    if have == want:
        return None
    if have == 0:
        return (f"{path} was made when the start and end tokens shared id 0; text data sets such as "
                f"'{data_name}' now give the start token its own id ({want}), so this generator does not fit "
                f"them. Train it again: clear init_from, or start a new run instead of resuming this one")
    return (f"{path} was made with start token id {have}, but data set '{data_name}' uses id {want}: "
            "train it again")


def init_from_problem(cfg: RunConfig) -> Optional[str]:
    """Why cfg.init_from cannot start this run, or None: no such file, another data set or generator
    size, the old token layout (layout_problem), or reuse of the MLE optimiser asked for when the
    checkpoint does not carry it. One check for Setup, the CLI and the worker."""
    if not cfg.init_from:
        return None
    try:
        ck = load_checkpoint(resolve_asset(cfg.init_from))
        other = RunConfig.from_dict(json.loads(ck["config"]))
    except (FileNotFoundError, ValueError) as e:
        return f"init_from: {e}"
    return incompatibility(cfg, other, has_optimiser="g_opt" in ck) or \
        layout_problem(ck, other.data.name, f"init_from {cfg.init_from}")


def incompatibility(cfg: RunConfig, other: RunConfig, has_optimiser: bool = True) -> Optional[str]:
    """Why a checkpoint trained under `other` cannot start cfg's run, or None."""
    if other.data != cfg.data:
        return (f"init_from {cfg.init_from} was trained on data set '{other.data.name}' with options "
                f"{other.data.options}; clear init_from to pre-train on this data set from scratch")
    if (other.generator.emb_dim, other.generator.hidden_dim) != (cfg.generator.emb_dim, cfg.generator.hidden_dim):
        return f"init_from {cfg.init_from} has another generator size; clear init_from to pre-train from scratch"
    if not cfg.schedule.fresh_pg_optimizer and not has_optimiser:
        return (f"fresh_pg_optimizer is off (reuse the MLE optimiser for policy gradient), but init_from "
                f"{cfg.init_from} carries no optimiser state: turn fresh_pg_optimizer on, or start from a "
                "checkpoint that has one")
    return None


def known_starts(runs_root: Path) -> list[tuple[str, str]]:
    """Starting checkpoints a browser may choose from (it never types a server path): the shipped ones
    under assets/pretrained, and every run's finished MLE phase under the runs root. (value, label)."""
    out = [(str(p.relative_to(REPO_ROOT)), f"shipped: {p.name}")
           for p in sorted((REPO_ROOT / "assets" / "pretrained").glob("*.pt"))]
    root = Path(runs_root)
    if root.is_dir():
        for p in sorted(root.glob("*/checkpoints/mle_done.pt"), reverse=True):
            out.append((str(p.resolve()), f"run {p.parent.parent.name}: after MLE"))
    return out
