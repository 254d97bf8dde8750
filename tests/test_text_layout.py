"""Text data sets: padding after the first end token is left out of the MLE loss and NLL-test; the start
token has its own id; checkpoints of the old shared start/end layout are refused."""
import copy

import pytest
import torch
import torch.nn.functional as F

from seqgan_core.data.base import SequenceDataset
from seqgan_core.metrics.evaluate import Evaluator, mean_nll
from seqgan_core.models import Generator, pad_mask
from seqgan_core.train import steps

EOS = 0


def padded(rows, T):
    out = torch.full((len(rows), T), EOS, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r)
    return out


ROWS = [[3, 4, 5], [6], [7, 3, 3, 4, 5, 6], [2, 2]]


def test_pad_mask_counts_up_to_and_including_the_first_end_token():
    y = torch.tensor([[5, 0, 0, 0], [5, 6, 7, 8], [0, 0, 3, 0], [5, 6, 0, 4]])
    assert pad_mask(y, 0).tolist() == [[True, True, False, False], [True] * 4,
                                       [True, False, False, False], [True, True, True, False]]


def test_nll_test_ignores_padding_so_the_padded_length_does_not_change_it():
    """G's prediction of a token depends only on the tokens before it, so once the padding after the first
    end token is left out, NLL-test is the same whatever length the rows are padded to."""
    torch.manual_seed(0)
    g = Generator(10, 8, 8).init_normal(0.5)
    short, long = padded(ROWS, 7), padded(ROWS, 30)
    a, b = mean_nll(g, short, chunk=3, eos_id=EOS), mean_nll(g, long, chunk=3, eos_id=EOS)
    assert a == pytest.approx(b, rel=1e-6)
    # and it is the mean over the counted tokens (each row's tokens plus one end token)
    logp = g.log_probs(short)
    want = -sum(logp[i, :len(r) + 1].sum().item() for i, r in enumerate(ROWS)) / sum(len(r) + 1 for r in ROWS)
    assert a == pytest.approx(want, rel=1e-6)
    assert mean_nll(g, long, eos_id=EOS) != pytest.approx(mean_nll(g, long), rel=1e-3)   # unmasked differs


def test_data_without_an_end_token_is_unchanged():
    torch.manual_seed(1)
    g = Generator(10, 8, 8).init_normal(0.5)
    y = torch.randint(0, 10, (9, 6))
    assert mean_nll(g, y, chunk=4) == pytest.approx(g.nll(y).mean().item(), rel=1e-6)
    logits = g(y)
    assert steps.mle_loss(logits, y).item() == pytest.approx(
        F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1)).item(), rel=1e-6)


def test_mle_loss_ignores_padding():
    torch.manual_seed(2)
    g = Generator(10, 8, 8).init_normal(0.5)
    short, long = padded(ROWS, 7), padded(ROWS, 30)
    a = steps.mle_loss(g(short), short, EOS).item()
    b = steps.mle_loss(g(long), long, EOS).item()
    assert a == pytest.approx(b, rel=1e-6)
    assert a == pytest.approx(mean_nll(g, short, eos_id=EOS), rel=1e-6)


def test_the_mle_step_and_the_evaluator_use_the_mask():
    torch.manual_seed(3)
    g = Generator(10, 8, 8).init_normal(0.5)
    y = padded(ROWS, 30)
    want = steps.mle_loss(g(y), y, EOS).item()
    opt = torch.optim.Adam(g.parameters(), lr=0.01)
    step = steps.make_mle_step(g, opt, 5.0, mode="eager", eos_id=EOS)
    step(y)
    assert step.take().item() == pytest.approx(want, rel=1e-6)      # the loss before the update
    ds = SequenceDataset("t", train=y, test=y, vocab=[str(i) for i in range(10)], eos_id=EOS)
    values, _ = Evaluator(ds, nll_samples=8)(g)
    assert values["nll/test"] == pytest.approx(mean_nll(g, y, eos_id=EOS), rel=1e-6)
