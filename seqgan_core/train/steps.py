"""Small training steps: MLE, policy gradient, discriminator. No printing, no files."""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from ..accel import CapturedStep
from ..models import Discriminator, Generator, pad_mask, sample_categorical
from ..rollout import RolloutResult, rollout_q

# tick(done, total, part): called between minibatches (or roll-out chunks) so a run can answer a pause or a
# stop inside a unit and report how far the unit is; it may raise to abandon the unit. None: no calls.
Tick = Optional[Callable[[int, int, str], None]]


def batches(n: int, batch_size: int, device, shuffle: bool = True):
    """Index batches over n items; the authors drop the last partial batch (9,984 of 10,000). On a GPU
    the permutation is drawn on the device, so no batch waits for a host-to-device copy."""
    dev = torch.device(device)
    if dev.type == "cuda":
        order = torch.randperm(n, device=dev) if shuffle else torch.arange(n, device=dev)
    else:
        order = (torch.randperm(n) if shuffle else torch.arange(n)).to(dev)
    for i in range(0, n - batch_size + 1, batch_size):
        yield order[i:i + batch_size]


def clip_step(opt: torch.optim.Optimizer, params, grad_clip: float | None) -> None:
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()


def mle_loss(logits: torch.Tensor, y: torch.Tensor, eos_id: Optional[int] = None) -> torch.Tensor:
    """Mean per-token cross-entropy; with an end token, only over the tokens up to and including the first
    one (see models.generator.pad_mask: the padding after it would dominate the mean)."""
    flat = logits.reshape(-1, logits.shape[-1])
    if eos_id is None:
        return F.cross_entropy(flat, y.reshape(-1))
    mask = pad_mask(y, eos_id).reshape(-1).to(flat.dtype)
    return (F.cross_entropy(flat, y.reshape(-1), reduction="none") * mask).sum() / mask.sum().clamp(min=1)


def make_mle_step(gen: Generator, opt, grad_clip: float, mode: str = "graph",
                  eos_id: Optional[int] = None) -> CapturedStep:
    """One teacher-forced MLE minibatch; accumulates its mean per-token NLL (padding after the first end
    token left out when eos_id is given)."""
    dev = gen.out.weight.device

    def fn(y):
        logits = gen(y)                                                  # (B, T, V)
        loss = mle_loss(logits, y, eos_id)
        loss.backward()
        clip_step(opt, gen.parameters(), grad_clip)
        return loss.detach().reshape(1)
    return CapturedStep(fn, [gen], [opt], dev, mode)


def mle_epoch(gen: Generator, opt, data: torch.Tensor, batch_size: int, grad_clip: float,
              step: Optional[CapturedStep] = None, eos_id: Optional[int] = None, tick: Tick = None) -> float:
    """One epoch of teacher-forced MLE; returns the mean per-token NLL of its batches (read once)."""
    gen.train()
    step = step or make_mle_step(gen, opt, grad_clip, mode="eager", eos_id=eos_id)
    n, total = 0, len(data) // batch_size
    for idx in batches(len(data), batch_size, data.device):
        if tick:
            tick(n, total, "minibatch")
        step(data[idx])
        n += 1
    acc = step.take()
    return acc.item() / n if n else 0.0


def reward_baseline(q: torch.Tensor, kind: str) -> torch.Tensor:
    """What is subtracted from Q: 0 (paper), the batch mean, or the mean at each position t."""
    if kind == "none":
        return torch.zeros((), device=q.device)
    if kind == "batch_mean":
        return q.mean()
    if kind == "position_mean":
        return q.mean(dim=0, keepdim=True)                              # (1, T)
    raise ValueError(f"unknown reward baseline {kind}")


def pg_loss(gen: Generator, y: torch.Tensor, q: torch.Tensor, baseline: str = "none", norm: str = "sum",
            eos_id: Optional[int] = None):
    """−Σ_b,t log G(y_t | y_<t) · (Q − baseline), summed (authors) or averaged over the tokens that count.
    With an end token, only the tokens up to each row's first <eos> count: the ones after it are padding,
    not G's choices.

    Returns (loss, log G(y_t) detached (B, T), mean per-token entropy of G along y)."""
    logp_all = F.log_softmax(gen(y), dim=-1)                            # (B, T, V)
    logp = logp_all.gather(2, y.unsqueeze(2)).squeeze(2)                # (B, T)
    adv = (q - reward_baseline(q, baseline)).detach()
    entropy_t = -(logp_all.exp() * logp_all).sum(-1)                    # (B, T)
    if eos_id is None:
        loss, entropy, count = -(logp * adv).sum(), entropy_t.mean(), y.numel()
    else:
        m = pad_mask(y, eos_id).to(logp.dtype)
        count = m.sum().clamp(min=1)
        loss, entropy = -(logp * adv * m).sum(), (entropy_t * m).sum() / count
    if norm == "mean":
        loss = loss / count
    return loss, logp.detach(), entropy.detach()


def pg_step(gen: Generator, opt, y, q, baseline: str, norm: str, grad_clip: float,
            eos_id: Optional[int] = None) -> dict:
    """One policy-gradient minibatch; its statistics are read from the device in one transfer."""
    gen.train()
    loss, logp, entropy = pg_loss(gen, y, q, baseline, norm, eos_id)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    clip_step(opt, gen.parameters(), grad_clip)
    stats = torch.stack([loss.detach(), entropy, q.mean(), q[:, -1].mean()]).tolist()
    return {"loss": stats[0], "entropy": stats[1], "q_mean": stats[2], "q_last": stats[3], "logp": logp}


CONSTANT_REWARD = 0.5   # with Adam the scale barely matters: its step is invariant to the gradient's scale


def rewards(kind: str, policy: Generator, disc: Discriminator, y: torch.Tensor, n_rollouts: int,
            tick: Tick = None) -> RolloutResult:
    """Q for every token of y under the run's reward: D's Monte-Carlo roll-outs (SeqGAN), a constant
    (policy gradient without D), or D's Q shuffled across the batch independently at each position
    (the same values, credited to the wrong sequences). PG-BLEU passes its BLEU critic as `disc`."""
    if kind == "constant":
        return RolloutResult(torch.full(y.shape, CONSTANT_REWARD, device=y.device), {}, {})
    res = rollout_q(policy, disc, y, n_rollouts, keep=(0,), tick=tick)
    if kind == "shuffled":
        perm = torch.argsort(torch.rand(y.shape, device=y.device), dim=0)   # one permutation per column
        res.q = res.q.gather(0, perm)
    return res


def make_d_step(disc: Discriminator, opt, mode: str = "graph") -> CapturedStep:
    """One D minibatch; accumulates (loss · batch, correct, batch)."""
    dev = disc.out.weight.device

    def fn(x, labels):
        loss, logits = disc.loss(x, labels)
        loss.backward()
        opt.step()
        loss = loss.detach()    # (no tensor from a Python number here: that would copy from the host)
        return torch.stack([loss * len(labels), (logits.argmax(1) == labels).sum().float(),
                            torch.ones_like(loss) * len(labels)])
    return CapturedStep(fn, [disc], [opt], dev, mode)


def d_train(disc: Discriminator, opt, real: torch.Tensor, fake: torch.Tensor, epochs: int,
            batch_size: int, step: Optional[CapturedStep] = None, tick: Tick = None) -> dict:
    """k epochs over real (label 1) + fake (label 0), shuffled together; dropout on. Loss and accuracy
    add up on the device and are read once at the end."""
    x = torch.cat([real, fake])
    labels = torch.cat([torch.ones(len(real), dtype=torch.long, device=x.device),
                        torch.zeros(len(fake), dtype=torch.long, device=x.device)])
    disc.train()
    step = step or make_d_step(disc, opt, mode="eager")
    n, total = 0, epochs * (len(x) // batch_size)
    for _ in range(epochs):
        for idx in batches(len(x), batch_size, x.device):
            if tick:
                tick(n, total, "minibatch")
            step(x[idx], labels[idx])
            n += 1
    acc = step.take()
    if acc is None:
        return {"loss": 0.0, "train_acc": 0.0}
    total, correct, count = acc.tolist()
    return {"loss": total / max(count, 1), "train_acc": correct / max(count, 1)}


def real_subset(data: torch.Tensor, n: int) -> torch.Tensor:
    """n real sequences (all of them when n ≥ len(data)), drawn afresh each call for balance."""
    if n >= len(data):
        return data
    return data[torch.randperm(len(data))[:n].to(data.device)]


# --- scheduled sampling (Bengio et al. 2015; the paper's SS baseline) -----------------------------------
def ss_forward(gen: Generator, y: torch.Tensor, p_own: float):
    """Logits (B, T, V) of y when, at each position after the first, the token fed is G's own draw from its
    previous output with probability p_own and the true y_{t-1} otherwise. Also returns the tokens fed
    before each position (B, T; column 0 is the start token) and which of them were G's own (B, T)."""
    B, T = y.shape
    h = torch.zeros(B, gen.hidden_dim, device=y.device, dtype=gen.out.weight.dtype)
    state = (h, torch.zeros_like(h))
    fed = [torch.full_like(y[:, 0], gen.start_token)]                    # (B,) per position: no in-place
    own = [torch.zeros(B, dtype=torch.bool, device=y.device)]            # writes into what autograd saved
    logits = []
    for t in range(T):
        state = gen.step(fed[t], state)
        logits.append(gen.out(state[0]))                                 # (B, V)
        if t + 1 < T:
            draw = sample_categorical(logits[-1].detach())               # G's own token, no gradient through it
            own.append(torch.rand(B, device=y.device) < p_own)
            fed.append(torch.where(own[-1], draw, y[:, t]))
    return torch.stack(logits, 1), torch.stack(fed, 1), torch.stack(own, 1)


def ss_mle_epoch(gen: Generator, opt, data: torch.Tensor, batch_size: int, grad_clip: float,
                 p_own: float, eos_id: Optional[int] = None, tick: Tick = None) -> float:
    """One MLE epoch with scheduled sampling (eager: the random choice of inputs differs per batch);
    returns the mean per-token NLL of its batches. p_own = 0 is teacher-forced MLE."""
    gen.train()
    total, n = torch.zeros((), device=data.device), 0
    for idx in batches(len(data), batch_size, data.device):
        if tick:
            tick(n, len(data) // batch_size, "minibatch")
        y = data[idx]
        logits, _, _ = ss_forward(gen, y, p_own)
        loss = mle_loss(logits, y, eos_id)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_step(opt, gen.parameters(), grad_clip)
        total += loss.detach()
        n += 1
    return total.item() / n if n else 0.0


def ss_probability(rate: float, epoch: int) -> float:
    """The probability of feeding G's own token in MLE epoch `epoch` (grows by `rate` per epoch)."""
    return min(1.0, rate * epoch)
