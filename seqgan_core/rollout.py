"""Monte-Carlo roll-out rewards Q(Y_1:t−1, y_t) for every token of a batch (Eq. 4 of the paper).

For t < T, Q is the arithmetic mean of D over N completions of the prefix Y_1:t drawn from the roll-out
policy G_β; for t = T, Q = D(Y_1:T). Returns Q of shape (B, T).

`rollout_q` is the fast version: the prefixes' LSTM states come from one teacher-forced pass (no
prefix is recomputed), every (prefix, copy) pair becomes a row, and rows are processed in chunks sized
for the cache. Rows are ordered by prefix length, so at position p the rows still drawing are a
contiguous head of the chunk. D then scores all completions in one pass. `rollout_q_loop` is the
authors' structure (for n, for t: a full generator pass, then D), kept as the reference for tests and
the benchmark.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F

from . import accel
from .models.discriminator import Discriminator
from .models.generator import Generator, Sampler, sample_categorical


@dataclass
class RolloutResult:
    q: torch.Tensor                           # (B, T) Q estimates; q[:, T-1] = D(Y)
    completions: dict                         # b -> (T-1, N, T) tokens of the completions of sample b
    completion_scores: dict                   # b -> (T-1, N) D(completion)


def _multinomial(logits: torch.Tensor) -> torch.Tensor:
    return torch.multinomial(F.softmax(logits, dim=1), 1).squeeze(1)


@torch.no_grad()
def rollout_q(policy: Generator, disc: Discriminator, y: torch.Tensor, n_rollouts: int,
              temperature: float = 1.0, sampler: Optional[Sampler] = None, chunk_rows: Optional[int] = None,
              keep: Sequence[int] = (), tick: Optional[Callable[[int, int, str], None]] = None) -> RolloutResult:
    """Q for every token of y (B, T) with N = n_rollouts completions per prefix; see the module doc.

    chunk_rows bounds the rows drawn at once (the logits buffer is chunk_rows × V; default: the device's
    measured size); keep lists sample indices whose completions are returned for inspection; tick(done,
    total, part) is called between chunks (drawing, then D's scoring: see steps.Tick). All
    completions are drawn first and D scores them afterwards in one pass: interleaving the two evicts
    D's weights from the cache at every chunk. Nothing here waits for the device."""
    draw = sampler or sample_categorical
    B, T = y.shape
    N = n_rollouts
    chunk_rows = chunk_rows or accel.chunks(y.device)["rollout_rows"]
    hs, cs = policy.prefix_states(y)                      # (B, T, H): state before drawing y[:, t]
    M = max(1, chunk_rows // max(1, T - 1))               # (copy, sample) pairs per chunk
    pair_b = torch.arange(N * B, device=y.device) % B     # pair j = copy j // B of sample j % B
    starts = range(0, N * B, M)
    seqs = []
    for i, j0 in enumerate(starts):
        if tick:
            tick(i, len(starts), "roll-out chunk")
        seqs.append(_complete(policy, y, hs, cs, pair_b[j0:j0 + M], temperature, draw))
    scores = disc.score(torch.cat(seqs), tick=tick).split([len(s) for s in seqs])   # each ((T-1)·m,)
    # pairs are in order j = copy·B + b across the chunks, so (T-1, N·B) → (T-1, N, B) sums the copies
    all_scores = torch.cat([sc.view(T - 1, -1) for sc in scores], dim=1)  # (T-1, N·B)
    q = torch.empty(B, T, device=y.device)
    q[:, :T - 1] = all_scores.view(T - 1, N, B).mean(dim=1).T
    q[:, T - 1] = disc.score(y)
    comps, comp_scores = {}, {}
    for b in keep:                                       # pair j = n·B + b: a strided slice, no search
        rows = [seq.view(T - 1, -1, T)[:, (b - j0) % B::B] for j0, seq in zip(starts, seqs)]
        comps[b] = torch.cat(rows, 1)                                    # (T-1, N, T)
        comp_scores[b] = all_scores[:, b::B]                             # (T-1, N)
    return RolloutResult(q, comps, comp_scores)


def _complete(policy: Generator, y, hs, cs, bidx, temperature, draw) -> torch.Tensor:
    """Completions of every prefix length 1..T-1 of samples y[bidx]; row (t-1)·m + i has prefix length t."""
    T = y.shape[1]
    m = len(bidx)
    seqs = y[bidx].repeat(T - 1, 1)                        # ((T-1)·m, T), prefixes already in place
    H = hs.shape[2]
    h = hs.new_empty((T - 1) * m, H)
    c = torch.empty_like(h)
    for p in range(1, T):                                  # draw 0-based position p
        old, act = (p - 1) * m, p * m                      # rows [0, old) already drawing; [old, act) join
        if old:
            h[:old], c[:old] = policy.step(seqs[:old, p - 1], (h[:old], c[:old]))
        h[old:act] = hs[bidx, p]
        c[old:act] = cs[bidx, p]
        seqs[:act, p] = draw(policy.out(h[:act]) / temperature)
    return seqs


@torch.no_grad()
def rollout_q_loop(policy: Generator, disc: Discriminator, y: torch.Tensor, n_rollouts: int,
                   temperature: float = 1.0, sampler: Optional[Sampler] = None) -> torch.Tensor:
    """Reference: the authors' loop. For n, for t: a full generator pass that feeds the prefix and
    samples the rest (torch.multinomial unless a sampler is given), then D on that batch."""
    draw = sampler or _multinomial
    B, T = y.shape
    q = torch.zeros(B, T, device=y.device)
    for _ in range(n_rollouts):
        for t in range(1, T):
            q[:, t - 1] += disc.score(_one_rollout(policy, y, t, temperature, draw))
    q[:, :T - 1] /= n_rollouts
    q[:, T - 1] = disc.score(y)
    return q


def _one_rollout(policy: Generator, y, given: int, temperature, draw) -> torch.Tensor:
    B, T = y.shape
    h = torch.zeros(B, policy.hidden_dim, device=y.device, dtype=policy.out.weight.dtype)
    state = (h, torch.zeros_like(h))
    tok = torch.full((B,), policy.start_token, dtype=torch.long, device=y.device)
    out = y.clone()
    for p in range(T):
        state = policy.step(tok, state)
        if p < given:
            tok = y[:, p]
        else:
            tok = draw(policy.out(state[0]) / temperature)
            out[:, p] = tok
    return out


class RolloutPolicy:
    """G_β. delay r = 0: the current generator itself (the paper). r > 0: a copy updated after each round
    by θ_β ← r·θ_β + (1 − r)·θ (what the authors' 'update rate' 0.8 meant to do)."""

    def __init__(self, generator: Generator, delay: float = 0.0):
        self.generator, self.delay = generator, delay
        self.copy: Optional[Generator] = None
        if delay > 0:
            self.copy = copy.deepcopy(generator).requires_grad_(False)

    @property
    def policy(self) -> Generator:
        return self.copy if self.copy is not None else self.generator

    @torch.no_grad()
    def update(self) -> None:
        if self.copy is None:
            return
        for pb, p in zip(self.copy.parameters(), self.generator.parameters()):
            pb.mul_(self.delay).add_(p, alpha=1.0 - self.delay)

    def state_dict(self):
        return self.copy.state_dict() if self.copy is not None else None

    def load_state_dict(self, state) -> None:
        if self.copy is not None and state is not None:
            self.copy.load_state_dict(state)
