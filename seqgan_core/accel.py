"""What makes the engine fast on each device, kept in one place.

- Chunk sizes per device (rows sampled, scored or rolled out at once), and whether D's convolution
  banks run as one packed convolution. A 2-core CPU wants a few hundred
  rows so a chunk's logits stay in cache; a GPU wants tens of thousands. `python -m seqgan_core bench`
  measures them on this machine and keeps them in `.cache/tuning.json`; until then the defaults below
  (what the bench found on a 2-core CPU and on an H100) are used.
- Optimisers: fused Adam on CUDA (one kernel for all parameters), the default elsewhere.
- `CapturedStep`: a training step (forward, loss, backward, optimiser step) with fixed shapes, recorded
  once as a CUDA graph and replayed, so a minibatch costs one launch instead of ~100. Its statistics
  (loss, accuracy) accumulate on the device and are read once per unit of work: no host sync per
  minibatch. On the CPU, or where capture fails, the same function runs eagerly.
- CPU threads: `threads_for` chooses how many a worker uses from the cores and the runs sharing them.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

CACHE_FILE = Path(__file__).resolve().parents[1] / ".cache" / "tuning.json"

# Measured defaults (bench.tune_chunks); a machine's own measurement in CACHE_FILE overrides them.
DEFAULT_CHUNKS = {
    "cpu": {"sample_rows": 512, "score_rows": 512, "rollout_rows": 512, "d_packed": 0},
    "cuda": {"sample_rows": 16384, "score_rows": 8192, "rollout_rows": 32768, "d_packed": 1},
}


def device_key(dev: torch.device) -> str:
    """A name for the hardware behind dev, so a measurement is reused only on the same kind."""
    if dev.type == "cuda":
        return "cuda:" + torch.cuda.get_device_name(dev)
    return f"cpu:{platform.machine()}:{os.cpu_count()}"


def _read_cache() -> dict:
    try:
        data = json.loads(CACHE_FILE.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


_chunk_memo: dict[str, dict] = {}


def chunks(dev: torch.device) -> dict:
    """Chunk sizes for dev: measured on this machine if the bench has run, else the defaults."""
    key = device_key(dev)
    if key not in _chunk_memo:
        base = dict(DEFAULT_CHUNKS["cuda" if dev.type == "cuda" else "cpu"])
        measured = _read_cache().get(key, {})
        base.update({k: int(v) for k, v in measured.items() if k in base and int(v) >= 1})
        _chunk_memo[key] = base
    return _chunk_memo[key]


def save_chunks(dev: torch.device, values: dict) -> Path:
    """Keep the bench's measured chunk sizes for this hardware."""
    data = _read_cache()
    data[device_key(dev)] = {k: int(v) for k, v in values.items()}
    CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, CACHE_FILE)
    _chunk_memo.pop(device_key(dev), None)
    return CACHE_FILE


def adam(params, lr: float, dev: torch.device) -> torch.optim.Adam:
    """Adam with one fused kernel on CUDA (capturable in a graph); the default multi-tensor one elsewhere."""
    if dev.type == "cuda":
        return torch.optim.Adam(params, lr=lr, fused=True)
    return torch.optim.Adam(params, lr=lr)


def autocast(dev: torch.device, precision: str):
    """bf16 autocast for D when asked ('bf16'), else a no-op. The cache is off: graphs need that."""
    if precision == "bf16":
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()


def set_deterministic(dev: torch.device, on: bool) -> None:
    """Reproducible CUDA kernels (cuBLAS workspace, cuDNN without autotuning, deterministic scatter)."""
    if not on:
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")   # read when cuBLAS starts
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def threads_for(setting: int, active_cpu_runs: int, cores: Optional[int] = None) -> int:
    """Torch threads of one CPU run: the setting when > 0, else the cores shared by the CPU runs now
    active (this one included). Oversubscribed cores make every parallel op wait for its slowest
    thread: two 2-thread runs on 2 cores ran up to 3× slower than two 1-thread runs."""
    if setting > 0:
        return setting
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, active_cpu_runs))


class CapturedStep:
    """fn(*inputs) -> 1-D tensor of statistics; it must run forward, backward and the optimiser step, and
    must not zero gradients itself (this class does, as graph capture requires).

    On CUDA (mode 'graph') the step is recorded once into a CUDA graph over static input buffers: a
    call copies its inputs into them and replays. Warm-up iterations run on a copy of the state that is
    restored afterwards, so capturing does not change what is trained. Statistics add up on the device
    until `take()` reads them. If capture fails, the step runs eagerly and `reason` says why."""

    def __init__(self, fn: Callable[..., torch.Tensor], modules: Sequence[torch.nn.Module],
                 optimizers: Sequence[torch.optim.Optimizer], dev: torch.device, mode: str = "graph"):
        self.fn, self.modules, self.optimizers, self.dev = fn, list(modules), list(optimizers), dev
        self.mode = mode if dev.type == "cuda" else "eager"
        self.graph: Optional[torch.cuda.CUDAGraph] = None
        self.static_in: list[torch.Tensor] = []
        self.acc: Optional[torch.Tensor] = None     # statistics summed on the device
        self.calls = 0
        self.reason = "" if self.mode != "eager" else "eager on this device"
        self._compiled = None

    def _zero(self):
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    def __call__(self, *inputs: torch.Tensor) -> None:
        if self.mode == "graph" and self.graph is None:
            self._try_capture(inputs)
        self.calls += 1
        if self.graph is not None:
            for buf, x in zip(self.static_in, inputs):
                buf.copy_(x, non_blocking=True)
            self.graph.replay()
        else:
            self._zero()
            self._body(*inputs)

    def _body(self, *inputs):
        fn = self.fn
        if self.mode == "compile":
            if self._compiled is None:
                self._compiled = torch.compile(self.fn, mode="reduce-overhead")
            fn = self._compiled
        out = fn(*inputs).detach()
        if self.acc is None:
            self.acc = torch.zeros_like(out)
        self.acc.add_(out)

    def take(self) -> Optional[torch.Tensor]:
        """The statistics summed since the last take (None if no step ran); resets them."""
        if not self.calls:
            return None
        out = self.acc.clone()
        self.acc.zero_()
        self.calls = 0
        return out

    def _state(self) -> list[torch.Tensor]:
        """Every tensor a step changes: parameters, buffers and optimiser state (which exists only
        after an optimiser's first step)."""
        ts = [t for m in self.modules for t in list(m.parameters()) + list(m.buffers())]
        for opt in self.optimizers:
            for st in opt.state.values():
                ts += [v for v in st.values() if torch.is_tensor(v)]
        return ts

    def _try_capture(self, inputs):
        try:
            self._capture(inputs)
        except Exception as e:  # an op that cannot be captured: run eagerly, same arithmetic
            self.graph, self.mode = None, "eager"
            self.reason = f"graph capture failed ({type(e).__name__}: {str(e).splitlines()[0][:160]})"
            print(f"[seqgan] {self.reason}; running eagerly", file=sys.stderr)

    def _capture(self, inputs):
        self.static_in = [x.detach().clone() for x in inputs]
        # Warm-up (on a side stream, as capture requires) creates the optimiser state and initialises
        # cuBLAS/cuDNN. It trains for real, so the state and the RNG are saved first and put back after:
        # tensors that existed are restored, optimiser state created by the warm-up is zeroed (a fresh
        # Adam's moments and step count are zeros).
        before = {id(t): t.detach().clone() for t in self._state()}
        rng = torch.cuda.get_rng_state(self.dev)
        try:
            side = torch.cuda.Stream(self.dev)
            side.wait_stream(torch.cuda.current_stream(self.dev))
            with torch.cuda.stream(side):
                for _ in range(2):
                    self._zero()
                    self._body(*self.static_in)
            torch.cuda.current_stream(self.dev).wait_stream(side)
            self._zero()
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._body(*self.static_in)
            self.graph = graph
        finally:
            torch.cuda.synchronize(self.dev)
            with torch.no_grad():
                for t in self._state():
                    if id(t) in before:
                        t.copy_(before[id(t)])
                    else:
                        t.zero_()
                if self.acc is not None:
                    self.acc.zero_()
            torch.cuda.set_rng_state(rng, self.dev)
