"""Small training steps: MLE, policy gradient, discriminator. No printing, no files."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models import Discriminator, Generator


def batches(n: int, batch_size: int, device, shuffle: bool = True):
    """Index batches over n items; the authors drop the last partial batch (9,984 of 10,000)."""
    order = torch.randperm(n) if shuffle else torch.arange(n)
    for i in range(0, n - batch_size + 1, batch_size):
        yield order[i:i + batch_size].to(device)


def clip_step(opt: torch.optim.Optimizer, params, grad_clip: float | None) -> None:
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()


def mle_epoch(gen: Generator, opt, data: torch.Tensor, batch_size: int, grad_clip: float) -> float:
    """One epoch of teacher-forced MLE; returns the mean per-token NLL of its batches."""
    gen.train()
    total, count = 0.0, 0
    for idx in batches(len(data), batch_size, data.device):
        y = data[idx]
        logits = gen(y)                                                  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_step(opt, gen.parameters(), grad_clip)
        total, count = total + loss.item(), count + 1
    return total / max(count, 1)


def reward_baseline(q: torch.Tensor, kind: str) -> torch.Tensor:
    """What is subtracted from Q: 0 (paper), the batch mean, or the mean at each position t."""
    if kind == "none":
        return torch.zeros((), device=q.device)
    if kind == "batch_mean":
        return q.mean()
    if kind == "position_mean":
        return q.mean(dim=0, keepdim=True)                              # (1, T)
    raise ValueError(f"unknown reward baseline {kind}")


def pg_loss(gen: Generator, y: torch.Tensor, q: torch.Tensor, baseline: str = "none", norm: str = "sum"):
    """−Σ_b,t log G(y_t | y_<t) · (Q − baseline), summed (authors) or averaged over the B·T tokens.

    Returns (loss, log G(y_t) detached (B, T), mean per-token entropy of G along y)."""
    logp_all = F.log_softmax(gen(y), dim=-1)                            # (B, T, V)
    logp = logp_all.gather(2, y.unsqueeze(2)).squeeze(2)                # (B, T)
    adv = (q - reward_baseline(q, baseline)).detach()
    loss = -(logp * adv).sum()
    if norm == "mean":
        loss = loss / y.numel()
    entropy = -(logp_all.exp() * logp_all).sum(-1).mean().detach()
    return loss, logp.detach(), entropy


def pg_step(gen: Generator, opt, y, q, baseline: str, norm: str, grad_clip: float) -> dict:
    gen.train()
    loss, logp, entropy = pg_loss(gen, y, q, baseline, norm)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    clip_step(opt, gen.parameters(), grad_clip)
    return {"loss": loss.item(), "entropy": entropy.item(), "logp": logp}


def d_train(disc: Discriminator, opt, real: torch.Tensor, fake: torch.Tensor, epochs: int,
            batch_size: int) -> dict:
    """k epochs over real (label 1) + fake (label 0), shuffled together; dropout on."""
    x = torch.cat([real, fake])
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).long().to(x.device)
    disc.train()
    total, correct, count = 0.0, 0, 0
    for _ in range(epochs):
        for idx in batches(len(x), batch_size, x.device):
            loss, logits = disc.loss(x[idx], labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == labels[idx]).sum().item()
            count += len(idx)
    return {"loss": total / max(count, 1), "train_acc": correct / max(count, 1)}


def real_subset(data: torch.Tensor, n: int) -> torch.Tensor:
    """n real sequences (all of them when n ≥ len(data)), drawn afresh each call for balance."""
    if n >= len(data):
        return data
    return data[torch.randperm(len(data))[:n].to(data.device)]
