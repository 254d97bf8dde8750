"""The one contract between the engine and the app: statuses, phases, metric names, snapshot payloads,
event kinds and the x-axis. The trainer writes through these names, the pages read through them, and
tests/test_contract.py fails when the two disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Optional


class Status(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


LIVE_STATUSES = (Status.RUNNING.value, Status.PAUSED.value)          # a worker is (or should be) on it
RESTARTABLE = (Status.STOPPED.value, Status.INTERRUPTED.value, Status.FAILED.value)


class Phase(str, Enum):
    MLE = "mle"
    D_PRETRAIN = "d_pretrain"
    ADVERSARIAL = "adversarial"
    DONE = "done"


PHASES = tuple(p.value for p in Phase)      # in the order a run goes through them

PHASE_LABELS = {"mle": "MLE pre-training", "d_pretrain": "D pre-training", "adversarial": "Adversarial",
                "done": "Done"}


def curve_x(phase: str, index: int, pretrain_g_epochs: int) -> int:
    """The curve coordinate of a unit: MLE epochs count first, adversarial rounds continue the same axis
    (D pre-training rounds have their own axis, 0..)."""
    return pretrain_g_epochs + index if phase == Phase.ADVERSARIAL.value else index


BLEU_REFS = 2000   # live BLEU's references: the first BLEU_REFS test lines (the whole test set when smaller)


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    help: str
    lower_is_better: bool = False
    bounded: Optional[tuple] = None     # the quantity's natural range, for honest fixed axes


_METRICS = [
    Metric("loss/mle", "MLE loss", "Mean per-token NLL of the training minibatches of an MLE epoch (text: "
           "the padding after a line's first end token is not counted).", True),
    Metric("nll/oracle", "NLL-oracle", "How surprised the true source is by G's samples (the paper's score).",
           True),
    Metric("nll/test", "NLL-test", "How surprised G is by held-out real data, per token (text: up to and "
           "including each line's first end token; the padding after it is not counted).", True),
    Metric("div/distinct2", "distinct bigrams", "Share of distinct bigrams among 1,000 samples.", False, (0, 1)),
    Metric("div/unique", "unique samples", "Share of distinct sequences among 1,000 samples.", False, (0, 1)),
    Metric("valid/share", "valid share", "Share of samples the data set's grammar accepts.", False, (0, 1)),
    Metric("music/mse", "melody MSE", "Mean squared error of melody statistics against the test set.", True),
    Metric("bleu/self4", "self-BLEU-4", "BLEU-4 of samples against each other: higher means less diverse.",
           True, (0, 1)),
    Metric("d/loss", "D loss", "Discriminator cross-entropy (+ L2) over its training minibatches.", True),
    Metric("d/train_acc", "training accuracy", "D's accuracy on its own training minibatches.", False, (0, 1)),
    Metric("d/acc_real", "accuracy on real", "Share of held-out real sequences D scores above 0.5.", False,
           (0, 1)),
    Metric("d/acc_fake", "accuracy on generated", "Share of fresh samples D scores at or below 0.5.", False,
           (0, 1)),
    Metric("d/score_real", "D on real", "Mean D score of held-out real sequences.", False, (0, 1)),
    Metric("d/score_fake", "D on generated", "Mean D score of fresh samples.", False, (0, 1)),
    Metric("g/reward_mean", "mean Q", "Mean reward (Q) over the tokens of a g-step's batch.", False, (0, 1)),
    Metric("g/reward_last", "D(whole sequence)", "Mean D score of the g-step's complete samples.", False, (0, 1)),
    Metric("g/pg_loss", "PG loss", "The policy-gradient loss of the g-step.", True),
    Metric("g/entropy", "entropy of G", "Mean per-token entropy of G along its samples (nats).", False),
    # the lesson's metrics (data sets with an exact grammar; see metrics/lesson.py)
    Metric("lesson/gap", "error-localisation gap", "Mean Q before a sample's first grammatical error minus "
           "mean Q from it on, over the g-step's ungrammatical samples: > 0 when Q points at the error.", False),
    Metric("lesson/q_before", "Q before the error", "Mean Q of the tokens before the first error.", False, (0, 1)),
    Metric("lesson/q_from_error", "Q from the error on", "Mean Q of the tokens from the first error on.", False,
           (0, 1)),
    Metric("lesson/gap_samples", "samples behind the gap", "Ungrammatical samples the gap was averaged over.",
           False),
    Metric("lesson/d_bayes_acc", "best possible D accuracy", "Accuracy of the Bayes-optimal discriminator "
           "(real when p_data > p_G, both exact) on held-out real vs generated: the ceiling for any D.", False,
           (0, 1)),
    Metric("lesson/valid_batch", "valid share (g-step)", "Share of the g-step's samples the grammar accepts.",
           False, (0, 1)),
]
_METRICS.append(Metric("mle/ss_prob", "own-token probability", "Scheduled sampling: the probability that an "
                       "MLE input token was G's own draw in this epoch.", False, (0, 1)))
for _n in (2, 3, 4, 5):
    _METRICS.append(Metric(f"bleu/{_n}", f"BLEU-{_n} vs {BLEU_REFS:,} test lines",
                           f"BLEU-{_n} of samples against the first {BLEU_REFS:,} lines of the test set (all of "
                           "it when smaller) as references; <unk> never counts as a match.", False, (0, 1)))
METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def label(name: str) -> str:
    m = METRICS.get(name)
    return m.label if m else name


# --- snapshots ---------------------------------------------------------------------------------------------
@dataclass
class SamplesSnapshot:
    """Generator samples at an evaluation."""
    ids: list
    tokens: list
    first_error: list = field(default_factory=list)   # as in RolloutSnapshot
    KIND = "samples"


@dataclass
class RolloutSnapshot:
    """A g-step's samples with their per-token Q, log-probabilities and sample 0's completions."""
    round: int
    g_step: int
    rollout_num: int
    reward: str
    ids: list
    tokens: list
    q: list
    logp: list
    completions: list
    completion_scores: list
    baseline: list = field(default_factory=list)     # what the PG step subtracted from Q at each t
    loss_norm: str = "sum"                            # the PG loss summed over the batch, or averaged
    first_error: list = field(default_factory=list)   # per sample: position of its first error, None if valid;
    KIND = "rollout"                                   # empty when the data set has no grammar


@dataclass
class DScoresSnapshot:
    """D's scores of held-out real and fresh generated sequences after a D phase."""
    real: list
    fake: list
    KIND = "d_scores"


SNAPSHOTS = {c.KIND: c for c in (SamplesSnapshot, RolloutSnapshot, DScoresSnapshot)}


def snapshot_fields(kind: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(SNAPSHOTS[kind]))


# --- events --------------------------------------------------------------------------------------------------
EVENTS = {
    "phase": "the run entered a phase",
    "control": "a control request was applied (pause, resume, stop, step, set)",
    "schedule": "a schedule change took effect (with the round it took effect from)",
    "rejected": "a schedule change was refused, with the reason",
    "dropped": "control requests left from before a crash were dropped at resume",
    "checkpoint": "a checkpoint was written",
    "init_from": "the run started from a pre-trained checkpoint",
    "resumed": "a worker resumed the run from a checkpoint",
    "branched": "the run was branched from another run's checkpoint",
}
