import torch

from seqgan_core.models import Discriminator, Generator
from seqgan_core.models.generator import greedy
from seqgan_core.rollout import RolloutPolicy, rollout_q, rollout_q_loop


def _models(V=40, T=8, seed=0):
    torch.manual_seed(seed)
    g = Generator(V, 8, 12).init_normal(0.8).eval()
    d = Discriminator(V, 8, [2, 3], [6, 6], dropout=0.5).eval()
    return g, d, g.sample(6, T)


def test_fast_equals_loop_exactly_when_sampling_is_deterministic():
    g, d, y = _models()
    for chunk_rows in (1, 7, 64, 4096):     # chunk sizes that split prefixes and pairs differently
        fast = rollout_q(g, d, y, 3, sampler=greedy, chunk_rows=chunk_rows).q
        loop = rollout_q_loop(g, d, y, 3, sampler=greedy)
        assert torch.allclose(fast, loop, atol=1e-6), chunk_rows


def test_completions_keep_their_prefix_and_last_q_is_d_of_y():
    g, d, y = _models()
    res = rollout_q(g, d, y, 5, keep=(2,))
    comp = res.completions[2]                          # (T-1, N, T)
    T = y.shape[1]
    assert comp.shape == (T - 1, 5, T) and res.completion_scores[2].shape == (T - 1, 5)
    for t in range(1, T):
        assert torch.equal(comp[t - 1, :, :t], y[2, :t].expand(5, t))
    assert torch.allclose(res.q[:, -1], d.score(y))
    # Q is the arithmetic mean of D over the N completions
    assert torch.allclose(res.q[2, :-1], res.completion_scores[2].mean(1), atol=1e-6)


def test_fast_agrees_with_loop_statistically():
    g, d, y = _models(seed=1)
    torch.manual_seed(5)
    fast = rollout_q(g, d, y, 600).q
    loop = rollout_q_loop(g, d, y, 600)
    # per-cell standard error of a mean of 600 draws in [0, 1] is < 0.02; D's spread here is far smaller
    assert (fast - loop).abs().max() < 0.01
    assert not torch.allclose(fast[:, 0], fast[:, -1])   # Q genuinely varies along the sequence


def test_delayed_rollout_policy_moves_toward_generator():
    g, _, _ = _models()
    roll = RolloutPolicy(g, delay=0.8)
    before = roll.policy.out.weight.clone()
    with torch.no_grad():
        g.out.weight.add_(1.0)
    roll.update()
    assert torch.allclose(roll.policy.out.weight, 0.8 * before + 0.2 * g.out.weight)
    assert RolloutPolicy(g, 0.0).policy is g


def test_rewards_are_scored_without_dropout_even_when_d_is_training():
    """D left in training mode (dropout 0.5): the roll-out must still score deterministically."""
    g, d, y = _models()
    d = Discriminator(40, 8, [2, 3], [6, 6], dropout=0.5).train()
    first = rollout_q(g, d, y, 3, sampler=greedy).q
    second = rollout_q(g, d, y, 3, sampler=greedy).q
    assert torch.equal(first, second)
    assert d.training, "scoring must leave D's mode as it found it"
