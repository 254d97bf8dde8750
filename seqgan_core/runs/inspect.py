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


def evaluate_run(run_dir: str | Path, nll_samples: int | None = None, gap_samples: int = 1000) -> dict:
    """The run's metrics now; on a data set with a grammar also the error-localisation gap of D's Q
    (gap_samples fresh samples, the run's roll-out number; 0 skips it)."""
    from ..metrics import lesson
    tr = load_trainer(run_dir)
    if nll_samples is not None and nll_samples < 1:
        raise ValueError("--samples must be ≥ 1")
    ev = Evaluator(tr.ds, nll_samples or tr.cfg.eval.nll_samples)
    values, _ = ev(tr.gen.eval())
    if gap_samples > 0:
        values.update(lesson.gap_of(tr.roll.policy, tr.disc, tr.gen, tr.ds, gap_samples,
                                    tr.schedule.rollout_num))
        bayes = lesson.bayes_accuracy(tr.gen, tr.ds, gap_samples)
        if bayes is not None:
            values[lesson.D_BAYES] = bayes
    return {"run": Path(run_dir).name, "phase": tr.pos.phase, "step": tr.pos.step, **values}


def sweep_run(run_dir: str | Path, taus=None, n: int = 2000, at: str = "latest") -> list[dict]:
    """The temperature sweep of the run's generator at a checkpoint (adversarial_start: the MLE generator
    the controls start from)."""
    from ..metrics import lesson
    from ..runs.branch import BRANCH_POINTS
    from ..train import Trainer
    path = Path(run_dir) / "checkpoints" / BRANCH_POINTS[at]
    if not path.exists():
        raise FileNotFoundError(f"run {Path(run_dir).name} has no {BRANCH_POINTS[at]} checkpoint")
    tr = Trainer.resume(path, device="cpu")
    return lesson.temperature_sweep(tr.gen, tr.ds, taus or lesson.SWEEP_TAUS, n)


def sample_run(run_dir: str | Path, n: int) -> list[str]:
    tr = load_trainer(run_dir)
    ids = tr.gen.eval().sample(n, tr.ds.seq_len, tr.cfg.generator.temperature)
    return [tr.ds.render(r) for r in ids.tolist()]


def load_models(run_dir: str | Path, device: str = "cpu"):
    """The run's G, D and roll-out policy from its latest checkpoint, without loading its data set."""
    import json

    from ..config import RunConfig
    from ..models import build_models
    from ..rollout import RolloutPolicy
    from ..train.checkpoint import layout_problem, load_latest
    latest = Path(run_dir) / "checkpoints" / "latest.pt"
    ck, _ = load_latest(latest)
    cfg = RunConfig.from_dict(json.loads(ck["config"]))
    problem = layout_problem(ck, cfg.data.name, latest)
    if problem:
        raise ValueError(problem)
    vocab = ck["gen"]["out.weight"].shape[0]
    gen, disc = build_models(cfg, vocab, torch.device(device), start_id=int(ck.get("start_id", 0)),
                             eos_id=ck.get("eos_id"))
    gen.load_state_dict(ck["gen"])
    disc.load_state_dict(ck["disc"])
    roll = RolloutPolicy(gen, cfg.schedule.rollout_delay)
    roll.load_state_dict(ck["roll"])
    return gen.eval(), disc.eval(), roll


@torch.no_grad()
def reroll_run(run_dir: str | Path, ids: list[int], n_rollouts: int, seed: int = 0) -> dict:
    """Q of every token of one sequence with N fresh completions per prefix, from the run's checkpoint.
    A private RNG, so that the seed reproduces. Runs in a process of its own (`python -m seqgan_core
    reroll`): the web server never builds models."""
    gen, disc, roll = load_models(run_dir)
    rng = torch.Generator().manual_seed(seed)
    y = torch.tensor([ids], dtype=torch.long)
    res = rollout_q(roll.policy, disc, y, n_rollouts, sampler=lambda logits: sample_categorical(logits, rng),
                    keep=(0,))
    return {"q": res.q[0].tolist(), "completions": res.completions[0].tolist(),
            "scores": res.completion_scores[0].tolist()}


def reroll_in_subprocess(run_dir: str | Path, ids: list[int], n_rollouts: int, seed: int = 0,
                         timeout: float = 300) -> dict:
    import json
    import subprocess
    import sys
    args = [sys.executable, "-m", "seqgan_core", "reroll", str(run_dir), "--ids", ",".join(map(str, ids)),
            "-n", str(int(n_rollouts)), "--seed", str(int(seed))]
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                         cwd=Path(__file__).resolve().parents[2])
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        raise ValueError(lines[-1].removeprefix("error: ") if lines else "the re-roll process failed")
    return json.loads(out.stdout)
