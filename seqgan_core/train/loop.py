"""Algorithm 1 of the paper as a resumable state machine.

The run is a sequence of units: MLE epochs, D pre-training rounds, then adversarial rounds made of
g-steps (one policy-gradient minibatch each) and d-steps (fresh negatives + k epochs of D). Between units
the controller reads requests (pause, resume, stop, step, schedule changes) and the trainer may
checkpoint. Inside a unit, between minibatches and roll-out chunks, it reads them too: a pause waits
there; a stop abandons the unit and saves the state the unit started from (kept in memory), so the
resumed run does that unit again from its start and still draws the same numbers. A checkpoint holds the config, the position, every state dict, the RNG states, the elapsed
time and where the run's record stood, so resuming from it replays exactly what an uninterrupted run
would have done. Control lives in control.py, timing and snapshot payloads in report.py, files in
checkpoint.py; this file is the algorithm.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .. import accel
from .. import data as data_mod
from ..config import ConfigError, RunConfig, check
from ..contract import PHASES, Phase, curve_x
from ..device import resolve_device
from ..metrics import lesson
from ..metrics.evaluate import Evaluator
from ..models import build_models
from ..rollout import RolloutPolicy
from . import report, steps
from .checkpoint import (CHECKPOINT_FORMAT, incompatibility, layout_problem, load_checkpoint,  # noqa: F401
                         resolve_asset, save_checkpoint)
from .control import Control, Controller, Sink

CHEAP_CHECKPOINT = 0.05     # a round's checkpoint is written when it costs at most this share of the training time

POLL_EVERY_S = 0.5     # inside a unit: how often requests are read and the unit's progress is reported
ANSWER_INSIDE_OVER_S = 2.0   # a unit expected to take longer is copied at its start so that requests act
                             # inside it (the copy costs 2-500 ms: bench_checkpoint); a shorter one answers
                             # at its end, within this many seconds

D_PROBE = 256          # real and generated sequences D scores after each D phase (histograms, accuracy)


@dataclass
class Position:
    phase: str = "mle"     # mle → d_pretrain → adversarial → done
    index: int = 0         # units finished in this phase: epochs, D rounds, adversarial rounds
    g_done: int = 0        # g-steps finished in the current adversarial round
    d_done: int = 0        # d-steps finished in the current adversarial round
    step: int = 0          # units finished in the whole run


class UnitAbandoned(Exception):
    """A stop request read inside a unit: the unit is dropped and redone from its start on resume."""


def _cloned(obj):
    """A copy of a state (nested dicts and lists of tensors) that later training steps cannot change."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _cloned(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cloned(v) for v in obj)
    return obj


class Trainer:
    def __init__(self, cfg: RunConfig, sink: Optional[Sink] = None, control: Optional[Control] = None,
                 dataset=None, checkpoint_dir: Optional[str | Path] = None):
        check(cfg)
        self.cfg = copy.deepcopy(cfg)
        self.sink = sink or Sink()
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
        self.pos = Position()
        self._build_models()
        self.evaluate = Evaluator(self.ds, cfg.eval.nll_samples)  # τ = 1: the policy being trained
        self.control = Controller(control or Control(), self.sink, self.schedule, self.pos, self._on_pause)
        self.clock = report.Clock()
        self._pending_checkpoint = False              # a unit asked for a checkpoint once it is counted
        self._ckpt_at = None                          # (step, phase) of the last checkpoint written
        self._ckpt_cost: Optional[float] = None       # seconds the last checkpoint took to write
        self._ckpt_time = time.time()                 # when the last checkpoint was written
        self.init_history: list = []
        if cfg.init_from:
            self._init_from(cfg.init_from)
        self.estimates: Optional[dict] = None          # seconds per unit before any was measured
        self.poll_every_s, self.answer_inside_over_s = POLL_EVERY_S, ANSWER_INSIDE_OVER_S
        self._unit_start: Optional[dict] = None        # the state before the running unit (for a stop inside it)
        self._in_unit: Optional[dict] = None           # the running unit's progress: label, part, done, total
        self._last_tick = 0.0

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
        c, s, dev = self.cfg, self.schedule, self.device
        start = self.ds.start_id if self.ds.start_id is not None else 0
        self.gen, self.disc = build_models(c, self.ds.vocab_size, dev, start_id=start, eos_id=self.ds.eos_id)
        self.g_opt = accel.adam(self.gen.parameters(), s.g_lr, dev)
        # The authors give PG its own Adam; reusing the MLE moments derails PG (REFERENCE.md probe).
        self.pg_opt = accel.adam(self.gen.parameters(), s.pg_lr, dev) if s.fresh_pg_optimizer else self.g_opt
        self.d_opt = accel.adam(self.disc.parameters(), s.d_lr, dev)
        mode = {"auto": "graph", "off": "eager"}.get(c.capture, c.capture)
        self.mle_step = steps.make_mle_step(self.gen, self.g_opt, s.grad_clip, mode, eos_id=self.ds.eos_id)
        self.d_step = steps.make_d_step(self.disc, self.d_opt, mode)
        self.roll = RolloutPolicy(self.gen, s.rollout_delay)

    def _init_from(self, path: str):
        """Start from a pretrained checkpoint (e.g. the classroom's MLE generator); the run keeps its seed."""
        path = resolve_asset(path)
        ck = load_checkpoint(path)
        other = RunConfig.from_dict(json.loads(ck["config"]))
        problem = incompatibility(self.cfg, other, has_optimiser="g_opt" in ck) or \
            layout_problem(ck, other.data.name, f"init_from {path}")
        if problem:
            raise ConfigError(problem)
        self.gen.load_state_dict(ck["gen"])
        if "g_opt" in ck:
            self.g_opt.load_state_dict(ck["g_opt"])   # so reusing the MLE optimiser means what it says
        self.roll = RolloutPolicy(self.gen, self.schedule.rollout_delay)
        done = other.schedule.pretrain_g_epochs
        if ck["position"]["phase"] != "mle" and self.schedule.mle_continue and self.schedule.pretrain_g_epochs > done:
            self.pos.index, self.pos.step = done, ck["position"]["step"]     # MLE goes on from epoch `done`
        else:
            # the curve axis continues after the epochs the starting point was trained for
            self.cfg.schedule.pretrain_g_epochs = self.schedule.pretrain_g_epochs = done
            if ck["position"]["phase"] != "mle":
                self.pos.phase, self.pos.step = Phase.D_PRETRAIN.value, ck["position"]["step"]
        self.init_history = ck.get("history", [])
        self.sink.event(0, "init_from", {"path": str(path), "mle_epochs": ck["position"]["step"]})
        for row in self.init_history:
            self.sink.scalars(row["step"], row["phase"], row["x"], row["values"])

    # --- the loop ------------------------------------------------------------------------------------
    def run(self) -> str:
        """Train until done or stopped; returns 'finished' or 'stopped'."""
        self._skip_empty_phases()
        self._report()
        while self.pos.phase != Phase.DONE.value:
            if not self.control.between_units():
                self.checkpoint()
                return "stopped"
            t0 = self._last_tick = time.time()
            expect = self.clock.per_unit(self._next_kind(), self.estimates)
            inside = self.ckpt_dir is not None and (expect is None or expect[1] >= self.answer_inside_over_s)
            self._unit_start = _cloned(self.state(marks=False)) if inside else None
            try:
                kind = self._unit()
            except UnitAbandoned:
                self.control.settle_deferred()
                self._save_unit_start()
                self._in_unit = None
                self._report()
                return "stopped"
            self._in_unit = None
            self.clock.account(kind, time.time() - t0)
            self._skip_empty_phases()
            self._report()
            self.control.after_unit()
        self.checkpoint()
        return "finished"

    def _unit(self) -> str:
        """Run the next unit of work; returns its kind (for timing)."""
        p, s = self.pos, self.schedule
        self._in_unit = {"label": self._unit_label(), "part": "", "done": 0, "total": 0}
        kind = self._next_kind()
        if kind == "mle":
            self._mle_epoch()
        elif kind == "d_pretrain":
            self._d_round(s.pretrain_d_epochs, "d_pretrain")
            p.index += 1
            self._pending_checkpoint = self._checkpoint_due()
        elif kind == "g_step":
            self._g_step()
            p.g_done += 1
        else:
            self._d_round(s.k_epochs, "adversarial")
            p.d_done += 1
        p.step += 1
        if p.phase == Phase.ADVERSARIAL.value and p.g_done >= s.g_steps and p.d_done >= s.d_steps:
            self._end_round()
        if self._pending_checkpoint:
            self._pending_checkpoint = False
            self.checkpoint()
        return kind

    def _next_kind(self) -> str:
        p = self.pos
        if p.phase in (Phase.MLE.value, Phase.D_PRETRAIN.value):
            return p.phase
        return "g_step" if p.g_done < self.schedule.g_steps else "d_step"

    def _unit_label(self) -> str:
        p, s = self.pos, self.schedule
        if p.phase == Phase.MLE.value:
            return f"MLE epoch {p.index + 1}/{s.pretrain_g_epochs}"
        if p.phase == Phase.D_PRETRAIN.value:
            return f"D pre-training round {p.index + 1}/{s.pretrain_d_rounds}"
        step = f"g-step {p.g_done + 1}/{s.g_steps}" if p.g_done < s.g_steps else f"d-step {p.d_done + 1}/{s.d_steps}"
        return f"round {p.index + 1}/{s.adv_rounds}, {step}"

    def _tick(self, done: int, total: int, part: str) -> None:
        """Between two minibatches (or roll-out chunks) of a unit, a few times a second at most: report how far
        the unit is and, in a unit whose start was copied, read requests (a pause waits here, a stop abandons
        the unit)."""
        now = time.time()
        if self._in_unit is None or now - self._last_tick < self.poll_every_s:
            return                   # (a unit's work called outside run(), e.g. by a benchmark)
        self._last_tick = now
        self._in_unit.update(part=part, done=done, total=total)
        if self._unit_start is not None and not self.control.within_unit(self._paused_in_unit):
            raise UnitAbandoned()
        self._report()

    def _paused_in_unit(self):
        self._save_unit_start()   # killed while paused, the run resumes from this unit's start
        self._report()

    def _save_unit_start(self):
        """Write the state from before the running unit, with the record's marks and the time as they are
        now (what the unit recorded so far is only control requests, which stay)."""
        st = self._unit_start
        if st is None or self._ckpt_at == (self.pos.step, self.pos.phase):
            return                   # no checkpoints, or this unit's start is already saved
        st = {**st, "marks": json.dumps(self.sink.marks()), "elapsed_s": self.clock.elapsed(),
              "pending": json.dumps(self.control.pending)}
        self._write_checkpoint(st)

    def _phase_lengths(self) -> dict:
        """Units in each phase under the live schedule."""
        s = self.schedule
        return {"mle": s.pretrain_g_epochs, "d_pretrain": s.pretrain_d_rounds, "adversarial": s.adv_rounds,
                "done": 0}

    def _skip_empty_phases(self):
        """Move on from finished phases (checkpointing at each phase end)."""
        p, lengths = self.pos, self._phase_lengths()
        left = p.phase
        while p.phase != Phase.DONE.value and p.index >= lengths[p.phase]:
            p.phase, p.index, p.g_done, p.d_done = PHASES[PHASES.index(p.phase) + 1], 0, 0, 0
        if p.phase != left:
            self.sink.event(p.step, "phase", {"phase": p.phase})
            if p.phase == Phase.ADVERSARIAL.value:
                self.roll = RolloutPolicy(self.gen, self.schedule.rollout_delay)  # β ← θ (Algorithm 1, line 3)
                self.control.apply_pending()
            # named copies: where the controls branch off (MLE done; D pre-trained, adversarial start)
            also = (("mle_done.pt",) if left == Phase.MLE.value else ()) + \
                (("adv_start.pt",) if p.phase == Phase.ADVERSARIAL.value else ())
            self.checkpoint(also=also)

    # --- units ---------------------------------------------------------------------------------------
    def _mle_epoch(self):
        s, p = self.schedule, self.pos
        epoch = p.index
        values = {}
        if s.ss_rate > 0:   # scheduled sampling: G's own tokens fed with a probability growing per epoch
            values["mle/ss_prob"] = steps.ss_probability(s.ss_rate, epoch)
            loss = steps.ss_mle_epoch(self.gen, self.g_opt, self.train_data, s.batch_size, s.grad_clip,
                                      values["mle/ss_prob"], eos_id=self.ds.eos_id, tick=self._tick)
        else:
            loss = steps.mle_epoch(self.gen, self.g_opt, self.train_data, s.batch_size, s.grad_clip, self.mle_step,
                                   tick=self._tick)
        values["loss/mle"] = loss
        last = epoch == s.pretrain_g_epochs - 1
        if epoch % self.cfg.eval.eval_every_epochs == 0 or last:
            values.update(self._eval_g())
        self.sink.scalars(p.step, "mle", epoch, values)
        p.index += 1
        self._pending_checkpoint = "nll/test" in values   # after each evaluation (written once counted)

    def _g_step(self):
        s, p = self.schedule, self.pos
        if s.reward == "mle":
            return self._mle_g_step()
        self.gen.eval()
        y = self.gen.sample(s.batch_size, self.ds.seq_len)                            # (B, T)
        self.disc.eval()  # no dropout while scoring rewards
        res = steps.rewards(s.reward, self.roll.policy, self._critic(), y, s.rollout_num, tick=self._tick)
        out = steps.pg_step(self.gen, self.pg_opt, y, res.q, s.reward_baseline, s.pg_loss_norm, s.grad_clip,
                             eos_id=self.ds.eos_id)
        self.sink.scalars(p.step, "adversarial", self._x(), {
            "g/reward_mean": out["q_mean"], "g/reward_last": out["q_last"],
            "g/pg_loss": out["loss"], "g/entropy": out["entropy"],
            **lesson.live_values(self.ds, y, res.q)})
        self.sink.snapshot(p.step, "rollout", report.rollout_snapshot(
            y, res, out["logp"], self.ds, self.cfg.eval.snapshot_samples, p, s))

    def _mle_g_step(self):
        """The "MLE continued" control: the g-step is one teacher-forced MLE minibatch of real data (the MLE
        optimiser goes on), so G gets as many updates as SeqGAN's g-steps, with no reward at all."""
        s, p = self.schedule, self.pos
        self.gen.train()
        idx = torch.randint(len(self.train_data), (s.batch_size,)).to(self.device)
        self.mle_step(self.train_data[idx])
        self.sink.scalars(p.step, "adversarial", self._x(), {"loss/mle": float(self.mle_step.take()[0])})

    def _critic(self):
        """What scores the roll-outs: D, or for PG-BLEU the BLEU against the training data (built once)."""
        if self.schedule.reward != "bleu":
            return self.disc
        if getattr(self, "_bleu", None) is None:
            from .bleu_reward import BleuCritic
            self._bleu = BleuCritic(self.ds.train, self.ds.eos_id)
        return self._bleu

    def _d_round(self, epochs: int, phase: str):
        """Fresh negatives and k epochs of D, balanced: as many real as generated sequences (a training set
        smaller than num_negatives gets as many negatives as it has sequences)."""
        s, p = self.schedule, self.pos
        n = min(s.num_negatives, len(self.train_data))
        fake = self.gen.sample(n, self.ds.seq_len)
        real = steps.real_subset(self.train_data, n)
        out = steps.d_train(self.disc, self.d_opt, real, fake, epochs, s.batch_size, self.d_step, tick=self._tick)
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
        self._pending_checkpoint = self._checkpoint_due()
        self.control.apply_pending()

    def _x(self) -> int:
        return curve_x(self.pos.phase, self.pos.index, self.schedule.pretrain_g_epochs)

    # --- measurements ----------------------------------------------------------------------------------
    def _eval_g(self) -> dict:
        self.gen.eval()
        values, samples = self.evaluate(self.gen)
        self.sink.snapshot(self.pos.step, "samples",
                           report.samples_snapshot(samples, self.ds, self.cfg.eval.snapshot_samples))
        return values

    @torch.no_grad()
    def _probe_d(self) -> dict:
        n = min(D_PROBE, len(self.ds.test))
        real = self.ds.test[:n].to(self.device)
        fake = self.gen.sample(n, self.ds.seq_len)
        sr, sf = self.disc.score(real), self.disc.score(fake)
        self.sink.snapshot(self.pos.step, "d_scores", report.d_scores_snapshot(sr, sf))
        acc_real, acc_fake, mean_real, mean_fake = torch.stack(
            [(sr > 0.5).float().mean(), (sf <= 0.5).float().mean(), sr.mean(), sf.mean()]).tolist()
        return {"d/acc_real": acc_real, "d/acc_fake": acc_fake, "d/score_real": mean_real,
                "d/score_fake": mean_fake}

    # --- progress ---------------------------------------------------------------------------------------
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
        """Remaining time from this run's own unit times, blended with the estimates (report.Clock)."""
        return self.clock.eta(self.remaining_units(), estimates)

    def _report(self):
        p = self.pos
        span = self.clock.eta_range(self.remaining_units(), self.estimates)
        eta = None if span is None else span[1]
        elapsed = self.clock.elapsed()
        self.sink.progress({
            "phase": p.phase, "index": p.index, "phase_total": self._phase_lengths()[p.phase], "g_done": p.g_done,
            "d_done": p.d_done, "step": p.step, "paused": self.control.paused,
            "schedule": self.control.live_schedule(), "pending": dict(self.control.pending),
            "elapsed_s": elapsed, "eta_s": eta, "eta_range_s": None if span is None else [span[0], span[2]],
            "unit": dict(self._in_unit) if self._in_unit else None,
            "fraction": (elapsed / (elapsed + eta)) if eta is not None and elapsed + eta > 0 else None,
        })

    def _on_pause(self):
        self.checkpoint()  # a paused run is always safe to kill
        self._report()

    # --- checkpoints ------------------------------------------------------------------------------------
    def state(self, marks: bool = True) -> dict:
        cfg = copy.deepcopy(self.cfg)
        cfg.schedule = copy.deepcopy(self.schedule)
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "format": CHECKPOINT_FORMAT, "config": cfg.to_json(), "position": dataclasses.asdict(self.pos),
            "start_id": int(self.gen.start_token),           # the token layout G was trained with
            "eos_id": self.ds.eos_id,                        # where samples end (readers without the data set)
            "gen": self.gen.state_dict(), "disc": self.disc.state_dict(), "g_opt": self.g_opt.state_dict(),
            "pg_opt": self.pg_opt.state_dict(), "d_opt": self.d_opt.state_dict(),
            "roll": self.roll.state_dict(), "rng": rng, "pending": json.dumps(self.control.pending),
            "unit_time": json.dumps(self.clock.dump()), "elapsed_s": self.clock.elapsed(),
            "marks": json.dumps(self.sink.marks()) if marks else "{}",
            "ckpt_cost": float(self._ckpt_cost or 0.0),     # so the checkpoint rule holds from a resume on
        }

    def load_state(self, ck: dict):
        if int(ck.get("start_id", 0)) != self.gen.start_token:
            raise ConfigError(layout_problem(ck, self.cfg.data.name, "the checkpoint")
                              or "the checkpoint's start token id differs from this data set's")
        self.pos.__dict__.update(ck["position"])       # the controller holds this same object
        self.gen.load_state_dict(ck["gen"])
        self.disc.load_state_dict(ck["disc"])
        self.g_opt.load_state_dict(ck["g_opt"])
        self.pg_opt.load_state_dict(ck["pg_opt"])
        self.d_opt.load_state_dict(ck["d_opt"])
        self.roll.load_state_dict(ck["roll"])
        self.control.pending = json.loads(ck.get("pending", "{}"))
        self.clock.load(json.loads(ck.get("unit_time", "{}")))
        self.clock.elapsed_before = float(ck.get("elapsed_s", 0.0))
        self.marks = json.loads(ck.get("marks", "{}"))
        self._ckpt_cost = float(ck.get("ckpt_cost", 0.0)) or None
        torch.set_rng_state(ck["rng"]["torch"])
        if "cuda" in ck["rng"] and self.device.type == "cuda":
            torch.cuda.set_rng_state(ck["rng"]["cuda"], self.device)

    def _checkpoint_due(self) -> bool:
        """At a round's end: every checkpoint_every_rounds rounds, and at every round whose checkpoint is cheap
        (it took at most CHEAP_CHECKPOINT of the time trained since the last one), so a crash loses at most
        one round wherever saving costs little next to training."""
        if self.pos.index % self.cfg.eval.checkpoint_every_rounds == 0:
            return True
        return self._ckpt_cost is not None and self._ckpt_cost <= CHEAP_CHECKPOINT * (time.time() - self._ckpt_time)

    def checkpoint(self, also: tuple = ()):
        here = (self.pos.step, self.pos.phase)
        if self.ckpt_dir is None or (self._ckpt_at == here and not also):
            return
        self._write_checkpoint(self.state(), also)

    def _write_checkpoint(self, st: dict, also: tuple = ()):
        pos = st["position"]
        self._ckpt_at = (pos["step"], pos["phase"])
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        save_checkpoint(st, self.ckpt_dir / "latest.pt")
        self._ckpt_time, self._ckpt_cost = time.time(), time.time() - t0
        for name in also:
            save_checkpoint(st, self.ckpt_dir / name)
        self.sink.event(pos["step"], "checkpoint", {"step": pos["step"], "phase": pos["phase"]})

    @classmethod
    def resume(cls, path: str | Path, sink: Optional[Sink] = None, control: Optional[Control] = None,
               checkpoint_dir=None, device: Optional[str] = None, ck: Optional[dict] = None) -> "Trainer":
        """A trainer that continues exactly where the checkpoint at path (or the given one) left off."""
        ck = ck or load_checkpoint(path)
        cfg = RunConfig.from_dict(json.loads(ck["config"]))
        problem = layout_problem(ck, cfg.data.name, path)   # before the data set is loaded
        if problem:
            raise ConfigError(problem)
        cfg.init_from = ""  # already applied when the run began
        if device:
            cfg.device = device
        tr = cls(cfg, sink, control, checkpoint_dir=checkpoint_dir)
        tr.load_state(ck)
        return tr
