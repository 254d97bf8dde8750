"""CNN + highway discriminator D_φ, the authors' structure (Kim-style text CNN).

Embedding → one Conv over (window × emb) per filter size, ReLU, max over time → concat (B, F) →
one highway layer → dropout (training only) → linear to 2 classes (fake, real). Reward = P(real).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .generator import finished

from .. import accel


class Highway(nn.Module):
    """out = t·relu(W_h x) + (1 − t)·x, t = σ(W_t x + b_t + gate_bias).

    The authors' code calls its highway(…, num_layers=1, bias=0): the gate starts open half-way, not at
    the −2 (carry by default) of the highway paper's own recommendation."""

    def __init__(self, size: int, gate_bias: float = 0.0):
        super().__init__()
        self.h = nn.Linear(size, size)
        self.t = nn.Linear(size, size)
        self.gate_bias = gate_bias

    def forward(self, x):
        t = torch.sigmoid(self.t(x) + self.gate_bias)
        return t * F.relu(self.h(x)) + (1.0 - t) * x


class Discriminator(nn.Module):
    def __init__(self, vocab_size: int, emb_dim: int, filter_sizes, num_filters, dropout: float = 0.25,
                 l2_reg: float = 0.2):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, emb_dim)
        self.eos_id: Optional[int] = None      # set for data sets with an end token (models.build_models)
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, n, f) for f, n in zip(filter_sizes, num_filters))
        total = sum(num_filters)
        self.highway = Highway(total)
        self.drop = nn.Dropout(dropout)  # a drop probability (the authors' keep-prob 0.75 → 0.25)
        self.out = nn.Linear(total, 2)
        self.l2_reg = l2_reg
        self.packed = False         # one convolution for all banks (set per device from the bench)
        self.precision = "fp32"     # or "bf16": autocast while training and scoring
        self._mask, self._mask_key = None, None
        self._init()

    def _init(self):
        # The authors' init: embeddings U(−1, 1); conv and output weights N(0, 0.1) truncated, biases 0.1.
        with torch.no_grad():
            self.emb.weight.uniform_(-1.0, 1.0)
            for m in list(self.convs) + [self.out]:
                nn.init.trunc_normal_(m.weight, std=0.1, a=-0.2, b=0.2)
                m.bias.fill_(0.1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.eos_id is not None:    # roll-out completions too: what follows the first <eos> is not read
            x = finished(x, self.eos_id)
        e = self.emb(x).transpose(1, 2)                                # (B, E, T)
        if self.packed:
            pooled = self._packed_pool(e)
        else:
            pooled = torch.cat([F.relu(conv(e)).amax(dim=2) for conv in self.convs], dim=1)  # (B, F)
        return self.highway(pooled)                                    # (B, F)

    def _packed_pool(self, e: torch.Tensor) -> torch.Tensor:
        """The same as one conv per bank, as a single convolution (one kernel instead of 12 on a GPU).

        Every bank's weight is zero-padded to the widest window W and the input padded by W − 1 on the
        right; a filter of width f then sees position p fully inside the sequence only for p ≤ T − f.
        Outputs beyond are masked to 0 after the ReLU: since ReLU ≥ 0 and every filter has at least one
        valid position, the max over time is unchanged (and a masked 0 only ties where ReLU's gradient
        is 0 anyway)."""
        T = e.shape[2]
        W = max(c.kernel_size[0] for c in self.convs)
        w = torch.cat([F.pad(c.weight, (0, W - c.kernel_size[0])) for c in self.convs])  # (F, E, W)
        b = torch.cat([c.bias for c in self.convs])
        out = F.relu(F.conv1d(F.pad(e, (0, W - 1)), w, b))                            # (B, F, T)
        return (out * self._valid(T, out.device, out.dtype)).amax(dim=2)

    def _valid(self, T: int, device, dtype) -> torch.Tensor:
        key = (T, str(device), dtype)
        if self._mask_key != key:
            widths = torch.cat([torch.full((c.out_channels,), c.kernel_size[0]) for c in self.convs])
            pos = torch.arange(T)
            self._mask = (pos[None, :] <= T - widths[:, None]).to(device=device, dtype=dtype)  # (F, T)
            self._mask_key = key
        return self._mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, 2): column 1 is 'real'."""
        return self.out(self.drop(self.features(x)))

    def loss(self, x: torch.Tensor, labels: torch.Tensor):
        """Mean cross-entropy + l2_reg · (‖W‖² + ‖b‖²)/2 of the output layer; returns (loss, logits)."""
        with accel.autocast(x.device, self.precision):
            logits = self.forward(x).float()
        l2 = 0.5 * (self.out.weight.pow(2).sum() + self.out.bias.pow(2).sum())
        return F.cross_entropy(logits, labels) + self.l2_reg * l2, logits

    @torch.no_grad()
    def score(self, x: torch.Tensor, chunk: Optional[int] = None, tick=None) -> torch.Tensor:
        """P(real) for each row, dropout off (eval mode), in chunks (the device's measured size); (B,).
        tick(done, total, part) is called between chunks (see train.steps.Tick)."""
        chunk = chunk or accel.chunks(x.device)["score_rows"]
        was_training = self.training
        self.eval()
        starts = range(0, x.shape[0], chunk)
        out = []
        try:
            with accel.autocast(x.device, self.precision):
                for n, i in enumerate(starts):
                    if tick:
                        tick(n, len(starts), "D scoring chunk")
                    out.append(F.softmax(self.forward(x[i:i + chunk]).float(), dim=1)[:, 1])
            return torch.cat(out)
        finally:
            self.train(was_training)
