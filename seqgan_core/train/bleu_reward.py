"""PG-BLEU's critic: the paper's baseline that keeps SeqGAN's policy gradient and Monte-Carlo roll-outs but
rewards a completed sequence by its BLEU against the training data instead of D's score.

`BleuCritic.score` has the discriminator's scoring signature (token ids (R, T) -> scores (R,)), so the same
`rollout_q` averages it over the N completions of each prefix: no second roll-out code.
"""
from __future__ import annotations

import torch

from ..metrics.bleu import BleuScorer

BLEU_ORDER = 4          # BLEU-4 with nltk's method1 smoothing, so that short partial matches still score


class BleuCritic:
    def __init__(self, references: torch.Tensor, eos_id: int | None = None, order: int = BLEU_ORDER):
        self.eos, self.order = eos_id, order
        self.scorer = BleuScorer([self._cut(r) for r in references.tolist()], max_n=order)

    def _cut(self, row: list[int]) -> tuple:
        """A row up to its first end token (padding is no part of the sentence)."""
        if self.eos is not None and self.eos in row:
            row = row[: row.index(self.eos)]
        return tuple(row)

    @torch.no_grad()
    def score(self, x: torch.Tensor, tick=None) -> torch.Tensor:
        """BLEU-n of every row of x (R, T) against the references; a row seen twice is scored once
        (roll-outs of short prefixes often complete to the same sequence). tick: see train.steps.Tick."""
        seen: dict[tuple, float] = {}
        out = []
        rows = x.tolist()
        for i, row in enumerate(rows):
            if tick and i % 1024 == 0:
                tick(i, len(rows), "BLEU scoring row")
            key = self._cut(row)
            if key not in seen:
                seen[key] = self.scorer.sentence(key, self.order)
            out.append(seen[key])
        return torch.tensor(out, dtype=torch.float32, device=x.device)
