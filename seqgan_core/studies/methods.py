"""The methods of the paper's Table 1 and the lesson's controls, each a set of config overrides of the one
Algorithm-1 trainer: every comparison in a study differs in the method's settings only.

MLE and scheduled sampling get as many generator updates as the adversarial phase gives the others,
rounded up to whole epochs (so the baselines get at least as many updates — the cautious direction): the
adversarial phase does adv_rounds × g_steps minibatches, an epoch num_train // batch_size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..config import ConfigError, RunConfig, apply_overrides


@dataclass(frozen=True)
class Method:
    help: str
    overrides: dict = field(default_factory=dict)
    equal_updates: bool = False     # MLE-trained baselines: extra MLE epochs instead of adversarial rounds


_MLE_ONLY = {"adv_rounds": 0, "pretrain_d_rounds": 0, "mle_continue": True}

METHODS: dict[str, Method] = {
    "mle": Method("MLE: maximum likelihood only, continued for as many generator updates as the adversarial "
                  "phase would give", _MLE_ONLY, equal_updates=True),
    "pretrained": Method("The starting generator itself (init_from, or MLE pre-training alone): no further "
                         "updates", {"adv_rounds": 0, "pretrain_d_rounds": 0}),
    "ss": Method("Scheduled sampling: MLE feeding G's own token with a probability growing 0.002 per epoch",
                 {**_MLE_ONLY, "ss_rate": 0.002}, equal_updates=True),
    "pg_bleu": Method("PG-BLEU: SeqGAN's policy gradient and roll-outs, rewarded by BLEU-4 against the "
                      "training data (no D)", {"reward": "bleu", "pretrain_d_rounds": 0, "d_steps": 0}),
    "seqgan": Method("SeqGAN: rewards are D's Monte-Carlo Q (the paper)", {}),
    "constant": Method("Control: constant reward 0.5 (policy gradient that only sharpens G)",
                       {"reward": "constant"}),
    "shuffled": Method("Control: D's Q shuffled across the batch (same rewards, no credit)", {"reward": "shuffled"}),
    "baseline": Method("Control: SeqGAN with the mean Q at each position subtracted",
                       {"reward_baseline": "position_mean"}),
}


def method_overrides(name: str) -> dict:
    if name not in METHODS:
        raise ConfigError(f"unknown method '{name}'; choose one of: {', '.join(METHODS)}")
    return dict(METHODS[name].overrides)


def finish_method(name: str, cfg: RunConfig, adv_rounds: int, g_steps: int) -> RunConfig:
    """Settings that depend on the rest of the config: the extra MLE epochs of the MLE baselines, computed
    from the schedule the adversarial methods of the same cell run (adv_rounds, g_steps)."""
    if not METHODS[name].equal_updates:
        return cfg
    updates = adv_rounds * g_steps
    per_epoch = max(1, num_train(cfg) // cfg.schedule.batch_size)
    return apply_overrides(cfg, {"pretrain_g_epochs": mle_epochs_done(cfg) + math.ceil(updates / per_epoch)})


def mle_epochs_done(cfg: RunConfig) -> int:
    """MLE epochs the run's starting point has: its init_from checkpoint's, or its own pre-training's."""
    if not cfg.init_from:
        return cfg.schedule.pretrain_g_epochs
    import json

    from ..train.checkpoint import load_checkpoint, resolve_asset
    ck = load_checkpoint(resolve_asset(cfg.init_from))
    return RunConfig.from_dict(json.loads(ck["config"])).schedule.pretrain_g_epochs


def num_train(cfg: RunConfig) -> int:
    if cfg.data.name == "oracle":
        from ..data.oracle import DEFAULTS
        return int({**DEFAULTS, **cfg.data.options}["num_train"])
    from .. import data
    return len(data.load(cfg.data.name, cfg.data.options, cfg.seed).train)
