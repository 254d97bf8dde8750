"""CNN + highway discriminator D_φ, the authors' structure (Kim-style text CNN).

Embedding → one Conv over (window × emb) per filter size, ReLU, max over time → concat (B, F) →
one highway layer → dropout (training only) → linear to 2 classes (fake, real). Reward = P(real).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class Highway(nn.Module):
    """out = t·relu(W_h x) + (1 − t)·x, t = σ(W_t x + b_t) with b_t starting at −2 (carry by default)."""

    def __init__(self, size: int, gate_bias: float = -2.0):
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
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, n, f) for f, n in zip(filter_sizes, num_filters))
        total = sum(num_filters)
        self.highway = Highway(total)
        self.drop = nn.Dropout(dropout)  # a drop probability (the authors' keep-prob 0.75 → 0.25)
        self.out = nn.Linear(total, 2)
        self.l2_reg = l2_reg
        self._init()

    def _init(self):
        # The authors' init: embeddings U(−1, 1); conv and output weights N(0, 0.1) truncated, biases 0.1.
        with torch.no_grad():
            self.emb.weight.uniform_(-1.0, 1.0)
            for m in list(self.convs) + [self.out]:
                nn.init.trunc_normal_(m.weight, std=0.1, a=-0.2, b=0.2)
                m.bias.fill_(0.1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        e = self.emb(x).transpose(1, 2)                                # (B, E, T)
        pooled = [F.relu(conv(e)).amax(dim=2) for conv in self.convs]  # each (B, n_f)
        return self.highway(torch.cat(pooled, dim=1))                  # (B, F)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, 2): column 1 is 'real'."""
        return self.out(self.drop(self.features(x)))

    def loss(self, x: torch.Tensor, labels: torch.Tensor):
        """Mean cross-entropy + l2_reg · (‖W‖² + ‖b‖²)/2 of the output layer; returns (loss, logits)."""
        logits = self.forward(x)
        l2 = 0.5 * (self.out.weight.pow(2).sum() + self.out.bias.pow(2).sum())
        return F.cross_entropy(logits, labels) + self.l2_reg * l2, logits

    @torch.no_grad()
    def score(self, x: torch.Tensor, chunk: int = 512) -> torch.Tensor:
        """P(real) for each row, dropout off (eval mode), in chunks; shape (B,)."""
        was_training = self.training
        self.eval()
        try:
            return torch.cat([F.softmax(self.forward(x[i:i + chunk]), dim=1)[:, 1]
                              for i in range(0, x.shape[0], chunk)])
        finally:
            self.train(was_training)
