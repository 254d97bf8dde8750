"""Algorithm 1 of the paper as a resumable state machine.

The run is a sequence of units: MLE epochs, D pre-training rounds, then adversarial rounds made of
g-steps (one policy-gradient minibatch each) and d-steps (fresh negatives + k epochs of D). Between units
the trainer reads control requests (pause, resume, stop, step, schedule changes) and may checkpoint. A
checkpoint holds the config, the position, every state dict and the RNG states, so resuming from it
replays exactly what an uninterrupted run would have done. Everything observable goes to a Sink.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .. import data as data_mod
from ..config import LIVE_FIELDS, ConfigError, RunConfig, check
from ..device import resolve_device
from ..metrics.evaluate import Evaluator
from ..models import Discriminator, Generator
from .. import accel
from ..rollout import RolloutPolicy
from . import steps

CHECKPOINT_FORMAT = 1
PHASES = ("mle", "d_pretrain", "adversarial", "done")
D_PROBE = 256          # real and generated sequences D scores after each D phase (histograms, accuracy)


@dataclass
class Position:
    phase: str = "mle"     # mle → d_pretrain → adversarial → done
    index: int = 0         # units finished in this phase: epochs, D rounds, adversarial rounds
    g_done: int = 0        # g-steps finished in the current adversarial round
    d_done: int = 0        # d-steps finished in the current adversarial round
    step: int = 0          # units finished in the whole run


class Sink:
    """Receives what a run produces; the run store implements it, tests may collect it."""

    def scalars(self, step: int, phase: str, x: float, values: dict) -> None: ...
    def snapshot(self, step: int, kind: str, payload: dict) -> None: ...
    def event(self, step: int, kind: str, payload: dict) -> None: ...
    def progress(self, info: dict) -> None: ...
    def status(self, state: str) -> None: ...


class Control:
    """Source of control requests: a list of {"command": ..., "payload": {...}} per poll."""

    def poll(self) -> list[dict]:
        return []


class Trainer:
    def __init__(self, cfg: RunConfig, sink: Optional[Sink] = None, control: Optional[Control] = None,
                 dataset=None, checkpoint_dir: Optional[str | Path] = None):
        check(cfg)
        self.cfg = copy.deepcopy(cfg)
        self.sink, self.control = sink or Sink(), control or Control()
        self.device = resolve_device(cfg.device)
        accel.set_deterministic(self.device, cfg.deterministic)
        self.ckpt_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.ds = dataset or data_mod.load(cfg.data.name, cfg.data.options, cfg.seed)
        check(cfg, self.ds.vocab_size, self.ds.seq_len)
        if cfg.schedule.batch_size > len(self.ds.train):
            raise ConfigError(f"batch_size ({cfg.schedule.batch_size}) is larger than the training set "
                              f"({len(self.ds.train)} sequences): nothing would be trained")
        torch.manual_seed(cfg.seed)  # after loading: a loader may draw from the global RNG (or be cached)
        self.train_data = self.ds.train.to(self.device)
        if self.ds.oracle is not None:
            self.ds.oracle.to(self.device)
        self.schedule = copy.deepcopy(cfg.schedule)   # live values; 'set' requests change them
        self._build_models()
        self.evaluate = Evaluator(self.ds, cfg.eval.nll_samples)  # τ = 1: the policy being trained
        self.pos = Position()
        self.paused = self.stopping = self.step_once = False
        self.pending: dict = {}
        self.unit_time: dict[str, list[float]] = {}   # unit kind -> [count, seconds]
        self.started = time.time()
        self._pending_checkpoint = False              # a unit asked for a checkpoint once it is counted
        self._ckpt_at = None                          # (step, phase) of the last checkpoint written
        if cfg.init_from:
            self._init_from(cfg.init_from)
        self.estimates: Optional[dict] = None          # seconds per unit before any was measured

    def measure_costs(self):
        """A quick measurement of each kind of unit, so the ETA is known from the start."""
        from ..estimate import estimate
        cuda = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):  # measuring must not change what the run draws
            est = estimate(self.cfg, self.ds.vocab_size, self.ds.seq_len, len(self.ds.train))
        self.estimates = {"mle": est["mle_epoch"] + est["eval"] / self.cfg.eval.eval_every_epochs,
                          "d_pretrain": est["d_pretrain_round"], "g_step": est["g_step"],
                          "d_step": est["d_step"]}

    # --- construction -------------------------------------------------------------------------------
    def _build_models(self):
        c, V = self.cfg, self.ds.vocab_size
        self.gen = Generator(V, c.generator.emb_dim, c.generator.hidden_dim).init_normal(
            c.generator.init_std).to(self.device)
        d = c.discriminator
        self.disc = Discriminator(V, d.emb_dim, d.filter_sizes, d.num_filters, d.dropout, d.l2_reg).to(self.device)
        self.disc.precision = d.precision
        self.disc.packed = bool(accel.chunks(self.device)["d_packed"])
        s, dev = self.schedule, self.device
        self.g_opt = accel.adam(self.gen.parameters(), s.g_lr, dev)
        # The authors give PG its own Adam; reusing the MLE moments derails PG (REFERENCE.md probe).
        self.pg_opt = accel.adam(self.gen.parameters(), s.pg_lr, dev) if s.fresh_pg_optimizer else self.g_opt
        self.d_opt = accel.adam(self.disc.parameters(), s.d_lr, dev)
        mode = {"auto": "graph", "off": "eager"}.get(c.capture, c.capture)
        self.mle_step = steps.make_mle_step(self.gen, self.g_opt, s.grad_clip, mode)
        self.d_step = steps.make_d_step(self.disc, self.d_opt, mode)
        self.roll = RolloutPolicy(self.gen, s.rollout_delay)

    def _init_from(self, path: str):
        """Start from a pretrained checkpoint (e.g. the classroom's MLE generator); the run keeps its seed."""
        path = resolve_asset(path)
        ck = load_checkpoint(path)
        other = RunConfig.from_dict(json.loads(ck["config"]))
        problem = _incompatibility(self.cfg, other)
        if problem:
            raise ConfigError(problem)
        self.gen.load_state_dict(ck["gen"])
        self.roll = RolloutPolicy(self.gen, self.schedule.rollout_delay)
        # the curve axis continues after the epochs the starting point was trained for
        self.cfg.schedule.pretrain_g_epochs = self.schedule.pretrain_g_epochs = other.schedule.pretrain_g_epochs
        if ck["position"]["phase"] != "mle":
            self.pos = Position(phase="d_pretrain", step=ck["position"]["step"])
        self.init_history = ck.get("history", [])
        self.sink.event(0, "init_from", {"path": str(path), "mle_epochs": ck["position"]["step"]})
        for row in self.init_history:
            self.sink.scalars(row["step"], row["phase"], row["x"], row["values"])

    # --- the loop ------------------------------------------------------------------------------------
    def run(self) -> str:
        """Train until done or stopped; returns 'finished' or 'stopped'."""
        self._skip_empty_phases()
        self._report()
        while self.pos.phase != "done":
            self._poll()
            if self.stopping:
                self.checkpoint()
                return "stopped"
            t0 = time.time()
            kind = self._unit()
            self._account(kind, time.time() - t0)
            self._skip_empty_phases()
            self._report()
            if self.step_once:
                self.step_once, self.paused = False, True
                self.sink.status("paused")
        self.checkpoint()
        return "finished"

    def _unit(self) -> str:
        """Run the next unit of work; returns its kind (for timing)."""
        p, s = self.pos, self.schedule
        if p.phase == "mle":
            kind = "mle"
            self._mle_epoch()
        elif p.phase == "d_pretrain":
            kind = "d_pretrain"
            self._d_round(s.pretrain_d_epochs, "d_pretrain")
            p.index += 1
            self._pending_checkpoint = p.index % self.cfg.eval.checkpoint_every_rounds == 0
        elif p.g_done < s.g_steps:
            kind = "g_step"
            self._g_step()
            p.g_done += 1
        else:
            kind = "d_step"
            self._d_round(s.k_epochs, "adversarial")
            p.d_done += 1
        p.step += 1
        if p.phase == "adversarial" and p.g_done >= s.g_steps and p.d_done >= s.d_steps:
            self._end_round()
        if self._pending_checkpoint:
            self._pending_checkpoint = False
            self.checkpoint()
        return kind

    def _phase_lengths(self) -> dict:
        """Units in each phase under the live schedule."""
        s = self.schedule
        return {"mle": s.pretrain_g_epochs, "d_pretrain": s.pretrain_d_rounds, "adversarial": s.adv_rounds,
                "done": 0}

    def _skip_empty_phases(self):
        """Move on from finished phases (checkpointing at each phase end)."""
        p, lengths = self.pos, self._phase_lengths()
        left = p.phase
        while p.phase != "done" and p.index >= lengths[p.phase]:
            p.phase, p.index, p.g_done, p.d_done = PHASES[PHASES.index(p.phase) + 1], 0, 0, 0
        if p.phase != left:
            self.sink.event(p.step, "phase", {"phase": p.phase})
            if p.phase == "adversarial":
                self.roll = RolloutPolicy(self.gen, self.schedule.rollout_delay)  # β ← θ (Algorithm 1, line 3)
                self._apply_pending()
            # named copies: where the controls branch off (MLE done; D pre-trained, adversarial start)
            also = (("mle_done.pt",) if left == "mle" else ()) + \
                (("adv_start.pt",) if p.phase == "adversarial" else ())
            self.checkpoint(also=also)

    # --- units ---------------------------------------------------------------------------------------
    def _mle_epoch(self):
        s, p = self.schedule, self.pos
        loss = steps.mle_epoch(self.gen, self.g_opt, self.train_data, s.batch_size, s.grad_clip, self.mle_step)
        epoch = p.index
        values = {"loss/mle": loss}
        last = epoch == s.pretrain_g_epochs - 1
        if epoch % self.cfg.eval.eval_every_epochs == 0 or last:
            values.update(self._eval_g())
        self.sink.scalars(p.step, "mle", epoch, values)
        p.index += 1
        self._pending_checkpoint = "nll/test" in values   # after each evaluation (written once counted)

    def _g_step(self):
        s, p = self.schedule, self.pos
        self.gen.eval()
        y = self.gen.sample(s.batch_size, self.ds.seq_len)                            # (B, T)
        self.disc.eval()  # no dropout while scoring rewards
        res = steps.rewards(s.reward, self.roll.policy, self.disc, y, s.rollout_num)
        out = steps.pg_step(self.gen, self.pg_opt, y, res.q, s.reward_baseline, s.pg_loss_norm, s.grad_clip)
        self.sink.scalars(p.step, "adversarial", self._x(), {
            "g/reward_mean": out["q_mean"], "g/reward_last": out["q_last"],
            "g/pg_loss": out["loss"], "g/entropy": out["entropy"]})
        self.sink.snapshot(p.step, "rollout", self._rollout_snapshot(y, res, out["logp"]))

    def _d_round(self, epochs: int, phase: str):
        s, p = self.schedule, self.pos
        fake = self.gen.sample(s.num_negatives, self.ds.seq_len)
        real = steps.real_subset(self.train_data, s.num_negatives)
        out = steps.d_train(self.disc, self.d_opt, real, fake, epochs, s.batch_size, self.d_step)
        values = {"d/loss": out["loss"], "d/train_acc": out["train_acc"]}
        values.update(self._probe_d())
        x = p.index if phase == "d_pretrain" else self._x()
        self.sink.scalars(p.step, phase, x, values)

    def _end_round(self):
        p, s = self.pos, self.schedule
        self.roll.update()
        r = p.index
        if r % self.cfg.eval.eval_every_rounds == 0 or r == s.adv_rounds - 1:
            self.sink.scalars(p.step, "adversarial", self._x(), self._eval_g())
        p.index, p.g_done, p.d_done = r + 1, 0, 0
        self._pending_checkpoint = p.index % self.cfg.eval.checkpoint_every_rounds == 0
        self._apply_pending()

    def _x(self) -> int:
        """Curve coordinate: MLE epochs count first, then adversarial rounds continue the axis."""
        return self.schedule.pretrain_g_epochs + self.pos.index if self.pos.phase == "adversarial" \
            else self.pos.index

    # --- measurements ----------------------------------------------------------------------------------
    def _eval_g(self) -> dict:
        self.gen.eval()
        values, samples = self.evaluate(self.gen)
        k = self.cfg.eval.snapshot_samples
        self.sink.snapshot(self.pos.step, "samples", {
            "ids": samples[:k].tolist(), "tokens": [self.ds.tokens(r) for r in samples[:k].tolist()]})
        return values

    @torch.no_grad()
    def _probe_d(self) -> dict:
        n = min(D_PROBE, len(self.ds.test))
        real = self.ds.test[:n].to(self.device)
        fake = self.gen.sample(n, self.ds.seq_len)
        sr, sf = self.disc.score(real), self.disc.score(fake)
        self.sink.snapshot(self.pos.step, "d_scores", {
            "real": [round(v, 4) for v in sr.tolist()], "fake": [round(v, 4) for v in sf.tolist()]})
        return {"d/acc_real": (sr > 0.5).float().mean().item(), "d/acc_fake": (sf <= 0.5).float().mean().item(),
                "d/score_real": sr.mean().item(), "d/score_fake": sf.mean().item()}

    def _rollout_snapshot(self, y, res, logp) -> dict:
        k = self.cfg.eval.snapshot_samples
        comp = res.completions.get(0, torch.empty(0))                 # (T-1, N, T); none without D
        return {
            "round": self.pos.index, "g_step": self.pos.g_done, "rollout_num": self.schedule.rollout_num,
            "ids": y[:k].tolist(), "tokens": [self.ds.tokens(r) for r in y[:k].tolist()],
            "q": [[round(v, 5) for v in row] for row in res.q[:k].tolist()],
            "logp": [[round(v, 5) for v in row] for row in logp[:k].tolist()],
            "completions": comp.tolist(),
            "completion_scores": [[round(v, 5) for v in row]
                                  for row in res.completion_scores.get(0, torch.empty(0)).tolist()],
        }

    # --- control ----------------------------------------------------------------------------------------
    def _poll(self):
        self._apply_commands(self.control.poll())
        was_paused = self.paused
        if self.paused and not self.stopping and not self.step_once:
            self.checkpoint()  # a paused run is always safe to kill
            self.sink.status("paused")
            self._report()
        while self.paused and not self.stopping and not self.step_once:
            time.sleep(0.2)
            self._apply_commands(self.control.poll())
        if was_paused and not self.paused and not self.stopping:
            self.sink.status("running")
        if self.step_once:
            self.sink.status("running")

    def _apply_commands(self, commands: list[dict]):
        for c in commands:
            cmd, payload = c.get("command"), c.get("payload") or {}
            if cmd == "pause":
                self.paused = True
            elif cmd == "resume":
                self.paused = False
            elif cmd == "stop":
                self.stopping = True
            elif cmd == "step":
                self.step_once = True
            elif cmd == "set":
                self._request_schedule(payload)
            self.sink.event(self.pos.step, "control", {"command": cmd, **payload})

    def _request_schedule(self, changes: dict):
        errs = validate_live(self.schedule, changes)
        if errs:
            self.sink.event(self.pos.step, "rejected", {"changes": changes, "why": "; ".join(errs)})
            return
        self.pending.update({k: int(v) for k, v in changes.items()})
        if self.pos.phase != "adversarial" or (self.pos.g_done == 0 and self.pos.d_done == 0):
            self._apply_pending()

    def _apply_pending(self):
        if not self.pending:
            return
        for k, v in self.pending.items():
            setattr(self.schedule, k, v)
        self.sink.event(self.pos.step, "schedule", {**self.pending, "from_round": self.pos.index})
        self.pending = {}

    # --- progress ---------------------------------------------------------------------------------------
    def _account(self, kind: str, seconds: float):
        c = self.unit_time.setdefault(kind, [0, 0.0])
        c[0] += 1
        c[1] += seconds

    def remaining_units(self) -> dict:
        s, p = self.schedule, self.pos
        rem = {"mle": 0, "d_pretrain": 0, "g_step": 0, "d_step": 0}
        i = PHASES.index(p.phase)
        if i <= 0:
            rem["mle"] = s.pretrain_g_epochs - p.index
        if i <= 1:
            rem["d_pretrain"] = s.pretrain_d_rounds - (p.index if i == 1 else 0)
        if i <= 2:
            rounds_left = s.adv_rounds - (p.index if i == 2 else 0)
            rem["g_step"] = rounds_left * s.g_steps - (p.g_done if i == 2 else 0)
            rem["d_step"] = rounds_left * s.d_steps - (p.d_done if i == 2 else 0)
        return {k: max(0, v) for k, v in rem.items()}

    def eta_seconds(self, estimates: Optional[dict] = None) -> Optional[float]:
        """Remaining time from the measured mean time of each kind of unit (or given estimates)."""
        total = 0.0
        for kind, n in self.remaining_units().items():
            if n == 0:
                continue
            if kind in self.unit_time:
                c, secs = self.unit_time[kind]
                total += n * secs / c
            elif estimates and kind in estimates:
                total += n * estimates[kind]
            else:
                return None
        return total

    def _report(self):
        p, s = self.pos, self.schedule
        eta = self.eta_seconds(self.estimates)
        elapsed = time.time() - self.started
        self.sink.progress({
            "phase": p.phase, "index": p.index, "phase_total": self._phase_lengths()[p.phase], "g_done": p.g_done,
            "d_done": p.d_done, "step": p.step, "paused": self.paused,
            "schedule": {k: getattr(s, k) for k in LIVE_FIELDS}, "pending": dict(self.pending),
            "elapsed_s": elapsed, "eta_s": eta,
            "fraction": (elapsed / (elapsed + eta)) if eta is not None and elapsed + eta > 0 else None,
        })

    # --- checkpoints ------------------------------------------------------------------------------------
    def state(self) -> dict:
        cfg = copy.deepcopy(self.cfg)
        cfg.schedule = copy.deepcopy(self.schedule)
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "format": CHECKPOINT_FORMAT, "config": cfg.to_json(), "position": dataclasses.asdict(self.pos),
            "gen": self.gen.state_dict(), "disc": self.disc.state_dict(), "g_opt": self.g_opt.state_dict(),
            "pg_opt": self.pg_opt.state_dict(), "d_opt": self.d_opt.state_dict(),
            "roll": self.roll.state_dict(), "rng": rng, "pending": json.dumps(self.pending),
            "unit_time": json.dumps(self.unit_time),
        }

    def load_state(self, ck: dict):
        self.pos = Position(**ck["position"])
        self.gen.load_state_dict(ck["gen"])
        self.disc.load_state_dict(ck["disc"])
        self.g_opt.load_state_dict(ck["g_opt"])
        self.pg_opt.load_state_dict(ck["pg_opt"])
        self.d_opt.load_state_dict(ck["d_opt"])
        self.roll.load_state_dict(ck["roll"])
        self.pending = json.loads(ck.get("pending", "{}"))
        self.unit_time = json.loads(ck.get("unit_time", "{}"))
        torch.set_rng_state(ck["rng"]["torch"])
        if "cuda" in ck["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(ck["rng"]["cuda"], self.device)

    def checkpoint(self, also: tuple = ()):
        here = (self.pos.step, self.pos.phase)
        if self.ckpt_dir is None or (self._ckpt_at == here and not also):
            return
        self._ckpt_at = here
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        st = self.state()
        save_checkpoint(st, self.ckpt_dir / "latest.pt")
        for name in also:
            save_checkpoint(st, self.ckpt_dir / name)
        self.sink.event(self.pos.step, "checkpoint", {"step": self.pos.step, "phase": self.pos.phase})

    @classmethod
    def resume(cls, path: str | Path, sink: Optional[Sink] = None, control: Optional[Control] = None,
               checkpoint_dir=None, device: Optional[str] = None) -> "Trainer":
        """A trainer that continues exactly where the checkpoint at path left off."""
        ck = load_checkpoint(path)
        cfg = RunConfig.from_dict(json.loads(ck["config"]))
        cfg.init_from = ""  # already applied when the run began
        if device:
            cfg.device = device
        tr = cls(cfg, sink, control, checkpoint_dir=checkpoint_dir)
        tr.load_state(ck)
        return tr


def resolve_asset(path: str | Path) -> Path:
    """A relative path that does not exist from here is looked up in the repository (shipped assets)."""
    path = Path(path)
    if not path.is_absolute() and not path.exists():
        return Path(__file__).resolve().parents[2] / path
    return path


def init_from_problem(cfg: RunConfig) -> Optional[str]:
    """Why cfg.init_from cannot start this run (no such file, other data or generator settings), or None."""
    if not cfg.init_from:
        return None
    try:
        other = RunConfig.from_dict(json.loads(load_checkpoint(resolve_asset(cfg.init_from))["config"]))
    except (FileNotFoundError, ValueError) as e:
        return f"init_from: {e}"
    return _incompatibility(cfg, other)


def _incompatibility(cfg: RunConfig, other: RunConfig) -> Optional[str]:
    """Why a checkpoint trained under `other` cannot start cfg's run, or None."""
    if other.data != cfg.data:
        return (f"init_from {cfg.init_from} was trained on data set '{other.data.name}' with options "
                f"{other.data.options}; clear init_from to pre-train on this data set from scratch")
    if (other.generator.emb_dim, other.generator.hidden_dim) != (cfg.generator.emb_dim, cfg.generator.hidden_dim):
        return f"init_from {cfg.init_from} has another generator size; clear init_from to pre-train from scratch"
    return None


def validate_live(schedule, changes: dict) -> list[str]:
    """Problems with a live schedule change (the Live page's controls)."""
    errs = []
    bad = set(changes) - set(LIVE_FIELDS)
    if bad:
        return [f"{', '.join(sorted(bad))} cannot change during a run (only {', '.join(LIVE_FIELDS)})"]
    try:
        new = {k: int(changes.get(k, getattr(schedule, k))) for k in LIVE_FIELDS}
    except (TypeError, ValueError):
        return ["schedule values must be whole numbers"]
    if min(new["g_steps"], new["d_steps"], new["k_epochs"]) < 0:
        errs.append("g_steps, d_steps and k_epochs must be ≥ 0")
    if new["rollout_num"] < 1:
        errs.append("rollout_num must be ≥ 1")
    if new["g_steps"] + new["d_steps"] < 1:
        errs.append("g_steps and d_steps cannot both be 0")
    if new["d_steps"] > 0 and new["k_epochs"] < 1:
        errs.append("k_epochs must be ≥ 1 when d_steps > 0")
    return errs


def save_checkpoint(state: dict, path: Path):
    """Atomic: a reader or a crash never sees half a file."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


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
