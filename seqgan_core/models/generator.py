"""LSTM generator G_θ: start token first, h0 = c0 = 0, logits = out(h_t) (the authors' structure)."""
from __future__ import annotations

import functools

from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import accel

Sampler = Callable[[torch.Tensor], torch.Tensor]  # logits (R, V) -> token ids (R,)


@functools.lru_cache(maxsize=None)
def _block_size(V: int) -> int:
    """A block width near sqrt(V) that divides V when one exists (padding costs a copy)."""
    root = max(8, int(V ** 0.5))
    for b in sorted(range(8, 4 * root), key=lambda b: abs(b - root)):
        if V % b == 0:
            return b
    return root


def sample_categorical(logits: torch.Tensor, generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """One draw per row from softmax(logits), exact, by inverse CDF in two levels.

    torch.multinomial costs ~20x more on CPU; a flat float32 cumsum over a large vocabulary is slower and
    less precise, so the vocabulary is cut into blocks: pick a block by its mass, then a token inside it.
    """
    R, V = logits.shape
    block = _block_size(V)
    w = torch.exp(logits - logits.amax(dim=1, keepdim=True))          # (R, V) unnormalised probs
    nb = -(-V // block)
    if nb * block != V:
        w = F.pad(w, (0, nb * block - V))
    w = w.view(R, nb, block)
    block_cdf = w.sum(dim=2).cumsum(dim=1)                            # (R, nb)
    u = torch.rand(R, 1, device=logits.device, generator=generator, dtype=w.dtype)
    target = u * block_cdf[:, -1:]
    # right=True: the first index whose CDF exceeds the target, so zero-mass blocks/tokens are never hit
    b = torch.searchsorted(block_cdf, target, right=True).clamp_(max=nb - 1)      # (R, 1)
    below = torch.where(b > 0, block_cdf.gather(1, (b - 1).clamp(min=0)), torch.zeros_like(target))
    inner = w.gather(1, b.unsqueeze(2).expand(R, 1, block)).squeeze(1).cumsum(dim=1)  # (R, block)
    i = torch.searchsorted(inner, target - below, right=True).clamp_(max=block - 1)
    return (b * block + i).squeeze(1).clamp_(max=V - 1)


def pad_mask(y: torch.Tensor, eos_id: int) -> torch.Tensor:
    """(B, T) bool: the tokens that count in a text data set's NLL, up to and including the first end token.

    Rows are padded with the end token after it. Predicting more end tokens after the first is easy and
    says nothing, yet it is most of the tokens of a short line: averaged in, it would dominate the MLE loss
    and NLL-test. So the first end token counts (G must learn to stop) and everything after it is ignored.
    Data sets without an end token (the synthetic oracle) count every token, as the paper does."""
    is_eos = (y == eos_id).long()
    return (torch.cumsum(is_eos, dim=1) - is_eos) == 0          # no end token strictly before t


def finished(y: torch.Tensor, eos_id: int) -> torch.Tensor:
    """y with every token after a row's first end token replaced by the end token: a sentence is over at
    its first <eos>, and data rows are padded that way. G is trained (masked MLE) on the tokens up to the
    first <eos> only, so what it would draw after it is noise that must not reach D, the oracle or a chart."""
    return y.masked_fill(~pad_mask(y, eos_id), eos_id)


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """Deterministic 'sampler' (argmax), used to compare implementations exactly."""
    return logits.argmax(dim=1)


class Generator(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int = 32, hidden_dim: int = 32, start_token: int = 0):
        super().__init__()
        self.vocab_size, self.start_token = vocab_size, start_token
        self.eos_id: Optional[int] = None      # set for data sets with an end token: samples are finished
        self.emb = nn.Embedding(vocab_size, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)

    def init_normal(self, std: float) -> "Generator":
        """Every parameter ~ N(0, std), as the authors initialise G (0.1) and their oracle (1.0)."""
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0.0, std)
            self.lstm.bias_hh_l0.zero_()  # one bias per gate, as in the authors' cell
        return self

    @property
    def hidden_dim(self) -> int:
        return self.lstm.hidden_size

    def _inputs(self, y: torch.Tensor) -> torch.Tensor:
        """[start, y_1 .. y_{T-1}]: the token fed before each position."""
        start = torch.full_like(y[:, :1], self.start_token)
        return torch.cat([start, y[:, :-1]], dim=1)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, T, V); logits[:, t] predict y[:, t]."""
        h, _ = self.lstm(self.emb(self._inputs(y)))                  # (B, T, H)
        return self.out(h)

    def log_probs(self, y: torch.Tensor) -> torch.Tensor:
        """log G(y_t | y_<t), shape (B, T)."""
        logp = F.log_softmax(self.forward(y), dim=-1)
        return logp.gather(2, y.unsqueeze(2)).squeeze(2)

    def nll(self, y: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per token of each sequence, shape (B,)."""
        return -self.log_probs(y).mean(dim=1)

    def step(self, tok: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        """Feed one token per row; returns the new (h, c)."""
        l = self.lstm
        return torch.lstm_cell(self.emb(tok), state, l.weight_ih_l0, l.weight_hh_l0, l.bias_ih_l0, l.bias_hh_l0)

    def prefix_states(self, y: torch.Tensor):
        """(h, c) after feeding [start, y_1..y_t] for t = 0..T-1, each (B, T, H).

        states[:, t] is the state from which y_{t+1} (0-based y[:, t]) is drawn."""
        B, T = y.shape
        h = y.new_zeros(B, self.hidden_dim, dtype=self.out.weight.dtype)
        c = torch.zeros_like(h)
        inp = self._inputs(y)
        hs, cs = [], []
        for t in range(T):
            h, c = self.step(inp[:, t], (h, c))
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, 1), torch.stack(cs, 1)

    @torch.no_grad()
    def sample(self, n: int, seq_len: int, temperature: float = 1.0, sampler: Optional[Sampler] = None,
               chunk: Optional[int] = None, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """n sequences (n, seq_len) drawn from G, in chunks of the device's measured size (on a CPU large
        logits buffers fall out of the cache; a GPU wants many rows per launch)."""
        draw = sampler or (lambda logits: sample_categorical(logits, generator))
        dev = self.out.weight.device
        chunk = chunk or accel.chunks(dev)["sample_rows"]
        out = torch.empty(n, seq_len, dtype=torch.long, device=dev)
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            h = torch.zeros(m, self.hidden_dim, device=dev, dtype=self.out.weight.dtype)
            state = (h, torch.zeros_like(h))
            tok = torch.full((m,), self.start_token, dtype=torch.long, device=dev)
            for t in range(seq_len):
                state = self.step(tok, state)
                tok = draw(self.out(state[0]) / temperature)
                out[lo:lo + m, t] = tok
        return out if self.eos_id is None else finished(out, self.eos_id)
