"""The evaluation a run records as it goes: NLL-oracle, NLL-test, diversity, and per-data-set metrics."""
from __future__ import annotations

import torch

from .. import accel
from ..contract import BLEU_REFS   # references kept for live BLEU; the metric labels name it
from ..data.base import SequenceDataset
from ..models import Generator, pad_mask
from .bleu import BleuScorer, self_bleu
from .diversity import distinct_n, unique_fraction

BLEU_HYPS = 200        # generated sequences scored live against the references (BLEU, self-BLEU)
DIVERSITY_SAMPLES = 1000  # generated sequences behind distinct-n, unique share and validity


@torch.no_grad()
def mean_nll(model: Generator, data: torch.Tensor, chunk: int | None = None, eos_id: int | None = None) -> float:
    """Mean per-token NLL of data under model (summed on the device, read once).

    With eos_id (text data sets) only the tokens up to and including each row's first end token count,
    and the mean is over those tokens (see models.generator.pad_mask); without it every token counts."""
    chunk = chunk or accel.chunks(data.device)["score_rows"]
    was_training = model.training
    model.eval()
    try:
        if eos_id is None:
            total = sum(model.nll(data[i:i + chunk]).sum() for i in range(0, len(data), chunk))
            return float(total) / len(data)
        total, count = 0.0, 0
        for i in range(0, len(data), chunk):
            y = data[i:i + chunk]
            mask = pad_mask(y, eos_id)
            total = total - (model.log_probs(y) * mask).sum()
            count = count + mask.sum()
        return float(total) / max(int(count), 1)
    finally:
        model.train(was_training)


class Evaluator:
    """Built once per run: the BLEU reference tables are precomputed here, not at every evaluation."""

    def __init__(self, dataset: SequenceDataset, nll_samples: int):
        self.ds, self.n = dataset, nll_samples
        self.bleu = None
        if "bleu" in dataset.metrics:
            refs = [self._ids(r) for r in dataset.test[:BLEU_REFS].tolist()]
            self.bleu = BleuScorer(refs, max_n=5, ignore=dataset.unk_id)   # <unk> never matches

    def _ids(self, row) -> list[int]:
        """A row cut at its first end token."""
        row = [int(i) for i in row]
        eos = self.ds.eos_id
        return row[: row.index(eos)] if eos is not None and eos in row else row

    def __call__(self, gen: Generator) -> tuple[dict, torch.Tensor]:
        """Metrics of G now, and the samples they were computed on."""
        samples = gen.sample(self.n, self.ds.seq_len)  # τ = 1: NLL-oracle judges the policy itself
        out = {"nll/test": mean_nll(gen, self.ds.test.to(samples.device), eos_id=self.ds.eos_id)}
        if self.ds.oracle is not None:
            out["nll/oracle"] = mean_nll(self.ds.oracle, samples)
        seqs = [self._ids(r) for r in samples[:DIVERSITY_SAMPLES].tolist()]
        out["div/distinct2"] = distinct_n(seqs, 2)
        out["div/unique"] = unique_fraction(seqs)
        if self.bleu is not None:
            hyps = seqs[:BLEU_HYPS]
            for n, v in self.bleu.scores(hyps, (2, 3, 4, 5)).items():
                out[f"bleu/{n}"] = v
            if len(hyps) > 1 and any(hyps):
                out["bleu/self4"] = self_bleu(hyps, 4, ignore=self.ds.unk_id)
        if "music" in self.ds.metrics:
            from ..data.music import music_mse
            out["music/mse"] = music_mse(samples[:BLEU_HYPS].cpu().numpy(), self.ds.test.numpy())
        if self.ds.validity is not None:
            out["valid/share"] = sum(bool(self.ds.validity(s)) for s in seqs) / max(len(seqs), 1)
        return out, samples
