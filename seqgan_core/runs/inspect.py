"""Read-only use of a run's latest checkpoint: evaluate, sample, re-roll a prefix."""
from __future__ import annotations

from pathlib import Path

import torch

from ..metrics.evaluate import Evaluator
from ..models import sample_categorical
from ..rollout import rollout_q


def load_trainer(run_dir: str | Path, device: str = "cpu"):
    """A Trainer holding the run's latest checkpoint (models, data set, schedule)."""
    from ..train import Trainer
    latest = Path(run_dir) / "checkpoints" / "latest.pt"
    if not (Path(run_dir) / "config.json").exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    if not latest.exists():
        raise FileNotFoundError(f"run {Path(run_dir).name} has no checkpoint yet (it saves one at each phase end)")
    return Trainer.resume(latest, device=device)


def evaluate_run(run_dir: str | Path, nll_samples: int | None = None) -> dict:
    tr = load_trainer(run_dir)
    if nll_samples is not None and nll_samples < 1:
        raise ValueError("--samples must be ≥ 1")
    ev = Evaluator(tr.ds, nll_samples or tr.cfg.eval.nll_samples)
    values, _ = ev(tr.gen.eval())
    return {"run": Path(run_dir).name, "phase": tr.pos.phase, "step": tr.pos.step, **values}


def sample_run(run_dir: str | Path, n: int) -> list[str]:
    tr = load_trainer(run_dir)
    ids = tr.gen.eval().sample(n, tr.ds.seq_len, tr.cfg.generator.temperature)
    return [tr.ds.render(r) for r in ids.tolist()]


@torch.no_grad()
def reroll(trainer, ids: list[int], n_rollouts: int, seed: int = 0) -> dict:
    """Q of every token of one sequence with N fresh completions per prefix, from the run's checkpoint.
    A private RNG: the web server is shared by every session, and the seed must reproduce."""
    rng = torch.Generator(device=trainer.device).manual_seed(seed)
    y = torch.tensor([ids], dtype=torch.long, device=trainer.device)
    res = rollout_q(trainer.roll.policy, trainer.disc, y, n_rollouts,
                    sampler=lambda logits: sample_categorical(logits, rng), keep=(0,))
    return {"q": res.q[0].tolist(), "completions": res.completions[0].tolist(),
            "scores": res.completion_scores[0].tolist()}
