"""Cost of a run on this device, from a quick measurement of its real building blocks (not a guess).

Times one MLE minibatch, one D minibatch, the roll-outs of a minibatch with up to ROLLOUT_PROBE copies per
prefix, a sampling pass and a teacher-forced scoring pass, with the run's own model sizes, then scales each
by how often the schedule repeats it (roll-outs linearly in N; the evaluation as sampling plus scoring of
nll_samples sequences and scoring of the test set). Takes a few seconds. It is a snapshot of this machine
at one moment: on a shared machine the load changes, so a running run's ETA blends it with the run's own
unit times (train.report.Clock).
"""
from __future__ import annotations

import time

import torch

from . import accel
from .config import RunConfig, check
from .device import resolve_device
from .models import build_models
from .metrics.evaluate import mean_nll
from .rollout import rollout_q
from .train import steps

ROLLOUT_PROBE = 4   # copies per prefix timed: N = 1 leaves chunks part-empty and overstates N = 16 by ~1.4x


def _timed(fn, dev: torch.device, repeats: int = 2) -> float:
    """Seconds per call; a GPU is synchronised around the timed calls (kernels run asynchronously)."""
    fn()  # warm-up: allocator, kernels, graph capture
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda *a: None)
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync(dev)
    return (time.perf_counter() - t0) / repeats


def estimate(cfg: RunConfig, vocab_size: int | None = None, seq_len: int | None = None,
             num_train: int | None = None) -> dict:
    """Seconds per unit of work and for the whole run: mle_epoch, d_pretrain_round, g_step, d_step,
    round, eval, total. Sizes default to the data set's options (oracle defaults)."""
    opts = cfg.data.options
    V = vocab_size or int(opts.get("vocab_size", 5000))
    T = seq_len or int(opts.get("seq_len", 20))
    n_train = num_train or int(opts.get("num_train", 10000))
    check(cfg, V, T)
    dev = resolve_device(cfg.device)
    s = cfg.schedule
    gen, disc = build_models(cfg, V, dev)
    g_opt = accel.adam(gen.parameters(), s.g_lr, dev)
    d_opt = accel.adam(disc.parameters(), s.d_lr, dev)
    mode = {"auto": "graph", "off": "eager"}.get(cfg.capture, cfg.capture)
    mle_step = steps.make_mle_step(gen, g_opt, s.grad_clip, mode)
    d_step = steps.make_d_step(disc, d_opt, mode)
    B = s.batch_size
    batch = torch.randint(0, V, (B, T), device=dev)
    labels = torch.randint(0, 2, (B,), device=dev)
    sample_n = min(1024, max(B, s.num_negatives))
    t_mle = _timed(lambda: mle_step(batch), dev, 5 if dev.type == "cuda" else 2)
    t_d = _timed(lambda: d_step(batch, labels), dev, 20 if dev.type == "cuda" else 2)
    t_sample_row = _timed(lambda: gen.sample(sample_n, T), dev, 1) / sample_n
    n_probe = max(1, min(s.rollout_num, ROLLOUT_PROBE))
    t_rollouts = _timed(lambda: rollout_q(gen, disc, batch, n_probe), dev, 1) * s.rollout_num / n_probe
    rows = torch.randint(0, V, (min(1024, max(B, cfg.eval.nll_samples)), T), device=dev)
    t_score_row = _timed(lambda: mean_nll(gen, rows), dev, 1) / len(rows)
    t_pg = t_mle  # one PG minibatch costs what one MLE minibatch costs (same forward/backward)
    if s.ss_rate > 0:   # scheduled sampling steps through the sequence, drawing a token at each position
        t_mle = _timed(lambda: steps.ss_mle_epoch(gen, g_opt, batch, B, s.grad_clip, 0.5), dev, 1)
    t_critic = 0.0
    if s.reward == "bleu":  # PG-BLEU scores every completion with BLEU on the CPU instead of D
        from .train.bleu_reward import BleuCritic
        critic = BleuCritic(torch.randint(0, V, (min(n_train, 2000), T)))
        rows = torch.randint(0, V, (256, T))
        t_critic = _timed(lambda: critic.score(rows), dev, 1) / 256 * B * s.rollout_num * (T - 1)

    def d_round(epochs: int) -> float:
        return s.num_negatives * t_sample_row + epochs * (2 * s.num_negatives // B) * t_d

    n_test = int(opts.get("num_test", 2000))
    # sampling, scoring by the oracle (G's size), and G's NLL on the test set
    t_eval = cfg.eval.nll_samples * (t_sample_row + t_score_row) + n_test * t_score_row
    out = {
        "mle_epoch": (n_train // B) * t_mle,
        "d_pretrain_round": d_round(s.pretrain_d_epochs),
        "g_step": B * t_sample_row + (0 if s.reward == "constant" else t_rollouts) + t_pg + t_critic,
        "d_step": d_round(s.k_epochs),
        "eval": t_eval,
    }
    out["round"] = s.g_steps * out["g_step"] + s.d_steps * out["d_step"] + t_eval / cfg.eval.eval_every_rounds
    mle_epochs = 0 if cfg.init_from else s.pretrain_g_epochs
    out["total"] = (mle_epochs * (out["mle_epoch"] + t_eval / cfg.eval.eval_every_epochs)
                    + s.pretrain_d_rounds * out["d_pretrain_round"] + s.adv_rounds * out["round"])
    out["device"] = str(dev)
    return out


def estimate_in_subprocess(cfg: RunConfig, vocab_size: int | None = None, seq_len: int | None = None,
                           num_train: int | None = None, timeout: float = 600) -> dict:
    """estimate() in a short-lived process of its own, so that timing training steps never runs inside the
    web server (it would take the server's cores and, on a GPU machine, open a CUDA context there)."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    args = [sys.executable, "-m", "seqgan_core", "estimate", "-"]
    for flag, v in (("--vocab-size", vocab_size), ("--seq-len", seq_len), ("--num-train", num_train)):
        if v is not None:
            args += [flag, str(int(v))]
    out = subprocess.run(args, input=cfg.to_json(), capture_output=True, text=True, timeout=timeout,
                         cwd=Path(__file__).resolve().parents[1])
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        raise ValueError(lines[-1].removeprefix("error: ") if lines else "the measurement process failed")
    return json.loads(out.stdout)
