"""The synthetic oracle G_oracle: an LSTM with N(0, 1) parameters (random) or the authors' own weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .generator import Generator

AUTHORS_KEYS = ("embedding", "Wi", "Ui", "bi", "Wf", "Uf", "bf", "Wog", "Uog", "bog",
                "Wc", "Uc", "bc", "Wo", "bo")


def random_oracle(vocab_size: int, emb_dim: int = 32, hidden_dim: int = 32, seed: int = 0) -> Generator:
    """A random oracle, built on the CPU with its own RNG so that it is identical on every machine."""
    g = torch.Generator().manual_seed(seed)
    oracle = Generator(vocab_size, emb_dim, hidden_dim)
    with torch.no_grad():
        for p in oracle.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
        oracle.lstm.bias_hh_l0.zero_()
    return oracle.eval().requires_grad_(False)


def load_authors_oracle(path: str | Path) -> Generator:
    """The authors' oracle from the .npz layout in REFERENCE.md (x·W convention, gates i, f, o, c̃).

    nn.LSTM stacks its gates as i, f, g(=c̃), o and computes W·x, hence the transposes."""
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in AUTHORS_KEYS if k not in z.files]
        if missing:
            raise ValueError(f"{path} is not an oracle file: missing arrays {', '.join(missing)}")
        a = {k: torch.from_numpy(np.asarray(z[k], dtype=np.float32)) for k in AUTHORS_KEYS}
    vocab, emb = a["embedding"].shape
    hidden = a["Ui"].shape[0]
    oracle = Generator(vocab, emb, hidden)
    with torch.no_grad():
        oracle.emb.weight.copy_(a["embedding"])
        oracle.lstm.weight_ih_l0.copy_(torch.cat([a["Wi"], a["Wf"], a["Wc"], a["Wog"]], dim=1).T)
        oracle.lstm.weight_hh_l0.copy_(torch.cat([a["Ui"], a["Uf"], a["Uc"], a["Uog"]], dim=1).T)
        oracle.lstm.bias_ih_l0.copy_(torch.cat([a["bi"], a["bf"], a["bc"], a["bog"]]))
        oracle.lstm.bias_hh_l0.zero_()
        oracle.out.weight.copy_(a["Wo"].T)
        oracle.out.bias.copy_(a["bo"])
    return oracle.eval().requires_grad_(False)
