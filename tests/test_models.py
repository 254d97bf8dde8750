import torch
import torch.nn.functional as F

from conftest import shared_file
from seqgan_core.models import Discriminator, Generator, load_authors_oracle, random_oracle, sample_categorical


def test_generator_shapes_and_gradients():
    torch.manual_seed(0)
    g = Generator(50, 8, 16).init_normal(0.1)
    y = torch.randint(0, 50, (4, 7))
    assert g(y).shape == (4, 7, 50)
    lp = g.log_probs(y)
    assert lp.shape == (4, 7) and (lp <= 0).all()
    (-lp.sum()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters() if p is not g.lstm.bias_hh_l0)


def test_teacher_forcing_matches_step_by_step():
    """forward() (fused nn.LSTM) and step() (the cell used for sampling) are the same network."""
    torch.manual_seed(0)
    g = Generator(30, 8, 8).init_normal(0.5)
    y = torch.randint(0, 30, (3, 6))
    hs, _ = g.prefix_states(y)
    assert torch.allclose(g.out(hs), g(y), atol=1e-5)


def test_start_token_is_fed_first():
    g = Generator(30, 8, 8, start_token=0).init_normal(0.5)
    y = torch.randint(1, 30, (2, 5))
    assert g._inputs(y)[:, 0].eq(0).all() and torch.equal(g._inputs(y)[:, 1:], y[:, :-1])


def test_sampler_matches_softmax_distribution():
    torch.manual_seed(0)
    logits = torch.randn(3, 77) * 2            # 77: no block size divides it, so padding is exercised
    draws = torch.stack([sample_categorical(logits) for _ in range(30000)])   # (S, 3)
    for r in range(3):
        freq = torch.bincount(draws[:, r], minlength=77).float() / len(draws)
        assert (freq - F.softmax(logits[r], 0)).abs().max() < 0.012


def test_sampler_never_picks_zero_probability_tokens():
    logits = torch.full((2000, 100), -1e9)
    logits[:, 37] = 0.0
    logits[:, 99] = 0.0
    out = sample_categorical(logits)
    assert set(out.tolist()) == {37, 99}


def test_discriminator_shapes_l2_and_dropout_off_when_scoring():
    torch.manual_seed(0)
    d = Discriminator(40, 8, [2, 3], [5, 6], dropout=0.5, l2_reg=0.2)
    x = torch.randint(0, 40, (10, 9))
    assert d(x).shape == (10, 2)
    loss, _ = d.loss(x, torch.ones(10, dtype=torch.long))
    ce = F.cross_entropy(d.eval()(x), torch.ones(10, dtype=torch.long))
    d.train()
    assert loss.item() > 0
    s1, s2 = d.score(x), d.score(x)
    assert torch.equal(s1, s2) and d.training, "scores must be deterministic and leave D's mode alone"
    assert ((s1 > 0) & (s1 < 1)).all()
    l2 = 0.5 * (d.out.weight.pow(2).sum() + d.out.bias.pow(2).sum())
    torch.manual_seed(1)
    d.eval()
    loss_eval, _ = d.loss(x, torch.ones(10, dtype=torch.long))
    assert torch.allclose(loss_eval, ce + 0.2 * l2)


def test_random_oracle_is_reproducible():
    a, b = random_oracle(100, seed=3), random_oracle(100, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.emb.weight, random_oracle(100, seed=4).emb.weight)


def test_authors_oracle_scores_its_own_samples_near_5_76():
    oracle = load_authors_oracle(shared_file("seqgan_paper_oracle.npz"))
    g = torch.Generator().manual_seed(0)
    samples = oracle.sample(2000, 20, generator=g)
    with torch.no_grad():
        nll = oracle.nll(samples).mean().item()
    assert abs(nll - 5.76) < 0.08, nll
