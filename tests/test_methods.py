"""The methods of Table 1 as settings of the one trainer, on the tiny toy oracle: scheduled sampling,
PG-BLEU, MLE continued from a finished checkpoint, and the method table a study uses."""
import math

import pytest
import torch

from seqgan_core.config import ConfigError, apply_overrides, preset
from seqgan_core.models import Generator
from seqgan_core.studies.methods import METHODS, finish_method, method_overrides
from seqgan_core.train import Trainer, steps
from seqgan_core.train.bleu_reward import BleuCritic
from test_train import Recorder


def _tiny(**kw):
    return apply_overrides(preset("tiny"), {"device": "cpu", **kw})


def test_scheduled_sampling_feeds_own_tokens_with_the_given_probability():
    torch.manual_seed(0)
    g = Generator(20, 8, 8).init_normal(0.5)
    y = torch.randint(0, 20, (400, 6))
    logits0, fed0, own0 = steps.ss_forward(g, y, 0.0)
    assert torch.allclose(logits0, g(y), atol=1e-5), "p = 0 is teacher forcing"
    assert not own0.any() and torch.equal(fed0[:, 1:], y[:, :-1])
    logits1, fed1, own1 = steps.ss_forward(g, y, 1.0)
    assert own1[:, 1:].all() and not own1[:, 0].any()
    # the logits are G's teacher-forced logits of what was fed: the model conditioned on its own draws
    as_target = torch.cat([fed1[:, 1:], y[:, -1:]], dim=1)
    assert torch.allclose(logits1, g(as_target), atol=1e-5)
    assert not torch.equal(fed1[:, 1:], y[:, :-1])
    _, _, own_half = steps.ss_forward(g, y, 0.3)
    assert abs(own_half[:, 1:].float().mean().item() - 0.3) < 0.03


def test_scheduled_sampling_probability_grows_per_epoch_in_the_trainer():
    rec = Recorder()
    Trainer(_tiny(ss_rate=0.4, pretrain_g_epochs=3, pretrain_d_rounds=0, adv_rounds=0), rec).run()
    probs = [r[3]["mle/ss_prob"] for r in rec.rows if r[1] == "mle"]
    assert probs == pytest.approx([0.0, 0.4, 0.8])
    assert steps.ss_probability(0.002, 120) == pytest.approx(0.24) and steps.ss_probability(0.5, 3) == 1.0


def test_bleu_critic_scores_like_sentence_bleu():
    refs = torch.tensor([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])
    critic = BleuCritic(refs)
    s = critic.score(torch.tensor([[1, 2, 3, 4, 5, 6], [13, 14, 15, 16, 17, 18], [1, 2, 3, 4, 11, 12]]))
    assert s[0].item() == pytest.approx(1.0) and s[1].item() == 0.0 and 0 < s[2].item() < 1
    from seqgan_core.metrics.bleu import BleuScorer
    assert s[2].item() == pytest.approx(BleuScorer(refs.tolist(), 4).sentence((1, 2, 3, 4, 11, 12), 4), rel=1e-6)


def test_pg_bleu_rewards_are_the_rollouts_bleu():
    """PG-BLEU is the same roll-out estimate with BLEU as the critic: Q at T is the sample's BLEU, Q before
    T the mean BLEU of its completions, and the trainer uses it (no D) on the toy oracle."""
    tr = Trainer(_tiny(**method_overrides("pg_bleu"), adv_rounds=2), Recorder())
    tr.run()
    critic = tr._critic()
    assert isinstance(critic, BleuCritic)
    snap = [p for _, kind, p in tr.sink.snaps if kind == "rollout"][-1]
    ids = torch.tensor(snap["ids"])
    assert torch.allclose(torch.tensor(snap["q"])[:, -1], critic.score(ids), atol=1e-3)   # (stored rounded)
    res = steps.rewards("bleu", tr.gen, critic, ids[:2], 3)
    comps = res.completions[0]                                                  # (T-1, N, T)
    expect = critic.score(comps.reshape(-1, comps.shape[-1])).view(comps.shape[0], -1).mean(1)
    assert torch.allclose(res.q[0, :-1], expect, atol=1e-6)
    assert not any("d/loss" in r[3] for r in tr.sink.rows if r[1] != "mle"), "PG-BLEU trains no D"


def test_mle_continues_from_a_finished_checkpoint(tmp_path):
    start = Trainer(_tiny(pretrain_g_epochs=2, pretrain_d_rounds=0, adv_rounds=0), Recorder(),
                    checkpoint_dir=tmp_path)
    start.run()
    cfg = _tiny(init_from=str(tmp_path / "latest.pt"), pretrain_g_epochs=3, mle_continue=True,
                pretrain_d_rounds=0, adv_rounds=0)
    rec = Recorder()
    tr = Trainer(cfg, rec)
    assert tr.pos.phase == "mle" and tr.pos.index == 2
    g0 = [p.clone() for p in tr.gen.parameters()]
    tr.run()
    new = [r for r in rec.rows if r[1] == "mle" and r[2] == 2 and "loss/mle" in r[3]]
    assert len(new) == 1 and "nll/oracle" in new[0][3], "one more MLE epoch, x continuing at 2, evaluated"
    assert any(not torch.equal(a, b) for a, b in zip(g0, tr.gen.parameters()))
    # without mle_continue the finished MLE is skipped, as before
    skip = Trainer(apply_overrides(cfg, {"mle_continue": False}), Recorder())
    assert skip.pos.phase != "mle" and skip.schedule.pretrain_g_epochs == 2


def test_method_table_maps_names_to_the_one_trainers_settings():
    assert set(METHODS) >= {"mle", "ss", "pg_bleu", "seqgan", "constant"}
    with pytest.raises(ConfigError, match="unknown method"):
        method_overrides("gan2")
    tiny = _tiny()
    # tiny: 4 rounds × 1 g-step of 32 = 4 minibatches; an epoch is 512 // 32 = 16: one more epoch
    mle = finish_method("mle", apply_overrides(tiny, method_overrides("mle")), 4, 1)
    assert (mle.schedule.pretrain_g_epochs, mle.schedule.adv_rounds, mle.schedule.pretrain_d_rounds) == (4, 0, 0)
    mle = finish_method("mle", apply_overrides(tiny, method_overrides("mle")), 40, 1)
    assert mle.schedule.pretrain_g_epochs == 3 + math.ceil(40 / 16)
    # classroom: from the shipped 4-epoch generator, 30 updates < one epoch of 156 minibatches
    room = finish_method("ss", apply_overrides(preset("classroom"), method_overrides("ss")), 30, 1)
    assert room.schedule.pretrain_g_epochs == 5 and room.schedule.mle_continue and room.schedule.ss_rate == 0.002
    assert apply_overrides(tiny, method_overrides("seqgan")) == tiny
    assert apply_overrides(tiny, method_overrides("constant")).schedule.reward == "constant"


def test_pretrained_method_is_the_starting_generator_unchanged(tmp_path):
    start = Trainer(_tiny(pretrain_g_epochs=2, pretrain_d_rounds=0, adv_rounds=0), Recorder(), checkpoint_dir=tmp_path)
    start.run()
    tr = Trainer(apply_overrides(_tiny(init_from=str(tmp_path / "latest.pt")), method_overrides("pretrained")),
                 Recorder())
    tr.run()
    assert all(torch.equal(a, b) for a, b in zip(start.gen.parameters(), tr.gen.parameters()))
