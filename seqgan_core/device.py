"""The device is chosen once, here; nothing else names one."""
from __future__ import annotations

import torch

from .config import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
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


def list_devices() -> list[dict]:
    """Every device a run may use, with a label for the Setup page."""
    out = [{"name": "auto", "label": "auto (a GPU if there is one, else the CPU)"},
           {"name": "cpu", "label": f"cpu ({torch.get_num_threads()} threads)"}]
    for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        free, total = torch.cuda.mem_get_info(i)
        out.append({"name": f"cuda:{i}", "label": f"cuda:{i} {torch.cuda.get_device_name(i)} "
                                                  f"({free / 2**30:.1f} of {total / 2**30:.1f} GB free)"})
    return out


def slot_of(name: str) -> str:
    """The concurrency slot a run occupies: 'cpu' or 'cuda:i'."""
    dev = resolve_device(name)
    if dev.type == "cuda":
        return f"cuda:{dev.index or 0}"
    return "cpu"
